"""Global autograd switches: gradient recording and anomaly detection.

One process-wide state, read on every op (so it is a plain object, not a thread-local:
the engine is single-threaded, as each training loop here is).
"""
import contextlib
import types

state = types.SimpleNamespace(grad_enabled=True, anomaly=False)


def is_grad_enabled():
    return state.grad_enabled


def is_anomaly_enabled():
    return state.anomaly


@contextlib.contextmanager
def _set(name, value):
    previous = getattr(state, name)
    setattr(state, name, value)
    try:
        yield
    finally:
        setattr(state, name, previous)


def no_grad():
    """Context manager (or decorator): operations inside record no graph (torch.no_grad)."""
    return _set("grad_enabled", False)


def enable_grad():
    """Context manager: turn recording back on inside a no_grad block."""
    return _set("grad_enabled", True)


def set_grad_enabled(mode):
    return _set("grad_enabled", bool(mode))


def detect_anomaly():
    """Context manager: check every forward output and backward gradient for NaN/inf and
    raise naming the op that first produced one (like torch.autograd.detect_anomaly)."""
    return _set("anomaly", True)
