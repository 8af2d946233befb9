"""Bad input to issue 16's functions for unrolling an optimizer: nn.functional_call and
Optimizer.differentiable_step, in the vocabulary of tests/bad_input.py. Neither is an op of
scratchgen.functional nor an nn layer, so they have a table of their own, API_SPECS, which
test_functional_call.py and test_optim_differentiable.py run through `run_table`."""
import numpy as np

import scratchgen as sg
from scratchgen import nn, optim
from bad_input import Break, assert_clear_error, broken_calls, tensor, wrong_value

API_SPECS = {}  # name -> (call(params), valid params, breaks)


def api_spec(name, call, breaks):
    def register(valid):
        API_SPECS[name] = (call, valid, tuple(breaks))
        return valid
    return register


def run_table(name):
    """The valid call runs; each broken one raises an error naming `name` and the argument."""
    call, valid, breaks = API_SPECS[name]
    call(valid())
    for b in breaks:
        for broken in broken_calls(b, None, valid()):
            assert_clear_error(lambda broken=broken: call(broken), name, b.arg, b.errors)


def mlp():
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))


def weights(module):
    return {name: p.detach() for name, p in module.named_parameters()}


def replaced(key, value):
    """parameters_and_buffers with `key` set to `value`."""
    return lambda d, p: [{**p, "parameters_and_buffers": {**p["parameters_and_buffers"], key: value}}]


@api_spec("functional_call", lambda p: nn.functional_call(**p), breaks=[
    wrong_value("module", [None, "abc", lambda x: x]),
    wrong_value("parameters_and_buffers", [None, "abc", [tensor((3, 2))]], "type"),
    Break("parameters_and_buffers-unknown-name", ("parameters_and_buffers",), replaced("0.weigth", tensor((3, 2)))),
    Break("parameters_and_buffers-shape", ("parameters_and_buffers",), replaced("0.weight", tensor((4, 2)))),
    Break("parameters_and_buffers-not-a-tensor", ("parameters_and_buffers",),
          replaced("0.weight", np.zeros((3, 2), np.float32))),
    Break("strict-missing", ("strict", "parameters_and_buffers"),
          lambda d, p: [{**p, "strict": True, "parameters_and_buffers": {"0.weight": tensor((3, 2))}}]),
    wrong_value("strict", ["yes", None, 1], "type"),
])
def functional_call_call():
    module = mlp()
    return {"module": module, "parameters_and_buffers": weights(module), "args": (tensor((4, 2)),)}


def differentiable_step(p):
    p = dict(p)
    return p.pop("optimizer").differentiable_step(**p)


@api_spec("differentiable_step", differentiable_step, breaks=[
    wrong_value("params", [None, tensor((3, 2)), [tensor((3, 2))], [np.zeros((3, 2)), np.zeros(3)]], "type"),
    wrong_value("params", [[tensor((2, 3)), tensor((3,))]], "shape"),
    wrong_value("grads", [None, "abc", [tensor((3, 2))]], "type"),
    wrong_value("grads", [[tensor((3, 2)), tensor((4,))]], "shape"),
    wrong_value("states", ["abc", [{}], [{}, 3]], "type"),
])
def differentiable_step_call():
    params = [sg.zeros(3, 2, requires_grad=True), sg.zeros(3, requires_grad=True)]
    return {"optimizer": optim.Adam(params, lr=0.1), "params": [p.detach() for p in params],
            "grads": [tensor((3, 2)), None], "states": None}
