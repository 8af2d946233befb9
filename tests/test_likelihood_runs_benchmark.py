"""benchmarks/likelihood_runs.py: the table and curves of runs trained and evaluated by the CLI;
only the settings that differ between the runs get a column, and each run's eval.json numbers
are the ones in its row."""
import importlib.util
import json
import pathlib
import sys

import pytest

from scratchgen import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"no MNIST in {SHARED_MNIST}")
def test_one_row_per_run_with_the_settings_that_differ_and_the_eval_numbers(monkeypatch, tmp_path):
    for depth in (0, 1):
        out = tmp_path / f"iaf{depth}"
        assert cli.main(["train", "iaf-vae", "--steps", "200", "--data-dir", str(SHARED_MNIST), "--out", str(out),
                         "--set", "hidden=[8]", "--set", "z_dim=2", "--set", "iaf_hidden=[4, 4]",
                         "--set", f"iaf_steps={depth}", "--set", "sample_every=5000", "--set", "log_every=10"]) == 0
        assert cli.main(["eval", str(out), "--k", "3", "--n-test", "50"]) == 0
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as running the script puts its folder first
    spec = importlib.util.spec_from_file_location("likelihood_runs", ROOT / "benchmarks" / "likelihood_runs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "table"
    monkeypatch.setattr(sys, "argv", ["likelihood_runs.py", str(tmp_path / "iaf0"), str(tmp_path / "iaf1"),
                                      "--out", str(out), "--window", "50"])
    module.main()
    machine, _, header, _, *rows = out.with_suffix(".md").read_text().splitlines()
    assert machine.startswith("Written on ") and "cores" in machine
    assert "iaf_steps" in header and "hidden" not in header and "seed" in header
    assert len(rows) == 2 and rows[0].startswith("| iaf0 | iaf-vae | 0 | 200 | 100 | 0 |")
    for row, depth in zip(rows, (0, 1)):
        results = json.loads((tmp_path / f"iaf{depth}" / "eval.json").read_text())
        assert f"| {results['test_elbo']:.2f} | {results['test_nll_iwae']:.2f} |" in row
        assert "k = 3, first 50 test images" in row
    assert out.with_suffix(".png").stat().st_size > 1000
