"""Layers whose weight is multiplied by a fixed 0/1 mask, so that chosen inputs take no part in
chosen outputs: the autoregressive networks of MADE (Germain et al. 2015) and PixelCNN (van den
Oord et al. 2016).

    layer = nn.MaskedLinear(784, 500)           # mask: all ones until set
    layer.set_mask(mask)                        # (500, 784) of 0s and 1s
    conv = nn.MaskedConv2d(1, 64, 7, padding=3, mask_type="A")   # sees only the pixels before

The mask is a buffer (saved in state_dict, moved by .to()), never learned. The layer computes
with weight * mask, so the gradient of a masked weight is 0 and training never changes it.
"""
import numpy

from .. import Tensor, as_tensor, no_grad, ones
from .. import functional as F
from .conv import Conv2d
from .linear import Linear

MASK_TYPES = ("A", "B")


def _checked_mask(mask, shape, layer):
    """`mask` (a Tensor or array-like of 0s and 1s, of `shape`) as a NumPy float64 array."""
    array = mask.detach().numpy() if isinstance(mask, Tensor) else numpy.asarray(mask)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{layer}: mask must be numbers (0 or 1), got dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{layer}: mask must have the weight's shape {tuple(shape)}, got {array.shape}")
    if not ((array == 0) | (array == 1)).all():
        raise ValueError(f"{layer}: mask must hold only 0s and 1s, got values {numpy.unique(array)[:5].tolist()}")
    return array.astype(numpy.float64)


class MaskedLinear(Linear):
    """y = x (W * M)^T + b: nn.Linear with a fixed 0/1 mask M of W's shape (out_features,
    in_features), M[k, d] = 0 cutting input d off from output k (Germain et al. 2015, Sec. 4).
    `mask` (default all ones) can be given here or later with set_mask."""

    def __init__(self, in_features, out_features, bias=True, mask=None, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.register_buffer("mask", ones(*self.weight.shape, dtype=self.weight.dtype, device=self.weight.device))
        if mask is not None:
            self.set_mask(mask)

    def set_mask(self, mask):
        """Replace the mask (a Tensor or array-like of 0s and 1s of the weight's shape)."""
        array = _checked_mask(mask, self.weight.shape, type(self).__name__)
        with no_grad():
            self.mask.copy_(as_tensor(array.astype(self.mask.dtype), device=self.mask.device))

    def forward(self, input):
        return F.linear(input, self.weight * self.mask, self.bias)


class MaskedConv2d(Conv2d):
    """nn.Conv2d whose kernel sees only the input pixels before the output's in raster order
    (rows above, then the pixels to the left): mask "A" (the first layer) also hides the pixel
    itself, mask "B" (every later layer) lets it through, so that a stack of one A and any
    number of B layers is autoregressive (van den Oord et al. 2016, Sec. 3.4, Figure 2).

    Every input channel shares the one spatial mask: the case of one colour channel (binarized
    MNIST); the paper's split of the channels into R, G and B groups is not implemented. The
    kernel must have a centre (odd sizes), which lines up with the output pixel under stride 1
    and padding kernel_size // 2 (the PixelCNN layers)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, *, mask_type):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
        if not isinstance(mask_type, str) or mask_type not in MASK_TYPES:
            raise ValueError(f"MaskedConv2d: mask_type must be 'A' or 'B', got {mask_type!r}")
        if any(side % 2 == 0 for side in self.kernel_size):
            raise ValueError(f"MaskedConv2d: kernel_size must be odd (the mask hides what comes after its centre), "
                             f"got {self.kernel_size}")
        self.mask_type = mask_type
        height, width = self.kernel_size
        spatial = numpy.zeros(self.kernel_size)
        spatial[:height // 2] = 1                                   # the rows above
        spatial[height // 2, :width // 2 + (mask_type == "B")] = 1  # left of the centre; B: the centre too
        mask = numpy.broadcast_to(spatial, self.weight.shape).astype(self.weight.dtype)
        self.register_buffer("mask", as_tensor(mask.copy(), device=self.weight.device))

    def forward(self, input):
        return F.conv2d(input, self.weight * self.mask, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        return f"{super().extra_repr()}, mask_type={self.mask_type!r}"
