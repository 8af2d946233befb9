"""Bad input for issue 20's layer nn.SyncBatchNorm (scratchgen/nn/normalization.py), registered
into the table that tests/test_bad_input.py runs: batch norm's checks, in one process."""
from hypothesis import strategies as st

from bad_input import changed, layer, tensor, wrong_shape, wrong_type, wrong_value


@layer("SyncBatchNorm", ops=["batch_norm", "SyncBatchNorm"], breaks=[
    wrong_value("num_features", [-1, "abc", 2.5, None]), wrong_value("eps", ["abc", None]),
    wrong_value("momentum", ["abc", [0.1]]),
    wrong_type("input"), wrong_shape("input", lambda d, p: changed(d, p, [1]), "channels"),
])
def sync_batch_norm_layer(d):
    c = d.draw(st.integers(1, 3))
    return {"num_features": c, "eps": 1e-5, "momentum": 0.1, "input": tensor((2, c, 2, 2))}
