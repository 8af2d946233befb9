"""The character-level language model of Gulrajani et al. 2017 (Improved Training of Wasserstein
GANs, Sec. 5; igul222/improved_wgan_training gan_language.py), trained as WGAN-GP (wgan.py's
WGANGP: its critic loss and gradient penalty, through models/adversarial.py's one loop).

Text is (N, vocab, L): each of the L = 32 positions a distribution over the characters (one-hot
for real text), the characters as the channels of a 1-D convolution.

    G: z (128) -> Linear -> (DIM, L) -> 5 residual blocks -> Conv1d(DIM, vocab, 1) -> softmax over
       the characters (no sampling: D sees G's probabilities, the paper's continuous relaxation)
    D: (vocab, L) -> Conv1d(vocab, DIM, 1) -> 5 residual blocks -> flatten -> Linear(L DIM, 1)
    residual block: x + 0.3 conv2(relu(conv1(relu(x)))), each conv kernel 5, padding 2 (same length)

lambda = 10, 10 critic iterations, Adam(1e-4, betas (0.5, 0.9)), batch 64, DIM 512, as
gan_language.py; the paper trains 200,000 iterations on the Billion Word benchmark, here Tiny
Shakespeare (data/text.py). The conv weights start as PyTorch's default (gan_language.py's
lib.ops use He/Glorot-uniform: a documented difference). A sample is the argmax character at
each position (`sample` returns N strings).
"""
import numpy

from .. import nn
from ..data import text
from .settings import MAX_UNITS, Setting, declare
from .wgan import N_CRITIC, WGANGP

RESIDUAL_SCALE = 0.3   # gan_language.py ResBlock: inputs + 0.3 * output
KERNEL = 5
BLOCKS = 5


class ResBlock(nn.Module):
    """x + 0.3 conv2(relu(conv1(relu(x)))) on (N, dim, L); both convs kernel 5, length kept."""

    def __init__(self, dim):
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, KERNEL, padding=KERNEL // 2)
        self.conv2 = nn.Conv1d(dim, dim, KERNEL, padding=KERNEL // 2)

    def forward(self, x):
        return x + RESIDUAL_SCALE * self.conv2(self.conv1(x.relu()).relu())


class Generator(nn.Module):
    """z (N, z_dim) -> character distributions (N, vocab, seq_len), softmax over dim 1."""

    def __init__(self, z_dim, dim, vocab, seq_len):
        super().__init__()
        self.dim, self.seq_len = dim, seq_len
        self.linear = nn.Linear(z_dim, dim * seq_len)
        self.blocks = nn.Sequential(*[ResBlock(dim) for _ in range(BLOCKS)])
        self.output = nn.Conv1d(dim, vocab, 1)

    def forward(self, z):
        x = self.linear(z).reshape(len(z), self.dim, self.seq_len)
        return self.output(self.blocks(x)).softmax(dim=1)


class Critic(nn.Module):
    """Text (N, vocab, seq_len), one-hot or G's softmax -> one score per sequence, (N, 1)."""

    def __init__(self, dim, vocab, seq_len):
        super().__init__()
        self.input = nn.Conv1d(vocab, dim, 1)
        self.blocks = nn.Sequential(*[ResBlock(dim) for _ in range(BLOCKS)])
        self.linear = nn.Linear(dim * seq_len, 1)

    def forward(self, x):
        return self.linear(self.blocks(self.input(x)).flatten(1))


class WGANGPLanguageModel(WGANGP):
    name = "wgan-gp-lm"
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs (Sec. 5, character-level language model)"
    datasets = ("tinyshakespeare",)
    defaults = dict(n_critic=10, lr=1e-4, betas=[0.5, 0.9], gp_lambda=10.0, z_dim=128, dim=512, batch_size=64,
                    steps=200000)
    dataset_defaults = {}
    settings = declare("lr", "betas", "z_dim", "batch_size", "steps", n_critic=N_CRITIC,
                       gp_lambda=Setting(float, "weight lambda of the gradient penalty", at_least=0),
                       dim=Setting(int, "channels of the residual blocks of G and D (the paper's DIM)",
                                   at_least=1, at_most=MAX_UNITS))

    def build_generator(self):
        vocab, seq_len = self.data_shape
        return Generator(self.z_dim, self.config["dim"], vocab, seq_len)

    def build_critic(self):
        vocab, seq_len = self.data_shape
        return Critic(self.config["dim"], vocab, seq_len)

    def data_to_output(self, data):
        """G's character distributions (N, vocab, L) -> N strings of their argmax characters."""
        return numpy.array(text.to_text(data))
