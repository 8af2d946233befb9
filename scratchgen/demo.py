"""The first job the library can do end to end: fit a small MLP with its own engine.

A 1-64-64-1 tanh network learns y = sin(3x) on [-1, 1] from 256 noisy samples, with Adam;
the mean squared error printed every few hundred steps falls from about 0.5 to the noise
level (0.01). Everything is generated in the process, so it runs offline.
"""
import time

import numpy

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn, optim


def make_data(n, seed):
    """n points x ~ U(-1, 1), y = sin(3x) + N(0, 0.1^2), as float32 tensors."""
    rng = numpy.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1))
    y = numpy.sin(3 * x) + 0.1 * rng.standard_normal((n, 1))
    return sg.tensor(x, dtype=sg.float32), sg.tensor(y, dtype=sg.float32)


def fit_sine(steps=2000, lr=1e-2, seed=0, log_every=200, print_fn=print):
    """Train and return the list of (step, loss); prints a line per `log_every` steps."""
    sg.manual_seed(seed)
    x, y = make_data(256, seed)
    model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    history, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        loss = F.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % log_every == 0 or step == 1:
            history.append((step, loss.item()))
            print_fn(f"step {step:5d}  mse {loss.item():.5f}  ({step / (time.perf_counter() - start):.0f} steps/s)")
    return history
