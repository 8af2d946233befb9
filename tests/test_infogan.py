"""InfoGAN (scratchgen/models/infogan.py, Chen et al. 2016): the paper's networks, optimizers and
code layout; the lower bound L_I of Eq. 5 checked by finite differences (first and second order)
and against torch.distributions; its gradient reaching G and Q (and D's trunk, not D's head);
one pass of D's trunk per batch for D and Q; a short run on real MNIST after which Q reads c1
back from G's images (which fails when either side's information term is not wired); and the
CLI's eval (c1 as a classifier of the test digits), sample --code/--sweep (Fig. 2) and explore
--traverse on that run. (Resuming bit for bit: tests/test_train_resume.py; the assignment and
error rates: tests/test_metrics_codes.py.)"""
import io
import json
import math
import pathlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
from oracle import check
from scratchgen import cli, train
from scratchgen.models import model_class
from scratchgen.models.infogan import InfoGAN, categorical_information, gaussian_information
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import SAMPLE_STREAM, stream
from scratchgen.train.explore import explore

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"no MNIST in {SHARED_MNIST}")
TINY = dict(width=4, z_dim=5)


def tiny_model(cls=InfoGAN, **overrides):
    sg.manual_seed(0)
    return cls(resolve_config(cls, "mnist", {**TINY, **overrides}, seed=0))


def images(n, seed=0):
    return sg.tensor(np.random.default_rng(seed).uniform(0, 1, (n, 1, 28, 28)).astype(np.float32))


def layer_shapes(network):
    return [tuple(layer.weight.shape) for layer in network.modules()
            if type(layer).__name__ in ("Linear", "Conv2d", "ConvTranspose2d")]


# ---- the paper's layout -----------------------------------------------------------------------
def test_the_papers_networks_optimizers_and_settings():
    model = InfoGAN(resolve_config(InfoGAN, "mnist", seed=0))
    config = model.config
    assert (config["z_dim"], config["batch_size"], config["steps"], config["pixels"]) == (62, 128, 5000, "unit")
    assert (config["lambda_cat"], config["lambda_cont"]) == (1.0, 1.0)
    # G: 74 -> FC 1024 -> FC 7x7x128 -> deconv 64 -> deconv 1 (weights as torch lays them out)
    assert layer_shapes(model.G) == [(1024, 74), (6272, 1024), (128, 64, 4, 4), (64, 1, 4, 4)]
    # D: conv 64 -> conv 128 -> FC 1024 (the trunk) -> FC 1; Q on the trunk: FC 128 -> 10 + 2
    assert layer_shapes(model.D.trunk) == [(64, 1, 4, 4), (128, 64, 4, 4), (1024, 6272)]
    assert layer_shapes(model.D.head) == [(1, 1024)] and layer_shapes(model.Q) == [(128, 1024), (12, 128)]
    d_group, g_group = model.optimizer_d.param_groups[0], model.optimizer_g.param_groups[0]
    assert (d_group["lr"], g_group["lr"]) == (2e-4, 1e-3) and d_group["betas"] == g_group["betas"] == (0.5, 0.999)
    in_d = {id(p) for p in d_group["params"]}
    assert {id(p) for p in model.Q.parameters()} <= in_d and {id(p) for p in model.D.parameters()} <= in_d
    assert model_class("infogan") is InfoGAN and "Q" in model.state_dict()


def test_the_codes_follow_the_prior_and_g_reads_z_then_c():
    model = tiny_model()
    latent = model.latent(10000, sg.Generator(0)).numpy()
    assert latent.shape == (10000, 5 + 12)
    noise, one_hot, continuous = latent[:, :5], latent[:, 5:15], latent[:, 15:]
    assert np.all(np.abs(noise) <= 1) and np.all(np.abs(continuous) <= 1) and abs(continuous.mean()) < 0.05
    assert set(np.unique(one_hot)) == {0.0, 1.0} and np.all(one_hot.sum(1) == 1)
    assert np.all(np.abs(one_hot.sum(0) - 1000) < 150)  # each category about a tenth of the draws
    # decode of the whole latent = decode of its noise with the codes given apart (as the training step)
    whole = model.decode(latent[:6])
    apart = model.decode(latent[:6, :5], sg.tensor(latent[:6, 5:]))
    assert whole.shape == (6, 1, 28, 28) and np.all((whole >= 0) & (whole <= 1))
    assert_allclose(whole, apart, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"infogan: G reads \[z \| c\] of 17 columns"):
        model.decode(latent[:2, :5])


def test_the_step_draws_its_codes_and_never_reads_the_digit_labels():
    first, second = tiny_model(), tiny_model()
    x = images(6)
    _, codes = first.unpack((x, sg.tensor(np.arange(6))))
    _, other = second.unpack((x, sg.tensor(np.full(6, 3))))
    assert_allclose(codes.numpy(), other.numpy(), rtol=0, atol=0)
    assert codes.shape == (6, 12)


def test_outputs_of_g_d_and_q():
    model = tiny_model()
    x = images(4)
    assert model.generate(4, model.rng).shape == (4, 1, 28, 28)
    assert model.discriminate(x).shape == (4,)
    logits, means = model.code_parameters(x)
    assert logits.shape == (4, 10) and means.shape == (4, 2)


def test_code_grids_hold_z_along_a_row_and_set_the_codes_asked_for():
    model = tiny_model()
    latents = model.code_grid(12, {"c3": 0.5}, ("c2", [-2.0, 0.0, 2.0]), sg.Generator(0))
    assert latents.shape == (12, 3, 17) and latents.dtype == np.float32
    assert np.all(latents[:, :, :5] == latents[:, :1, :5])  # each row one z ...
    assert not np.allclose(latents[0, 0, :5], latents[1, 0, :5])  # ... its own
    assert np.all(latents[:, :, 5:15].argmax(2) == (np.arange(12) % 10)[:, None])  # c1 = r mod 10 (one-hot)
    assert np.all(latents[:, :, 15] == [-2.0, 0.0, 2.0]) and np.all(latents[:, :, 16] == 0.5)
    by_category = model.code_grid(2, {"c1": 7}, ("c3", [1.0]), sg.Generator(0))
    assert np.all(by_category[:, :, 5:15].argmax(2) == 7) and by_category.shape == (2, 1, 17)
    assert model.code_grid(4, {}, None, sg.Generator(0)).shape == (4, 1, 17)
    swept = model.code_grid(3, {}, ("c1", [0.0, 9.0]), sg.Generator(0))
    assert np.all(swept[:, :, 5:15].argmax(2) == [0, 9])


# ---- the lower bound L_I (Eq. 5) --------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2 ** 16))
def test_categorical_information_is_h_plus_the_expected_log_likelihood(n, k, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (n, k))
    one_hot = np.eye(k)[rng.integers(0, k, n)]

    def by_torch(logits, one_hot):  # H(c) of the uniform prior + E[log Q(c|x)], from torch.distributions
        prior = torch.distributions.Categorical(probs=torch.full((k,), 1.0 / k, dtype=torch.float64))
        return prior.entropy() + torch.distributions.Categorical(logits=logits).log_prob(one_hot.argmax(1)).mean()
    check(categorical_information, by_torch, [logits, one_hot], constants=(1,), rtol=1e-12, atol=1e-12)
    assert categorical_information(sg.tensor(logits), sg.tensor(one_hot)).item() <= math.log(k)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2 ** 16))
def test_gaussian_information_is_h_plus_the_expected_log_likelihood(n, d, seed):
    rng = np.random.default_rng(seed)
    means, codes = rng.normal(0, 1, (n, d)), rng.uniform(-1, 1, (n, d))

    def by_torch(means, codes):  # H(U(-1, 1)) per code + E[log N(c; mean, 1)]
        entropy = torch.distributions.Uniform(torch.tensor(-1.0, dtype=torch.float64), 1.0).entropy()
        return d * entropy + torch.distributions.Normal(means, 1.0).log_prob(codes).sum(1).mean()
    check(gaussian_information, by_torch, [means, codes], constants=(1,), rtol=1e-12, atol=1e-12)


def test_a_sure_q_reaches_the_entropy_of_the_code():
    one_hot = sg.tensor(np.eye(10)[[3, 1, 4, 1, 5]])
    assert categorical_information(50.0 * one_hot, one_hot).item() == pytest.approx(math.log(10), abs=1e-12)
    assert categorical_information(sg.zeros(5, 10, dtype=sg.float64), one_hot).item() == pytest.approx(0, abs=1e-12)


def parameters_reached(loss, *networks):
    """For each network, whether each of its parameters gets a nonzero gradient from `loss`."""
    parameters = [list(network.parameters()) for network in networks]
    grads = iter(sg.grad(loss, [p for group in parameters for p in group], allow_unused=True))
    return [[(g := next(grads)) is not None and bool(np.any(g.numpy() != 0)) for _ in group] for group in parameters]


def test_the_information_terms_reach_g_and_q_and_ds_trunk_but_not_ds_head():
    model = tiny_model(lambda_cat=0.5, lambda_cont=2.0)
    codes = model.prior_codes(8)
    fake = model.generate(8, model.rng, codes)
    terms = model.generator_terms(fake, codes, model.discriminate)
    assert sorted(terms) == ["info_cat_g", "info_cont_g"]
    to_g, to_q = parameters_reached(sum(terms.values()), model.G, model.Q)
    assert all(to_g) and all(to_q)  # G (and Q) ascend L_I
    critic = model.critic_terms(images(8), fake.detach(), codes)
    assert sorted(critic) == ["info_cat_d", "info_cont_d"]
    to_q, to_trunk, to_head = parameters_reached(sum(critic.values()), model.Q, model.D.trunk, model.D.head)
    assert all(to_q) and any(to_trunk) and not any(to_head)
    # each term is -lambda L_I of Eq. 5 on Q's reading of this batch
    logits, means = model.code_parameters(fake.detach())
    assert critic["info_cat_d"].item() == pytest.approx(-0.5 * categorical_information(logits, codes[:, :10]).item())
    assert critic["info_cont_d"].item() == pytest.approx(-2.0 * gaussian_information(means, codes[:, 10:]).item())


def test_ds_trunk_runs_once_per_batch_for_d_and_q():
    model = tiny_model()
    calls = []
    model.D.trunk.register_forward_hook(lambda module, args, output: calls.append(args[0]))
    losses = model.train_step((images(8), sg.tensor(np.zeros(8, np.int64))))
    assert len(calls) == 3  # D's step: the real batch, G's batch (D and Q); G's step: G's batch (D and Q)
    assert {"loss_d", "loss_g", "info_cat_d", "info_cont_d", "info_cat_g", "info_cont_g"} == losses.keys()
    x, other = images(5), images(5, seed=1)
    model.discriminate(x)
    kept = model.code_parameters(x)[0].detach().numpy()
    assert_allclose(kept, model.code_parameters(x)[0].detach().numpy(), rtol=1e-6)  # as a pass of its own
    model.discriminate(x)
    assert len(calls) == 6 and model.code_parameters(other)[0].shape == (5, 10) and len(calls) == 7


# ---- a short run on MNIST, and the commands on it -----------------------------------------------
RUN = dict(width=8, batch_size=32, log_every=50, sample_every=10 ** 6)
STEPS = 300


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """300 steps of a width-8 InfoGAN on MNIST (seconds)."""
    out = tmp_path_factory.mktemp("infogan") / "run"
    run, outcome = train.start("infogan", steps=STEPS, overrides=RUN, out=out, data_dir=str(SHARED_MNIST),
                               stream=io.StringIO())
    assert outcome == "finished"
    return run


@needs_mnist
def test_after_a_short_run_q_reads_c1_back_from_gs_images(trained_run):
    """Without G's term (G ignores c1) Q's accuracy stays near 0.1 and L_I near 0; without D's
    (Q never trains) L_I stays near 0.1 nats: both fail here."""
    _, _, model, _ = train.load_trained(trained_run.path)
    found = model.sample_information(1000, sg.Generator(1))
    assert found["c1_recovery_accuracy"] > 0.6 and found["l_i_c1"] > 0.3, found
    assert found["l_i_c1"] <= found["h_c1"] == pytest.approx(math.log(10))
    curve = [-record["info_cat_g"] for record in trained_run.read_metrics()]
    assert curve[-1] > curve[0] + 0.3  # L_I climbs toward H(c1) = 2.30 (Fig. 1)


@needs_mnist
def test_eval_reports_c1_as_a_classifier_and_l_i_beside_h(trained_run, stand_in_classifier):
    stand_in_classifier(0.1)
    assert cli.main(["eval", str(trained_run.path), "--n-test", "500"]) == 0
    results = json.loads((trained_run.path / "eval.json").read_text())
    assert results["n_test"] == 500 and results["h_c1"] == pytest.approx(math.log(10))
    assert 0 <= results["c1_test_majority_error"] <= results["c1_test_one_to_one_error"] < 0.9
    assert sorted(results["c1_test_one_to_one_mapping"]) == list(range(10))
    assert results["l_i_c1"] <= results["h_c1"] and results["fid_lenet"] > 0


@needs_mnist
def test_sample_draws_figure_2_grids_whose_rows_q_reads_as_their_category(trained_run, tmp_path, capsys):
    grid = tmp_path / "grid.npy"
    assert cli.main(["sample", str(trained_run.path), "--sweep", "c2=-2:2:10", "--out", str(grid)]) == 0
    pictures = np.load(grid)
    assert pictures.shape == (10, 10, 1, 28, 28)  # rows: c1 = 0..9; columns: c2 from -2 to 2
    _, _, model, _ = train.load_trained(trained_run.path)
    read = model.categories(sg.tensor(pictures.reshape(-1, 1, 28, 28))).reshape(10, 10)
    assert np.mean(read == np.arange(10)[:, None]) > 0.6
    fixed = tmp_path / "fixed.npy"
    assert cli.main(["sample", str(trained_run.path), "--code", "c1=3", "--code", "c3=0.5", "--sweep", "c2=-1:1:4",
                     "--n", "5", "--out", str(fixed)]) == 0
    latents = model.code_grid(5, {"c1": 3, "c3": 0.5}, ("c2", np.linspace(-1, 1, 4)),
                              stream(model.config["seed"], SAMPLE_STREAM))
    assert_allclose(np.load(fixed), model.decode(latents.reshape(20, -1)).reshape(5, 4, 1, 28, 28), atol=1e-6)
    picture = tmp_path / "grid.png"
    assert cli.main(["sample", str(trained_run.path), "--code", "c1=7", "--out", str(picture)]) == 0
    assert picture.read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    for argv, message in ((["--code", "c4=1"], "InfoGAN's codes are c1"), (["--code", "c1=2.5"], "c1 must be a category"),
                          (["--code", "c2=1", "--sweep", "c2=0:1:3"], "both fixed (--code) and swept"),
                          (["--code", "c1=1", "--code", "c1=2"], "gives one code twice"),
                          (["--sweep", "c2=0:1"], "expected NAME=LOW:HIGH:N")):
        assert cli.main(["sample", str(trained_run.path), *argv]) == 2
        assert message in capsys.readouterr().err


@needs_mnist
def test_explore_traverse_walks_each_code(trained_run, tmp_path):
    path, found = explore(trained_run.path, "traverse", out=tmp_path / "t.npy", rows=4)
    assert [t.name for t in found] == ["c1", "c2", "c3"] and np.load(path).shape == (3, 4, 10, 1, 28, 28)
    assert found[1].values[0] == -2.0 and found[1].values[-1] == 2.0
    _, _, model, _ = train.load_trained(trained_run.path)
    read = model.categories(sg.tensor(found[0].images.reshape(-1, 1, 28, 28))).reshape(4, 10)
    assert np.mean(read == np.arange(10)) > 0.6  # column c of the c1 panel is drawn as category c


@needs_mnist
def test_codes_are_refused_for_a_model_without_them(tmp_path, capsys):
    run = str(tmp_path / "dcgan")
    assert cli.main(["train", "dcgan", "--steps", "1", "--batch-size", "4", "--set", "width=4", "--set", "z_dim=2",
                     "--data-dir", str(SHARED_MNIST), "--out", run]) == 0
    capsys.readouterr()
    assert cli.main(["sample", run, "--sweep", "c2=-2:2:10"]) == 2
    assert "set the codes of InfoGAN" in capsys.readouterr().err
