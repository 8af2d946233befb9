"""Bad input to issue 15's F.gumbel_softmax (ops/gumbel.py), in the vocabulary of
tests/bad_input.py; tests/test_bad_input.py imports this file and runs the table."""
import numpy as np
from hypothesis import strategies as st

import scratchgen as sg
from bad_input import Break, dim_out_of_range, dim_wrong_type, floating, shape, spec, tensor, wrong_dtype, \
    wrong_type, wrong_value


def no_classes(d, p):
    p.update(logits=sg.zeros(2, 0), dim=-1, hard=True)


@spec("gumbel_softmax", breaks=[
    wrong_type("logits"),
    wrong_dtype("logits", np.int64, np.bool_, np.float16),
    wrong_value("tau", ["abc", None, [1.0]], "type"),
    wrong_value("tau", [0, -1.0, float("nan")], "range"),
    wrong_value("hard", [1, "yes", None], "type"),
    dim_out_of_range("dim", rank=lambda p: p["logits"].ndim),
    dim_wrong_type("dim"),
    wrong_value("generator", [3, "abc", np.random.default_rng(0)], "type"),
    Break("logits-no-classes", ("logits",), no_classes),
])
def gumbel_softmax_call(d):
    return {"logits": tensor(shape(d, min_dims=1), floating(d)), "tau": d.draw(st.sampled_from([0.5, 1.0, 2])),
            "hard": d.draw(st.booleans()), "dim": -1, "generator": sg.Generator(0)}
