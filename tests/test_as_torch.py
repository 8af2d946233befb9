"""scratchgen.as_torch: a PyTorch script run with `import torch` resolved to scratchgen.

In process (`as_torch.installed()`): every torch module the namespace provides is scratchgen's
(the same objects, nothing patched), names scratchgen lacks fail with an error naming the torch
attribute, and afterwards sys.modules holds the real torch again. The torch-only names (dtype
aliases, typed constructors, Variable, the device queries, the top-level ops) are compared with
PyTorch. As a command (`python -m scratchgen.as_torch`, `scratchgen run-torch`): the script's
argv, exit status and traceback."""
import os
import pathlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import as_torch, cli, nn, optim, utils

real_torch = pytest.importorskip("torch")
ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_torch_and_its_submodules_are_scratchgen():
    with as_torch.installed():
        import torch
        import torch.nn as tnn
        import torch.nn.functional as TF
        import torch.optim as toptim
        from torch import autograd
        from torch.nn import init, parallel
        from torch.optim.lr_scheduler import StepLR
        from torch.utils.data import DataLoader, TensorDataset
        assert torch is sys.modules["torch"] and torch is not real_torch
        assert torch.randn is sg.randn and torch.no_grad is sg.no_grad and torch.Generator is sg.Generator
        assert torch.float32 is sg.float32 and torch.float is sg.float32 and torch.long is sg.int64
        assert tnn.Conv2d is nn.Conv2d and tnn.Module is nn.Module and tnn.DataParallel is nn.DataParallel
        assert TF.relu is F.relu and TF.binary_cross_entropy is F.binary_cross_entropy
        assert toptim.Adam is optim.Adam and toptim.Adadelta is optim.Adadelta
        assert StepLR is optim.lr_scheduler.StepLR and init.normal_ is nn.init.normal_
        assert parallel.data_parallel is nn.parallel.data_parallel
        assert DataLoader is utils.data.DataLoader and TensorDataset is utils.data.TensorDataset
        assert autograd.grad is sg.grad and torch.autograd is autograd and torch.nn is tnn
        assert torch.device is sg.device and torch.flatten is F.flatten
    assert sys.modules["torch"] is real_torch


def test_nothing_in_scratchgen_changes():
    before = {name: getattr(sg, name) for name in dir(sg)}
    nn_before = dict(vars(nn))
    with as_torch.installed() as torch:
        torch.backends.cudnn.benchmark = True
        torch.nn.Extra = "set on the namespace only"
    assert {name: getattr(sg, name) for name in dir(sg)} == before and dict(vars(nn)) == nn_before


@pytest.mark.parametrize("path", ["torch.fft", "torch.nn.functional.no_such_op", "torch.optim.LBFGS2",
                                  "torch.utils.data.no_such_thing", "torch.cuda.no_such_thing"])
def test_missing_names_say_so(path):
    module, _, name = path.rpartition(".")
    namespaces = as_torch.build()
    with pytest.raises(as_torch.NotInScratchgen) as caught:
        getattr(namespaces[module], name)
    assert str(caught.value) == f"{path} is not implemented in scratchgen (running under scratchgen.as_torch)"
    assert isinstance(caught.value, AttributeError) and isinstance(caught.value, NotImplementedError)
    assert not hasattr(namespaces[module], name) and getattr(namespaces[module], name, 7) == 7


def test_missing_modules_and_torchvision_fail_clearly_at_the_import():
    with as_torch.installed():
        with pytest.raises(ImportError, match=r"^torch\.fft is not implemented in scratchgen \(running under"):
            import torch.fft  # noqa: F401
        with pytest.raises(ImportError, match="torchvision is not available under scratchgen.as_torch"):
            import torchvision  # noqa: F401
        with pytest.raises(ImportError, match="torch.distributions"):
            from torch.distributions import Normal  # noqa: F401
        import torch
        with pytest.raises(NotImplementedError, match="torch.autograd.Function is not implemented.*arrays"):
            torch.autograd.Function  # noqa: B018


def test_dtype_and_misc_names_match_torch():
    torch = as_torch.build()["torch"]
    for name in ("float", "double", "long", "int", "bool", "uint8", "int8", "int16", "float32", "float64", "int64"):
        assert sg.zeros(1, dtype=getattr(torch, name)).numpy().dtype == real_torch.zeros(1, dtype=getattr(
            real_torch, name)).numpy().dtype
    assert torch.get_default_dtype() == np.float32 and torch.Size([2, 3]) == (2, 3)
    array = np.arange(4.0)
    assert torch.from_numpy(array).array is array and torch.is_tensor(sg.ones(1)) and not torch.is_tensor(array)
    assert torch.numel(sg.ones(2, 3)) == 6 and torch.eq(sg.ones(2), 1).all()
    torch.set_default_dtype(torch.float32)
    with pytest.raises(NotImplementedError, match="set_default_dtype.*model.double"):
        torch.set_default_dtype(torch.float64)


CALLS = {  # torch's top-level ops that the namespace takes from scratchgen.functional, called as torch's
    "add": lambda x, y, w, i: (x, y), "sub": lambda x, y, w, i: (x, y), "mul": lambda x, y, w, i: (x, y),
    "div": lambda x, y, w, i: (x, y), "neg": lambda x, y, w, i: (x,), "pow": lambda x, y, w, i: (x, 2),
    "square": lambda x, y, w, i: (x,), "relu": lambda x, y, w, i: (x,), "argmax": lambda x, y, w, i: (x, 1),
    "argmin": lambda x, y, w, i: (x, 0), "max": lambda x, y, w, i: (x, 1), "min": lambda x, y, w, i: (x, 1, True),
    "log_softmax": lambda x, y, w, i: (x, 1), "clone": lambda x, y, w, i: (x,),
    "flatten": lambda x, y, w, i: (i, 1), "unflatten": lambda x, y, w, i: (x, 1, (2, 2)),
    "reshape": lambda x, y, w, i: (x, (4, 3)), "permute": lambda x, y, w, i: (i, (0, 2, 3, 1)),
    "transpose": lambda x, y, w, i: (x, 0, 1), "t": lambda x, y, w, i: (x,), "squeeze": lambda x, y, w, i: (i[:1],),
    "unsqueeze": lambda x, y, w, i: (x, 1), "dropout": lambda x, y, w, i: (x, 0.5, False),
    "conv2d": lambda x, y, w, i: (i, w, None, 1, 1), "conv1d": lambda x, y, w, i: (i[:, :, 0], w[:, :, 0], None, 2),
    "conv_transpose2d": lambda x, y, w, i: (i, w.transpose(0, 1), None, 2, 1),
    "conv_transpose1d": lambda x, y, w, i: (i[:, :, 0], w[:, :, 0].transpose(0, 1), None, 1, 0),
    "max_pool2d": lambda x, y, w, i: (i, 2), "layer_norm": lambda x, y, w, i: (x, (4,)),
    "group_norm": lambda x, y, w, i: (i, 1),
}


def test_the_top_level_ops_table_is_complete():
    assert set(as_torch.TOP_LEVEL_OPS) == set(CALLS)
    assert all(hasattr(real_torch, name) for name in as_torch.TOP_LEVEL_OPS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_top_level_ops_take_torch_arguments(name):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in ((3, 4), (3, 4), (5, 2, 3, 3), (2, 2, 5, 5))]
    torch = as_torch.build()["torch"]
    ours = getattr(torch, name)(*CALLS[name](*[sg.tensor(a) for a in arrays]))
    theirs = getattr(real_torch, name)(*CALLS[name](*[real_torch.tensor(a) for a in arrays]))
    if isinstance(theirs, tuple):
        ours, theirs = ours[0], theirs[0]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("args", [(np.arange(6.0).reshape(2, 3),), (np.arange(4),), ([1, 2, 3],), ([[1.5], [2.5]],),
                                  (2, 3), (4,), (), (np.arange(3, dtype=np.float32),), (np.array([True, False]),)])
def test_tensor_constructor_gives_float32_as_torch(args):
    torch = as_torch.build()["torch"]
    ours, theirs = torch.Tensor(*args), real_torch.Tensor(*args)
    assert ours.dtype == sg.float32 and ours.shape == tuple(theirs.shape)
    if args and not isinstance(args[0], int):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_torch_tensor_is_scratchgens_tensor_class():
    torch = as_torch.build()["torch"]
    t = sg.tensor(np.arange(3))
    assert torch.Tensor(t) is t and real_torch.Tensor(real_torch.arange(3)).dtype == real_torch.int64
    assert isinstance(t, torch.Tensor) and issubclass(nn.Parameter, torch.Tensor) and not isinstance(3, torch.Tensor)
    assert torch.Tensor.backward is sg.Tensor.backward and repr(torch.Tensor) == repr(real_torch.Tensor)
    assert sg.Tensor(np.zeros(2)).dtype == sg.float64  # scratchgen's own Tensor(array) keeps the dtype
    for bad in ((2, -1), ("a", "b"), (2, 3.5)):
        with pytest.raises((TypeError, ValueError)):
            torch.Tensor(*bad)


def test_typed_constructors_match_torch():
    torch = as_torch.build()["torch"]
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"):
        ours, theirs = getattr(torch, name), getattr(real_torch, name)
        for args in ((2, 3), (np.arange(3.0) / 2,), ([1.7, 2.2],), ()):
            a, b = ours(*args), theirs(*args)
            assert a.shape == tuple(b.shape) and a.numpy().dtype == b.numpy().dtype
            if args and not isinstance(args[0], int):
                np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert isinstance(a, ours) and isinstance(a, torch.Tensor) and a.type() == b.type() == f"torch.{name}"
        assert repr(ours) == repr(theirs) and repr(torch.cuda.LongTensor) == repr(real_torch.cuda.LongTensor)
    x, tx = sg.ones(2), real_torch.ones(2)
    assert not isinstance(x, torch.LongTensor) and not isinstance(x, torch.cuda.FloatTensor)
    assert x.type(torch.LongTensor).type() == tx.type(real_torch.LongTensor).type() == "torch.LongTensor"
    assert x.type(torch.FloatTensor) is x
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CuPy and a GPU"):
            torch.cuda.FloatTensor(2)


def test_variable_as_pytorch_2():
    from torch.autograd import Variable as TorchVariable
    Variable = as_torch.Variable
    x = sg.ones(2, requires_grad=True) * 2
    for ours, theirs in ((Variable(x), TorchVariable(real_torch.ones(2, requires_grad=True) * 2)),
                         (Variable(x, requires_grad=True), TorchVariable(real_torch.ones(2) * 2, requires_grad=True))):
        assert (ours.requires_grad, ours.is_leaf, ours.grad_fn is None) == (
            theirs.requires_grad, theirs.is_leaf, theirs.grad_fn is None)
        assert ours.array is x.array  # the same data
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert not Variable(sg.ones(2), volatile=True).requires_grad
    assert isinstance(sg.ones(1), Variable) and not isinstance(np.ones(1), Variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor|has to be a tensor"):
        Variable(np.ones(2))


def test_device_queries():
    torch = as_torch.build()["torch"]
    available = torch.cuda.is_available()
    assert torch.accelerator.is_available() == available and torch.cuda.device_count() == int(available)
    assert torch.accelerator.current_accelerator() == ("cuda" if available else None)
    assert torch.backends.cudnn.is_available() is False and torch.backends.mps.is_available() is False
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.cuda.manual_seed_all(0)
    torch.cuda.synchronize()
    assert torch.device("cpu") == sg.device("cpu")


# ---- as a command ---------------------------------------------------------------------------------------
SCRIPT = """
import sys
import torch, torch.nn as nn
from torch.autograd import Variable
print("argv", sys.argv[1:], "module", __name__)
x = Variable(torch.FloatTensor(2, 3).fill_(1.0), requires_grad=True)
loss = nn.Linear(3, 1)(x).sum()
(g,) = torch.autograd.grad(loss, x, only_inputs=True)
print("grad", tuple(g.shape), type(x).__module__.split(".")[0])
if "--fail" in sys.argv:
    torch.fft.fft(x)
sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return path


def run_module(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "scratchgen.as_torch", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)


def test_python_dash_m_runs_the_script_with_its_arguments(script):
    done = run_module(script, "--lr", "0.1", "3")
    assert done.returncode == 3, done.stderr
    assert "argv ['--lr', '0.1', '3'] module __main__" in done.stdout and "grad (2, 3) scratchgen" in done.stdout


def test_an_error_in_the_script_shows_its_traceback_from_the_script_on(script):
    done = run_module(script, "--fail")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):" and str(script) in lines[1]
    assert "runpy" not in done.stderr
    assert lines[-1] == ("scratchgen.as_torch.NotInScratchgen: torch.fft is not implemented in scratchgen "
                         "(running under scratchgen.as_torch)")


def test_usage_errors():
    assert run_module("no-such-script.py").returncode == 2
    done = run_module()
    assert done.returncode == 2 and "usage: python -m scratchgen.as_torch SCRIPT.py" in done.stderr


def test_scratchgen_run_torch(script, capsys):
    saved_torch = sys.modules["torch"]
    assert cli.main(["run-torch", str(script), "--x", "4"]) == 4
    assert "argv ['--x', '4'] module __main__" in capsys.readouterr().out
    assert cli.main(["run-torch", str(script), "--fail"]) == 1
    assert "torch.fft is not implemented" in capsys.readouterr().err
    assert cli.main(["run-torch", str(script) + ".missing"]) == 2
    assert "is not a file" in capsys.readouterr().err
    assert sys.modules["torch"] is saved_torch


def test_the_real_torch_returns_after_an_error_in_the_script(script):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert as_torch.main([str(script), "--fail"]) == 1
    import torch.nn
    assert sys.modules["torch"] is real_torch and torch.nn is real_torch.nn and sys.modules["torch.nn"] is real_torch.nn
