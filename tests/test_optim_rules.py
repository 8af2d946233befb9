"""The update rules that optim/ shows (sgd_rule, adam_rule, rmsprop_rule) against the fused
in-place updates the optimizers run by default (backends/fused_optimizers.py): two optimizers,
one fused (the default) and one with fused=False (the rule), fed the same gradients, hold the
same bits after every step, in the parameter and in every state buffer; also when the fused
update is cut across threads. That the rules are torch.optim's is tests/test_optim.py's job,
which runs its trajectories against torch with both settings."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import scratchgen as sg
from scratchgen import optim
from scratchgen.backends import numpy as numpy_backend, threads
from scratchgen.optim.adam import adam_rule
from strategies import adam_options, hyperparameters, sgd_options, shapes, zero_or

STEPS = 8


@st.composite
def rmsprop_options(draw):
    # centered's E[g^2] - E[g]^2 cancels as alpha -> 0: it can round below 0 (a NaN) or to 0
    # (a step of g / eps), as in torch; alpha >= 0.1 keeps the trajectories finite
    centered = draw(st.booleans())
    return dict(lr=draw(hyperparameters(0.0, 0.5)), alpha=draw(hyperparameters(0.1 if centered else 0.0, 0.999)),
                eps=draw(hyperparameters(1e-12, 1e-2)), weight_decay=draw(zero_or(hyperparameters(0.0, 0.5))),
                momentum=draw(zero_or(hyperparameters(0.0, 0.99))), centered=centered, maximize=draw(st.booleans()))

OPTIONS = {"SGD": sgd_options(lr=1.0, momentum=0.99, nesterov_momentum=0.01, dampening=1.0, weight_decay=0.5),
           "Adam": adam_options(lr=1.0, beta1=0.999, beta2=0.99999, eps=(1e-12, 1e-2), weight_decay=0.5),
           "RMSprop": rmsprop_options()}

# the small shapes of the op tests, and vectors long enough for NumPy's vectorised loops
param_shapes = st.lists(st.one_of(shapes(), st.tuples(st.integers(1, 300))), min_size=1, max_size=3)
seeds = st.integers(0, 2**32 - 1)


def same_bits(ours, theirs):
    """Equal to the last bit: the same dtype, shape and bit patterns (so the same values, signs of
    zero included; a NaN only where the other has the same NaN)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return (ours.dtype == theirs.dtype and ours.shape == theirs.shape
            and np.array_equal(ours, theirs, equal_nan=True)
            and np.array_equal(ours.reshape(-1).view(np.uint8), theirs.reshape(-1).view(np.uint8)))


def assert_rule_matches_fused(name, options, param_shapes, seed, dtype=np.float64, steps=STEPS):
    """Run optimizer `name` fused (the default) and with fused=False from the same parameters on
    the same gradients; after every step, compare the parameters and every state entry bit for bit."""
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(shape).astype(dtype) for shape in param_shapes]
    fused_params = [sg.tensor(a, requires_grad=True) for a in initial]
    rule_params = [sg.tensor(a, requires_grad=True) for a in initial]
    fused = getattr(optim, name)(fused_params, **options)
    rule = getattr(optim, name)(rule_params, **options, fused=False)
    assert fused.fused is None and rule.fused is False
    for step in range(1, steps + 1):
        grads = [rng.standard_normal(shape).astype(dtype) for shape in param_shapes]
        for p, q, g in zip(fused_params, rule_params, grads):
            p.grad, q.grad = sg.tensor(g.copy()), sg.tensor(g.copy())
        fused.step()
        rule.step()
        for i, (p, q, g) in enumerate(zip(fused_params, rule_params, grads)):
            where = f"{name}({options}), step {step}, parameter {i} of shape {p.shape}"
            assert same_bits(p.array, q.array), f"{where}: the parameters differ"
            assert q._version[0] == step, f"{where}: fused=False must bump the version once per step"
            np.testing.assert_array_equal(q.grad.array, g, err_msg=f"{where}: fused=False modified .grad")
            fused_state, rule_state = fused.state.get(p, {}), rule.state.get(q, {})
            assert set(fused_state) == set(rule_state), where
            for key, value in fused_state.items():
                if isinstance(value, sg.Tensor):
                    assert same_bits(value.array, rule_state[key].array), f"{where}: state {key!r} differs"
                else:
                    assert value == rule_state[key], f"{where}: state {key!r} differs"


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
@given(data=st.data(), param_shapes=param_shapes, seed=seeds)
def test_the_readable_rule_and_the_fused_update_agree_to_the_last_bit(name, data, param_shapes, seed):
    assert_rule_matches_fused(name, data.draw(OPTIONS[name], label="options"), param_shapes, seed)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
@given(data=st.data(), param_shapes=param_shapes, seed=seeds)
def test_they_agree_on_float32_too(name, data, param_shapes, seed):
    """Python-number hyperparameters do not promote float32 arrays (NEP 50), in the rule as in
    the fused update, so they round the same way."""
    assert_rule_matches_fused(name, data.draw(OPTIONS[name], label="options"), param_shapes, seed, np.float32)


@pytest.fixture
def cut_across_threads(monkeypatch):
    """Three threads, and a few elements per thread are enough to cut an update: returns the list
    of the piece counts of every threads.run_in_parts call made meanwhile."""
    counts = []
    run_in_parts = threads.run_in_parts

    def counting(work, size, elements):
        counts.append(threads.parts(size, elements))
        run_in_parts(work, size, elements)

    monkeypatch.setattr(threads, "MIN_ELEMENTS_PER_THREAD", 16)
    monkeypatch.setattr(threads, "run_in_parts", counting)
    before = threads.get_num_threads()
    threads.set_num_threads(3)
    yield counts
    threads.set_num_threads(before)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the same settings for every example
@given(data=st.data(), size=st.integers(100, 3000), seed=seeds)
def test_they_agree_when_the_fused_update_is_cut_across_threads(cut_across_threads, name, data, size, seed):
    cut_across_threads.clear()
    assert_rule_matches_fused(name, data.draw(OPTIONS[name], label="options"), [(size,), (size // 7, 7)], seed,
                              steps=3)
    if name != "SGD":  # sgd_update runs on one thread (its first step makes a new buffer)
        assert cut_across_threads and max(cut_across_threads) == 3, "the fused update was not cut into 3 slices"


@pytest.mark.parametrize("name, options", [
    ("Adam", dict(lr=1e-3, amsgrad=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True)),
])
def test_they_agree_at_the_real_threshold(name, options):
    """Without lowering MIN_ELEMENTS_PER_THREAD: a parameter large enough for two threads."""
    counts = []
    run_in_parts = threads.run_in_parts

    def counting(work, size, elements):
        counts.append(threads.parts(size, elements))
        run_in_parts(work, size, elements)

    before = threads.get_num_threads()
    threads.set_num_threads(2)
    threads.run_in_parts = counting
    try:
        size = threads.MIN_ELEMENTS_PER_THREAD // 2 + 1001  # Adam and RMSprop touch 5 arrays of this size
        assert_rule_matches_fused(name, options, [(size,)], seed=0, steps=3)
    finally:
        threads.run_in_parts = run_in_parts
        threads.set_num_threads(before)
    assert counts and max(counts) == 2


def test_the_comparison_sees_a_single_rounding():
    """The check above can fail: a rule that moves m toward g as Algorithm 1 writes it,
    beta1 * m + (1 - beta1) * g, equal to the lerp form but for its rounding, is caught."""
    def textbook_rule(param, g, m, v, v_max, *, step, lr, beta1, beta2, eps, weight_decay, maximize):
        m = beta1 * m + (1 - beta1) * g  # the only change
        v = beta2 * v + (1 - beta2) * (g * g)
        denom = np.sqrt(v) / (1 - beta2 ** step) ** 0.5 + eps
        return param - lr / (1 - beta1 ** step) * (m / denom), m, v, v_max

    rng = np.random.default_rng(0)
    param, m, v = rng.standard_normal(1000), rng.standard_normal(1000), rng.random(1000)
    grad = rng.standard_normal(1000)
    options = dict(step=3, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, maximize=False)
    fused = [a.copy() for a in (param, m, v)]
    numpy_backend.adam_update(fused[0], grad, fused[1], fused[2], None, **options)
    readable = adam_rule(param, grad, m, v, None, **options)
    changed = textbook_rule(param, grad, m, v, None, **options)
    assert all(same_bits(a, b) for a, b in zip(fused, readable[:3]))
    assert not same_bits(fused[1], changed[1]) and not same_bits(fused[0], changed[0])
    np.testing.assert_allclose(fused[0], changed[0], rtol=1e-14)  # only the last bits differ


def test_the_rules_run_on_plain_arrays_without_touching_them():
    rng = np.random.default_rng(1)
    param, grad, m, v, v_max = (rng.standard_normal(5) for _ in range(5))
    v, v_max = v * v, v_max * v_max
    copies = [a.copy() for a in (param, grad, m, v, v_max)]
    new = adam_rule(param, grad, m, v, v_max, step=2, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8,
                    weight_decay=0.1, maximize=True)
    for array, copy in zip((param, grad, m, v, v_max), copies):
        np.testing.assert_array_equal(array, copy)
    assert all(isinstance(a, np.ndarray) and a.shape == (5,) for a in new)


@pytest.mark.parametrize("fused", [0, 1, "yes", "False"])
def test_fused_must_be_none_or_a_bool(fused):
    with pytest.raises(ValueError, match=f"Adam: fused must be None, True or False, got {fused!r}"):
        optim.Adam([sg.ones(2, requires_grad=True)], fused=fused)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_fused_is_not_part_of_the_state_dict(name):
    """Checkpoints keep their format: a state dict saved with fused=False loads into a fused
    optimizer and the other way round, and the parameter groups carry no 'fused' entry."""
    options = {"SGD": dict(lr=0.1, momentum=0.5), "Adam": dict(lr=0.1), "RMSprop": dict(lr=0.1, momentum=0.5)}[name]
    params = [[sg.ones(3, requires_grad=True)] for _ in range(3)]
    fused, rule, fused_again = (getattr(optim, name)(p, **options, fused=f) for p, f in zip(params, [None, False, True]))
    for optimizer, p in zip((fused, rule), params):
        p[0].grad = sg.ones(3)
        optimizer.step()
    saved = fused.state_dict()
    assert all("fused" not in group for group in saved["param_groups"])
    assert sorted(saved["param_groups"][0]) == sorted(rule.state_dict()["param_groups"][0])
    rule.load_state_dict(saved)
    fused_again.load_state_dict(rule.state_dict())
    assert rule.fused is False and fused_again.fused is True
