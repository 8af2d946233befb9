"""Channel dropout (Tompson et al. 2015, "SpatialDropout"): zero whole channels of a
(N, C, *) input with probability p and scale the rest by 1 / (1 - p), because neighbouring
pixels of a feature map are correlated and dropping single pixels regularises little."""
from ..arguments import number
from ..random import default_generator
from ._util import check_tensor
from .unary import _scaled


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """One keep/drop draw per (sample, channel) of a (N, C, H, W) input, as torch's dropout2d
    (a 3-D input is taken as (N, C, L), torch's current behaviour). `inplace` is accepted for
    torch's signature; the result is always a new tensor."""
    check_tensor(input, "dropout2d", "input", "f")
    number(p, "dropout2d", "p", 0, 1, what="a probability")
    if input.ndim < 3:
        raise ValueError(f"dropout2d: expected a 3-D or 4-D input (N, C, ...), got shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    keep = (generator or default_generator).uniform(mask_shape, input.dtype, input.device) >= p
    return _scaled(input, keep / (1 - p))
