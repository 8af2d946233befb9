"""Elementwise arithmetic and maths as array-library expressions: the NumPy backend's, and the
CUDA backend's for what kernels/elementwise.cu does not take (integer, bool or mixed dtypes).
The names are the kernel's operation codes, lower-cased; the formulas are the kernel's."""
import operator


def _power_of_number(x, p, xp):
    """x ** p for a number p; a float x takes torch's special exponents (as the kernel's power_of_number)."""
    if x.dtype.kind != "f" or isinstance(p, complex):
        return x ** p
    special = {0.5: xp.sqrt, -0.5: lambda v: 1 / xp.sqrt(v), -1: lambda v: 1 / v, 2: lambda v: v * v,
               3: lambda v: v * v * v, -2: lambda v: 1 / (v * v)}.get(p)
    return x ** p if special is None else special(x)


UNARY = {  # name: f(x, parameter, xp)
    "neg": lambda x, p, xp: -x,
    "exp": lambda x, p, xp: xp.exp(x),
    "log": lambda x, p, xp: xp.log(x),
    "log1p": lambda x, p, xp: xp.log1p(x),
    "expm1": lambda x, p, xp: xp.expm1(x),
    "sqrt": lambda x, p, xp: xp.sqrt(x),
    "rsqrt": lambda x, p, xp: 1 / xp.sqrt(x),
    "reciprocal": lambda x, p, xp: 1 / x,
    "abs": lambda x, p, xp: xp.abs(x),
    "sin": lambda x, p, xp: xp.sin(x),
    "cos": lambda x, p, xp: xp.cos(x),
    "pow_scalar": _power_of_number,
}


def _power(a, b, xp):
    """a ** b; (-inf) ** 0.5 is inf as in C's pow and torch (NumPy takes a broadcast 0.5 for a sqrt: nan)."""
    out = a ** b
    return xp.where((a == -xp.inf) & (b == 0.5), xp.inf, out) if out.dtype.kind == "f" else out


BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
IN_PLACE = {"add": operator.iadd, "sub": operator.isub, "mul": operator.imul, "div": operator.itruediv}


def unary(op, x, parameter=0.0, *, xp):
    """op(x) for a name of UNARY; `parameter` is pow_scalar's exponent."""
    return UNARY[op](x, parameter, xp)


def binary(op, a, b, in_place=False, *, xp):
    """op(a, b) for a name of BINARY or "pow", broadcast; in_place (not for pow): into a, which
    has the result's shape."""
    if in_place:
        return IN_PLACE[op](a, b)
    return _power(a, b, xp) if op == "pow" else BINARY[op](a, b)


def copy_into(dst, src):
    """dst[...] = src, src broadcast to dst's shape (and cast to its dtype); returns dst."""
    dst[...] = src
    return dst
