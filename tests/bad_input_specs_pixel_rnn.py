"""Bad input for PixelRNN's pieces: F.skew, F.unskew (ops/skew.py) and nn.RowLSTM, nn.DiagonalLSTM,
nn.DiagonalBiLSTM (nn/pixel_rnn.py), registered into the tables tests/test_bad_input.py runs."""
import numpy as np
from hypothesis import strategies as st

from bad_input import changed, layer, spec, tensor, wrong_dtype, wrong_shape, wrong_type, wrong_value


def _map(d, skewed=False):
    n, c, height, width = (d.draw(st.integers(1, 3)) for _ in range(4))
    return tensor((n, c, height, width + height - 1 if skewed else width),
                  d.draw(st.sampled_from([np.float32, np.float64])))


spec("skew", breaks=[wrong_type("input"), wrong_shape("input", lambda d, p: tuple(p["input"].shape)[1:], "dims"),
                     wrong_shape("input", lambda d, p: tuple(p["input"].shape)[:3] + (0,), "empty")])(
    lambda d: {"input": _map(d)})
spec("unskew", breaks=[wrong_type("input"), wrong_shape("input", lambda d, p: tuple(p["input"].shape)[1:], "dims"),
                       wrong_shape("input", lambda d, p: tuple(p["input"].shape)[:2] + (4, 3), "width")])(
    lambda d: {"input": _map(d, skewed=True)})

SIZE_BREAKS = [wrong_value("in_channels", [0, "abc", 2.5, None]), wrong_value("hidden", [0, -1, "abc", None])]
INPUT_BREAKS = [wrong_type("input"), wrong_dtype("input", np.int64),
                wrong_shape("input", lambda d, p: changed(d, p, [1]), "channels"),
                wrong_shape("input", lambda d, p: tuple(p["input"].shape)[1:], "dims")]


@layer("RowLSTM", ops=[], breaks=SIZE_BREAKS + INPUT_BREAKS + [
    wrong_value("kernel_size", [2, 0, "a", None]), wrong_value("mask_type", ["C", 1, None])])
def row_lstm_layer(d):
    c, h = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    return {"in_channels": c, "hidden": h, "kernel_size": 3, "mask_type": d.draw(st.sampled_from("AB")),
            "input": tensor((d.draw(st.integers(1, 2)), c, d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))))}


@layer("DiagonalLSTM", "DiagonalBiLSTM", ops=[], breaks=SIZE_BREAKS + INPUT_BREAKS)
def diagonal_lstm_layer(d):
    c, h = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    return {"in_channels": c, "hidden": h,
            "input": tensor((d.draw(st.integers(1, 2)), c, d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))))}
