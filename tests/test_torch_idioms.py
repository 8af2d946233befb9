"""The PyTorch idioms of issue 22 that are library features, each against PyTorch: devices
(sg.device, x.device, x.is_cuda), x.type(),
autograd.grad(only_inputs=), sg.flatten, x.eq / x.ne / x.view_as, optim.Adadelta,
scratchgen.nn.functional, nn.parallel, and scratchgen.utils.data (Dataset, TensorDataset,
DataLoader with collation). The learning-rate schedulers are in test_lr_scheduler.py, the
`torch` namespace of scratchgen.as_torch (torch.Tensor's constructor, the typed constructors,
Variable) in test_as_torch.py."""
import collections

import numpy as np
import pytest

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn, optim
from scratchgen.utils import data

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


def same(ours, theirs, rtol=1e-12):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.detach().numpy() if isinstance(ours, sg.Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol)


# ---- devices ---------------------------------------------------------------------------------------------
def test_device_as_torch():
    for name in ("cpu", "cuda", "cuda:0"):
        ours, theirs = sg.device(name), torch.device(name)
        assert (ours.type, ours.index) == (theirs.type, theirs.index) and repr(ours) == repr(theirs)
    assert repr(sg.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert sg.device(sg.device("cpu")) == "cpu"
    x = sg.zeros(2, device=sg.device("cpu"))
    assert isinstance(x.device, sg.device) and x.device.type == "cpu" and x.device == "cpu"
    assert x.to(sg.device("cpu")) is x and not x.is_cuda and not torch.zeros(2).is_cuda
    model = nn.Linear(2, 2).to(sg.device("cpu"))
    assert model.weight.device == "cpu"


@pytest.mark.parametrize("name", ["gpu", "cuda:1", "cuda:x", "cpu:1", 3])
def test_bad_devices_are_named(name):
    with pytest.raises((TypeError, ValueError), match="device"):
        sg.device(name)


# ---- x.type() ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "uint8", "int16", "int8"])
def test_type_names_and_conversions_as_torch(dtype):
    values = np.array([0, 1, 2]).astype(dtype)
    ours, theirs = sg.tensor(values), torch.tensor(values)
    assert ours.type() == theirs.type()
    for target in ("torch.FloatTensor", "torch.DoubleTensor", "torch.LongTensor", "torch.BoolTensor"):
        same(ours.type(target), theirs.type(target))
    same(ours.type(sg.float64), theirs.type(torch.float64))
    assert ours.type(ours.type()) is ours


def test_type_takes_a_typed_constructor_and_refuses_unknown_names():
    Double = type("DoubleTensor", (), {"dtype": np.dtype(np.float64), "is_cuda": False})
    assert sg.ones(2).type(Double).dtype == sg.float64
    with pytest.raises(ValueError, match="type"):
        sg.ones(2).type("torch.QuadTensor")


# ---- autograd.grad(only_inputs=) -------------------------------------------------------------------------
def test_grad_accepts_only_inputs_as_torch():
    x = sg.tensor([1.0, 2.0], dtype=sg.float64, requires_grad=True)
    (g,) = sg.grad((x ** 3).sum(), x, only_inputs=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad((tx ** 3).sum(), tx, only_inputs=True)
    same(g, tg)
    with pytest.warns(UserWarning, match="only_inputs"):
        sg.grad((x ** 3).sum(), [x], None, None, False, False)  # torch's positions
    assert x.grad is None


# ---- flatten, eq, ne, view_as ----------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [(), (1,), (0, 1), (1, -1), (-2,)])
def test_flatten_as_torch(dims):
    values = RNG.standard_normal((2, 3, 4, 5))
    same(sg.flatten(sg.tensor(values), *dims), torch.flatten(torch.tensor(values), *dims))


def test_accuracy_idiom_as_torch():
    output, target = RNG.standard_normal((8, 3)), RNG.integers(0, 3, 8)
    pred = sg.tensor(output).argmax(dim=1, keepdim=True)
    tpred = torch.tensor(output).argmax(dim=1, keepdim=True)
    correct = pred.eq(sg.tensor(target).view_as(pred)).sum().item()
    assert correct == tpred.eq(torch.tensor(target).view_as(tpred)).sum().item()
    same(pred.ne(1), tpred.ne(1))
    same(pred.eq(sg.tensor(target).view_as(pred)), tpred.eq(torch.tensor(target).view_as(tpred)))


def test_view_as_is_differentiable_and_checks_its_argument():
    x = sg.tensor(np.arange(6.0), requires_grad=True)
    x.view_as(sg.zeros(2, 3)).sum().backward()
    assert x.grad.shape == (6,)
    with pytest.raises(TypeError, match="view_as"):
        x.view_as((2, 3))
    with pytest.raises(ValueError):
        x.view_as(sg.zeros(4))


# ---- optim.Adadelta --------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4},
                                      {"weight_decay": 0.1, "maximize": True}])
def test_adadelta_matches_torch(settings):
    w0, x, y = RNG.standard_normal((4, 3)), RNG.standard_normal((16, 3)), RNG.standard_normal((16, 4))
    w, tw = sg.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    opt, topt = optim.Adadelta([w], **settings), torch.optim.Adadelta([tw], **settings)
    for _ in range(6):
        opt.zero_grad()
        ((sg.tensor(x) @ w.t() - sg.tensor(y)) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        ((torch.tensor(x) @ tw.t() - torch.tensor(y)) ** 2).mean().backward()
        topt.step()
    same(w, tw, rtol=1e-11)
    same(opt.state[w]["square_avg"], topt.state[tw]["square_avg"], rtol=1e-11)
    same(opt.state[w]["acc_delta"], topt.state[tw]["acc_delta"], rtol=1e-11)
    assert opt.state[w]["step"] == int(topt.state[tw]["step"])


def test_adadelta_state_dict_round_trip_and_bad_settings():
    w = sg.ones(3, requires_grad=True)
    opt = optim.Adadelta([w])
    w.grad = sg.ones(3)
    opt.step()
    again = optim.Adadelta([w])
    again.load_state_dict(opt.state_dict())
    np.testing.assert_array_equal(again.state[w]["acc_delta"].numpy(), opt.state[w]["acc_delta"].numpy())
    for bad in ({"rho": 1.5}, {"lr": -1.0}, {"eps": -1e-6}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            optim.Adadelta([w], **bad)
    with pytest.raises(ValueError, match="capturable"):
        optim.Adadelta([w], capturable=True)


# ---- scratchgen.nn.functional ------------------------------------------------------------------------------
def test_nn_functional_is_the_op_vocabulary():
    import scratchgen.nn.functional as NF
    assert set(NF.__all__) == set(F.__all__)
    assert all(getattr(NF, name) is getattr(F, name) for name in F.__all__)
    assert nn.functional is NF


# ---- nn.parallel on one device -------------------------------------------------------------------------------
def test_data_parallel_runs_the_module_on_one_device():
    model = nn.Linear(3, 2)
    x = sg.randn(4, 3)
    np.testing.assert_array_equal(nn.parallel.data_parallel(model, x, range(1)).detach().numpy(),
                                  model(x).detach().numpy())
    np.testing.assert_array_equal(nn.parallel.data_parallel(model, (x,), None, module_kwargs={}).detach().numpy(),
                                  model(x).detach().numpy())
    wrapped = nn.DataParallel(model, device_ids=[0])
    assert list(wrapped.state_dict()) == list(torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())
    assert wrapped.module is model and list(wrapped.parameters()) == list(model.parameters())
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(ValueError, match="device_ids"):
        nn.parallel.data_parallel(model, x, [0, 1])
    with pytest.raises(ValueError, match="device_ids"):
        nn.DataParallel(model, device_ids=range(2))
    with pytest.raises(TypeError, match="module"):
        nn.DataParallel(lambda x: x)


# ---- scratchgen.utils.data -------------------------------------------------------------------------------
class Squares:
    """A map-style dataset written once, read by both frameworks' loaders: samples of every kind
    default_collate handles."""

    def __init__(self, framework, n=10):
        self.tensor, self.n = framework.tensor, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        Point = collections.namedtuple("Point", "x y")
        return {"image": self.tensor(np.full((2, 2), float(i))), "label": i, "weight": i / 2, "flag": i % 2 == 0,
                "array": np.arange(3) * i, "point": Point(i, -i), "name": f"sample{i}",
                "pair": (self.tensor([i, i + 1]), float(i))}


def as_numpy(value):
    if isinstance(value, (sg.Tensor, torch.Tensor)):
        return value.detach().numpy()
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value).__name__, [as_numpy(v) for v in value]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [as_numpy(v) for v in value]
    return value


def assert_same_batches(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = as_numpy(a), as_numpy(b)
        flat_a, flat_b = [], []

        def walk(x, out):
            if isinstance(x, dict):
                for k in sorted(x):
                    out.append(k)
                    walk(x[k], out)
            elif isinstance(x, tuple):
                out.append(x[0])
                for v in x[1]:
                    walk(v, out)
            else:
                out.append(x)
        walk(a, flat_a)
        walk(b, flat_b)
        assert len(flat_a) == len(flat_b)
        for x, y in zip(flat_a, flat_b):
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and x.shape == y.shape
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y


@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (4, True), (1, False), (10, False), (None, False)])
def test_data_loader_collates_as_torch(batch_size, drop_last):
    ours = data.DataLoader(Squares(sg), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(Squares(torch), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same_batches(list(ours), list(theirs))


def test_tensor_dataset_and_its_loader_as_torch():
    x, y = RNG.standard_normal((10, 3)), RNG.integers(0, 5, 10)
    ours = data.TensorDataset(sg.tensor(x), sg.tensor(y))
    theirs = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) and len(ours[3]) == 2
    same(ours[3][0], theirs[3][0])
    for loader_args in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 4, "collate_fn": list}):
        got = list(data.DataLoader(ours, **loader_args))
        want = list(torch.utils.data.DataLoader(theirs, **loader_args))
        assert len(got) == len(want)
        for a, b in zip(got, want):
            for u, v in zip(a, b):
                same(*(u, v) if not isinstance(u, tuple) else (u[0], v[0]))
    with pytest.raises(ValueError, match="size mismatch"):
        data.TensorDataset(sg.zeros(3), sg.zeros(4))


def test_shuffle_draws_a_new_permutation_each_epoch_from_the_generator():
    dataset = data.TensorDataset(sg.arange(20))
    loader = data.DataLoader(dataset, batch_size=5, shuffle=True, generator=sg.Generator(3))
    first, second = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(2)]
    assert sorted(first) == sorted(second) == list(range(20)) and list(first) != list(second)
    again = data.DataLoader(dataset, batch_size=5, shuffle=True, generator=sg.Generator(3))
    assert list(np.concatenate([b[0].numpy() for b in again])) == list(first)
    sg.manual_seed(1)
    a = [b[0].numpy() for b in data.DataLoader(dataset, batch_size=20, shuffle=True)]
    sg.manual_seed(1)
    b = [b[0].numpy() for b in data.DataLoader(dataset, batch_size=20, shuffle=True)]
    np.testing.assert_array_equal(a[0], b[0])


def test_iterable_dataset_subset_concat_and_random_split():
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    base = data.TensorDataset(sg.arange(10))
    subset = data.Subset(base, [9, 0, 4])
    assert [int(subset[i][0]) for i in range(3)] == [9, 0, 4]
    both = base + subset
    assert len(both) == 13 and int(both[11][0]) == 0 and int(both[-1][0]) == 4
    parts = data.random_split(base, [6, 4], generator=sg.Generator(0))
    assert sorted(int(p[i][0]) for p in parts for i in range(len(p))) == list(range(10))
    assert [len(p) for p in data.random_split(base, [0.5, 0.5])] == [5, 5]
    assert [len(p) for p in torch.utils.data.random_split(range(10), [0.5, 0.5])] == [5, 5]
    with pytest.raises(ValueError, match="lengths"):
        data.random_split(base, [3, 3])


def test_loader_settings_are_checked_and_num_workers_accepted():
    dataset = data.TensorDataset(sg.arange(8))
    assert len(list(data.DataLoader(dataset, batch_size=2, num_workers=2, pin_memory=True))) == 4
    for bad in ({"batch_size": 0}, {"num_workers": -1}, {"sampler": [0, 1], "shuffle": True},
                {"batch_sampler": [[0, 1]], "batch_size": 2}):
        with pytest.raises(ValueError):
            data.DataLoader(dataset, **bad)
    sampler = data.BatchSampler(data.SequentialSampler(range(5)), 2, drop_last=False)
    assert list(data.DataLoader(dataset, batch_sampler=sampler))[-1][0].tolist() == [4]
    with pytest.raises(TypeError, match="default_collate"):
        data.default_collate([object(), object()])


def test_default_collate_of_floats_and_tuples_as_torch():
    from torch.utils.data import default_collate
    samples = [(1.5, 2, True), (2.5, 3, False)]
    ours, theirs = data.default_collate(samples), default_collate(samples)
    assert isinstance(ours, list) and isinstance(theirs, list)
    for a, b in zip(ours, theirs):
        same(a, b)
