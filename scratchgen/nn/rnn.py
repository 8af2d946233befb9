"""LSTMCell and LSTM with torch.nn's parameter names, shapes, gate order (i, f, g, o) and
initialisation (every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))), so that
a state dict loads into torch and back. Each step is F.linear for the gate pre-activations
and one fused F.lstm_cell_pointwise (scratchgen/ops/lstm.py) for the rest.

nn.LSTM keeps a layer's input and output as one tensor per time step (stacked once, at the
end), so that the backward pass never scatters a step's gradient into a whole-sequence
tensor (T of those would cost T^2); a bidirectional layer runs a second cell (the `_reverse`
parameters) from the last step to the first and concatenates the two outputs at each step.
"""
import math

from .. import Tensor, empty, zeros
from .. import functional as F
from ..arguments import integer, number
from . import init
from .module import Module
from .parameter import Parameter


def _gate_parameters(module, suffix, input_size, hidden_size, bias, dtype, device):
    module.register_parameter(f"weight_ih{suffix}", Parameter(empty(4 * hidden_size, input_size, dtype=dtype,
                                                                    device=device)))
    module.register_parameter(f"weight_hh{suffix}", Parameter(empty(4 * hidden_size, hidden_size, dtype=dtype,
                                                                    device=device)))
    for name in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        module.register_parameter(name, Parameter(empty(4 * hidden_size, dtype=dtype, device=device)) if bias else None)


def _reset(module):
    bound = 1 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_input(op, input, feature_size, dims):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: argument 'input' must be a floating point tensor, got dtype {input.dtype}")
    if input.ndim not in dims or input.shape[-1] != feature_size:
        raise ValueError(f"{op}: input must have {' or '.join(map(str, dims))} dims with input_size "
                         f"{feature_size} last, got shape {tuple(input.shape)}")


def _check_state(op, hx, shape, like):
    """hx as a pair (h, c) of tensors of `shape`, each of the input's dtype."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{op}: hx must be a pair of tensors (h_0, c_0), got {type(hx).__name__}")
    for name, t in zip(("h_0", "c_0"), hx):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: hx's {name} must be a Tensor, got {type(t).__name__}")
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{op}: hx's {name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
        if t.dtype != like.dtype:
            raise TypeError(f"{op}: hx's {name} must have the input's dtype {like.dtype}, got {t.dtype}")
    return tuple(hx)


def _step(x_projected, h, c, weight_hh, bias_hh):
    """One LSTM step from x W_ih^T + b_ih (already computed): (h', c')."""
    return F.lstm_cell_pointwise(x_projected + F.linear(h, weight_hh, bias_hh), c)


class LSTMCell(Module):
    """One LSTM step (torch.nn.LSTMCell): input (N, input_size) or (input_size,), hx = (h, c)
    each (N, hidden_size) or (hidden_size,) (zeros when None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = integer(input_size, name, "input_size", 0)
        self.hidden_size = integer(hidden_size, name, "hidden_size", 1)
        self.bias = bool(bias)
        _gate_parameters(self, "", self.input_size, self.hidden_size, self.bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        _reset(self)

    def forward(self, input, hx=None):
        op = type(self).__name__
        _check_input(op, input, self.input_size, (1, 2))
        shape = tuple(input.shape[:-1]) + (self.hidden_size,)
        if hx is None:
            hx = (zeros(*shape, dtype=input.dtype, device=input.device),) * 2
        h, c = _check_state(op, hx, shape, input)
        return _step(F.linear(input, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTM(Module):
    """A multi-layer LSTM (torch.nn.LSTM): input (L, N, input_size), or (N, L, input_size) with
    batch_first, or unbatched (L, input_size); hx = (h_0, c_0) each (D * num_layers, N,
    hidden_size) (zeros when None), D = 2 if bidirectional else 1. Returns (output, (h_n, c_n)),
    output (L, N, D * hidden_size) (batch first with batch_first). `dropout` drops each layer's
    output but the last's in training mode. proj_size is not supported (0 only)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = integer(input_size, name, "input_size", 0)
        self.hidden_size = integer(hidden_size, name, "hidden_size", 1)
        self.num_layers = integer(num_layers, name, "num_layers", 1)
        self.dropout = float(number(dropout, name, "dropout", 0, 1, what="a probability"))
        if integer(proj_size, name, "proj_size", 0) != 0:
            raise ValueError(f"{name}: proj_size is not supported (only 0), got {proj_size!r}")
        self.proj_size = 0
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                _gate_parameters(self, f"_l{layer}{suffix}", layer_input, self.hidden_size, self.bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        _reset(self)

    def forward(self, input, hx=None):
        op = type(self).__name__
        _check_input(op, input, self.input_size, (2, 3))
        batched = input.ndim == 3
        if input.shape[1 if batched and self.batch_first else 0] == 0:
            raise ValueError(f"{op}: input must hold at least one time step, got shape {tuple(input.shape)}")
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        directions = 2 if self.bidirectional else 1
        shape = (directions * self.num_layers, x.shape[1], self.hidden_size)
        if hx is None:
            h0 = c0 = zeros(*shape, dtype=input.dtype, device=input.device)
        else:
            h0, c0 = _check_state(op, hx, shape if batched else (shape[0], shape[2]), input)
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        length = x.shape[0]
        steps = [x[t] for t in range(length)]  # a layer's input, one (N, features) tensor per step
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                w_ih, b_ih, w_hh, b_hh = (getattr(self, f"{name}_l{layer}{suffix}")
                                          for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh"))
                h, c = h0[layer * directions + d], c0[layer * directions + d]
                hs = [None] * length
                for t in (range(length) if d == 0 else reversed(range(length))):
                    h, c = _step(F.linear(steps[t], w_ih, b_ih), h, c, w_hh, b_hh)
                    hs[t] = h
                outputs.append(hs)
                h_n.append(h)
                c_n.append(c)
            steps = outputs[0] if directions == 1 else [F.cat(pair, -1) for pair in zip(*outputs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout, True) for s in steps]
        x = F.stack(steps, 0)
        h_n, c_n = F.stack(h_n, 0), F.stack(c_n, 0)
        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, (h_n, c_n)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text
