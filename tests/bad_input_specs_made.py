"""Bad input to issue 17's masked layers (scratchgen/nn/masked.py: MaskedLinear, MaskedConv2d), in the
vocabulary of tests/bad_input.py; tests/test_bad_input.py imports this file and runs the table."""
import numpy as np
from hypothesis import strategies as st

from bad_input import changed, layer, tensor, wrong_shape, wrong_type, wrong_value

SIZE_BREAKS = ["abc", 2.5, None]


@layer("MaskedLinear", ops=["linear"], breaks=[
    wrong_value("in_features", [-1] + SIZE_BREAKS), wrong_value("out_features", [-2] + SIZE_BREAKS),
    wrong_value("mask", lambda p: [np.ones((p["in_features"], p["out_features"] + 1)), np.ones(3),
                                   np.full((p["out_features"], p["in_features"]), 0.5), "abc", {"a": 1}]),
    wrong_type("input"),
    wrong_shape("input", lambda d, p: (2, p["in_features"] + 1)),
])
def masked_linear_layer(d):
    i, o = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    mask = np.random.default_rng(d.draw(st.integers(0, 9))).integers(0, 2, (o, i))
    return {"in_features": i, "out_features": o, "mask": mask, "input": tensor((2, i))}


@layer("MaskedConv2d", ops=["conv2d"], breaks=[
    wrong_value("in_channels", [0, -1] + SIZE_BREAKS), wrong_value("out_channels", [0] + SIZE_BREAKS),
    wrong_value("kernel_size", [0, -1, "3", (3, 3, 3), 2, (3, 4)]),
    wrong_value("mask_type", ["C", "a", None, 1, ["A"]]),
    wrong_type("input"), wrong_shape("input", lambda d, p: changed(d, p, [1]), "channels"),
    wrong_shape("input", lambda d, p: (1,) * 5, "rank"),
])
def masked_conv_layer(d):
    c_in, c_out = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    kernel = d.draw(st.sampled_from([1, 3]))
    return {"in_channels": c_in, "out_channels": c_out, "kernel_size": kernel, "padding": kernel // 2,
            "mask_type": d.draw(st.sampled_from("AB")), "input": tensor((1, c_in, 4, 4))}
