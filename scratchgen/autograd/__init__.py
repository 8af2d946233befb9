"""The autograd engine: Tensor, Function, backward/grad and the recording switches."""
from .engine import backward, grad
from .function import Function
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor
