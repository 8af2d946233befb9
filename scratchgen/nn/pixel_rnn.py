"""The two spatial LSTM layers of PixelRNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel
Recurrent Neural Networks, Sec. 3.1 and 3.2): image maps (N, C, H, W) -> (N, hidden, H, W), each
output pixel computed from pixels before it in raster order (given an input that is so already:
the model's first layer, a mask-A convolution).

    layer = nn.RowLSTM(32, 16)                 # rows top to bottom, triangular context above
    layer = nn.DiagonalBiLSTM(32, 16)          # diagonals left to right, in both directions

Both split an LSTM's gate pre-activations (Sec. 3.1) into an input-to-state part, one masked
convolution over the whole input map at once, and a state-to-state part, a convolution of the
previous row's (or column's) hidden state inside the loop; the rest of the step is the LSTM cell's
pointwise part (F.lstm_cell_pointwise, torch's gate order i, f, g, o), as nn.LSTM steps:

    [o, f, i, g] = [sigma, sigma, sigma, tanh](K_ss * h_{i-1} + K_is * x_i)     (Sec. 3.1, Eq. 3)
    c_i = f . c_{i-1} + i . g,   h_i = o . tanh(c_i)

The state-to-state convolution keeps no bias (the input-to-state one has it: torch's two LSTM
biases add up to one). Each step slices one row (column) out of the input-to-state map, whose
gradient is a scatter into a whole map: with H or W + H - 1 steps this is the T^2 of nn.LSTM's
note, small at MNIST's 28 x 28.
"""
from .. import Tensor, zeros
from .. import functional as F
from ..arguments import integer
from .conv import Conv1d
from .masked import MASK_TYPES, MaskedConv2d
from .module import Module


def _check_map(op, input, channels):
    """`input` as a floating (N, channels, H, W) map with H, W >= 1."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: argument 'input' must be a floating point tensor, got dtype {input.dtype}")
    if input.ndim != 4 or input.shape[1] != channels or input.shape[2] < 1 or input.shape[3] < 1:
        raise ValueError(f"{op}: input must be a map (N, {channels}, H, W) with H, W >= 1 (in_channels "
                         f"{channels}), got shape {tuple(input.shape)}")


def _as_matrix(weight):
    """A Conv1d weight (O, C, k) as the matrix (O, k * C) that multiplies the k shifted copies of a
    channels-last input joined along the channels, k-major (im2col, ops/conv.py, in the order the
    step loop keeps its states: (N, L, C))."""
    return weight.permute(0, 2, 1).reshape(weight.shape[0], -1)


def _unstack(x):
    """[x[0], x[1], ...], sliced by halving: x[t]'s gradient is scattered into its half, the
    half's into x, so that the T gradients cost T log T slice sizes to add up, not T^2."""
    if x.shape[0] == 1:
        return [x[0]]
    middle = x.shape[0] // 2
    return _unstack(x[:middle]) + _unstack(x[middle:])


def _lstm_steps(gates_in, state_to_state, hidden):
    """The LSTM recurrence along the first dim of `gates_in` (T, N, L, 4h), the input-to-state
    gate pre-activations of T rows (or columns) of L positions, from zero states:
    gates_t = gates_in[t] + state_to_state(h_{t-1}) with h_{t-1} (N, L, h), state_to_state(0) = 0.
    Returns the T hidden states, each (N, L, h)."""
    h = c = None
    hs = []
    for gates in _unstack(gates_in):
        if h is None:  # the first row (column): zero state, K_ss * 0 = 0 (no bias)
            c = zeros(*gates.shape[:-1], hidden, dtype=gates.dtype, device=gates.device)
        else:
            gates = gates + state_to_state(h)
        h, c = F.lstm_cell_pointwise(gates, c)
        hs.append(h)
    return hs


class RowLSTM(Module):
    """Row LSTM (Sec. 3.1): (N, in_channels, H, W) -> (N, hidden, H, W), the rows processed top to
    bottom. Input-to-state: a 1 x k convolution along the row (`input_to_state`, an
    nn.MaskedConv2d of mask `mask_type`: "B" sees the pixels to the left and the pixel itself, "A"
    only those to the left, for a first layer), computed for every row at once. State-to-state: a
    1-D convolution of kernel k over the previous row's hidden state (`state_to_state`, an
    nn.Conv1d (N, h, W) -> (N, 4h, W) without bias). Each output sees a triangle of rows above it
    (Figure 4) and the pixels to its left in its row."""

    def __init__(self, in_channels, hidden, kernel_size=3, mask_type="B", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.in_channels = integer(in_channels, name, "in_channels", 1)
        self.hidden = integer(hidden, name, "hidden", 1)
        self.kernel_size = integer(kernel_size, name, "kernel_size", 1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"{name}: kernel_size must be odd (centred on the pixel), got {kernel_size!r}")
        if not isinstance(mask_type, str) or mask_type not in MASK_TYPES:
            raise ValueError(f"{name}: mask_type must be 'A' or 'B', got {mask_type!r}")
        self.mask_type = mask_type
        k = self.kernel_size
        self.input_to_state = MaskedConv2d(self.in_channels, 4 * self.hidden, (1, k), padding=(0, k // 2),
                                           mask_type=mask_type, device=device, dtype=dtype)
        self.state_to_state = Conv1d(self.hidden, 4 * self.hidden, k, padding=k // 2, bias=False, device=device,
                                     dtype=dtype)

    def forward(self, input):
        _check_map(type(self).__name__, input, self.in_channels)
        gates_in = self.input_to_state(input).permute(2, 0, 3, 1)  # (H, N, W, 4h): a row per step, gates last

        weight, k, width = _as_matrix(self.state_to_state.weight), self.kernel_size, input.shape[3]

        def state_to_state(h):  # K_ss * h_{i-1} (Sec. 3.1): h (N, W, h) -> (N, W, 4h)
            padded = F.pad(h, (0, 0, k // 2, k // 2))
            return F.linear(F.cat([padded[:, s:s + width] for s in range(k)], 2), weight)

        rows = _lstm_steps(gates_in, state_to_state, self.hidden)
        return F.stack(rows, 2).permute(0, 3, 2, 1)  # (N, W, H, h) -> (N, h, H, W)

    def extra_repr(self):
        return f"{self.in_channels}, {self.hidden}, kernel_size={self.kernel_size}, mask_type={self.mask_type!r}"


class DiagonalLSTM(Module):
    """One direction of the Diagonal BiLSTM (Sec. 3.2, Figure 3): (N, in_channels, H, W) ->
    (N, hidden, H, W). The input map is skewed (F.skew: row i shifted right by i), so that each
    column of the skewed map is a diagonal of the image; input-to-state is a 1 x 1 convolution
    (`input_to_state`, mask B: with one colour channel all ones), state-to-state a column-wise
    convolution of kernel 2 x 1 over the previous column (`state_to_state`, an nn.Conv1d
    (N, h, H) -> (N, 4h, H) over the column, without bias, padded above: row i reads rows i - 1 and
    i), processed column by column left to right; the output is unskewed back. Pixel (i, j)
    reads the states of (i, j - 1) and (i - 1, j), so it sees every pixel above and to the left
    of it, itself included (the input at (i, j) enters through the 1 x 1 convolution)."""

    def __init__(self, in_channels, hidden, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.in_channels = integer(in_channels, name, "in_channels", 1)
        self.hidden = integer(hidden, name, "hidden", 1)
        self.input_to_state = MaskedConv2d(self.in_channels, 4 * self.hidden, 1, mask_type="B", device=device,
                                           dtype=dtype)
        self.state_to_state = Conv1d(self.hidden, 4 * self.hidden, 2, bias=False, device=device, dtype=dtype)

    def forward(self, input):
        _check_map(type(self).__name__, input, self.in_channels)
        skewed = F.skew(input)  # (N, C, H, W + H - 1): column j holds the pixels (i, j - i)
        gates_in = self.input_to_state(skewed).permute(3, 0, 2, 1)  # (W + H - 1, N, H, 4h): a column per step

        weight = _as_matrix(self.state_to_state.weight)

        def state_to_state(h):  # the 2 x 1 column convolution (Sec. 3.2): h (N, H, h) -> (N, H, 4h)
            padded = F.pad(h, (0, 0, 1, 0))  # a zero row above: row i reads rows i - 1 and i
            return F.linear(F.cat([padded[:, :-1], padded[:, 1:]], 2), weight)

        columns = _lstm_steps(gates_in, state_to_state, self.hidden)
        return F.unskew(F.stack(columns, 3).permute(0, 2, 1, 3))  # (N, H, h, W + H - 1) -> (N, h, H, W)

    def extra_repr(self):
        return f"{self.in_channels}, {self.hidden}"


class DiagonalBiLSTM(Module):
    """Diagonal BiLSTM (Sec. 3.2): (N, in_channels, H, W) -> (N, hidden, H, W), the sum of two
    DiagonalLSTMs. `forward_direction` sweeps the diagonals from the left (it sees the pixels above
    and to the left); `backward_direction` runs on the horizontally mirrored map and its output is
    mirrored back (it sees the pixels above and to the right), then shifted down by one row, so
    that output (i, j) takes it from (i - 1, j): only rows above, never the pixel itself or those
    after it in raster order (Sec. 3.2: "the output map of the right-to-left LSTM is shifted down
    by one row")."""

    def __init__(self, in_channels, hidden, device=None, dtype=None):
        super().__init__()
        self.in_channels = integer(in_channels, type(self).__name__, "in_channels", 1)
        self.hidden = integer(hidden, type(self).__name__, "hidden", 1)
        self.forward_direction = DiagonalLSTM(self.in_channels, self.hidden, device=device, dtype=dtype)
        self.backward_direction = DiagonalLSTM(self.in_channels, self.hidden, device=device, dtype=dtype)

    def forward(self, input):
        _check_map(type(self).__name__, input, self.in_channels)
        right_to_left = self.backward_direction(input.flip(3)).flip(3)
        shifted = F.pad(right_to_left, (0, 0, 1, -1))  # one row down: a zero row on top, the last row dropped
        return self.forward_direction(input) + shifted

    def extra_repr(self):
        return f"{self.in_channels}, {self.hidden}"
