"""device="cuda" end to end: ops forward and backward, a short training run, device moves,
Module.to and save/load give on the device what they give on the CPU (float32 tolerances).

Each test runs on two devices:
- "cuda": CuPy arrays on a real GPU (skipped where CuPy or a GPU is missing);
- "emulated": every NumPy float32 array counts as a "cuda" array, so `backends.get` hands it
  to backends/cuda.py, whose launches run on the CPU emulator (kernels/emulator). This runs
  the CUDA backend's Python code and kernels in CI; sizes stay small, the emulator is slow.
  Arrays of other dtypes (integer labels, masks) stay on the NumPy backend there.

A test computes its CPU reference first, then the same thing inside `device.active()`.
"""
import contextlib
import types

import numpy as np
import pytest
from numpy.testing import assert_allclose

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import backends, nn, optim
from scratchgen.backends import cuda as cuda_backend

from philox_reference import dropout_uniforms

RTOL, ATOL = 1e-4, 1e-5  # float32 results of different summation orders and fast-math intrinsics


def _gpu_missing():
    """Why the real-GPU cases cannot run here, or None if they can."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install 'scratchgen[cuda]')"
    return None if cupy.is_available() else "CuPy finds no usable CUDA GPU"


def _emulated_cuda_backend():
    """backends/cuda.py with NumPy as its array module: its launches take the emulator."""
    functions = {name: getattr(cuda_backend, name) for name in dir(cuda_backend) if not name.startswith("__")}
    copy = lambda array: np.array(array, copy=True)  # noqa: E731 (a device move copies, as on a GPU)
    return types.SimpleNamespace(**{**functions, "xp": np, "to_host": copy, "from_host": copy})


class Device:
    def __init__(self, kind, monkeypatch, floating=(np.float32,)):
        self.kind, self._monkeypatch, self.floating = kind, monkeypatch, floating

    @contextlib.contextmanager
    def active(self):
        """Inside: "cuda" is this device (for "emulated": NumPy arrays of the `floating`
        dtypes are "cuda")."""
        if self.kind == "cuda":
            yield
            return
        emulated = _emulated_cuda_backend()
        get, for_device = backends.get, backends.for_device
        with self._monkeypatch.context() as patch:
            patch.setattr(backends, "get", lambda array: emulated if (
                isinstance(array, np.ndarray) and array.dtype in self.floating) else get(array))
            patch.setattr(backends, "for_device", lambda device: emulated if device == "cuda" else for_device(device))
            yield


@pytest.fixture(params=["emulated", pytest.param("cuda", marks=pytest.mark.skipif(
    _gpu_missing() is not None, reason=f"real-GPU cases: {_gpu_missing()}"))])
def device(request, monkeypatch):
    return Device(request.param, monkeypatch)


def host(tensor):
    return tensor.detach().numpy()


def close(actual, expected, rtol=RTOL, atol=ATOL):
    assert_allclose(host(actual), host(expected), rtol=rtol, atol=atol)


def random(*shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed + len(shape)).uniform(low, high, shape).astype(np.float32)


# ---- ops: forward and backward on the device against the CPU ------------------------------

def _bn(x, mean, var, w, b):
    return F.batch_norm(x, mean, var, w, b, training=True)


def _cross_entropy(x):
    return F.cross_entropy(x, sg.tensor([0, 2, 1, 2], device=x.device))


def _embedding(weight):
    return F.embedding(sg.tensor([[0, 2], [1, 2]], device=weight.device), weight)


def _layer_norm_and_group_norm(x, w, b):
    """Layer norm over all but dim 0, plus group norm over dim 2's channels (their dims 1 and 2 swapped)."""
    return F.layer_norm(x, x.shape[1:], w, b) + F.group_norm(x.permute(0, 2, 1), 3).permute(0, 2, 1)


def _index(x):
    return x[sg.tensor([0, 2, 0], device=x.device)]


# name -> (function of the tensors, shapes of its float inputs); inputs get gradients
OPS = {
    "add_mul_div_broadcast": (lambda a, b: (a + b) * a / (b.abs() + 1), [(4, 5), (5,)]),
    "pow_exp_log_sqrt": (lambda a: (a ** 2 + 1).log() + (a * 0.5).exp() + (a.abs() + 1).sqrt(), [(3, 7)]),
    "sin_cos_rsqrt_reciprocal_expm1_log1p": (lambda a: a.sin() * a.cos() + (a.abs() + 0.5).rsqrt()
                                             + (a.abs() + 1).reciprocal() + a.expm1() + (-a).abs().log1p()
                                             + (a.abs() + 1) ** 1.5, [(3, 5)]),
    "relu_leaky_relu": (lambda a: F.relu(a) + F.leaky_relu(a, 0.2), [(6, 5)]),
    "tanh_sigmoid_softplus_elu": (lambda a: a.tanh() + a.sigmoid() + F.softplus(a) + F.elu(a), [(6, 5)]),
    "logsigmoid_gelu_selu_celu": (lambda a: F.logsigmoid(a) + F.gelu(a) + F.gelu(a, approximate="tanh") + F.selu(a)
                                  + F.celu(a, 0.5), [(4, 5)]),
    "clamp_where_maximum": (lambda a, b: a.clamp(-1, 1) + sg.where(a > 0, a, b) + sg.maximum(a, b),
                            [(4, 6), (4, 6)]),
    "hardtanh_relu6": (lambda a: F.hardtanh(a, -0.5, 0.5) + F.relu6(a * 4), [(4, 6)]),
    "softmax_log_softmax": (lambda a: F.softmax(a, 1) * F.log_softmax(a, 0), [(5, 9)]),
    "logsumexp": (lambda a: a.logsumexp((0, 2)), [(3, 4, 5)]),
    "sum_mean_var": (lambda a: a.sum(1) + a.mean(1) + a.var(1), [(4, 6)]),
    "max_min_along_dim": (lambda a: a.max(1)[0] - a.min(0)[0][:4], [(4, 6)]),
    "amax": (lambda a: a.max() + a.sum(), [(4, 6)]),
    "matmul_batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "linear": (F.linear, [(6, 8), (5, 8), (5,)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 3, 7, 7), (4, 3, 3, 3), (4,)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
                         [(2, 4, 4, 4), (4, 3, 4, 4), (3,)]),
    "max_and_avg_pool2d": (lambda x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), [(2, 3, 6, 6)]),
    "batch_norm_training": (lambda x, w, b: _bn(x, sg.zeros(3, device=x.device), sg.ones(3, device=x.device), w, b),
                            [(4, 3, 5, 5), (3,), (3,)]),
    "batch_norm_after_conv": (lambda x, w: _bn(F.conv2d(x, w), sg.zeros(3, device=x.device),
                                               sg.ones(3, device=x.device), None, None), [(3, 2, 4, 4), (3, 2, 2, 2)]),
    "layer_norm_group_norm": (_layer_norm_and_group_norm, [(3, 4, 6), (4, 6), (4, 6)]),
    "mse_and_bce_with_logits": (lambda a, t: F.mse_loss(a, t) + F.binary_cross_entropy_with_logits(a, t.sigmoid()),
                                [(4, 5), (4, 5)]),
    "bce": (lambda a: F.binary_cross_entropy(a.sigmoid(), (a * 3).sigmoid()), [(4, 5)]),
    "cross_entropy_int_targets": (_cross_entropy, [(4, 3)]),
    "kl_div": (lambda a, b: F.kl_div(F.log_softmax(a, 1), F.softmax(b, 1), reduction="batchmean"), [(4, 5), (4, 5)]),
    "getitem_index_add": (_index, [(4, 3)]),
    "embedding": (_embedding, [(4, 3)]),
    "upsample_nearest": (lambda x: F.interpolate(x, scale_factor=2), [(2, 3, 3, 3)]),
    "skew_unskew": (lambda x: F.skew(x) * 2 + F.skew(F.unskew(F.skew(x))), [(2, 2, 3, 4)]),
    "cat_pad_reshape_permute": (lambda a, b: F.pad(sg.cat([a, b], 1), (1, 2)).reshape(4, -1).permute(1, 0),
                                [(2, 3, 2), (2, 1, 2)]),
}


def _forward_backward(fn, arrays, device_name):
    inputs = [sg.tensor(a, device=device_name, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    grad_out = sg.tensor(random(*out.shape, seed=7), device=device_name)
    (out * grad_out).sum().backward()
    return out, [t.grad for t in inputs]


def assert_match_the_cpu(device, fn, arrays):
    """fn's output and the gradients of its inputs on the CUDA backend equal the CPU's (other
    test files use this for their ops)."""
    expected, expected_grads = _forward_backward(fn, arrays, "cpu")
    with device.active():
        out, grads = _forward_backward(fn, arrays, "cuda")
        assert out.device == "cuda" and all(g.device == "cuda" for g in grads)
    close(out, expected)
    for grad, expected_grad in zip(grads, expected_grads):
        close(grad, expected_grad)


@pytest.mark.parametrize("name", OPS)
def test_op_forward_and_backward_match_the_cpu(device, name):
    fn, shapes = OPS[name]
    assert_match_the_cpu(device, fn, [random(*shape, seed=i) for i, shape in enumerate(shapes)])


def _double_backward(fn, arrays, device_name):
    """The gradient of sum(grad(sum(fn * u)) * v) with respect to the inputs: a
    Hessian-vector product, through the backward of every op's backward."""
    inputs = [sg.tensor(a, device=device_name, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    upstream = sg.tensor(random(*out.shape, seed=7), device=device_name)
    grads = sg.grad((out * upstream).sum(), inputs, create_graph=True, allow_unused=True)
    directions = [sg.tensor(random(*a.shape, seed=11 + i), device=device_name) for i, a in enumerate(arrays)]
    total = sum((g * v).sum() for g, v in zip(grads, directions) if g is not None and g.requires_grad)
    if not isinstance(total, sg.Tensor):  # every gradient is constant: the op is piecewise linear
        return []
    return sg.grad(total, inputs, allow_unused=True)


@pytest.mark.parametrize("name", OPS)
def test_op_double_backward_matches_the_cpu(device, name):
    """The CPU's second derivatives pass gradgradcheck (tests/test_ops_*.py); the device's
    must be the same numbers."""
    fn, shapes = OPS[name]
    arrays = [random(*shape, seed=i) for i, shape in enumerate(shapes)]
    expected = _double_backward(fn, arrays, "cpu")
    with device.active():
        actual = _double_backward(fn, arrays, "cuda")
    assert len(actual) == len(expected)
    for grad, expected_grad in zip(actual, expected):
        assert (grad is None) == (expected_grad is None)
        if grad is not None:
            close(grad, expected_grad, rtol=1e-3, atol=1e-4)


def test_dropout_on_cuda_draws_its_mask_on_the_device_from_the_seed(device):
    """On device "cuda" dropout's uniforms are Philox4x32-10's (kernels/dropout.cu), under a key
    drawn from the seeded generator: the seed fixes the mask, and the gradient is the mask."""
    x = random(8, 16)

    def run():
        t = sg.tensor(x, device="cuda", requires_grad=True)
        out = F.dropout(t, 0.3, generator=sg.Generator(5))
        out.sum().backward()
        return host(out), host(t.grad)
    with device.active():
        (out, grad), (again, _) = run(), run()
    key = int(sg.Generator(5).integers(0, 2 ** 64, (), np.uint64, "cpu"))
    mask = (dropout_uniforms(x.size, key).reshape(x.shape).astype(np.float32) >= np.float32(0.3)) / np.float32(0.7)
    assert_allclose(out, x * mask, rtol=1e-6)
    assert_allclose(grad, mask, rtol=1e-6)
    assert (again == out).all() and 0 < (out == 0).mean() < 0.6


def test_random_factories_give_the_cpu_numbers(device):
    def draws(device_name):
        g = sg.Generator(3)
        return [sg.randn(3, 4, device=device_name, generator=g), sg.rand(5, device=device_name, generator=g)]
    expected = draws("cpu")
    with device.active():
        got = draws("cuda")
        assert all(t.device == "cuda" for t in got)
    for actual, reference in zip(got, expected):
        close(actual, reference, rtol=0, atol=0)


# ---- a short training run: a tiny DCGAN with Adam --------------------------------------------

def _tiny_dcgan():
    generator = nn.Sequential(
        nn.Linear(8, 16 * 4 * 4, bias=False), nn.Unflatten(1, (16, 4, 4)), nn.BatchNorm2d(16), nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(8, 16, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 1))
    return generator, discriminator


def _train_tiny_dcgan(device_name, steps=3, batch=4):
    """Losses of `steps` DCGAN steps (D on real and fake, then G, non-saturating), Adam."""
    sg.manual_seed(0)
    generator, discriminator = (m.to(device_name) for m in _tiny_dcgan())
    opt_g = optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = sg.tensor(random(batch, 1, 16, 16, low=-1, high=1), device=device_name)
    z = sg.tensor(random(batch, 8), device=device_name)
    ones, zeros = sg.ones(batch, 1, device=device_name), sg.zeros(batch, 1, device=device_name)
    bce = F.binary_cross_entropy_with_logits
    losses = []
    for _ in range(steps):
        opt_d.zero_grad()
        fake = generator(z)
        loss_d = bce(discriminator(real), ones) + bce(discriminator(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(discriminator(fake), ones)
        loss_g.backward()
        opt_g.step()
        losses.append([loss_d.item(), loss_g.item()])
    return np.array(losses), generator


def test_tiny_dcgan_training_matches_the_cpu(device):
    expected, cpu_generator = _train_tiny_dcgan("cpu")
    with device.active():
        losses, generator = _train_tiny_dcgan("cuda")
        assert all(p.device == "cuda" for p in generator.parameters())
    assert_allclose(losses, expected, rtol=1e-4, atol=1e-5)
    for param, cpu_param in zip(generator.parameters(), cpu_generator.parameters()):
        close(param, cpu_param, rtol=1e-3, atol=1e-5)
    close(generator[2].running_var, cpu_generator[2].running_var)


# ---- moving tensors and modules, saving and loading ------------------------------------------

def test_to_cuda_and_back_carries_gradients(device):
    x_array = random(3, 4)
    with device.active():
        x = sg.tensor(x_array, requires_grad=True)
        on_device = x.to("cuda")
        assert on_device.device == "cuda" and on_device.requires_grad
        back = (on_device * on_device).to("cpu")
        assert isinstance(back.array, np.ndarray)
        (back * sg.tensor(x_array)).sum().backward()
    assert_allclose(host(x.grad), 2 * x_array ** 2, rtol=RTOL)  # d(x^2 * x_const)/dx


def test_module_to_cuda_moves_parameters_buffers_and_gradients(device):
    sg.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    x = random(2, 2, 4, 4)
    model(sg.tensor(x)).sum().backward()
    expected = model(sg.tensor(x))
    with device.active():
        moved = model.to("cuda")
        assert moved is model
        assert all(t.device == "cuda" for t in [*model.parameters(), model[1].running_mean, model[1].running_var])
        assert all(p.grad.device == "cuda" for p in model.parameters())
        out = model(sg.tensor(x, device="cuda"))
    close(out, expected)


def test_save_and_load_a_cuda_state_dict(device, tmp_path):
    sg.manual_seed(2)
    cpu_model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    path = tmp_path / "model.npz"
    with device.active():
        model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).to("cuda")
        model.load_state_dict(cpu_model.state_dict())
        sg.save(model.state_dict(), path)
        loaded = sg.load(path)
        assert all(t.device == "cuda" for t in loaded.values() if t.dtype == np.float32)
        on_host = sg.load(path, map_location="cpu")
    for key, tensor in cpu_model.state_dict().items():
        assert isinstance(on_host[key].array, np.ndarray)
        close(loaded[key], tensor, rtol=0, atol=0)
        close(on_host[key], tensor, rtol=0, atol=0)
