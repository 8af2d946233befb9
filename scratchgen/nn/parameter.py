"""Parameter: a Tensor that a Module learns (torch.nn.Parameter)."""
from .. import Tensor, empty


class Parameter(Tensor):
    """A leaf tensor that requires grad. Assigned to a Module attribute, it is registered in
    that module's `parameters()` and `state_dict()`.

    `Parameter(t)` shares `t`'s data, as in PyTorch; an array or list is copied (a NumPy array
    keeps its dtype). `Parameter()` is an empty float32 tensor."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if isinstance(data, Tensor):
            super().__init__(0.0)
            self.array = data.array  # shares memory, like torch's Tensor._make_subclass
            self.requires_grad_(requires_grad)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
