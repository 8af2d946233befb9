"""optim.lr_scheduler against torch.optim.lr_scheduler: the learning rate of every parameter
group after each step(), for each scheduler and a few settings (two groups with different
lrs), and state_dict(): a scheduler saved mid-way and loaded into a new one continues as the
uninterrupted one does."""
import math

import numpy as np
import pytest

import scratchgen as sg
from scratchgen import optim
from scratchgen.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 25
CASES = {
    "StepLR": (lambda m, o: m.StepLR(o, step_size=3, gamma=0.5)),
    "StepLR-1": (lambda m, o: m.StepLR(o, step_size=1, gamma=0.7)),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3)),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lr_lambda=lambda epoch: 0.95 ** epoch)),
    "LambdaLR-per-group": (lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.5 ** e])),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=7)),
    "CosineAnnealingLR-eta_min": (lambda m, o: m.CosineAnnealingLR(o, T_max=4, eta_min=0.01)),
}


def optimizers():
    """The same two-group SGD in scratchgen and in torch."""
    a, b = np.ones(2), np.ones(3)
    ours = optim.SGD([{"params": [sg.tensor(a, requires_grad=True)]},
                      {"params": [sg.tensor(b, requires_grad=True)], "lr": 0.3}], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [torch.tensor(a, requires_grad=True)]},
                              {"params": [torch.tensor(b, requires_grad=True)], "lr": 0.3}], lr=0.1, momentum=0.9)
    return ours, theirs


def lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_matches_torch(name):
    ours, theirs = optimizers()
    mine, reference = CASES[name](lr_scheduler, ours), CASES[name](torch.optim.lr_scheduler, theirs)
    assert lrs(ours) == pytest.approx(lrs(theirs), rel=1e-13) and mine.get_last_lr() == pytest.approx(
        reference.get_last_lr(), rel=1e-13)
    for _ in range(STEPS):
        ours.step()
        theirs.step()
        mine.step()
        reference.step()
        assert lrs(ours) == pytest.approx(lrs(theirs), rel=1e-12, abs=1e-15)
        assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-12, abs=1e-15)
        assert mine.last_epoch == reference.last_epoch
    assert [g["initial_lr"] for g in ours.param_groups] == [g["initial_lr"] for g in theirs.param_groups]


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_resumes_the_schedule(name):
    ours, _ = optimizers()
    scheduler = CASES[name](lr_scheduler, ours)
    for _ in range(5):
        scheduler.step()
    saved_scheduler, saved_optimizer = scheduler.state_dict(), ours.state_dict()
    expected = []
    for _ in range(8):
        scheduler.step()
        expected.append(scheduler.get_last_lr())

    again, _ = optimizers()
    again.load_state_dict(saved_optimizer)
    resumed = CASES[name](lr_scheduler, again)
    resumed.load_state_dict(saved_scheduler)
    got = []
    for _ in range(8):
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected
    assert "optimizer" not in saved_scheduler


def test_state_dict_keys_match_torch():
    ours, theirs = optimizers()
    mine, reference = lr_scheduler.StepLR(ours, 2), torch.optim.lr_scheduler.StepLR(theirs, 2)
    for key in ("base_lrs", "last_epoch", "step_size", "gamma", "_step_count", "_last_lr"):
        assert mine.state_dict()[key] == pytest.approx(reference.state_dict()[key])


def test_lambda_lr_saves_callable_objects_not_functions():
    class Warmup:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    ours, theirs = optimizers()
    mine = lr_scheduler.LambdaLR(ours, [Warmup(4), lambda e: 1.0])
    reference = torch.optim.lr_scheduler.LambdaLR(theirs, [Warmup(4), lambda e: 1.0])
    assert mine.state_dict()["lr_lambdas"] == reference.state_dict()["lr_lambdas"] == [{"steps": 4}, None]
    mine.lr_lambdas[0].steps = 10
    mine.load_state_dict(reference.state_dict())
    assert mine.lr_lambdas[0].steps == 4


@pytest.mark.parametrize("settings", [dict(), dict(mode="max", factor=0.5, patience=1, threshold_mode="abs"),
                                      dict(patience=2, cooldown=2, min_lr=[0.01, 0.2], threshold=0.05)])
def test_reduce_lr_on_plateau_matches_torch(settings):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.94, 0.96, 0.97, 0.5, 0.6, 0.6, 0.61, 0.7, 0.7, 0.7, 0.69, 0.72, 0.8, 0.8,
               0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    ours, theirs = optimizers()
    mine = lr_scheduler.ReduceLROnPlateau(ours, **settings)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **settings)
    for i, metric in enumerate(metrics):
        mine.step(sg.tensor(metric, dtype=sg.float64) if i % 2 else metric)  # a number or a 0-d tensor
        reference.step(metric)
        assert lrs(ours) == pytest.approx(lrs(theirs), rel=1e-13)
        assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-13)
        assert (mine.best, mine.num_bad_epochs, mine.cooldown_counter) == (
            reference.best, reference.num_bad_epochs, reference.cooldown_counter)
    again, _ = optimizers()
    restored = lr_scheduler.ReduceLROnPlateau(again, **settings)
    restored.load_state_dict(mine.state_dict())
    assert restored.best == mine.best and restored.mode == mine.mode


def test_step_with_an_epoch_uses_the_closed_form_and_warns():
    ours, theirs = optimizers()
    mine = lr_scheduler.CosineAnnealingLR(ours, T_max=10)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=10)
    with pytest.warns(UserWarning, match="deprecated"):
        mine.step(6)
    with pytest.warns(UserWarning):
        reference.step(6)
    assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-13)
    assert mine.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 6 / 10)) / 2, rel=1e-13)


def test_resuming_with_last_epoch_needs_initial_lr():
    ours, _ = optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(ours, 2, last_epoch=3)


@pytest.mark.parametrize("make, match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), "step_size"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma="0.9"), "gamma"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), "lr_lambdas"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "factor"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="middle"), "mode"),
])
def test_bad_settings_are_named(make, match):
    ours, _ = optimizers()
    with pytest.raises(ValueError, match=match):
        make(ours)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="optimizer"):
        lr_scheduler.StepLR([sg.ones(2, requires_grad=True)], 2)


def test_training_with_a_scheduler_matches_torch():
    """Adam with StepLR on a least-squares fit, float64: the same parameters as torch after 12 steps."""
    rng = np.random.default_rng(0)
    w0, x, y = rng.standard_normal(3), rng.standard_normal((16, 3)), rng.standard_normal(16)
    w, tw = sg.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    opt, topt = optim.Adam([w], lr=0.1), torch.optim.Adam([tw], lr=0.1)
    sched, tsched = lr_scheduler.StepLR(opt, 4, 0.5), torch.optim.lr_scheduler.StepLR(topt, 4, 0.5)
    for _ in range(12):
        loss = ((sg.tensor(x) @ w - sg.tensor(y)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tloss = ((torch.tensor(x) @ tw - torch.tensor(y)) ** 2).mean()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        tsched.step()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12, atol=1e-14)
