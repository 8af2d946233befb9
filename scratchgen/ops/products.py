"""Products of tensors beyond matmul: bmm, baddbmm, addmm, outer, and einsum (whose gradient
is an einsum again: the same equation with the output and one operand swapped)."""
import re

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_broadcasts_to, check_tensor, same_device
from .arithmetic import MatMul, mul


def _matrices(op, **tensors):
    """Checks that each named tensor is a floating-point or integer Tensor of the rank its name
    ends in (`batch1_3`: 3 dims), on one device; returns them in order."""
    checked = {}
    for key, value in tensors.items():
        name, rank = key.rsplit("_", 1)
        check_tensor(value, op, name, "fiu")
        if value.ndim != int(rank):
            raise ValueError(f"{op}: {name} must have {rank} dims, got shape {value.shape}")
        checked[name] = value
    same_device(op, **checked)
    return list(checked.values())


def _contract(op, a, b, names):
    """a @ b after checking that a's last side meets b's second to last."""
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"{op}: {names[0]} of shape {a.shape} and {names[1]} of shape {b.shape} cannot be "
                         f"multiplied ({a.shape[-1]} != {b.shape[-2]})")
    return MatMul.apply(a, b)


def _scaled_sum(op, input, product, beta, alpha):
    """beta * input + alpha * product, with input broadcast to product's shape; beta = 0 drops
    input altogether (its nan and inf too), as torch."""
    number(beta, op, "beta")
    number(alpha, op, "alpha")
    check_broadcasts_to(input, product.shape, op, "input", "the product")
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # input takes no part: no gradient (None; torch: zeros)
        return scaled
    return scaled + (input if beta == 1 else input * beta)


def _batched(op, a, b, names):
    """a @ b for two (b, n, m) and (b, m, p) tensors named `names`, without broadcasting."""
    a, b = _matrices(op, **{f"{names[0]}_3": a, f"{names[1]}_3": b})
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{op}: {names[0]} and {names[1]} must hold the same number of matrices, got shapes "
                         f"{a.shape} and {b.shape}")
    return _contract(op, a, b, names)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors, without broadcasting (torch.bmm)."""
    return _batched("bmm", input, mat2, ("input", "mat2"))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2) (torch.baddbmm); input broadcasts to the product.
    With beta = 0 input is ignored, its nan and inf too (as torch), and gets no gradient (None;
    torch's: zeros)."""
    check_tensor(input, "baddbmm", "input")
    return _scaled_sum("baddbmm", input, _batched("baddbmm", batch1, batch2, ("batch1", "batch2")), beta, alpha)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * mat1 @ mat2 for matrices (torch.addmm); input broadcasts to the
    product. With beta = 0 input is ignored, as in baddbmm."""
    check_tensor(input, "addmm", "input")
    mat1, mat2 = _matrices("addmm", mat1_2=mat1, mat2_2=mat2)
    return _scaled_sum("addmm", input, _contract("addmm", mat1, mat2, ("mat1", "mat2")), beta, alpha)


def outer(input, vec2):
    """out[i, j] = input[i] * vec2[j] for two vectors (torch.outer)."""
    input, vec2 = _matrices("outer", input_1=input, vec2_1=vec2)
    return mul(input.unsqueeze(1), vec2.unsqueeze(0))


# ---- einsum ---------------------------------------------------------------------------------------

class Einsum(Function):
    """out = einsum(equation, *operands), the equation in explicit form with letters only (no
    '...', no broadcasting: `einsum` prepares both). The gradient of operand k is the einsum of
    g and the other operands into k's subscripts; a letter of k that appears nowhere else
    (summed out) comes back through a vector of ones, and a repeated letter (a diagonal, 'ii')
    through an identity matrix, so that it too is one einsum, differentiable again."""

    @staticmethod
    def forward(ctx, *operands, equation):
        ctx.save_inputs(*range(len(operands)))
        ctx.equation = equation
        return backends.get(operands[0]).xp.einsum(equation, *operands, optimize=True)  # BLAS where it can

    @staticmethod
    def backward(ctx, g):
        inputs, output = ctx.equation.split("->")
        subscripts = inputs.split(",")
        operands = ctx.saved_inputs
        sizes = {c: n for s, t in zip(subscripts, operands) for c, n in zip(s, t.shape)}
        grads = []
        for k, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            terms = [(output, g)] + [(s, t) for i, (s, t) in enumerate(zip(subscripts, operands)) if i != k]
            grads.append(_einsum_into(subscripts[k], terms, sizes, g.backend.xp, g.dtype))
        return tuple(grads)


def _einsum_into(target, terms, sizes, xp, dtype):
    """einsum of the (subscripts, tensor) terms into `target`'s subscripts, which may repeat a
    letter or hold letters that no term has."""
    present = set("".join(s for s, _ in terms))
    spare = iter(c for c in _LETTERS if c not in present and c not in target)
    out, seen = "", set()
    for c in target:
        if c in seen:  # a repeated letter: a new one tied to it by an identity matrix
            fresh = next(spare)
            terms.append((c + fresh, Tensor._wrap(xp.eye(sizes[c], dtype=dtype))))
            c = fresh
        elif c not in present:  # summed out in forward: every position gets g
            terms.append((c, Tensor._wrap(xp.ones(sizes[c], dtype=dtype))))
            present.add(c)
        seen.add(c)
        out += c
    return Einsum.apply(*(t for _, t in terms), equation=",".join(s for s, _ in terms) + "->" + out)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse(equation, operands):
    """The equation's subscripts per operand and its output, '...' kept as the token '.'
    (spaces dropped); the implicit output (no '->') is '...' then the letters seen once, in
    alphabetical order, as torch and NumPy."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string such as 'ij,jk->ik', got {equation!r}")
    text = equation.replace(" ", "").replace("...", ".")
    if not re.fullmatch(r"[a-zA-Z.]*(,[a-zA-Z.]*)*(->[a-zA-Z.]*)?", text):
        raise ValueError(f"einsum: equation {equation!r} may hold only letters, ',', '...' and one '->'")
    inputs, arrow, output = text.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != len(operands):
        raise ValueError(f"einsum: equation {equation!r} names {len(subscripts)} operands, got {len(operands)}")
    for s in subscripts + [output]:
        if s.count(".") > 1:
            raise ValueError(f"einsum: equation {equation!r} holds '...' more than once in one term")
    if not arrow:
        once = sorted(c for c in set(inputs) - {".", ","} if inputs.count(c) == 1)
        output = ("." if "." in inputs else "") + "".join(once)
    letters = set(inputs)
    for c in output:
        if c not in letters:
            raise ValueError(f"einsum: equation {equation!r}: output subscript {'...' if c == '.' else c!r} "
                             "appears in no operand")
        if output.count(c) > 1:
            raise ValueError(f"einsum: equation {equation!r}: output subscript {c!r} appears more than once")
    return subscripts, output


def _explicit(subscripts, output, operands):
    """Each operand expanded to the common size of each letter (a size-1 side broadcasts, as
    torch), '...' replaced by letters of its own (right-aligned, broadcast too), and the
    equation in explicit letters-only form."""
    ranks = []
    for s, t in zip(subscripts, operands):
        named = len(s) - ("." in s)
        if t.ndim < named or ("." not in s and t.ndim != named):
            raise ValueError(f"einsum: an operand of shape {t.shape} has {t.ndim} dims but its subscripts "
                             f"{s.replace('.', '...')!r} in the equation name {named}")
        ranks.append(t.ndim - named)
    ellipsis = max(ranks, default=0)
    spare = [c for c in _LETTERS if c not in "".join(subscripts)]
    if ellipsis > len(spare):
        raise ValueError(f"einsum: '...' in the equation stands for {ellipsis} dims, more than the {len(spare)} "
                         "letters left")
    dots = "".join(spare[:ellipsis])
    terms = [s.replace(".", dots[ellipsis - r:]) for s, r in zip(subscripts, ranks)]
    sizes = {}
    for s, t in zip(terms, operands):
        for c in set(s):
            sides = {n for d, n in zip(s, t.shape) if d == c}
            if len(sides) > 1:
                raise ValueError(f"einsum: subscript {c!r} repeats in one operand over sides of sizes {sorted(sides)}")
        for c, n in zip(s, t.shape):
            if sizes.get(c, 1) != 1 and n not in (1, sizes[c]):
                raise ValueError(f"einsum: subscript {c!r} has size {n} in one operand and {sizes[c]} in another "
                                 "(only a size of 1 broadcasts)")
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    expanded = [t if t.shape == tuple(sizes[c] for c in s) else t.expand(tuple(sizes[c] for c in s))
                for s, t in zip(terms, operands)]
    return ",".join(terms) + "->" + output.replace(".", dots), expanded


def einsum(equation, *operands):
    """Einstein summation (torch.einsum): einsum('ij,jk->ik', a, b) is a @ b. The operands may
    also come as one list (einsum('ij,jk', [a, b])); '...' stands for the leading dims, size-1
    sides broadcast. Mixed float dtypes promote as NumPy does (torch refuses them)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: operands: at least one tensor is needed")
    for i, t in enumerate(operands):
        check_tensor(t, "einsum", f"operands[{i}]", "fiu")
    same_device("einsum", **{f"operands[{i}]": t for i, t in enumerate(operands)})
    subscripts, output = _parse(equation, operands)
    explicit, expanded = _explicit(subscripts, output, operands)
    return Einsum.apply(*expanded, equation=explicit)
