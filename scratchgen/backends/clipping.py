"""Clipping to [low, high] (clamp, hardtanh, relu6) and its gradient mask, in array-library
expressions: the CPU's code, and the GPU's for what kernels/activations.cu does not take (integer
arrays, array bounds). Each backend binds them to its array module `xp` (numpy.py, cuda.py)."""


def clip(x, low, high, *, xp):
    """x clipped to [low, high] (None: no bound), nan kept."""
    out = x if low is None else xp.maximum(x, low)  # maximum and minimum keep nan; ~15x faster than clip here
    return out if high is None else xp.minimum(out, high)


def clip_backward(x, grad_out, low, high, inclusive, *, xp):
    """grad_out where low <= x <= high (inclusive: clamp, as torch) or low < x < high (hardtanh,
    relu6), 0 elsewhere: an absent bound lets everything pass, a present one never lets nan pass."""
    passes = xp.ones(x.shape, dtype=bool)
    if low is not None:
        passes &= (x >= low) if inclusive else (x > low)
    if high is not None:
        passes &= (x <= high) if inclusive else (x < high)
    return (grad_out * passes).astype(grad_out.dtype, copy=False)
