"""The PyTorch twin of scratchgen's character-level WGAN-GP language model
(scratchgen/models/wgan_gp_lm.py; Gulrajani et al. 2017, Sec. 5, gan_language.py): the same
residual Conv1d networks with the same layer names and PyTorch's default initialisation (seeded
as the other twins, torch_twins_mlp.py), and WGAN-GP's step of torch_twins_mlp.TorchWGANGP on
text shaped (N, vocab, L). `sample` returns strs, as scratchgen's model does.
"""
from torch import nn

from scratchgen.models.wgan_gp_lm import BLOCKS, KERNEL, RESIDUAL_SCALE, WGANGPLanguageModel
from torch_twins_mlp import TorchWGANGP, as_tensor


class ResBlock(nn.Module):
    """x + 0.3 conv2(relu(conv1(relu(x)))), both convs kernel 5 keeping the length."""

    def __init__(self, dim):
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, KERNEL, padding=KERNEL // 2)
        self.conv2 = nn.Conv1d(dim, dim, KERNEL, padding=KERNEL // 2)

    def forward(self, x):
        return x + RESIDUAL_SCALE * self.conv2(self.conv1(x.relu()).relu())


class Generator(nn.Module):
    """z -> Linear -> (dim, L) -> residual blocks -> Conv1d(dim, vocab, 1) -> softmax over the characters."""

    def __init__(self, z_dim, dim, vocab, seq_len):
        super().__init__()
        self.dim, self.seq_len = dim, seq_len
        self.linear = nn.Linear(z_dim, dim * seq_len)
        self.blocks = nn.Sequential(*[ResBlock(dim) for _ in range(BLOCKS)])
        self.output = nn.Conv1d(dim, vocab, 1)

    def forward(self, z):
        return self.output(self.blocks(self.linear(z).reshape(len(z), self.dim, self.seq_len))).softmax(dim=1)


class Critic(nn.Module):
    """(N, vocab, L) -> Conv1d(vocab, dim, 1) -> residual blocks -> Linear(L dim, 1)."""

    def __init__(self, dim, vocab, seq_len):
        super().__init__()
        self.input = nn.Conv1d(vocab, dim, 1)
        self.blocks = nn.Sequential(*[ResBlock(dim) for _ in range(BLOCKS)])
        self.linear = nn.Linear(dim * seq_len, 1)

    def forward(self, x):
        return self.linear(self.blocks(self.input(x)).flatten(1))


class TorchWGANGPLanguageModel(TorchWGANGP):
    mirrors = WGANGPLanguageModel
    data_to_output = WGANGPLanguageModel.data_to_output  # the argmax character at each position, as strs

    def build_networks(self):
        vocab, seq_len = self.data_shape
        return (Generator(self.z_dim, self.config["dim"], vocab, seq_len),
                Critic(self.config["dim"], vocab, seq_len))

    def as_data(self, array):
        return as_tensor(array)  # (N, vocab, L) one-hot characters


TWINS = (TorchWGANGPLanguageModel,)
