"""Bad input for the LSTM (issue 17): F.lstm_cell_pointwise, nn.LSTMCell and nn.LSTM,
registered into the tables tests/test_bad_input.py runs (a layer's `hx` is its second call
argument, after `input`)."""
import numpy as np
from hypothesis import strategies as st

from bad_input import changed, layer, spec, tensor, wrong_dtype, wrong_shape, wrong_type, wrong_value


@spec("lstm_cell_pointwise", breaks=[
    wrong_type("gates"), wrong_type("cx"), wrong_dtype("gates", np.int64), wrong_dtype("cx", np.int64),
    wrong_shape("gates", lambda d, p: changed(d, p, [-1], "gates"), named=("gates", "cx")),
    wrong_shape("cx", lambda d, p: changed(d, p, [0], "cx"), named=("gates", "cx")),
    wrong_value("cx", lambda p: [tensor(p["cx"].shape, np.float64 if p["cx"].dtype == np.float32 else np.float32)],
                "mixed-dtype", named=("gates", "cx")),
])
def lstm_cell_pointwise_call(d):
    n, hidden = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    dtype = d.draw(st.sampled_from([np.float32, np.float64]))
    return {"gates": tensor((n, 4 * hidden), dtype), "cx": tensor((n, hidden), dtype)}


def _state_breaks(p):
    h, c = p["hx"]
    return [(h,), "abc", [h.numpy(), c], (h, tensor(tuple(s + 1 for s in c.shape))),
            (h, tensor(c.shape, np.float64))]


SIZE_BREAKS = [wrong_value("input_size", [-1, "abc", 2.5, None]), wrong_value("hidden_size", [0, "abc", None])]
INPUT_BREAKS = [wrong_type("input"), wrong_dtype("input", np.int64),
                wrong_shape("input", lambda d, p: changed(d, p, [-1]), "features"),
                wrong_value("hx", _state_breaks, named=("hx", "h_0", "c_0"))]


@layer("LSTMCell", ops=["lstm_cell_pointwise"], breaks=SIZE_BREAKS + INPUT_BREAKS + [
    wrong_shape("input", lambda d, p: (1, 1) + tuple(p["input"].shape), "dims")])
def lstm_cell_layer(d):
    n, i, h = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    return {"input_size": i, "hidden_size": h, "input": tensor((n, i)), "hx": (tensor((n, h)), tensor((n, h)))}


@layer("LSTM", ops=["lstm_cell_pointwise"], breaks=SIZE_BREAKS + INPUT_BREAKS + [
    wrong_value("num_layers", [0, 1.5, None]), wrong_value("dropout", [-0.1, 1.5, "abc"]),
    wrong_value("proj_size", [1, -1, "a"]),
    wrong_shape("input", lambda d, p: tuple(p["input"].shape)[-1:], "dims"),
])
def lstm_layer(d):
    steps, n, i, h = (d.draw(st.integers(1, 3)) for _ in range(4))
    layers, bidirectional = d.draw(st.integers(1, 2)), d.draw(st.booleans())
    batch_first = d.draw(st.booleans())
    state = ((2 if bidirectional else 1) * layers, n, h)
    return {"input_size": i, "hidden_size": h, "num_layers": layers, "bidirectional": bidirectional,
            "batch_first": batch_first, "dropout": 0.0, "proj_size": 0,
            "input": tensor((n, steps, i) if batch_first else (steps, n, i)), "hx": (tensor(state), tensor(state))}
