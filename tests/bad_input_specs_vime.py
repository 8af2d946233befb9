"""Bad input to nn.BayesianLinear (scratchgen/nn/bayesian.py, VIME's dynamics model), in the
vocabulary of tests/bad_input.py; tests/test_bad_input.py imports this file and runs the table.
(The dynamics model's own bad input: tests/test_vime_dynamics.py.)"""
from hypothesis import strategies as st

from bad_input import layer, tensor, wrong_shape, wrong_type, wrong_value

SIZE_BREAKS = [0, -1, "abc", 2.5, None]


@layer("BayesianLinear", ops=["linear"], breaks=[
    wrong_value("in_features", SIZE_BREAKS), wrong_value("out_features", SIZE_BREAKS),
    wrong_value("prior_std", [0, -0.5, float("nan"), float("inf"), "abc", None]),
    wrong_value("init_mu_std", [-1.0, "abc", None]),
    wrong_type("input"),
    wrong_shape("input", lambda d, p: (2, p["in_features"] + 1)),
])
def bayesian_linear_layer(d):
    i, o = d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))
    return {"in_features": i, "out_features": o, "prior_std": d.draw(st.floats(0.1, 2.0)),
            "init_mu_std": d.draw(st.floats(0.0, 2.0)), "input": tensor((2, i))}
