"""The thread policy of scratchgen/backends/threads.py: a training run sizes its threads to the
free cores when it starts and records the count, so that a resume repeats its numbers; a count
set by set_num_threads or SCRATCHGEN_NUM_THREADS holds for scratchgen's threads and OpenBLAS's."""
import io
import json
import os
import pathlib
import subprocess
import sys

import pytest
import threadpoolctl

import scratchgen as sg
from scratchgen import train
from scratchgen.backends import process_settings, threads

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture
def machine(monkeypatch):
    """free_cores on a fake 4-core machine over a 1 s window: set(busy, own), the CPU seconds the
    whole machine and this process spent in it."""
    monkeypatch.setattr(threads, "CORES", 4)
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: None)

    def set(busy, own):
        readings = iter([(0.0, 0.0, 0.0), (1.0, busy, own)])  # (time, machine's busy s, own s)
        monkeypatch.setattr(threads, "_cpu_seconds", lambda: next(readings))
    return set


@pytest.mark.parametrize("busy, own, free", [(0.0, 0.0, 4), (3.0, 0.0, 1), (2.0, 0.0, 2), (4.0, 4.0, 4),
                                             (3.6, 0.1, 1), (8.0, 0.0, 1)])
def test_free_cores_are_those_other_processes_left_idle(machine, busy, own, free):
    machine(busy, own)
    assert threads.free_cores() == free


def test_without_proc_stat_every_core_counts_as_free(monkeypatch):
    monkeypatch.setattr(threads, "_cpu_seconds", lambda: None)
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: None)
    assert threads.free_cores() == threads.CORES


def blas_threads():
    """The thread counts of the BLAS libraries loaded (NumPy's OpenBLAS; PyTorch's, once imported)."""
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


@pytest.fixture
def restore_threads():
    before = threads.get_num_threads()
    yield
    threads.set_num_threads(before)


@pytest.mark.parametrize("count", [1, 2])
def test_the_count_holds_for_scratchgen_and_openblas(count, restore_threads):
    assert sg.set_num_threads(count) == count == sg.get_num_threads()
    assert blas_threads() == {count}


def test_free_means_the_environment_variable_where_it_is_set(monkeypatch, restore_threads):
    monkeypatch.setenv("SCRATCHGEN_NUM_THREADS", "1")
    monkeypatch.setattr(threads, "free_cores", lambda: pytest.fail("the environment variable fixes the count"))
    assert sg.set_num_threads("free") == 1


def test_the_openblas_limit_is_left_alone_when_process_settings_are_off(monkeypatch, restore_threads):
    monkeypatch.setenv(process_settings.SWITCH, "0")
    before = blas_threads()
    sg.set_num_threads(1 if before != {1} else 2)
    assert blas_threads() == before


@pytest.mark.parametrize("value, expected", [("1", [1, 1]), ("3", [3, 3])])
def test_the_environment_variable_fixes_the_count_at_import(value, expected):
    script = ("import json, threadpoolctl, scratchgen as sg, numpy; print(json.dumps([sg.get_num_threads(), "
              "*{i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'}]))")
    env = {**os.environ, "SCRATCHGEN_NUM_THREADS": value}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize("value", ["many", "0", "-1"])
def test_a_bad_environment_value_is_named(value):
    env = {**os.environ, "SCRATCHGEN_NUM_THREADS": value}
    result = subprocess.run([sys.executable, "-c", "import scratchgen"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode != 0 and "SCRATCHGEN_NUM_THREADS must be a positive int" in result.stderr


def test_set_num_threads_names_what_it_accepts():
    with pytest.raises(ValueError, match="set_num_threads: n must be a positive int or 'free', got 0"):
        sg.set_num_threads(0)


GAN = dict(overrides={"batch_size": 16, "log_every": 1}, data_dir=str(SHARED_MNIST), stream=io.StringIO())


def test_a_run_records_its_free_cores_and_resumes_on_that_count(tmp_path, monkeypatch, restore_threads):
    monkeypatch.delenv("SCRATCHGEN_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "free_cores", lambda: 1)
    straight, _ = train.start("gan", steps=4, out=str(tmp_path / "straight"), **GAN)
    stopped, _ = train.start("gan", steps=2, out=str(tmp_path / "stopped"), **GAN)
    assert json.loads(stopped.config_path.read_text())["threads"] == 1
    monkeypatch.setattr(threads, "free_cores", lambda: 2)  # the machine is idle when the run goes on
    resumed, _ = train.resume(stopped.path, steps=4, stream=io.StringIO())
    assert sg.get_num_threads() == 1
    losses = [[{k: v for k, v in r.items() if k != "time_s"} for r in run.read_metrics()] for run in (straight, resumed)]
    assert losses[0] == losses[1]


def test_a_run_with_a_thread_count_set_uses_it(tmp_path, monkeypatch, restore_threads):
    monkeypatch.setattr(threads, "free_cores", lambda: pytest.fail("the setting fixes the count"))
    run, _ = train.start("gan", steps=1, out=str(tmp_path / "run"), **{**GAN, "overrides": {"threads": 2}})
    assert json.loads(run.config_path.read_text())["threads"] == 2 == sg.get_num_threads()
