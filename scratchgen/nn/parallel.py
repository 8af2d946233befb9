"""torch.nn.parallel's data parallelism, on the one device scratchgen runs on.

torch splits a batch across GPUs, runs a replica of the module on each slice and gathers the
outputs. scratchgen uses one device (the CPU or one GPU), so there is nothing to split: both
names below run the module on the whole batch. They exist so that code written for several
GPUs (pytorch/examples' DCGAN calls `nn.parallel.data_parallel(self.main, input,
range(self.ngpu))`, the DCGAN tutorial wraps its networks in `nn.DataParallel`) runs unchanged
with one device; asking for more than one device is an error, not a silent change of meaning
(torch's replicas would each normalise their own slice in BatchNorm).
"""
from .module import Module


def _one_device(device_ids, where):
    """device_ids as torch takes them (None, ints, devices), checked to name at most one device."""
    if device_ids is None:
        return
    try:
        ids = list(device_ids)
    except TypeError:
        raise TypeError(f"{where}: device_ids must be a list of device indices, got {device_ids!r}") from None
    if len(ids) > 1:
        raise ValueError(f"{where}: scratchgen runs on one device, so device_ids can name at most one, "
                         f"got {ids!r}")


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """torch.nn.parallel.data_parallel on one device: `module(*inputs, **module_kwargs)`."""
    if not callable(module):
        raise TypeError(f"data_parallel: module must be a Module (or callable), got {type(module).__name__}")
    _one_device(device_ids, "data_parallel")
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))


class DataParallel(Module):
    """torch.nn.DataParallel on one device: holds the module as `.module` (so its parameters
    are named 'module.<name>' in state_dict, as torch's) and calls it on the whole batch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got {type(module).__name__}")
        _one_device(device_ids, "DataParallel")
        self.module = module
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
