"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks) on
binarized MNIST: an image is a sequence of pixels in raster order, p(x) = prod_i p(x_i | x_<i)
(Eq. 1), each conditional a Bernoulli whose logit a stack of masked convolutions computes for
every pixel at once (nn.MaskedConv2d, Sec. 3.4), so log p(x) is exact in one network evaluation.

    7x7 conv, mask A, 1 -> 2h channels                 (the first layer sees only pixels before)
    residual blocks (Figure 5): ReLU, 1x1 2h -> h, ReLU, 3x3 conv mask B h -> h, ReLU, 1x1 h -> 2h, + input
    ReLU, 1x1 2h -> 2h, ReLU, 1x1 2h -> 1: the logit of p(x_ij = 1 | x_<ij)

With one colour channel the masks of the 1x1 layers are all ones, so they are plain convolutions.
Trained with RMSProp and batch 16, the paper's MNIST settings (as read, docs/PAPERS.md section 9).
The paper does not give the MNIST network's depth and width in the sources read: h = 16 and 7
residual blocks are this library's choice (the Diagonal BiLSTM's MNIST size: 7 layers, h = 16).
Sampling draws the 784 pixels one at a time: 784 network evaluations.
"""
import abc

from .. import functional as F
from .. import nn, optim
from .. import as_tensor, no_grad, zeros
from ..progress import ProgressBar, progress_to
from .base import GenerativeModel
from .settings import MAX_LAYERS, MAX_WIDTH, Setting, declare


class ResidualBlock(nn.Module):
    """Figure 5 of the paper: 2h -> h -> (3x3, mask B) h -> 2h, added to the input."""

    def __init__(self, h):
        super().__init__()
        self.layers = nn.Sequential(nn.ReLU(), nn.Conv2d(2 * h, h, 1), nn.ReLU(),
                                    nn.MaskedConv2d(h, h, 3, padding=1, mask_type="B"), nn.ReLU(),
                                    nn.Conv2d(h, 2 * h, 1))

    def forward(self, x):
        return x + self.layers(x)


def pixel_network(h, layers):
    """(N, 1, H, W) binary images -> (N, 1, H, W) logits, each from the pixels before it: the 7x7
    mask-A convolution 1 -> 2h, `layers` (each 2h -> 2h channels, output (i, j) from inputs at or
    before (i, j)), then ReLU, 1x1, ReLU, 1x1 -> 1. PixelCNN's and the PixelRNNs' (pixelrnn.py)."""
    return nn.Sequential(nn.MaskedConv2d(1, 2 * h, 7, padding=3, mask_type="A"), *layers,
                         nn.ReLU(), nn.Conv2d(2 * h, 2 * h, 1), nn.ReLU(), nn.Conv2d(2 * h, 1, 1))


def pixelcnn_network(h, residual_blocks):
    """(N, 1, H, W) binary images -> (N, 1, H, W) logits, each from the pixels before it."""
    return pixel_network(h, [ResidualBlock(h) for _ in range(residual_blocks)])


class PixelModel(GenerativeModel):
    """What PixelCNN and the PixelRNNs (pixelrnn.py) share: a `network` from binary images to one
    Bernoulli logit per pixel, autoregressive in raster order; exact log-likelihood, its training
    with RMSProp, sampling pixel by pixel, and the exact test NLL. A subclass gives `make_network(config)`."""
    datasets = ("binarized-mnist",)
    image_layout = "chw"

    def __init__(self, config):
        super().__init__(config)
        self.network = self.make_network(config).to(self.device)
        self.optimizer = optim.RMSprop(self.network.parameters(), lr=config["lr"])

    @abc.abstractmethod
    def make_network(self, config):
        """(N, 1, H, W) images -> (N, 1, H, W) logits, an nn.Sequential whose first layer has the weight."""

    def log_prob(self, x):
        """log p(x) of each image of x (N, 1, H, W)."""
        # log p(x) = sum_i log p(x_i | x_<i) (van den Oord et al. 2016, Eq. 1) = -sum_i BCE(logit_i, x_i)
        return -F.binary_cross_entropy_with_logits(self.network(x), x, reduction="none").sum((1, 2, 3))

    def train_step(self, batch):
        loss = -self.log_prob(batch[0]).mean()  # nats per image
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def generate(self, n, generator):
        """x_ij ~ Bernoulli(sigmoid(logit_ij(x_<ij))), pixel by pixel in raster order. No layer looks
        at the rows below its output, so row i's logits come from the rows 0..i alone."""
        _, height, width = self.data_shape
        uniform = as_tensor(generator.uniform((n, *self.data_shape), self.network[0].weight.dtype, self.device))
        x = zeros(n, *self.data_shape, device=self.device)
        for i in range(height):
            for j in range(width):
                x[:, :, i, j] = (uniform[:, :, i, j] < self.network(x[:, :, :i + 1])[:, :, i, j].sigmoid()).float()
        return x

    def test_metrics(self, x, k, generator, batch_size=100, progress=None):
        """{"test_nll", "n_test"}: -log p(x) in nats per image, exact. `k` and `generator` are the
        importance sampling of latent-variable models (the VAE's test_metrics); not needed here."""
        total = 0.0
        with self.evaluating(), no_grad(), progress_to(progress), \
                ProgressBar(len(x), "test NLL", unit="images") as bar:
            for start in range(0, len(x), batch_size):
                total += self.log_prob(x[start:start + batch_size]).sum().item()
                bar.update(min(start + batch_size, len(x)))
        return {"test_nll": -total / len(x), "n_test": len(x)}


class PixelCNN(PixelModel):
    name = "pixelcnn"
    paper = "van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks (PixelCNN)"
    defaults = dict(h=16, residual_blocks=7, batch_size=16, lr=1e-3, steps=20000)
    settings = declare(
        "batch_size", "lr", "steps",
        h=Setting(int, "h: the residual blocks' inner channels (2h between blocks)", at_least=1, at_most=MAX_WIDTH),
        residual_blocks=Setting(int, "residual blocks of mask-B 3x3 convolutions (Figure 5)", at_least=0,
                                at_most=4 * MAX_LAYERS))

    def make_network(self, config):
        return pixelcnn_network(config["h"], config["residual_blocks"])
