"""Bad input for issue 22's layer nn.DataParallel (scratchgen/nn/parallel.py), registered into
the table that tests/test_bad_input.py runs."""
from bad_input import layer, tensor, wrong_shape, wrong_type, wrong_value

from scratchgen import nn


@layer("DataParallel", ops=["linear"], breaks=[
    wrong_value("module", ["abc", None, 3, (lambda x: x)]),
    wrong_value("device_ids", [[0, 1], range(3), 5]),
    wrong_type("input"),
    wrong_shape("input", lambda d, p: (4, 3)),
])
def data_parallel_layer(d):
    return {"module": nn.Linear(2, 3), "device_ids": [0], "input": tensor((4, 2))}
