"""Random commands through scratchgen.cli.main, in process: every command, flags with good and
bad values, --set with every setting (and unknown ones) given values of every JSON type (ints,
huge ints, floats, nan, inf, strings, lists, nested lists, booleans, null, objects), and run
folders damaged in every part (config.json, checkpoints, metrics.jsonl missing, cut short or
replaced by garbage). For each command:

  - main returns (no exception escapes it: no Python traceback), with status 0 or 2, or 1 for
    the failures cli.py documents for good input (a loss that became NaN/inf, MNIST files that
    could not be found or downloaded, memory that ran out), and nothing else;
  - a failed command wrote exactly one error line on stderr, and no warning was shown (of
    those Python shows by default: not ResourceWarning or DeprecationWarning);
  - sample, eval and a refused --resume change no checkpoint; a --resume that goes on keeps every
    checkpoint it skipped because it could not read it (as step_XXXXXX.unreadable.npz);
  - a failed start leaves no folder that the CLI cannot use again: it has no run, or training
    into it works, or (a run that diverged after a checkpoint) sampling from it works.

The runs are tiny (toy data, --steps 1-3 or a small --set steps; MNIST from ../shared/data),
in fresh temporary folders; nothing is downloaded (the network is refused). The whole file
takes about 40 s on 2 cores; HYPOTHESIS_PROFILE=thorough runs 10 times as many examples.
"""
import contextlib
import io
import json
import os
import pathlib
import re
import shutil
import tempfile
import urllib.request
import warnings

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import scratchgen as sg
from scratchgen.cli import main
from scratchgen.models import MODELS, model_class
from scratchgen.train import RunFolder, checkpoint
from scratchgen.train.config import LOOP_SETTINGS, NOT_SETTINGS, declared_settings, default_settings

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"  # mnist/ and binarized_mnist/
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
FUZZ = settings(max_examples=1000 if THOROUGH else 100, deadline=None, derandomize=not THOROUGH,
                suppress_health_check=list(HealthCheck))
ERROR_LINE = re.compile(r"scratchgen( \w+)?: error: ")
# what else stderr may hold: notes ("scratchgen: skipped checkpoint ..."), progress bars, Ctrl-C's lines
OTHER_LINE = re.compile(r"scratchgen: |.*\d/\d+ \[[#.]*\]|Ctrl-C|stopped; ")
# the warnings Python does not show unless asked to (its default filters)
HIDDEN_BY_DEFAULT = (ResourceWarning, DeprecationWarning, PendingDeprecationWarning, ImportWarning)
RUN_FAILURES = ("non-finite", "MNIST file", "out of memory")  # what status 1 may report (cli.py)
SETTING_KEYS = sorted({key for name in MODELS for key in model_class(name).settings} | set(LOOP_SETTINGS))


# ---- values --------------------------------------------------------------------------------------
SMALL_INTS = st.integers(-2, 6)
HUGE_INTS = st.sampled_from([2 ** 31, 2 ** 63, -2 ** 63, 10 ** 30, 10 ** 400])
FLOATS = st.floats() | st.sampled_from([1e308, 1e-308, -0.0, 0.5, 0.999, 1e6, 1e-4])
WORDS = st.sampled_from(["tanh", "unit", "fixed-binary", "gaussian", "bernoulli", "minimax", "non-saturating",
                         "", "abc", "[1,", "null", "1e", "0x10", "NaN", "-Infinity", "[[[[[[", "{}"])
LEAVES = st.none() | st.booleans() | SMALL_INTS | HUGE_INTS | FLOATS | WORDS | st.text(max_size=4)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                                         max_size=2), max_leaves=6)
VALUE_TEXTS = VALUES.map(json.dumps) | WORDS | st.text(max_size=6)  # JSON, or text that is not
NUMBER_TEXTS = st.sampled_from(["1", "2", "3", "0", "-1", "1.5", "abc", "", "nan", "inf", "1e400", "9" * 30,
                                "0.001", "1e6", "3e38"])


# the percentage of a command's parts that are faulty: none (a run with random settings inside
# their declarations), a few (each error path on its own) or many
FAULT_RATES = st.sampled_from([0, 0, 8, 8, 25, 60])


def mostly(good, bad, rate):
    """`bad` for `rate` percent of draws, else `good`."""
    return st.integers(0, 99).flatmap(lambda roll: bad if roll < rate else good)


# a run ends by sampling 64 images; the PixelCNN and PixelRNNs draw them in 784 network passes, minutes at
# their default sizes, so their CLI runs are tested in test_pixelcnn.py and test_pixelrnn.py instead
FUZZED_MODELS = sorted(set(MODELS) - {"pixelcnn", "row-lstm", "diagonal-bilstm"})
SMALL = dict(batch_size=16, steps=3, log_every=3, sample_every=3, checkpoint_every=3, keep_checkpoints=3, units=8,
             z_dim=6, width=8, k=3, n_critic=3)


def valid_values(key, declaration):
    """Values inside `declaration`, small where they are sizes (a run stays short)."""
    if declaration.kind is str:
        values = st.sampled_from(declaration.choices)
    elif declaration.kind is bool:
        values = st.booleans()
    elif declaration.kind is list:
        low, high = declaration.length
        values = st.lists(valid_values("units", declaration.item), min_size=low, max_size=min(high, 3))
    elif declaration.kind is int:
        low = declaration.at_least if declaration.at_least is not None else 0
        high = min(declaration.at_most, max(low, SMALL.get(key, 8)))
        values = st.integers(low, high).filter(lambda v: v % (declaration.multiple_of or 1) == 0)
    else:
        low = declaration.at_least if declaration.at_least is not None else declaration.above
        high = declaration.at_most if declaration.at_most is not None else declaration.below
        values = st.floats(low, 1e6 if high is None else high, exclude_min=declaration.above is not None,
                           exclude_max=declaration.below is not None)
    return st.one_of(values, st.none()) if declaration.optional else values


@st.composite
def set_flags(draw, declarations, length_given, rate):
    """--set KEY=VALUE flags: mostly settings of the model with values inside their declaration,
    else any key (a flag's, an unknown one) with any value, or a malformed entry."""
    flags = []
    for _ in range(draw(st.integers(0, 3))):
        if declarations and draw(st.integers(0, 99)) >= rate:
            key = draw(st.sampled_from(sorted(declarations)))
            if key == "steps" and length_given:
                continue  # not a second length (a fault the other branch makes)
            text = json.dumps(draw(valid_values(key, declarations[key])))
        else:
            key = draw(st.sampled_from(SETTING_KEYS) | st.sampled_from([*NOT_SETTINGS, "bogus", ""]))
            text = draw(VALUE_TEXTS)
        flags += ["--set", draw(mostly(st.just(f"{key}={text}"), st.sampled_from([key, f"={text}"]), rate))]
    return flags


# ---- commands ------------------------------------------------------------------------------------
@st.composite
def new_run(draw, folder):
    """`train MODEL ...`, its length always short (or invalid)."""
    rate = draw(FAULT_RATES)
    model = draw(mostly(st.sampled_from(FUZZED_MODELS), st.just("stylegan"), rate))
    cls = model_class(model) if model in MODELS else None
    dataset = draw(mostly(st.sampled_from([None, *(cls.datasets if cls else ())]),
                          st.sampled_from(["8gaussians", "mnist", "cifar"]), rate))
    argv = ["train", model] + (["--dataset", dataset] if dataset else [])
    declarations = {}
    if cls is not None:
        dataset = dataset if dataset in cls.datasets else cls.datasets[0]
        keys = default_settings(cls, dataset)
        declarations = {key: declaration for key, declaration in declared_settings(cls).items() if key in keys}
    length = draw(st.sampled_from(["--steps", "--steps", "--epochs", "--set"]))
    if length == "--steps":
        argv += ["--steps", draw(mostly(st.sampled_from(["1", "2", "3"]), NUMBER_TEXTS, rate))]
    elif length == "--epochs":
        argv += ["--epochs", draw(mostly(st.sampled_from(["0.00001", "0.0001"]), NUMBER_TEXTS, rate))]
    else:
        argv += ["--set", f"steps={draw(mostly(st.sampled_from(['1', '2', '3']), VALUE_TEXTS, rate))}"]
    for flag, values in (("--batch-size", mostly(st.sampled_from(["4", "16"]), NUMBER_TEXTS, rate)),
                         ("--lr", mostly(st.sampled_from(["0.001", "1e6"]), NUMBER_TEXTS, rate)),
                         ("--seed", mostly(st.sampled_from(["0", "7"]), NUMBER_TEXTS | st.just(str(2 ** 63)), rate)),
                         ("--device", mostly(st.just("cpu"), st.sampled_from(["cuda", "tpu"]), rate))):
        if draw(st.integers(0, 3)) == 0:
            argv += [flag, draw(values)]
    data_dir = draw(mostly(st.just("shared"), st.sampled_from(["missing", "file", None]), rate))
    if data_dir:
        argv += ["--data-dir", {"shared": str(SHARED_DATA), "missing": str(folder / "no-data"),
                                "file": str(folder / "a-file")}[data_dir]]
    out = draw(mostly(st.just("run"), st.sampled_from(["a-file", "a-file/run", "held", None]), rate))
    if out:
        argv += ["--out", str(folder / out)]
    return argv + draw(set_flags(declarations, length_given=length != "--set", rate=rate))


@st.composite
def on_run_folder(draw, folder):
    """resume, sample or eval of a run folder: `held` (wgan-gp on 8 Gaussians, maybe damaged),
    `conditional` (cdcgan on MNIST: --class; not eval, whose classifier takes minutes to train),
    or a path that is none."""
    rate = draw(FAULT_RATES)
    name = draw(mostly(st.sampled_from(["held", "held", "conditional"]), st.sampled_from(["missing", "a-file"]), rate))
    run = str(folder / name)
    kind = draw(st.sampled_from(["resume", "sample"] if name == "conditional" else ["resume", "sample", "eval"]))
    if kind == "resume":
        argv = ["train", "--resume", run]
        if draw(st.booleans()):
            argv += ["--steps", draw(mostly(st.sampled_from(["4", "5"]), NUMBER_TEXTS, rate))]
        if draw(st.integers(0, 3)) == 0:  # flags of a new run: faults, but --data-dir
            argv += draw(mostly(st.just(["--data-dir", str(SHARED_DATA)]),
                                st.sampled_from([["--lr", "0.1"], ["--epochs", "0.0001"], ["--seed", "1"], ["gan"],
                                                 ["--data-dir", str(folder / "no-data")]]), rate))
    elif kind == "sample":
        argv = ["sample", run]
        classes = st.sampled_from(["0", "9"]) if name == "conditional" else st.none()  # none: no --class
        for flag, values in (("--n", mostly(st.sampled_from(["1", "7"]), NUMBER_TEXTS, rate)),
                             ("--class", mostly(classes, st.sampled_from(["10", "11", "3"]) | NUMBER_TEXTS, rate)),
                             ("--seed", mostly(st.sampled_from(["3", str(2 ** 70)]), NUMBER_TEXTS, rate)),
                             ("--out", mostly(st.sampled_from([str(folder / "s.png"), str(folder / "s.npy")]),
                                              st.sampled_from([str(folder / "s.jpg"), str(folder / "nowhere" / "s.png"),
                                                               str(folder), str(folder / "a-file" / "s.npy")]), rate))):
            value = draw(values) if draw(st.booleans()) else None
            if value is not None:
                argv += [flag, value]
    else:
        argv = ["eval", run]
        for flag, values in (("--n", mostly(st.sampled_from(["50", "100"]), NUMBER_TEXTS, rate)),
                             ("--k", mostly(st.just("2"), NUMBER_TEXTS, rate)),
                             ("--n-test", mostly(st.just("5"), NUMBER_TEXTS, rate)),
                             ("--data-dir", mostly(st.just(str(SHARED_DATA)), st.just(str(folder / "no-data")), rate))):
            if draw(st.integers(0, 2)) == 0:
                argv += [flag, draw(values)]
    return argv


@st.composite
def other_command(draw):
    return draw(st.sampled_from([["list"], ["demo", "--steps", "3"], ["demo", "--steps", "3", "--lr", "1e30"],
                                 ["demo", "--steps", "0"], [], ["frobnicate"], ["train", "--steps", "1"],
                                 ["sample"], ["eval", "--k"], ["list", "--everything"], ["list", "cgan"], ["list", "bogus"],
                                 ["--help"], ["train", "-h"]]))


# ---- damage --------------------------------------------------------------------------------------
def damage(draw, run):
    """Break 0-3 parts of the run folder `run` as a crash, a full disk or a person might."""
    files = sorted(path for path in run.rglob("*") if path.is_file() and path.suffix in (".json", ".npz", ".jsonl"))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        target = draw(st.sampled_from(files + [run / "config.json"] * 3 + [run / "checkpoints", run / "samples"]))
        if not target.exists():
            continue
        if target.is_dir():
            shutil.rmtree(target)
            continue
        how = draw(st.sampled_from(["delete", "truncate", "garbage", "edit", "edit"]))
        if how == "delete":
            target.unlink()
        elif how == "truncate":
            data = target.read_bytes()
            target.write_bytes(data[:draw(st.integers(0, max(0, len(data) - 1)))])
        elif how == "garbage":
            target.write_bytes(draw(st.binary(max_size=40)) if draw(st.booleans()) else b'{"step": "x"}\nnot json')
        elif target.name == "config.json":
            try:
                config = json.loads(target.read_text())
                declarations = declared_settings(model_class(config["model"]))
            except Exception:
                continue
            change = draw(st.sampled_from(["delete", "any", "valid", "valid"]))
            key = draw(st.sampled_from(["hidden", "width", "z_dim"] if change == "valid" else sorted(config)))
            if change == "delete" and key in config:
                del config[key]
            elif change == "valid" and key in config:  # other network sizes than its checkpoints
                config[key] = draw(valid_values(key, declarations[key]))
            else:
                config[key] = draw(VALUES)
            target.write_text(json.dumps(config))
        else:
            with open(target, "a") as file:
                file.write(draw(VALUE_TEXTS) + "\n")


def checkpoint_files(run):
    """{name: bytes} of the files in the run's checkpoints/ folder."""
    folder = run / "checkpoints"
    return {path.name: path.read_bytes() for path in folder.glob("*.npz")} if folder.is_dir() else {}


def to_be_skipped(run):
    """The bytes of the checkpoints a resume must skip, and so keep: those that do not load and
    are newer than the newest that does (older ones are the keep-N rotation's to delete)."""
    found = []
    for path in reversed(checkpoint.checkpoint_paths(RunFolder(run))):
        try:
            sg.load(path)
        except Exception:
            found.append(path.read_bytes())
        else:
            break
    return found


# ---- running and checking ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    """No network, an empty download cache; a finished toy run to copy and damage."""
    with pytest.MonkeyPatch.context() as patch:
        def refuse(url, *args, **kwargs):
            raise OSError(f"the tests do not use the network (asked for {url})")
        patch.setattr(urllib.request, "urlopen", refuse)
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        patch.delenv("SCRATCHGEN_DATA", raising=False)
        bases = tmp_path_factory.mktemp("bases")
        for name, argv in (("held", ["wgan-gp", "--set", "hidden=[8]"]),
                           ("conditional", ["cdcgan", "--set", "width=4", "--set", "z_dim=3", "--data-dir",
                                            str(SHARED_DATA)])):
            status, _, err, _ = run_cli(["train", *argv, "--steps", "3", "--batch-size", "8", "--out", str(bases / name),
                                         "--set", "checkpoint_every=1", "--set", "keep_checkpoints=3"])
            assert status == 0, err
        yield bases


def run_cli(argv):
    """(status, stdout, stderr, warnings shown) of main(argv); an exception escaping main fails."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        status = main(argv)
    return status, out.getvalue(), err.getvalue(), [f"{w.category.__name__}: {w.message}" for w in shown
                                                    if not issubclass(w.category, HIDDEN_BY_DEFAULT)]


def check(argv, status, err, shown):
    event(f"{' '.join(argv[:2] if argv[:1] == ['train'] else argv[:1])}: exit {status}")  # --hypothesis-show-statistics
    assert "Traceback" not in err
    assert status in (0, 1, 2), (argv, status, err)
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    assert len(errors) == (0 if status == 0 else 1), (argv, status, err)
    assert all(ERROR_LINE.match(line) or OTHER_LINE.match(line) for line in lines), (argv, "a stray line", err)
    if status == 1:
        assert any(reason in errors[0] for reason in RUN_FAILURES), (argv, errors)
    assert shown == [], (argv, shown)


@contextlib.contextmanager
def example_folder():
    """A fresh temporary folder, also the working directory (runs/ of a default --out lands there)."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield pathlib.Path(folder)
        finally:
            os.chdir(previous)


def prepare(folder, bases):
    (folder / "a-file").write_text("not a folder")
    for name in ("held", "conditional"):
        shutil.copytree(bases / name, folder / name)


@FUZZ
@given(data=st.data())
def test_random_commands_exit_0_1_or_2_with_one_line_and_no_traceback(environment, data):
    with example_folder() as folder:
        prepare(folder, environment)
        argv = data.draw(st.one_of(new_run(folder), on_run_folder(folder), other_command()), label="argv")
        status, _, err, shown = run_cli(argv)
        check(argv, status, err, shown)
        if status != 0 and argv[:1] == ["train"] and "--resume" not in argv:
            out = argv[argv.index("--out") + 1] if "--out" in argv else None
            for run in [pathlib.Path(out)] if out else sorted((folder / "runs").glob("*")):
                assert_usable_again(run)


def assert_usable_again(run):
    """A folder left by a failed start: nothing, or trainable into, or (it diverged after a
    checkpoint, or it is the run that was there before) one the CLI samples from."""
    if not (run / "config.json").exists():
        return
    if RunFolder(run).has_checkpoints():
        status, _, err, _ = run_cli(["sample", str(run), "--out", str(run.parent / "check.npy")])
    else:
        status, _, err, _ = run_cli(["train", "gan", "--steps", "1", "--set", "hidden=[4]", "--batch-size", "8",
                                     "--out", str(run)])
    assert status == 0, (run, err)


@FUZZ
@given(data=st.data())
def test_damaged_run_folders_get_one_line_and_unreadable_checkpoints_are_kept(environment, data):
    with example_folder() as folder:
        prepare(folder, environment)
        runs = [folder / "held", folder / "conditional"]
        for run in runs:
            damage(data.draw, run)
        files, skipped = [checkpoint_files(run) for run in runs], [to_be_skipped(run) for run in runs]
        argv = data.draw(on_run_folder(folder), label="argv")
        status, _, err, shown = run_cli(argv)
        check(argv, status, err, shown)
        for run, before, unreadable in zip(runs, files, skipped):
            after = checkpoint_files(run)
            if argv[1] != "--resume" or status != 0:  # sample, eval and a refused resume change no checkpoint
                assert after == before, (argv, "a checkpoint was changed")
            assert all(data_bytes in after.values() for data_bytes in unreadable), \
                (argv, "a checkpoint that was skipped as unreadable is gone")
