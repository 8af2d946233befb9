"""The LSTM cell's pointwise part (Hochreiter & Schmidhuber 1997; the forget gate of Gers et
al. 2000), as torch.nn.LSTMCell computes it: from the gate pre-activations
gates = x W_ih^T + b_ih + h W_hh^T + b_hh, in torch's order (i, f, g, o) along the last dim,

    i = sigmoid(gates_i), f = sigmoid(gates_f), g = tanh(gates_g), o = sigmoid(gates_o)
    c' = f * c + i * g
    h' = o * tanh(c')

`LSTMCellPointwise` is one Function: its forward is the backend's `lstm_cell` (NumPy array
code in backends/numpy.py; one kernel, kernels/lstm.cu, on a GPU), its output h' and c'
stacked in one (2, ..., H) array (as normalization.py's Moments stacks its two results). Its
backward is written in Tensor ops from the saved gates and c (the activations recomputed), so
double backward works:

    dc' = grad_c + grad_h * o * (1 - tanh(c')^2)
    d gates = [dc' g i (1 - i), dc' c f (1 - f), dc' i (1 - g^2), grad_h tanh(c') o (1 - o)]
    d c = dc' f

each product in the order torch's composition takes it (sigmoid_backward: grad (1 - s) s;
tanh_backward: grad (1 - t^2)), so that inf * 0 gives nan where it does in torch.
"""
from .. import backends
from ..autograd.function import Function
from ._util import check_tensor, same_device
from .shape import cat


class LSTMCellPointwise(Function):
    """(gates (..., 4H), c (..., H)) -> stacked [h', c'] (2, ..., H)."""

    @staticmethod
    def forward(ctx, gates, c):
        ctx.save_inputs(0, 1)
        return backends.get(gates).lstm_cell(gates, c)

    @staticmethod
    def backward(ctx, grad):
        gates, c = ctx.saved_inputs
        hidden = c.shape[-1]
        i = gates[..., :hidden].sigmoid()
        f = gates[..., hidden:2 * hidden].sigmoid()
        g = gates[..., 2 * hidden:3 * hidden].tanh()
        o = gates[..., 3 * hidden:].sigmoid()
        c_new = f * c + i * g
        tanh_c = c_new.tanh()
        grad_h, grad_c = grad[0], grad[1]
        dc = grad_c + (grad_h * o) * (1 - tanh_c * tanh_c)
        need = ctx.needs_input_grad
        grad_gates = None
        if need[0]:
            grad_gates = cat([((dc * g) * (1 - i)) * i, ((dc * c) * (1 - f)) * f,
                              (dc * i) * (1 - g * g), ((grad_h * tanh_c) * (1 - o)) * o], -1)
        grad_cell = dc * f if need[1] else None
        return grad_gates, grad_cell


def lstm_cell_pointwise(gates, cx):
    """The LSTM cell's pointwise part: (h', c') from the gate pre-activations `gates` (..., 4H),
    in torch's gate order (i, f, g, o), and the cell state `cx` (..., H); one fused Function
    (see the module docstring). nn.LSTMCell and nn.LSTM call it once per step."""
    op = "lstm_cell_pointwise"
    check_tensor(gates, op, "gates", "f")
    check_tensor(cx, op, "cx", "f")
    same_device(op, gates=gates, cx=cx)
    if gates.ndim < 1 or cx.ndim < 1 or cx.shape[:-1] != gates.shape[:-1] or gates.shape[-1] != 4 * cx.shape[-1]:
        raise ValueError(f"{op}: gates must have shape (..., 4 * H) for cx of shape (..., H), got gates "
                         f"{tuple(gates.shape)} and cx {tuple(cx.shape)}")
    if gates.dtype != cx.dtype:
        raise TypeError(f"{op}: gates and cx must have one dtype, got {gates.dtype} and {cx.dtype}")
    out = LSTMCellPointwise.apply(gates, cx)
    return out[0], out[1]
