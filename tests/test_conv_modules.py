"""The layers of the convolution issue against torch.nn: parameter and buffer names, shapes,
default initialisation and repr; a state_dict saved by PyTorch (as .npz) loads and gives the
same outputs; batch-norm running statistics in training and eval; weight normalisation."""
import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import scratchgen as sg
from scratchgen import nn
from scratchgen.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from scratchgen.nn.dropout2d import Dropout2d
from scratchgen.nn.embedding import Embedding
from scratchgen.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from scratchgen.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample
from scratchgen.nn.weight_norm import remove_weight_norm, weight_norm

# (our class, torch's class, constructor arguments, an input shape)
LAYERS = [
    (Conv1d, torch.nn.Conv1d, dict(in_channels=4, out_channels=6, kernel_size=3, padding="same", dilation=2), (2, 4, 9)),
    (Conv2d, torch.nn.Conv2d, dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, groups=2, bias=False),
     (2, 4, 7, 6)),
    (ConvTranspose1d, torch.nn.ConvTranspose1d, dict(in_channels=4, out_channels=2, kernel_size=4, stride=2, padding=1),
     (2, 4, 5)),
    (ConvTranspose2d, torch.nn.ConvTranspose2d, dict(in_channels=4, out_channels=6, kernel_size=3, stride=2,
                                                     padding=1, output_padding=1, groups=2, dilation=1), (2, 4, 3, 3)),
    (BatchNorm1d, torch.nn.BatchNorm1d, dict(num_features=4), (5, 4)),
    (BatchNorm2d, torch.nn.BatchNorm2d, dict(num_features=4, momentum=None, affine=False), (3, 4, 2, 2)),
    (LayerNorm, torch.nn.LayerNorm, dict(normalized_shape=(3, 2)), (2, 4, 3, 2)),
    (GroupNorm, torch.nn.GroupNorm, dict(num_groups=2, num_channels=4), (2, 4, 3)),
    (Embedding, torch.nn.Embedding, dict(num_embeddings=7, embedding_dim=3, padding_idx=2), None),
    (Dropout2d, torch.nn.Dropout2d, dict(p=0.3), (2, 4, 3, 3)),
    (Upsample, torch.nn.Upsample, dict(scale_factor=2, mode="bilinear"), (1, 2, 3, 3)),
    (AvgPool2d, torch.nn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1), (1, 2, 5, 5)),
    (MaxPool2d, torch.nn.MaxPool2d, dict(kernel_size=2, dilation=1), (1, 2, 5, 5)),
    (AdaptiveAvgPool2d, torch.nn.AdaptiveAvgPool2d, dict(output_size=1), (1, 2, 5, 5)),
]


def _state(module):
    return {name: value.detach().numpy() for name, value in module.state_dict().items()}


@pytest.mark.parametrize("ours, theirs, args, shape", LAYERS, ids=[layer[0].__name__ for layer in LAYERS])
def test_names_shapes_repr_and_loaded_outputs_match_torch(ours, theirs, args, shape, tmp_path):
    mine, reference = ours(**args).double(), theirs(**args).double()
    assert repr(mine) == repr(reference)
    expected_state = {name: value.detach().numpy() for name, value in reference.state_dict().items()}
    assert {k: (v.shape, v.dtype) for k, v in _state(mine).items()} == \
        {k: (v.shape, v.dtype) for k, v in expected_state.items()}
    np.savez(tmp_path / "state.npz", **expected_state)
    with np.load(tmp_path / "state.npz") as saved:
        mine.load_state_dict(dict(saved))
    mine.eval(), reference.eval()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 7, (3, 4)) if shape is None else rng.standard_normal(shape)
    assert_allclose(mine(sg.tensor(x)).detach().numpy(), reference(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layer, transposed", [(Conv2d(64, 128, 4, 2, 1), False), (ConvTranspose2d(128, 64, 4, 2, 1), True),
                                               (Conv1d(8, 16, 5), False)])
def test_default_initialization_is_torch_kaiming_uniform(layer, transposed):
    """kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in from the weight's
    dims 1 onwards (for a transposed convolution too, as torch computes it)."""
    weight = layer.weight.detach().numpy()
    bound = 1 / math.sqrt(weight[0].size)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound


def test_embedding_initialization_is_standard_normal_with_a_zero_padding_row():
    sg.manual_seed(0)  # a fixed draw: the bounds are 2.5 and 3.5 standard errors wide
    weight = Embedding(1000, 16, padding_idx=-1).weight.detach().numpy()
    assert (weight[-1] == 0).all()
    assert abs(weight[:-1].mean()) < 0.02 and abs(weight[:-1].std() - 1) < 0.02


def _dcgan(lib, nn_):
    """The DCGAN pair for 28x28 MNIST (Radford et al. 2015), at a tenth of the width."""
    generator = nn_.Sequential(
        lib.Linear(8, 12 * 7 * 7), nn_.Unflatten(1, (12, 7, 7)), lib.BatchNorm2d(12), nn_.ReLU(),
        lib.ConvTranspose2d(12, 6, 4, 2, 1, bias=False), lib.BatchNorm2d(6), nn_.ReLU(),
        lib.Upsample(scale_factor=2), lib.Conv2d(6, 1, 3, padding=1), nn_.Tanh())
    discriminator = nn_.Sequential(
        lib.Conv2d(1, 6, 4, 2, 1), nn_.LeakyReLU(0.2), lib.Conv2d(6, 12, 4, 2, 1, bias=False),
        lib.BatchNorm2d(12), nn_.LeakyReLU(0.2), nn_.Flatten(), lib.Linear(12 * 7 * 7, 1))
    return generator, discriminator


class _Ours:
    """Our layers under torch.nn's names, for _dcgan."""
    Linear, BatchNorm2d, ConvTranspose2d, Conv2d, Upsample = nn.Linear, BatchNorm2d, ConvTranspose2d, Conv2d, Upsample


def test_a_torch_dcgan_state_dict_loads_and_trains_the_same(tmp_path):
    torch.manual_seed(0)
    theirs = [m.double() for m in _dcgan(torch.nn, torch.nn)]
    ours = [m.double() for m in _dcgan(_Ours, nn)]
    for mine, reference in zip(ours, theirs):
        np.savez(tmp_path / "model.npz", **{k: v.numpy() for k, v in reference.state_dict().items()})
        with np.load(tmp_path / "model.npz") as saved:
            mine.load_state_dict(dict(saved))
    rng = np.random.default_rng(1)
    for step in range(3):  # training mode: batch statistics, running ones updated
        z = rng.standard_normal((5, 8))
        score = ours[1](ours[0](sg.tensor(z)))
        expected = theirs[1](theirs[0](torch.tensor(z)))
        assert_allclose(score.detach().numpy(), expected.detach().numpy(), rtol=1e-9, atol=1e-10)
    score.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        for (name, p), q in zip(mine.named_parameters(), reference.parameters()):
            assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
        for name, value in _state(mine).items():
            assert_allclose(value, reference.state_dict()[name].numpy(), rtol=1e-10, err_msg=name)
    for model in ours + theirs:
        model.eval()
    z = rng.standard_normal((5, 8))
    assert_allclose(ours[1](ours[0](sg.tensor(z))).detach().numpy(),
                    theirs[1](theirs[0](torch.tensor(z))).detach().numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("args", [dict(momentum=None), dict(momentum=0.5), dict(track_running_stats=False)])
def test_batch_norm_module_statistics_follow_torch(args):
    mine, reference = BatchNorm2d(3, **args).double(), torch.nn.BatchNorm2d(3, **args).double()
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 2)) * 3 + 1
        assert_allclose(mine(sg.tensor(x)).detach().numpy(), reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    for name, value in _state(mine).items():
        assert_allclose(value, reference.state_dict()[name].numpy(), rtol=1e-12, err_msg=name)
    mine.eval(), reference.eval()
    assert_allclose(mine(sg.tensor(x)).detach().numpy(), reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_conv_transpose_output_size_picks_the_output_padding():
    mine, reference = ConvTranspose2d(2, 3, 3, stride=3).double(), torch.nn.ConvTranspose2d(2, 3, 3, stride=3).double()
    reference.load_state_dict({k: torch.tensor(v) for k, v in _state(mine).items()})
    x = np.random.default_rng(3).standard_normal((1, 2, 2, 3))
    out = mine(sg.tensor(x), output_size=(7, 10))
    assert out.shape == (1, 3, 7, 10)
    assert_allclose(out.detach().numpy(), reference(torch.tensor(x), output_size=(7, 10)).detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested output_size \(9, 9\) is not reachable: "
                                         r"dim 0 must be between 6 and 8"):
        mine(sg.tensor(x), output_size=(9, 9))


def test_weight_norm_matches_torch():
    mine = weight_norm(Conv2d(2, 3, 3).double())
    reference = torch.nn.Conv2d(2, 3, 3).double()
    reference.load_state_dict({"weight": torch.tensor(mine.weight_v.detach().numpy()),
                               "bias": torch.tensor(mine.bias.detach().numpy())})
    with pytest.warns(FutureWarning):
        reference = torch.nn.utils.weight_norm(reference)
    assert list(mine.state_dict()) == list(reference.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert_allclose(mine.weight_g.detach().numpy(), reference.weight_g.detach().numpy(), rtol=1e-12)
    x = np.random.default_rng(4).standard_normal((2, 2, 5, 5))
    out, expected = mine(sg.tensor(x)), reference(torch.tensor(x))
    assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        assert_allclose(getattr(mine, name).grad.numpy(), getattr(reference, name).grad.numpy(), rtol=1e-9, err_msg=name)
    plain = remove_weight_norm(mine)
    assert list(plain.state_dict()) == ["bias", "weight"]
    assert_allclose(plain(sg.tensor(x)).detach().numpy(), expected.detach().numpy(), rtol=1e-10)


def test_weight_norm_over_the_whole_tensor_and_double_backward():
    layer = weight_norm(nn.Linear(3, 2).double(), dim=None)
    assert layer.weight_g.shape == ()
    x = sg.tensor(np.random.default_rng(5).standard_normal((4, 3)), requires_grad=True)
    sg.gradgradcheck(lambda x, g, v: (x @ (v * (g / (v * v).sum().sqrt())).T).tanh(),
                     (x, layer.weight_g.detach().clone().requires_grad_(), layer.weight_v.detach().clone().requires_grad_()))


def test_dropout2d_module_is_the_identity_in_eval():
    layer = Dropout2d(0.5)
    x = sg.ones(2, 3, 4, 4)
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x


def test_layer_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' is not supported for strided convolutions"):
        Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be 'zeros'"):
        Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible by num_groups \(2\)"):
        GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input\)"):
        BatchNorm2d(3)(sg.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"weight_norm: module Upsample has no parameter 'weight'"):
        weight_norm(Upsample(scale_factor=2))
