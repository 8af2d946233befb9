"""Argument checks shared by the ops and the layers; each error names the op (or layer) and
the argument."""
import numbers


def int_tuple(value, n, op, arg, minimum):
    """An int, or a tuple/list of n ints, as a tuple of n ints that are all >= minimum."""
    values = (value,) * n if isinstance(value, numbers.Integral) else value
    if (not isinstance(values, (tuple, list)) or len(values) != n
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values)):
        raise TypeError(f"{op}: {arg} must be an int or a tuple of {n} ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{op}: {arg} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return tuple(int(v) for v in values)
