"""Bad input for the Improved-GAN layers (Salimans et al. 2016): nn.MinibatchDiscrimination,
nn.VirtualBatchNorm and nn.GaussianNoise, registered into the table tests/test_bad_input.py runs."""
from hypothesis import strategies as st

from bad_input import changed, layer, tensor, wrong_shape, wrong_type, wrong_value


@layer("MinibatchDiscrimination", ops=["MinibatchDiscrimination"], breaks=[
    wrong_value("in_features", [0, -1, "abc", 2.5, None]), wrong_value("num_kernels", [0, "abc", None]),
    wrong_value("kernel_dim", [0, 1.5, None]),
    wrong_type("input"), wrong_shape("input", lambda d, p: changed(d, p, [1]), "features"),
])
def minibatch_discrimination_layer(d):
    a = d.draw(st.integers(1, 3))
    return {"in_features": a, "num_kernels": 2, "kernel_dim": 2, "input": tensor((3, a))}


@layer("VirtualBatchNorm", ops=["VirtualBatchNorm"], breaks=[
    wrong_value("num_features", [0, -1, "abc", 2.5, None]), wrong_value("eps", ["abc", -1.0, None]),
    wrong_type("input"), wrong_shape("input", lambda d, p: changed(d, p, [1]), "channels"),
])
def virtual_batch_norm_layer(d):
    c = d.draw(st.integers(1, 3))
    return {"num_features": c, "eps": 1e-5, "reference": tensor((3, c, 2)), "input": tensor((2, c, 2))}


@layer("GaussianNoise", ops=["GaussianNoise"], breaks=[wrong_value("std", [-0.1, "abc", None]), wrong_type("input")])
def gaussian_noise_layer(d):
    return {"std": 0.3, "input": tensor((2, 3))}
