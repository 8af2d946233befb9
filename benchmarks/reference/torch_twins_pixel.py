"""PyTorch twins of scratchgen's autoregressive pixel models (scratchgen/models/pixelcnn.py and
pixelrnn.py; van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks) on
binarized MNIST: the same network (the 7x7 mask-A convolution, PixelCNN's residual blocks or the
Row LSTM / Diagonal BiLSTM layers with their residual connections, the 1x1 output layers) with the
same layer names, the mask a buffer as in nn/masked.py, PyTorch's default initialisation (which
scratchgen's convolutions copy) seeded as the other twins (torch_twins_mlp.py), RMSprop with
torch's defaults (alpha 0.99, eps 1e-8: scratchgen's too) and the step on -log p(x). `sample`
draws the pixels one at a time, as PixelModel.generate, and returns binary images (N, 1, 28, 28).
"""
import torch
import torch.nn.functional as F
from torch import nn

from scratchgen.models import pixelrnn
from scratchgen.models.pixelcnn import PixelCNN
from torch_twins_mlp import TorchTwin, as_tensor


class MaskedConv2d(nn.Conv2d):
    """A convolution whose kernel sees only the input pixels before the output's in raster order:
    the rows above and the pixels to the left, mask "B" also the centre (Sec. 3.4, Figure 2)."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, *, mask_type):
        super().__init__(in_channels, out_channels, kernel_size, padding=padding)
        height, width = self.kernel_size
        mask = torch.zeros_like(self.weight)
        mask[:, :, :height // 2] = 1                                   # the rows above
        mask[:, :, height // 2, :width // 2 + (mask_type == "B")] = 1  # left of the centre; B: the centre too
        self.register_buffer("mask", mask)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def pixel_network(h, layers):
    """pixelcnn.py's pixel_network: mask-A 7x7 1 -> 2h, `layers` (2h -> 2h), ReLU, 1x1, ReLU, 1x1 -> 1 logit."""
    return nn.Sequential(MaskedConv2d(1, 2 * h, 7, padding=3, mask_type="A"), *layers,
                         nn.ReLU(), nn.Conv2d(2 * h, 2 * h, 1), nn.ReLU(), nn.Conv2d(2 * h, 1, 1))


class ResidualBlock(nn.Module):
    """Figure 5: 2h -> h -> (3x3, mask B) h -> 2h, added to the input."""

    def __init__(self, h):
        super().__init__()
        self.layers = nn.Sequential(nn.ReLU(), nn.Conv2d(2 * h, h, 1), nn.ReLU(),
                                    MaskedConv2d(h, h, 3, padding=1, mask_type="B"), nn.ReLU(), nn.Conv2d(h, 2 * h, 1))

    def forward(self, x):
        return x + self.layers(x)


def lstm_steps(gates_in, state_to_state):
    """The LSTM recurrence over `gates_in`, a sequence of input-to-state pre-activations (N, 4h, L)
    in nn.LSTM's gate order (i, f, g, o), from zero states; returns the hidden states (N, h, L).
    gates = K_ss * h_{t-1} + K_is * x_t; c_t = f c_{t-1} + i g; h_t = o tanh(c_t) (Sec. 3.1, Eq. 3)."""
    h = c = torch.zeros_like(gates_in[0][:, :gates_in[0].shape[1] // 4])
    states = []
    for gates in gates_in:
        i, f, g, o = (gates + state_to_state(h)).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        states.append(h)
    return states


class RowLSTM(nn.Module):
    """Row LSTM (Sec. 3.1): rows top to bottom; input-to-state a 1 x k mask-B convolution along the
    row, state-to-state a Conv1d of kernel k over the previous row's hidden state, without bias."""

    def __init__(self, in_channels, hidden, kernel_size=3):
        super().__init__()
        k = kernel_size
        self.input_to_state = MaskedConv2d(in_channels, 4 * hidden, (1, k), padding=(0, k // 2), mask_type="B")
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, k, padding=k // 2, bias=False)

    def forward(self, x):
        rows = lstm_steps(self.input_to_state(x).unbind(2), self.state_to_state)
        return torch.stack(rows, 2)


def skew(x):
    """(N, C, H, W) -> (N, C, H, W + H - 1), row i shifted right by i (Sec. 3.2, Figure 3)."""
    height = x.shape[2]
    return torch.stack([F.pad(x[:, :, i], (i, height - 1 - i)) for i in range(height)], 2)


def unskew(y):
    """(N, C, H, W + H - 1) -> (N, C, H, W): row i's columns i .. i + W - 1."""
    height, width = y.shape[2], y.shape[3] - y.shape[2] + 1
    return torch.stack([y[:, :, i, i:i + width] for i in range(height)], 2)


class DiagonalLSTM(nn.Module):
    """One direction of the Diagonal BiLSTM (Sec. 3.2): the skewed map column by column, input-to-state
    a 1x1 mask-B convolution, state-to-state a 2 x 1 column convolution (row i reads rows i - 1 and i)."""

    def __init__(self, in_channels, hidden):
        super().__init__()
        self.input_to_state = MaskedConv2d(in_channels, 4 * hidden, 1, mask_type="B")
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 2, bias=False)

    def forward(self, x):
        columns = lstm_steps(self.input_to_state(skew(x)).unbind(3), lambda h: self.state_to_state(F.pad(h, (1, 0))))
        return unskew(torch.stack(columns, 3))


class DiagonalBiLSTM(nn.Module):
    """Diagonal BiLSTM (Sec. 3.2): the left-to-right DiagonalLSTM plus the right-to-left one (on the
    mirrored map, mirrored back) shifted down by one row."""

    def __init__(self, in_channels, hidden):
        super().__init__()
        self.forward_direction = DiagonalLSTM(in_channels, hidden)
        self.backward_direction = DiagonalLSTM(in_channels, hidden)

    def forward(self, x):
        right_to_left = self.backward_direction(x.flip(3)).flip(3)
        return self.forward_direction(x) + F.pad(right_to_left[:, :, :-1], (0, 0, 1, 0))


class ResidualLSTM(nn.Module):
    """x + conv1x1(lstm(x)): a PixelRNN layer 2h -> h and the 1x1 convolution h -> 2h (Sec. 3.4)."""

    def __init__(self, layer, h):
        super().__init__()
        self.lstm = layer(2 * h, h)
        self.up = nn.Conv2d(h, 2 * h, 1)

    def forward(self, x):
        return x + self.up(self.lstm(x))


class TorchPixelModel(TorchTwin):
    """pixelcnn.py's PixelModel: the network of pixel_network with the subclass's `layers`, RMSprop
    on -log p(x), sampling pixel by pixel."""

    def __init__(self, config):
        super().__init__(config)
        self.network = pixel_network(config["h"], self.layers(config))
        self.optimizer = torch.optim.RMSprop(self.network.parameters(), lr=config["lr"])

    def log_prob(self, x):
        # log p(x) = sum_i log p(x_i | x_<i) (Eq. 1): minus the Bernoulli cross-entropies of the pixels
        return -F.binary_cross_entropy_with_logits(self.network(x), x, reduction="none").sum((1, 2, 3))

    def train_step(self, batch):
        loss = -self.log_prob(as_tensor(batch[0])).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def uniform(self, *shape):
        """U[0, 1) numbers from the twin's generator, one per pixel of the samples."""
        return torch.rand(*shape, generator=self.rng)

    @torch.no_grad()
    def generate(self, n):
        """x_ij ~ Bernoulli(sigmoid(logit_ij(x_<ij))) in raster order, row i's logits from rows 0..i."""
        _, height, width = self.data_shape
        uniform, x = self.uniform(n, *self.data_shape), torch.zeros(n, *self.data_shape)
        for i in range(height):
            for j in range(width):
                x[:, :, i, j] = (uniform[:, :, i, j] < self.network(x[:, :, :i + 1])[:, :, i, j].sigmoid()).float()
        return x

    def sample(self, n):
        return self.data_to_output(self.generate(n).numpy())


class TorchPixelCNN(TorchPixelModel):
    mirrors = PixelCNN

    def layers(self, config):
        return [ResidualBlock(config["h"]) for _ in range(config["residual_blocks"])]


class TorchPixelRNN(TorchPixelModel):
    """pixelrnn.py's PixelRNN: `layers` residual `lstm` layers."""
    lstm = None

    def layers(self, config):
        return [ResidualLSTM(self.lstm, config["h"]) for _ in range(config["layers"])]


class TorchRowLSTM(TorchPixelRNN):
    mirrors = pixelrnn.RowLSTM
    lstm = RowLSTM


class TorchDiagonalBiLSTM(TorchPixelRNN):
    mirrors = pixelrnn.DiagonalBiLSTM
    lstm = DiagonalBiLSTM


TWINS = (TorchPixelCNN, TorchRowLSTM, TorchDiagonalBiLSTM)
