"""benchmarks/toy_modes.py: several models on a 2-D toy at one budget and seeds, its table from
`scratchgen eval`'s metrics; runs already in its results file are kept, so a slow model can be
added in a later session without repeating the others."""
import importlib.util
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_toy_modes():
    spec = importlib.util.spec_from_file_location("toy_modes", ROOT / "benchmarks" / "toy_modes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_tabulates_each_model_and_keeps_earlier_runs(monkeypatch, tmp_path):
    toy_modes, out = load_toy_modes(), tmp_path / "toy"
    ran, run = [], toy_modes.run
    monkeypatch.setattr(toy_modes, "run", lambda job: ran.append(job[0]) or run(job))

    class InProcess:  # the pool's jobs run here, so that the patched `run` sees them
        def __init__(self, jobs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, function, jobs):
            return [function(job) for job in jobs]
    monkeypatch.setattr(toy_modes.concurrent.futures, "ProcessPoolExecutor", InProcess)
    argv = ["toy_modes.py", "--dataset", "8gaussians", "--seeds", "0", "1", "--steps", "2", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", [*argv, "--models", "ddgm"])
    toy_modes.main()
    monkeypatch.setattr(sys, "argv", [*argv, "--models", "ddgm", "gan"])
    toy_modes.main()
    assert ran == ["ddgm", "ddgm", "gan", "gan"]  # ddgm's two seeds kept from the first call
    runs = json.loads(out.with_suffix(".json").read_text())["runs"]
    assert sorted((r["model"], r["seed"]) for r in runs) == [("ddgm", 0), ("ddgm", 1), ("gan", 0), ("gan", 1)]
    table = out.with_suffix(".md").read_text()
    assert "| ddgm |" in table and "| gan |" in table and all(0 <= r["high_quality_fraction"] <= 1 for r in runs)
