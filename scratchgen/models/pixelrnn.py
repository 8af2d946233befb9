"""The PixelRNNs (van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks) on
binarized MNIST: PixelCNN's model (pixelcnn.py: p(x) = prod_i p(x_i | x_<i), Eq. 1, a Bernoulli
logit per pixel, exact log-likelihood, RMSProp at batch 16, sampling pixel by pixel) with its
residual blocks replaced by the paper's spatial LSTM layers (nn/pixel_rnn.py):

    7x7 conv, mask A, 1 -> 2h channels                 (the first layer sees only pixels before, Sec. 3.4)
    `layers` x: LSTM layer 2h -> h, 1x1 conv h -> 2h, + input     (residual connections, Sec. 3.4, Figure 5)
    ReLU, 1x1 2h -> 2h, ReLU, 1x1 2h -> 1: the logit of p(x_ij = 1 | x_<ij)

`row-lstm` uses nn.RowLSTM (Sec. 3.1: rows top to bottom, input-to-state 1x3 mask B, state-to-state
kernel 3), `diagonal-bilstm` nn.DiagonalBiLSTM (Sec. 3.2: the skewed map column by column, both
directions, the right-to-left one shifted down a row).

Depth. The paper's MNIST Diagonal BiLSTM has 7 layers of h = 16 (79.20 nats; 1 layer: 80.75;
docs/PAPERS.md section 9); the Row LSTM's MNIST size is not in the sources read. Every step of
these layers is a Python loop over rows (28) or diagonals (55, twice): on one CPU thread at batch
16 a Row LSTM layer costs about 45 ms forward and backward, a Diagonal BiLSTM layer about 175 ms.
The defaults keep h = 16 and choose the depth that trains at a few steps per second: 3 Row LSTM
layers and 1 Diagonal BiLSTM layer (the paper's 1-layer model); `--set layers=7` is the paper's.
"""
from .. import nn
from .pixelcnn import PixelModel, pixel_network
from .settings import MAX_LAYERS, MAX_WIDTH, Setting, declare


class ResidualLSTM(nn.Module):
    """One PixelRNN layer with its residual connection (Sec. 3.4): x + conv1x1(lstm(x)), the LSTM
    layer 2h -> h, the 1x1 convolution h -> 2h back to the input's channels."""

    def __init__(self, layer, h):
        super().__init__()
        self.lstm = layer(2 * h, h)
        self.up = nn.Conv2d(h, 2 * h, 1)

    def forward(self, x):
        return x + self.up(self.lstm(x))


def pixelrnn_network(layer, h, layers):
    """(N, 1, H, W) binary images -> (N, 1, H, W) logits: `layers` residual `layer`s (nn.RowLSTM or
    nn.DiagonalBiLSTM) between the mask-A convolution and the output layers."""
    return pixel_network(h, [ResidualLSTM(layer, h) for _ in range(layers)])


class PixelRNN(PixelModel):
    """A PixelRNN of `layer`s (nn.RowLSTM or nn.DiagonalBiLSTM); the settings h and layers."""
    layer = None

    def make_network(self, config):
        return pixelrnn_network(self.layer, config["h"], config["layers"])


def _settings(what):
    return declare("batch_size", "lr", "steps",
                   h=Setting(int, "h: the LSTM layers' hidden channels (2h between layers)", at_least=1,
                             at_most=MAX_WIDTH),
                   layers=Setting(int, f"{what} layers, each with a residual connection (Sec. 3.4)", at_least=1,
                                  at_most=MAX_LAYERS))


class RowLSTM(PixelRNN):
    name = "row-lstm"
    paper = "van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks (Row LSTM)"
    defaults = dict(h=16, layers=3, batch_size=16, lr=1e-3, steps=20000)
    settings = _settings("Row LSTM")
    layer = nn.RowLSTM


class DiagonalBiLSTM(PixelRNN):
    name = "diagonal-bilstm"
    paper = "van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks (Diagonal BiLSTM)"
    defaults = dict(h=16, layers=1, batch_size=16, lr=1e-3, steps=20000)
    settings = _settings("Diagonal BiLSTM")
    layer = nn.DiagonalBiLSTM
