"""scratchgen.nn against torch.nn: registration and traversal, modes, state dicts, reprs,
containers, and the layers' forward and backward passes.

Most models here are built by functions that take the library (`sg` or `torch`) as an
argument, so the very same code builds the scratchgen model and its PyTorch twin.
"""
import collections
import copy

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg
from oracle import assert_same_tensor
from scratchgen import nn
from strategies import arrays, shapes

TOL = dict(rtol=1e-10, atol=1e-12)

ACTIVATIONS = {  # name: build the activation from a library's nn namespace
    "ReLU": lambda nn: nn.ReLU(),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.2),
    "Tanh": lambda nn: nn.Tanh(),
    "Sigmoid": lambda nn: nn.Sigmoid(),
    "ELU": lambda nn: nn.ELU(alpha=0.5),
    "Softplus": lambda nn: nn.Softplus(beta=2.0, threshold=5.0),
    "Softmax": lambda nn: nn.Softmax(dim=1),
    "LogSoftmax": lambda nn: nn.LogSoftmax(dim=-1),
}


def mlp(lib, widths, activation="Tanh", dropout=0.0):
    """Flatten, then Linear layers of `widths` with activations (and dropout) between them."""
    layers = [lib.nn.Flatten()]
    for a, b in zip(widths, widths[1:]):
        layers += [lib.nn.Linear(a, b), ACTIVATIONS[activation](lib.nn)]
        if dropout:
            layers.append(lib.nn.Dropout(dropout))
    return lib.nn.Sequential(*layers[:-1 - bool(dropout)])


def encoder(lib):
    """Nested Sequential (with an OrderedDict), a ModuleList, buffers, a bias-free Linear."""

    class Encoder(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.ReLU(), lib.nn.Sequential(
                collections.OrderedDict([("hidden", lib.nn.Linear(6, 5)), ("act", lib.nn.Tanh())])))
            self.heads = lib.nn.ModuleList([lib.nn.Linear(5, 3), lib.nn.Linear(5, 3, bias=False)])
            self.register_buffer("scale", lib.ones(3, dtype=lib.float64))
            self.register_buffer("scratch", lib.zeros(3, dtype=lib.float64), persistent=False)
            self.out = lib.nn.Identity()

        def forward(self, x):
            h = self.trunk(x)
            return self.out(self.heads[0](h) * self.scale + self.heads[1](h))

    return Encoder()


def tied(lib):
    """One Linear registered twice, and a weight shared by two Linears."""

    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.first = lib.nn.Linear(3, 3)
            self.again = self.first
            self.second = lib.nn.Linear(3, 3)
            self.second.weight = self.first.weight

    return Tied()


BUILDERS = {
    "mlp": lambda lib: mlp(lib, [6, 5, 4, 3]),
    "mlp_dropout": lambda lib: mlp(lib, [6, 5, 3], "LeakyReLU", dropout=0.25),
    "encoder": encoder,
    "tied": tied,
}


def numpy_state(torch_model):
    return {key: value.detach().numpy() for key, value in torch_model.state_dict().items()}


# ---- Parameter --------------------------------------------------------------------------
def test_parameter_is_a_leaf_that_requires_grad_and_prints_like_torch():
    p = nn.Parameter(sg.tensor([1.0, 2.0]))
    assert isinstance(p, sg.Tensor) and p.is_leaf and p.requires_grad
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))


def test_parameter_shares_a_tensors_data_and_keeps_an_arrays_dtype():
    t = sg.zeros(3)
    p = nn.Parameter(t)
    with sg.no_grad():
        p.fill_(5.0)
    assert_array_equal(t.numpy(), [5.0, 5.0, 5.0])
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    assert not nn.Parameter(sg.zeros(2), requires_grad=False).requires_grad
    assert type(p * 2) is sg.Tensor and type(p.detach()) is sg.Tensor


def test_parameter_of_integers_is_refused():
    with pytest.raises(RuntimeError, match="floating-point"):
        nn.Parameter(sg.tensor([1, 2]))


# ---- registration -----------------------------------------------------------------------
class Affine(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(sg.ones(2))
        self.inner = nn.Linear(2, 2)
        self.register_buffer("count", sg.zeros(1, dtype=sg.int64))
        self.plain = sg.ones(2)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.inner(x) * self.weight


def test_setattr_registers_parameters_modules_and_buffers():
    m = Affine()
    assert list(m._parameters) == ["weight"] and list(m._modules) == ["inner"]
    assert list(m._buffers) == ["count"]
    assert [name for name, _ in m.named_parameters()] == ["weight", "inner.weight", "inner.bias"]
    assert m.inner.weight is m._modules["inner"]._parameters["weight"]
    assert "plain" not in m.state_dict()


def test_assigning_to_a_registered_name_keeps_its_kind():
    m = Affine()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = sg.ones(2)
    with pytest.raises(TypeError, match="as buffer 'count'"):
        m.count = 3
    m.count = sg.ones(1)
    assert m._buffers["count"] is m.count
    m.weight = None
    assert m.weight is None and [n for n, _ in m.named_parameters()] == ["inner.weight", "inner.bias"]
    m.inner = nn.Parameter(sg.zeros(1))  # a parameter replaces the module of the same name
    assert "inner" not in m._modules and m.inner is m._parameters["inner"]


def test_delattr_unregisters():
    m = Affine()
    del m.inner, m.count
    assert list(m.state_dict()) == ["weight"]
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'inner'"):
        m.inner


def test_registration_errors_name_the_method_and_the_problem():
    m = Affine()
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_buffer("forward", sg.ones(1))
    with pytest.raises(KeyError, match="contain no '.'"):
        m.register_parameter("a.b", nn.Parameter(sg.ones(1)))
    with pytest.raises(TypeError, match="register_buffer: cannot assign 'list'"):
        m.register_buffer("b", [1.0])
    with pytest.raises(TypeError, match="register_parameter: cannot assign 'Tensor'"):
        m.register_parameter("p", sg.ones(1))
    with pytest.raises(TypeError, match="add_module: int is not a Module"):
        m.add_module("child", 3)


def test_forgetting_super_init_and_forward_give_clear_errors():
    class NoInit(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    class NoForward(nn.Module):
        pass

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        NoInit()
    with pytest.raises(TypeError, match='missing the required "forward" function'):
        NoForward()(sg.ones(1))


def test_linear_without_bias_registers_none():
    fc = nn.Linear(3, 2, bias=False)
    assert fc.bias is None and [n for n, _ in fc.named_parameters()] == ["weight"]
    assert list(fc.state_dict()) == ["weight"]


# ---- traversal, against torch ------------------------------------------------------------
@pytest.mark.parametrize("name", BUILDERS)
def test_traversal_names_and_order_equal_torchs(name):
    mine, theirs = BUILDERS[name](sg), BUILDERS[name](torch)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(mine, method)()] == [n for n, _ in getattr(theirs, method)()], method
    assert [tuple(p.shape) for p in mine.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert len(list(mine.children())) == len(list(theirs.children()))
    assert [type(m).__name__ for m in mine.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in mine.named_parameters(recurse=False)] == [
        n for n, _ in theirs.named_parameters(recurse=False)]


def test_shared_parameters_and_modules_are_counted_once():
    m = tied(sg)
    assert len(list(m.parameters())) == 3  # first.weight, first.bias, second.bias
    assert [n for n, _ in m.named_parameters()] == ["first.weight", "first.bias", "second.bias"]
    assert len([n for n, _ in m.named_parameters(remove_duplicate=False)]) == 6
    assert len(list(m.modules())) == 3


def test_apply_visits_children_before_parents_like_torch():
    visited = {lib: [] for lib in (sg, torch)}
    for lib in (sg, torch):
        model = encoder(lib)
        assert model.apply(lambda m, seen=visited[lib]: seen.append(type(m).__name__)) is model
    assert visited[sg] == visited[torch]


def test_apply_can_initialise_weights():
    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model = mlp(sg, [3, 4, 2]).apply(zero_linear)
    assert all(not p.numpy().any() for n, p in model.state_dict().items() if n.endswith("weight"))


# ---- modes and gradients ----------------------------------------------------------------
def test_train_and_eval_propagate_to_every_descendant():
    model = encoder(sg)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.trunk.train()
    assert model.trunk[2].act.training and not model.training
    with pytest.raises(ValueError, match="train: mode is expected to be a bool"):
        model.train("no")


def _backward_once(model):
    model(sg.randn(2, 4, dtype=sg.float64)).sum().backward()


def test_zero_grad_sets_to_none_or_zeros():
    model = encoder(sg).double()
    _backward_once(model)
    assert all(p.grad is not None and p.grad.numpy().any() for p in model.parameters())
    model.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert p.grad.shape == p.shape and p.grad.grad_fn is None and not p.grad.numpy().any()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_switches_every_parameter():
    model = encoder(sg)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_double_and_float_convert_in_place_keeping_parameter_objects():
    model = Affine()
    params_before = list(model.parameters())
    model(sg.randn(3, 2)).sum().backward()
    assert model.double() is model
    assert list(model.parameters()) == params_before
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert model.count.dtype == np.int64  # integer buffers keep their dtype, as in torch
    model.float()
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    assert model.to(sg.float64).weight.dtype == np.float64
    assert model.to("cpu", sg.float32).weight.dtype == np.float32
    with pytest.raises(TypeError, match="Module.to: only floating-point dtypes"):
        model.to(sg.int64)


def test_double_model_runs_in_float64():
    model = encoder(sg).double()
    assert model(sg.randn(2, 4, dtype=sg.float64)).dtype == np.float64


def test_forward_hooks_can_read_and_replace_inputs_and_outputs():
    fc = nn.Linear(2, 2)
    seen = []
    handle = fc.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    pre = fc.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = fc(sg.ones(3, 2))
    assert seen == [(3, 2)]
    assert_allclose(out.detach().numpy(), np.broadcast_to(fc.bias.detach().numpy(), (3, 2)))
    replace = fc.register_forward_hook(lambda m, args, out: out * 0)
    assert not fc(sg.ones(3, 2)).detach().numpy().any()
    for h in (handle, pre, replace):
        h.remove()
    fc(sg.ones(1, 2))
    assert len(seen) == 2


def test_deepcopy_gives_independent_parameters():
    model = encoder(sg)
    clone = copy.deepcopy(model)
    assert all(type(p) is nn.Parameter for p in clone.parameters())
    with sg.no_grad():
        clone.heads[0].weight.fill_(7.0)
    assert not (model.heads[0].weight.detach().numpy() == 7.0).any()
    assert repr(clone) == repr(model)


# ---- state dicts --------------------------------------------------------------------------
@pytest.mark.parametrize("name", BUILDERS)
def test_state_dict_keys_and_shapes_equal_torchs(name):
    mine, theirs = BUILDERS[name](sg), BUILDERS[name](torch)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert isinstance(mine.state_dict(), collections.OrderedDict)


def test_state_dict_values_are_detached_and_share_memory():
    fc = nn.Linear(2, 3)
    state = fc.state_dict()
    assert not state["weight"].requires_grad and state["weight"].array is fc.weight.array
    assert fc.state_dict(keep_vars=True)["weight"] is fc.weight


@pytest.mark.parametrize("name", ["mlp", "mlp_dropout", "encoder"])
@given(batch=st.integers(1, 4), seed=st.integers(0, 2 ** 31))
def test_loaded_torch_weights_give_torchs_outputs(name, batch, seed):
    torch.manual_seed(seed)
    mine, theirs = BUILDERS[name](sg).double(), BUILDERS[name](torch).double()
    for buffer in theirs.buffers():  # buffers must load too
        buffer.uniform_(0.5, 1.5)
    mine.load_state_dict(numpy_state(theirs))
    mine.eval(), theirs.eval()
    x = np.random.default_rng(seed).standard_normal((batch, 6 if name.startswith("mlp") else 4))
    assert_same_tensor(mine(sg.tensor(x)), theirs(torch.tensor(x)), **TOL)


def test_load_state_dict_accepts_scratchgen_tensors_and_casts_to_the_models_dtype():
    source, target = encoder(sg), encoder(sg).double()
    assert repr(target.load_state_dict(source.state_dict())) == "<All keys matched successfully>"
    for (key, mine), theirs in zip(target.state_dict().items(), source.state_dict().values()):
        assert mine.dtype == np.float64, key
        assert_allclose(mine.numpy(), theirs.numpy(), err_msg=key)


def test_load_state_dict_reports_missing_and_unexpected_keys():
    model = mlp(sg, [3, 4, 2])
    state = numpy_state(mlp(torch, [3, 4, 2]))
    del state["1.bias"]
    state["extra.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    assert 'missing key(s) in state_dict for Sequential: "1.bias"' in str(error.value)
    assert 'unexpected key(s) in state_dict for Sequential: "extra.weight"' in str(error.value)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.bias"] and result.unexpected_keys == ["extra.weight"]
    assert_allclose(model[1].weight.detach().numpy(), state["1.weight"])


def test_load_state_dict_names_a_size_mismatch_and_copies_nothing():
    class Net(nn.Module):
        def __init__(self, fan_in, fan_out):
            super().__init__()
            self.fc = nn.Linear(fan_in, fan_out)

    model, before = Net(3, 4), Net(3, 4)
    before.load_state_dict(model.state_dict())
    state = {key: value.numpy() + 1 for key, value in Net(4, 3).state_dict().items()}
    state["fc.bias"] = np.zeros(4)
    for strict in (True, False):
        with pytest.raises(RuntimeError) as error:
            model.load_state_dict(state, strict=strict)
        assert str(error.value) == ("load_state_dict: size mismatch for fc.weight: checkpoint has "
                                    "shape (3, 4), model has shape (4, 3)")
    for key, value in model.state_dict().items():
        assert_array_equal(value.numpy(), before.state_dict()[key].numpy(), err_msg=key)


def test_load_state_dict_skips_non_persistent_buffers_and_refuses_non_arrays():
    model = encoder(sg)
    assert "scratch" not in model.state_dict() and "scale" in model.state_dict()
    state = model.state_dict()
    state["scale"] = "two"
    with pytest.raises(TypeError, match="load_state_dict: value for scale must be a Tensor or an array"):
        model.load_state_dict(state)


def test_load_state_dict_does_not_record_a_graph_or_change_parameter_objects():
    model = mlp(sg, [3, 2])
    weight = model[1].weight
    model.load_state_dict({"1.weight": np.ones((2, 3)), "1.bias": np.zeros(2)})
    assert model[1].weight is weight and weight.is_leaf and weight.requires_grad
    assert_array_equal(weight.detach().numpy(), np.ones((2, 3)))


# ---- repr -------------------------------------------------------------------------------
def every_layer(lib):
    return lib.nn.Sequential(
        lib.nn.Flatten(), lib.nn.Linear(784, 400), lib.nn.ReLU(), lib.nn.Dropout(0.2),
        lib.nn.Linear(400, 20, bias=False), lib.nn.LeakyReLU(0.2, inplace=True), lib.nn.ELU(),
        lib.nn.Softplus(), lib.nn.Tanh(), lib.nn.Sigmoid(), lib.nn.Softmax(dim=1),
        lib.nn.LogSoftmax(1), lib.nn.Identity(), lib.nn.Unflatten(1, (4, 5)), lib.nn.Softmax())


@pytest.mark.parametrize("build", [every_layer, encoder, tied, lambda lib: lib.nn.Sequential(),
                                   lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2)] * 3 + [lib.nn.ReLU()]),
                                   lambda lib: lib.nn.ModuleDict({"act": lib.nn.ReLU(),
                                                                  "fc": lib.nn.Linear(1, 2)})])
def test_repr_equals_torchs(build):
    assert repr(build(sg)) == repr(build(torch))


# ---- containers ---------------------------------------------------------------------------
def test_sequential_indexing_slicing_length_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert repr(tail) == repr(twin[1:])
    with pytest.raises(IndexError, match="Sequential: index 3 is out of range for 3 modules"):
        model[3]
    assert model.append(nn.Tanh()) is model and len(model) == 4 and isinstance(model[3], nn.Tanh)


def test_sequential_from_an_ordered_dict_keeps_the_names():
    model = nn.Sequential(collections.OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"] and isinstance(model.act, nn.Tanh)
    x = sg.randn(3, 2)
    assert_allclose(model(x).detach().numpy(), model.act(model.fc(x)).detach().numpy())


def edit_list(lib):
    """The same ModuleList edits, done in either library."""
    modules = lib.nn.ModuleList([lib.nn.Linear(1, 2)])
    modules.append(lib.nn.Linear(2, 3)).extend([lib.nn.Linear(3, 4), lib.nn.Linear(4, 5)])
    modules.insert(1, lib.nn.Linear(9, 9))
    modules[0] = lib.nn.Linear(1, 1)
    del modules[2]
    return modules


def test_module_list_edits_match_torch():
    mine, theirs = edit_list(sg), edit_list(torch)
    assert [(n, tuple(p.shape)) for n, p in mine.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert repr(mine) == repr(theirs) and len(mine) == len(theirs) == 4
    assert repr(mine[1:3]) == repr(theirs[1:3])
    assert [m.in_features for m in mine] == [m.in_features for m in theirs]
    assert mine[-1] is list(mine)[3]


def test_module_dict_registers_its_modules():
    heads = nn.ModuleDict({"mean": nn.Linear(2, 2)})
    heads["log_var"] = nn.Linear(2, 2)
    assert list(heads) == ["mean", "log_var"] and "mean" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["mean.weight", "mean.bias",
                                                        "log_var.weight", "log_var.bias"]
    del heads["mean"]
    assert list(heads.keys()) == ["log_var"] and list(heads.values()) == [heads["log_var"]]


def test_module_list_has_no_forward():
    with pytest.raises(TypeError, match=r'Module \[ModuleList\] is missing the required "forward"'):
        nn.ModuleList()(sg.ones(1))


# ---- layers against torch ---------------------------------------------------------------
@given(data=st.data())
def test_linear_forward_and_gradients_equal_torchs(data):
    batch = data.draw(shapes(0, 2, max_elements=6))
    in_features, out_features = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    bias = data.draw(st.booleans())
    theirs = torch.nn.Linear(in_features, out_features, bias=bias, dtype=torch.float64)
    mine = nn.Linear(in_features, out_features, bias=bias, dtype=sg.float64)
    mine.load_state_dict(numpy_state(theirs))
    x = data.draw(arrays(batch + (in_features,)))
    x_mine, x_theirs = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_mine, y_theirs = mine(x_mine), theirs(x_theirs)
    assert_same_tensor(y_mine, y_theirs, **TOL)
    upstream = data.draw(arrays(y_theirs.shape))
    y_mine.backward(sg.tensor(upstream))
    y_theirs.backward(torch.tensor(upstream))
    assert_same_tensor(x_mine.grad, x_theirs.grad, **TOL, what="input gradient")
    for (name, p_mine), p_theirs in zip(mine.named_parameters(), theirs.parameters()):
        assert_same_tensor(p_mine.grad, p_theirs.grad, **TOL, what=f"{name} gradient")


def test_linear_checks_its_input_features():
    with pytest.raises(ValueError, match="linear: input has 3 features but weight expects 2"):
        nn.Linear(2, 4)(sg.ones(5, 3))


@pytest.mark.parametrize("check", [sg.gradcheck, sg.gradgradcheck])
def test_tiny_mlp_passes_gradcheck(check):
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), nn.Softplus(),
                          nn.Linear(3, 2), nn.LogSoftmax(dim=1)).double()
    x = sg.randn(2, 3, dtype=sg.float64, requires_grad=True)
    assert check(lambda x, *params: model(x), (x, *model.parameters()))


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data())
def test_activation_modules_equal_torchs(name, data):
    x = data.draw(arrays(data.draw(shapes(2, 3))))
    mine, theirs = ACTIVATIONS[name](nn), ACTIVATIONS[name](torch.nn)
    assert repr(mine) == repr(theirs)
    x_mine, x_theirs = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_mine, y_theirs = mine(x_mine), theirs(x_theirs)
    assert_same_tensor(y_mine, y_theirs, **TOL)
    y_mine.backward(sg.ones(*x.shape, dtype=sg.float64))
    y_theirs.backward(torch.ones(x.shape, dtype=torch.float64))
    assert_allclose(x_mine.grad.numpy(), x_theirs.grad.numpy(), **TOL)


@pytest.mark.parametrize("module", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_without_dim_warns_and_picks_torchs_dim(module, ndim):
    x = np.random.default_rng(ndim).standard_normal((2, 3, 2, 2)[:ndim])
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        mine = getattr(nn, module)()(sg.tensor(x))
    with pytest.warns(UserWarning):
        theirs = getattr(torch.nn, module)()(torch.tensor(x))
    assert_same_tensor(mine, theirs, **TOL)


@given(data=st.data())
def test_flatten_and_unflatten_equal_torchs(data):
    shape = data.draw(shapes(1, 4, max_elements=48))
    start = data.draw(st.integers(-len(shape), len(shape) - 1))
    end = data.draw(st.integers(start % len(shape) - len(shape), -1))
    x = data.draw(arrays(shape))
    flat = nn.Flatten(start, end)(sg.tensor(x))
    flat_torch = torch.nn.Flatten(start, end)(torch.tensor(x))
    assert_same_tensor(flat, flat_torch)
    dim = start % len(shape)
    unflatten = nn.Unflatten(dim, shape[dim:end % len(shape) + 1])
    assert_same_tensor(unflatten(flat), torch.nn.Unflatten(dim, shape[dim:end % len(shape) + 1])(flat_torch))
    assert unflatten(flat).shape == shape


def test_flatten_default_keeps_the_batch_dim_and_unflatten_checks_its_size():
    assert nn.Flatten()(sg.ones(2, 3, 4, 5)).shape == (2, 60)
    with pytest.raises(TypeError, match="Unflatten: unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 12)


def test_identity_ignores_its_arguments():
    x = sg.ones(2)
    assert nn.Identity(54, unused="argument")(x) is x


# ---- Dropout ------------------------------------------------------------------------------
def test_dropout_in_eval_mode_is_the_identity():
    drop = nn.Dropout(0.5).eval()
    x = sg.randn(4, 5)
    assert drop(x) is x


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_about_p_and_scales_the_rest(p):
    sg.manual_seed(1)
    x = sg.rand(200, 500, dtype=sg.float64) + 1.0
    y = nn.Dropout(p)(x).numpy()
    kept = y != 0
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / kept.size)
    assert_allclose(y[kept], x.numpy()[kept] / (1 - p), rtol=1e-12)


@given(p=st.floats(0.05, 0.95), seed=st.integers(0, 2 ** 31))
def test_dropout_gradient_is_the_mask_over_one_minus_p(p, seed):
    sg.manual_seed(seed)
    x = (sg.rand(6, 7, dtype=sg.float64) + 1.0).requires_grad_()
    y = nn.Dropout(p)(x)
    upstream = np.random.default_rng(seed).standard_normal((6, 7))
    y.backward(sg.tensor(upstream))
    mask = y.detach().numpy() != 0
    assert_allclose(x.grad.numpy(), upstream * mask / (1 - p), rtol=1e-12)


def test_dropout_checks_p():
    with pytest.raises(ValueError, match="Dropout: dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
