"""The IAF VAE of models/iaf_vae.py (Kingma et al. 2016): each IAF step is autoregressive in its
ordering and invertible, its log-determinant is log |det J| of the full Jacobian (finite
differences, float64), gradcheck of a step, iaf_steps=0 is the VAE itself, the ELBO of the IAF
posterior is below log p(x) computed by quadrature on a tiny model and the importance-weighted
bound converges to it, and a short run on real MNIST beats independent pixels through the CLI.
(Resuming bit for bit: tests/test_train_resume.py.)"""
import json
import math
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

import scratchgen as sg
from scratchgen import cli, nn
from scratchgen.models import model_class
from scratchgen.models.iaf_vae import IAFStep, run_flow, step_connectivity
from scratchgen.train.config import resolve_config

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"no MNIST in {SHARED_MNIST}")
Z, CONTEXT, HIDDEN = 5, 3, [16, 16]


def flow_steps(n, seed=0):
    sg.manual_seed(seed)
    steps = nn.ModuleList([IAFStep(Z, CONTEXT, HIDDEN, step_connectivity(Z, HIDDEN, t, seed)) for t in range(n)])
    steps.double()
    with sg.no_grad():  # move m and s away from their start, so that every entry of the Jacobian is exercised
        for parameter in steps.parameters():
            parameter.add_(sg.randn(*parameter.shape, dtype=sg.float64) * 0.3)
    return steps


def numeric_jacobian(fn, z, eps=1e-6):
    """d fn(z) / dz (D, D) by central differences, fn: (D,) array -> (D,) array, float64."""
    columns = []
    for j in range(len(z)):
        step = np.zeros_like(z)
        step[j] = eps
        columns.append((fn(z + step) - fn(z - step)) / (2 * eps))
    return np.stack(columns, 1)


def flow_as_numpy(steps, h):
    def fn(z):
        with sg.no_grad():
            return run_flow(steps, sg.tensor(z[None]), h)[0].numpy()[0]
    return fn


@pytest.mark.parametrize("t", [0, 1])
def test_a_step_is_autoregressive_in_its_ordering_with_diagonal_sigma(t):
    """dz_out_i / dz_in_j = 0 wherever z_j comes after z_i in step t's ordering (natural for t = 0,
    reversed for t = 1), and the diagonal is sigma_i: the Jacobian is triangular in that order."""
    steps = flow_steps(t + 1)
    step = steps[t]
    ordering = step_connectivity(Z, HIDDEN, t, 0).ordering
    rng = np.random.default_rng(t)
    z, h = rng.standard_normal(Z), sg.tensor(rng.standard_normal((1, CONTEXT)))
    jacobian = numeric_jacobian(flow_as_numpy([step], h), z)
    later = ordering[None, :] >= ordering[:, None]  # j at or after i
    np.fill_diagonal(later, False)
    assert later.sum() == Z * (Z - 1) // 2
    assert np.abs(jacobian[later]).max() < 1e-9
    assert np.abs(jacobian[~later & ~np.eye(Z, dtype=bool)]).min() > 1e-6  # and the earlier ones are used
    with sg.no_grad():
        _, log_sigma = step(sg.tensor(z[None]), h)
    assert_allclose(np.diag(jacobian), np.exp(log_sigma.numpy()[0]), rtol=1e-7)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_log_determinant_is_log_abs_det_of_the_full_jacobian(n):
    steps = flow_steps(n, seed=n)
    rng = np.random.default_rng(n)
    z, h = rng.standard_normal(Z), sg.tensor(rng.standard_normal((1, CONTEXT)))
    jacobian = numeric_jacobian(flow_as_numpy(steps, h), z)
    sign, log_abs_det = np.linalg.slogdet(jacobian)
    with sg.no_grad():
        _, log_det = run_flow(steps, sg.tensor(z[None]), h)
    assert sign > 0
    assert_allclose(log_det.numpy()[0], log_abs_det, rtol=0, atol=1e-7)


def test_a_step_is_invertible_one_latent_at_a_time_in_its_ordering():
    """z_in is recovered from z_out by solving for one latent at a time in the ordering:
    z_i = (z_out_i - (1 - sigma_i) m_i) / sigma_i, where sigma_i, m_i need only the z_<i found so far."""
    for t in (0, 1):
        step = flow_steps(t + 1)[t]
        rng = np.random.default_rng(t)
        z_in, h = rng.standard_normal((4, Z)), sg.tensor(rng.standard_normal((4, CONTEXT)))
        with sg.no_grad():
            z_out = step(sg.tensor(z_in), h)[0].numpy()
            guess = np.zeros_like(z_in)
            for i in np.argsort(step_connectivity(Z, HIDDEN, t, 0).ordering):
                out, log_sigma = step(sg.tensor(guess), h)
                sigma = np.exp(log_sigma.numpy()[:, i])
                m = (out.numpy()[:, i] - sigma * guess[:, i]) / (1 - sigma)
                guess[:, i] = (z_out[:, i] - (1 - sigma) * m) / sigma
        assert_allclose(guess, z_in, rtol=0, atol=1e-9)


def test_gradcheck_of_a_step_in_its_inputs_and_weights():
    step = flow_steps(1)[0]
    rng = np.random.default_rng(0)
    z = sg.tensor(rng.standard_normal((3, Z)), requires_grad=True)
    h = sg.tensor(rng.standard_normal((3, CONTEXT)), requires_grad=True)
    sg.gradcheck(lambda z, h: sg.functional.cat(step(z, h), -1), (z, h))
    names = ["hidden.0.weight", "hidden.1.weight", "context.weight", "output.weight", "output.bias"]
    weights = {name: value.detach().clone().requires_grad_(True) for name, value in step.named_parameters()
               if name in names}
    assert sorted(weights) == sorted(names)

    def of_weights(*values):
        return sg.functional.cat(nn.functional_call(step, dict(zip(weights, values)), (z.detach(), h.detach())), -1)
    sg.gradcheck(of_weights, tuple(weights.values()))


def test_sigma_starts_near_one_and_steps_reverse_the_ordering():
    config = resolve_config(model_class("iaf-vae"), "mnist", {}, seed=0)
    assert config["iaf_steps"] == 2 and config["z_dim"] == 50
    model = model_class("iaf-vae")(config)
    with sg.no_grad():
        _, log_sigma = model.flow[0](sg.randn(100, 50), sg.randn(100, 50))
    assert 0.8 < float(np.exp(log_sigma.numpy()).mean()) < 0.95  # the forget-gate bias: sigmoid(2) = 0.88
    orderings = [step_connectivity(50, [320, 320], t, 0).ordering for t in range(3)]
    assert list(orderings[0]) == list(range(1, 51)) and list(orderings[1]) == list(range(50, 0, -1))
    assert list(orderings[2]) == list(orderings[0])


def tiny_model(name="iaf-vae", data_size=None, **overrides):
    cls = model_class(name)
    config = resolve_config(cls, "mnist", overrides, seed=0)
    if data_size is not None:
        config["data_shape"] = [data_size]
    sg.manual_seed(0)
    return cls(config)


def test_iaf_steps_0_is_the_diagonal_vae():
    """Same seed, same settings: the same parameters, the same ELBO draws and the same IWAE bound."""
    vae, diagonal = tiny_model("vae", hidden=[16], z_dim=4), tiny_model(hidden=[16], z_dim=4, iaf_steps=0)
    assert len(diagonal.flow) == 0
    for (name, a), (_, b) in zip(vae.encoder.named_parameters(), diagonal.encoder.named_parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=name)
    x = sg.tensor((np.random.default_rng(0).random((3, 784)) < 0.3).astype(np.float32))
    with sg.no_grad():
        for method, args in (("elbo", ()), ("importance_weighted_bound", (10,))):
            first, second = (getattr(model, method)(x, *args, sg.Generator(1)) for model in (vae, diagonal))
            first, second = (first[0] if isinstance(first, tuple) else first), \
                (second[0] if isinstance(second, tuple) else second)
            np.testing.assert_array_equal(first.numpy(), second.numpy())


def test_elbo_below_log_p_x_by_quadrature_and_the_iwae_bound_converges_to_it():
    """z of 2 dimensions and 12 pixels: log p(x) = log integral p(x|z) p(z) dz on a grid over [-7, 7]^2
    (float64). The mean of the IAF ELBO over draws is below it, by more than the bound with k = 20000
    samples from the IAF posterior, which is within 0.03 nats of it: so log q(z|x) is a normalised density."""
    model = tiny_model(data_size=12, hidden=[16], z_dim=2, iaf_steps=2, iaf_hidden=[16, 16], context=4)
    for network in model.networks():
        network.double()
    x = sg.tensor((np.random.default_rng(0).random((3, 12)) < 0.4).astype(np.float64))
    with sg.no_grad():
        grid = np.linspace(-7, 7, 281)
        cell = (grid[1] - grid[0]) ** 2
        z = sg.tensor(np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 1, 2)).expand(len(grid) ** 2, 3, 2)
        log_joint = model.log_likelihood(x, z) - 0.5 * (z.square().sum(-1)) - math.log(2 * math.pi)
        log_p_x = log_joint.logsumexp(0).numpy() + math.log(cell)
        elbos = np.stack([model.elbo(x, sg.Generator(seed))[0].numpy() for seed in range(300)])
        bound = model.importance_weighted_bound(x, 20000, sg.Generator(0)).numpy()
    assert np.all(elbos.mean(0) < bound)
    assert np.all(elbos.mean(0) < log_p_x)
    assert_allclose(bound, log_p_x, atol=0.03)


def independent_pixels_nll(train_probabilities, test_bits):
    """Test NLL (nats per image) of independent Bernoulli pixels at the training means, kept in [1e-3, 1 - 1e-3]."""
    p = np.clip(train_probabilities.mean(0), 1e-3, 1 - 1e-3)
    return float(-(test_bits * np.log(p) + (1 - test_bits) * np.log(1 - p)).sum(1).mean())


def short_run_beats_independent_pixels(tmp_path, model, settings, steps, k, n_test):
    """`scratchgen train MODEL` for `steps` steps on real MNIST with `settings` (NAME=VALUE), then
    `sample` 9 images in [0, 1] and `eval --k K --n-test N`; returns (eval's results, the test NLL
    of independent pixels at the training means on the same test images)."""
    from scratchgen.data import load_mnist
    from scratchgen.train.datasets import test_set
    out = tmp_path / "run"
    overrides = [arg for setting in [*settings, "sample_every=1000"] for arg in ("--set", setting)]
    assert cli.main(["train", model, "--steps", str(steps), "--data-dir", str(SHARED_MNIST), "--out", str(out),
                     *overrides]) == 0
    assert cli.main(["sample", str(out), "--n", "9", "--out", str(tmp_path / "samples.npy")]) == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (9, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    assert cli.main(["eval", str(out), "--k", str(k), "--n-test", str(n_test)]) == 0
    results = json.loads((out / "eval.json").read_text())
    # the test bits eval draws (one fixed binarization seed)
    images, _ = test_set(dict(dataset="mnist", data_dir=str(SHARED_MNIST), pixels="dynamic-binary"), "flat")
    train_images, _ = load_mnist("train", data_dir=SHARED_MNIST)
    baseline = independent_pixels_nll(train_images.reshape(len(train_images), -1) / 255.0, images[:n_test])
    assert 190 < baseline < 225, baseline
    assert results["k"] == k and results["n_test"] == n_test
    return results, baseline


@needs_mnist
def test_a_short_run_on_mnist_beats_independent_pixels_and_the_cli_samples_and_evaluates_it(tmp_path):
    results, baseline = short_run_beats_independent_pixels(
        tmp_path, "iaf-vae", ["hidden=[200]", "z_dim=16", "iaf_hidden=[64, 64]", "context=16"], steps=300, k=20,
        n_test=500)
    assert -results["test_elbo"] < baseline - 15, (results, baseline)
    assert results["test_nll_iwae"] < -results["test_elbo"]
