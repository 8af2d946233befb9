"""Hypothesis profiles: "dev" (the default), a lighter "ci" and a "thorough" one for hunting
bugs; pick one with HYPOTHESIS_PROFILE=thorough. No deadline: gradcheck's timing varies with
the drawn shapes.

One thread count for every test: a training run otherwise sizes its threads to the cores that
are free when it starts, and OpenBLAS's last bits depend on the count, so two runs that a test
compares (straight and resumed) could start on different counts beside the other test worker.
tests/test_thread_policy.py tests that sizing itself."""
import os
import pathlib

os.environ.setdefault("SCRATCHGEN_NUM_THREADS", str(len(os.sched_getaffinity(0))))  # before scratchgen loads

import pytest
from hypothesis import HealthCheck, settings

import scratchgen as sg
from scratchgen import metrics, progress

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"

for _name, _examples in {"dev": 20, "ci": 10, "thorough": 300}.items():
    settings.register_profile(_name, max_examples=_examples, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


class FakeClock:
    """scratchgen.progress's clock, advanced by a test's "slow" steps: progress tests assert
    exact lines and never sleep."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(progress, "clock", fake)
    return fake


@pytest.fixture
def stand_in_classifier(monkeypatch):
    """install(accuracy): an untrained LeNet, with that recorded test accuracy, in place of the
    cached one the MNIST metrics train (for minutes): tests of eval's wiring, not of its values."""
    def install(accuracy):
        images, _ = sg.data.load_mnist("test", data_dir=SHARED_MNIST)
        sg.manual_seed(0)
        network = metrics.LeNet()
        mean, cov = metrics.feature_statistics(metrics.features(network, sg.data.to_unit_range(images[:100])))
        stand_in = metrics.TrainedClassifier(network, accuracy, mean, cov, 0.0, metrics.Recipe())
        monkeypatch.setattr(metrics.evaluate, "load_classifier", lambda data_dir: stand_in)
        return stand_in
    return install
