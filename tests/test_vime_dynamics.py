"""VIME's dynamics model (models/vime_dynamics.py) and nn.BayesianLinear (nn/bayesian.py): the
layer's local-reparameterisation forward and its KL pass finite differences to the second order and
match PyTorch given the same noise (torch.distributions for the KL); the closed-form Hessian of the
KL is its autograd Hessian; the second-order information gain is the exact KL after the step it
assumes, to second order, and the step's gradient is that of the transition's negative
log-likelihood; the BNN fits a linear system and finds a novel transition more informative than a
familiar one; the replay pool, the KL normaliser and a whole fit resume bit for bit; bad input
fails clearly. (Bad input to BayesianLinear: tests/bad_input_specs_vime.py.)"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg
from scratchgen import nn, optim
from scratchgen.models.vime_dynamics import BayesianDynamics, KLNormaliser, ReplayPool
from bad_input import assert_clear_error
from strategies import arrays, shapes

A = np.array([[0.9, 0.2], [-0.1, 0.8]])  # the linear system s' = A s + B a
B = np.array([[0.0], [0.5]])


def linear_system(n, rng, scale=1.0):
    states, actions = rng.normal(0, scale, (n, 2)), rng.uniform(-1, 1, (n, 1))
    return states, actions, states @ A.T + actions @ B.T


# ---- nn.BayesianLinear --------------------------------------------------------------------------
@st.composite
def bayesian_linear_cases(draw):
    """(float64 layer with drawn mu and rho, input array of shape (*batch, in_features), seed)."""
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    layer = nn.BayesianLinear(n_in, n_out, prior_std=draw(st.floats(0.1, 2.0))).double()
    with sg.no_grad():
        for name, param in layer.named_parameters():
            low, high = (-3.0, 1.0) if name.endswith("rho") else (-2.0, 2.0)
            param.copy_(sg.tensor(draw(arrays(tuple(param.shape), elements=st.floats(low, high)))))
    batch = draw(shapes(min_dims=0, max_dims=2, max_elements=6))
    return layer, draw(arrays(batch + (n_in,))), draw(st.integers(0, 2 ** 32 - 1))


@given(case=bayesian_linear_cases())
def test_bayesian_linear_forward_passes_gradcheck_and_gradgradcheck_with_fixed_noise(case):
    layer, x, seed = case
    inputs = (sg.tensor(x, requires_grad=True),) + tuple(layer.parameters())
    forward = lambda x, *params: layer(x, generator=sg.Generator(seed))  # noqa: E731 (the same noise every call)
    sg.gradcheck(forward, inputs)
    sg.gradgradcheck(forward, inputs)


@given(case=bayesian_linear_cases())
def test_bayesian_linear_kl_passes_gradcheck_and_gradgradcheck(case):
    layer, _, _ = case
    params = tuple(layer.parameters())
    sg.gradcheck(lambda *p: layer.kl_divergence(), params)
    sg.gradgradcheck(lambda *p: layer.kl_divergence(), params)


@given(data=st.data())
def test_gaussian_kl_divergence_passes_gradcheck_and_gradgradcheck(data):
    shape = data.draw(shapes(max_elements=8))
    means = [sg.tensor(data.draw(arrays(shape)), requires_grad=True) for _ in range(2)]
    rhos = [sg.tensor(data.draw(arrays(shape, elements=st.floats(-2, 2))), requires_grad=True) for _ in range(2)]
    std_of = nn.bayesian.std_of
    kl = lambda m_p, r_p, m_q, r_q: nn.gaussian_kl_divergence(m_p, std_of(r_p), m_q, std_of(r_q))  # noqa: E731
    sg.gradcheck(kl, (means[0], rhos[0], means[1], rhos[1]))
    sg.gradgradcheck(kl, (means[0], rhos[0], means[1], rhos[1]))


@given(case=bayesian_linear_cases())
def test_bayesian_linear_matches_torch_given_the_same_noise(case):
    layer, x, seed = case
    ours_x = sg.tensor(x, requires_grad=True)
    ours = layer(ours_x, generator=sg.Generator(seed))
    theirs_x = torch.tensor(x, requires_grad=True)
    p = {name: torch.tensor(param.detach().numpy(), requires_grad=True) for name, param in layer.named_parameters()}
    softplus = torch.nn.functional.softplus
    mean = torch.nn.functional.linear(theirs_x, p["weight_mu"], p["bias_mu"])
    variance = torch.nn.functional.linear(theirs_x ** 2, softplus(p["weight_rho"]) ** 2, softplus(p["bias_rho"]) ** 2)
    noise = torch.from_numpy(np.asarray(sg.Generator(seed).normal(tuple(mean.shape), np.float64, "cpu")))
    theirs = mean + variance.sqrt() * noise
    assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = np.random.default_rng(seed).standard_normal(ours.shape)
    ours.backward(sg.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, param in layer.named_parameters():
        assert_allclose(param.grad.numpy(), p[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@given(case=bayesian_linear_cases(), data=st.data())
def test_the_kls_match_torch_distributions(case, data):
    layer, _, _ = case
    p = {name: torch.tensor(param.detach().numpy()) for name, param in layer.named_parameters()}
    softplus = torch.nn.functional.softplus
    prior = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                       torch.tensor(layer.prior_std, dtype=torch.float64))
    theirs = sum(torch.distributions.kl_divergence(torch.distributions.Normal(p[f"{w}_mu"], softplus(p[f"{w}_rho"])),
                                                   prior).sum() for w in ("weight", "bias"))
    assert_allclose(layer.kl_divergence().item(), theirs.item(), rtol=1e-12)
    shape = tuple(layer.weight_mu.shape)
    m_p, m_q = data.draw(arrays(shape)), data.draw(arrays(shape))
    s_p, s_q = (data.draw(arrays(shape, elements=st.floats(0.1, 3.0))) for _ in range(2))
    ours = nn.gaussian_kl_divergence(sg.tensor(m_p), sg.tensor(s_p), sg.tensor(m_q), sg.tensor(s_q)).item()
    normal = lambda m, s: torch.distributions.Normal(torch.tensor(m), torch.tensor(s))  # noqa: E731
    assert_allclose(ours, torch.distributions.kl_divergence(normal(m_p, s_p), normal(m_q, s_q)).sum().item(),
                    rtol=1e-12, atol=1e-14)


@given(case=bayesian_linear_cases())
def test_the_closed_form_hessian_is_the_autograd_hessian_of_the_kl_at_the_old_posterior(case):
    """KL[q(phi') || q(phi)] is a sum over elements, so its Hessian in phi' is diagonal: the
    derivative of the summed gradient is that diagonal."""
    layer, _, _ = case
    old = {name: param.detach() for name, param in layer.named_parameters()}
    new = {name: value.clone().requires_grad_() for name, value in old.items()}
    kl = sum(nn.gaussian_kl_divergence(new[f"{w}_mu"], nn.bayesian.std_of(new[f"{w}_rho"]),
                                       old[f"{w}_mu"], nn.bayesian.std_of(old[f"{w}_rho"])) for w in ("weight", "bias"))
    gradients = sg.grad(kl, list(new.values()), create_graph=True)
    assert all(np.abs(g.detach().numpy()).max() < 1e-12 for g in gradients)  # phi' = phi is the minimum
    second = sg.grad(sum(g.sum() for g in gradients), list(new.values()))
    closed_form = layer.kl_hessian_diagonal()
    for name, h in zip(new, second):
        assert_allclose(closed_form[name].numpy(), h.numpy(), rtol=1e-10, err_msg=name)


def test_the_layer_is_a_module_with_the_reference_initialisation():
    sg.manual_seed(0)
    layer = nn.BayesianLinear(200, 100, prior_std=0.3)
    assert [name for name, _ in layer.named_parameters()] == ["weight_mu", "weight_rho", "bias_mu", "bias_rho"]
    assert_allclose(nn.bayesian.std_of(layer.weight_rho).detach().numpy(), 0.3, rtol=1e-6)
    assert abs(layer.weight_mu.detach().numpy().std() - 1.0) < 0.02  # bnn.py: mu ~ N(0, 1)
    assert repr(layer) == "BayesianLinear(in_features=200, out_features=100, prior_std=0.3)"
    with sg.no_grad():
        x = sg.ones(3, 200)
        assert not np.array_equal(layer(x).numpy(), layer(x).numpy())  # a fresh draw per call
        draws = layer(sg.ones(4000, 200), generator=sg.Generator(0)).numpy()  # a fresh draw per row
    expected_std = np.sqrt(200 * 0.3 ** 2 + 0.3 ** 2)
    assert abs(draws[:, 0].std() / expected_std - 1) < 0.05


# ---- the information gain -----------------------------------------------------------------------
def small_model(seed=0, **options):
    sg.manual_seed(seed)
    model = BayesianDynamics(2, 1, hidden=8, **options).double()
    pool = ReplayPool(100, 2, 1)
    pool.add(*linear_system(100, np.random.default_rng(seed)))
    model.set_normalisation(pool)
    return model


def shifted(model, step):
    """A copy of the model at phi + step."""
    copy = BayesianDynamics(2, 1, hidden=8).double()
    copy.load_state_dict(model.state_dict())
    with sg.no_grad():
        for name, param in copy.named_parameters():
            param.add_(step[name])
    return copy


def exact_kl(new, old):
    return sum(nn.gaussian_kl_divergence(getattr(a, f"{w}_mu"), nn.bayesian.std_of(getattr(a, f"{w}_rho")),
                                         getattr(b, f"{w}_mu"), nn.bayesian.std_of(getattr(b, f"{w}_rho"))).item()
               for a, b in ((new.hidden_layer, old.hidden_layer), (new.output_layer, old.output_layer))
               for w in ("weight", "bias"))


@pytest.mark.parametrize("seed", range(5))
def test_the_second_order_gain_is_the_exact_kl_after_the_step_it_assumes(seed):
    """information_gain = 1/2 lambda^2 g^T H^-1 g; the posterior after the step -lambda H^-1 g has
    KL to the current one of 1/2 step^T H_exact step + O(lambda^3): their relative difference
    shrinks in proportion to lambda (a wrong factor or Hessian leaves it at O(1))."""
    model = small_model(seed)
    transition = [array[:1] + 3.0 for array in linear_system(1, np.random.default_rng(seed + 10))]
    errors = []
    for step_size in (1e-2, 1e-3):
        gain = model.information_gain(*transition, step_size=step_size, generator=sg.Generator(7))[0]
        step = model.posterior_step(*transition, step_size=step_size, generator=sg.Generator(7))
        exact = exact_kl(shifted(model, step), model)
        errors.append(abs(gain - exact) / exact)
    assert errors[1] < 1e-3, errors
    assert errors[0] / errors[1] > 5, errors


@pytest.mark.parametrize("seed", range(5))
def test_the_step_descends_the_negative_log_likelihood_of_the_transition_at_its_gradient(seed):
    """With the same noise, NLL(phi + step) - NLL(phi) = g . step + O(lambda^2) = -2 gain / lambda:
    the gradient is that of this transition's NLL (the KL term of Eq. 12 is 0 with 0 gradient)."""
    model = small_model(seed)
    transition = [array[:1] + 2.0 for array in linear_system(1, np.random.default_rng(seed + 20))]
    step_size = 1e-5

    def nll(m):  # elbo_loss without its KL term, with the noise of sg.Generator(7)
        return m.elbo_loss(*transition, generator=sg.Generator(7)).item() - m.kl_divergence().item() / m.n_batches
    step = model.posterior_step(*transition, step_size=step_size, generator=sg.Generator(7))
    gain = model.information_gain(*transition, step_size=step_size, generator=sg.Generator(7))[0]
    assert_allclose(nll(shifted(model, step)) - nll(model), -2 * gain / step_size, rtol=1e-3)


def test_information_gain_leaves_the_model_as_it_was_and_repeats_with_the_generator():
    model = small_model()
    before = {name: value.numpy().copy() for name, value in model.state_dict().items()}
    states, actions, next_states = linear_system(5, np.random.default_rng(3))
    gains = model.information_gain(states, actions, next_states, generator=sg.Generator(1))
    assert gains.shape == (5,) and gains.dtype == np.float64 and np.all(gains > 0)
    assert_array_equal(gains, model.information_gain(states, actions, next_states, generator=sg.Generator(1)))
    for name, value in model.state_dict().items():
        assert_array_equal(value.numpy(), before[name], err_msg=name)
    clipped = model.information_gain(states, actions, next_states, generator=sg.Generator(1), max_value=gains.min())
    assert_array_equal(clipped, gains.min())


def test_the_bnn_fits_a_linear_system_and_a_novel_transition_is_more_informative():
    rng = np.random.default_rng(0)
    pool = ReplayPool(2000, 2, 1)
    pool.add(*linear_system(1000, rng))
    sg.manual_seed(0)
    model = BayesianDynamics(2, 1, likelihood_std=0.5, n_batches=100).double()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    generator = sg.Generator(1)
    losses = [model.fit(pool, optimizer, n_updates=500, batch_size=10, generator=generator) for _ in range(8)]
    assert losses[-1] < losses[0] / 5, losses
    states, actions, next_states = linear_system(200, rng)
    with sg.no_grad():
        prediction = np.mean([model(states, actions, generator=generator).numpy() for _ in range(20)], axis=0)
    rmse = np.sqrt(np.mean((prediction - next_states) ** 2))
    assert rmse < 0.1 * next_states.std(), (rmse, next_states.std())
    familiar = model.information_gain(states[:20], actions[:20], next_states[:20], generator=generator)
    far = linear_system(20, rng, scale=0.1)[0] + 6.0  # about 6 standard deviations from every state seen
    novel = model.information_gain(far, actions[:20], far @ A.T + actions[:20] @ B.T, generator=generator)
    assert novel.min() > 10 * familiar.max(), (novel, familiar)


# ---- replay pool, normaliser, resuming -------------------------------------------------------------
def test_the_pool_keeps_the_last_capacity_transitions_and_round_trips():
    rng = np.random.default_rng(0)
    pool = ReplayPool(7, 2, 1)
    batches = [linear_system(n, rng) for n in (3, 5, 9, 2)]
    for batch in batches:
        pool.add(*batch)
    everything = [np.concatenate(column) for column in zip(*batches)]
    assert len(pool) == 7
    saved = pool.state_dict()
    stored = {tuple(np.concatenate(row)) for row in zip(saved["states"], saved["actions"], saved["next_states"])}
    assert stored == {tuple(np.concatenate(row)) for row in zip(*(column[-7:] for column in everything))}
    states, actions = everything[0][-7:], everything[1][-7:]
    for ours, theirs in zip(pool.mean_std(), (states.mean(0), states.std(0), actions.mean(0), actions.std(0))):
        assert_allclose(ours, theirs, rtol=1e-12)
    copy = ReplayPool(7, 2, 1)
    copy.load_state_dict(pool.state_dict())
    batch = linear_system(4, np.random.default_rng(1))
    pool.add(*batch)
    copy.add(*batch)
    for ours, theirs in zip(pool.sample(50, sg.Generator(3)), copy.sample(50, sg.Generator(3))):
        assert_array_equal(ours, theirs)
    states, actions, next_states = pool.sample(50, sg.Generator(4))  # rows stay together
    assert_allclose(next_states, states @ A.T + actions @ B.T, rtol=1e-12)


def test_the_normaliser_divides_by_the_mean_of_the_last_medians_and_round_trips():
    normaliser = KLNormaliser(history=2)
    batches = [np.array([1.0, 2.0, 9.0]), np.array([4.0, 8.0]), np.array([0.5, 3.0, 1.0, 2.0])]
    medians = [2.0, 6.0, 1.5]
    assert_allclose(normaliser(batches[0]), batches[0] / 2.0)
    assert_allclose(normaliser(batches[1]), batches[1] / 4.0)
    copy = KLNormaliser()
    copy.load_state_dict(normaliser.state_dict())
    assert copy.state_dict() == {"history": 2, "medians": medians[:2]}
    assert_array_equal(normaliser(batches[2]), copy(batches[2]))
    assert_allclose(copy(batches[2]), batches[2] / np.mean([1.5, 1.5]))
    assert normaliser.medians == medians[1:]


def test_a_checkpointed_fit_resumes_bit_for_bit(tmp_path):
    def start():
        sg.manual_seed(5)
        model = BayesianDynamics(2, 1, hidden=8).double()
        return model, optim.Adam(model.parameters(), lr=1e-3), ReplayPool(300, 2, 1), KLNormaliser(), sg.Generator(2)

    def iteration(model, optimizer, pool, normaliser, generator, i):
        batch = linear_system(100, np.random.default_rng(i))
        kls = normaliser(model.information_gain(*batch, n_samples=2, generator=generator)) if len(pool) else None
        pool.add(*batch)
        model.fit(pool, optimizer, n_updates=20, generator=generator)
        return kls

    straight = start()
    for i in range(3):
        expected = iteration(*straight, i)
    first = start()
    for i in range(2):
        iteration(*first, i)
    model, optimizer, pool, normaliser, generator = first
    sg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "pool": pool.state_dict(),
             "normaliser": normaliser.state_dict(), "generator": generator.get_state()}, tmp_path / "run.sg")
    resumed = start()
    saved = sg.load(tmp_path / "run.sg")
    resumed[0].load_state_dict(saved["model"])
    resumed[1].load_state_dict(saved["optimizer"])
    resumed[2].load_state_dict(saved["pool"])
    resumed[3].load_state_dict(saved["normaliser"])
    resumed[4].set_state(saved["generator"])
    assert_array_equal(iteration(*resumed, 2), expected)
    for (name, ours), theirs in zip(resumed[0].state_dict().items(), straight[0].state_dict().values()):
        assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input_fails_clearly_naming_the_method_and_the_argument():
    model = small_model()
    s, a, s2 = linear_system(3, np.random.default_rng(0))
    calls = {
        ("BayesianDynamics", "observation_size"): lambda: BayesianDynamics(0, 1),
        ("BayesianDynamics", "likelihood_std"): lambda: BayesianDynamics(2, 1, likelihood_std=-1.0),
        ("BayesianDynamics", "n_batches"): lambda: BayesianDynamics(2, 1, n_batches="5"),
        ("BayesianDynamics", "actions"): lambda: model(s, a[:2]),
        ("BayesianDynamics.elbo_loss", "states"): lambda: model.elbo_loss(s[:, :1], a, s2),
        ("BayesianDynamics.elbo_loss", "next_states"): lambda: model.elbo_loss(s, a, s2[:2]),
        ("BayesianDynamics.elbo_loss", "n_samples"): lambda: model.elbo_loss(s, a, s2, n_samples=0),
        ("BayesianDynamics.information_gain", "actions"): lambda: model.information_gain(s, "abc", s2),
        ("BayesianDynamics.information_gain", "next_states"): lambda: model.information_gain(s, a, s2[0]),
        ("BayesianDynamics.posterior_step", "step_size"): lambda: model.posterior_step(s, a, s2, step_size=-1),
        ("BayesianDynamics.fit", "pool"): lambda: model.fit(ReplayPool(5, 2, 1), optim.Adam(model.parameters()), 1),
        ("BayesianDynamics.fit", "n_updates"): lambda: model.fit(pool_of(s, a, s2), optim.Adam(model.parameters()), 0),
        ("ReplayPool", "capacity"): lambda: ReplayPool(2.5, 2, 1),
        ("ReplayPool.add", "next_states"): lambda: ReplayPool(5, 2, 1).add(s, a, s2[:, :1]),
        ("ReplayPool.add", "actions"): lambda: ReplayPool(5, 2, 1).add(s, a[:1], s2),
        ("ReplayPool.sample", "batch_size"): lambda: pool_of(s, a, s2).sample(0),
        ("ReplayPool.load_state_dict", "capacity"): lambda: ReplayPool(5, 2, 1).load_state_dict(
            pool_of(s, a, s2).state_dict()),
        ("KLNormaliser", "kls"): lambda: KLNormaliser()(np.zeros((2, 2))),
        ("KLNormaliser", "history"): lambda: KLNormaliser(0),
    }
    for (where, arg), call in calls.items():
        error = assert_clear_error(call, where, arg)
        assert "got" in str(error), str(error)
    assert "pool is empty" in str(assert_clear_error(lambda: ReplayPool(5, 2, 1).sample(1), "ReplayPool.sample",
                                                     "pool"))


def pool_of(states, actions, next_states):
    pool = ReplayPool(10, 2, 1)
    pool.add(states, actions, next_states)
    return pool
