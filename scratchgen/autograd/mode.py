"""Global autograd switches: gradient recording and anomaly detection."""
import contextlib
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "grad_enabled", True)


def is_anomaly_enabled():
    return getattr(_state, "anomaly", False)


@contextlib.contextmanager
def _set(name, value):
    previous = getattr(_state, name, {"grad_enabled": True, "anomaly": False}[name])
    setattr(_state, name, value)
    try:
        yield
    finally:
        setattr(_state, name, previous)


def no_grad():
    """Context manager: operations inside record no graph (like torch.no_grad)."""
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
