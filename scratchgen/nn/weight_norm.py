"""Weight normalisation (Salimans & Kingma 2016, eq. 2): w = g * v / ||v||, learning the
length g and the direction v separately; used by the Improved-GAN MNIST discriminator.

    layer = nn.utils.weight_norm(nn.Linear(784, 1000))   # parameters weight_g, weight_v

As in PyTorch, the module's parameter `weight` is replaced by `weight_g` (one norm per
slice along `dim`) and `weight_v`, and `weight` is recomputed before every forward call.
"""
from .module import Module
from .parameter import Parameter


def norm_except_dim(v, dim):
    """The 2-norm of v over every dim but `dim` (keeping them as size 1); over all of v when
    dim is -1 or None."""
    if dim is None or dim == -1:
        return (v * v).sum().sqrt()
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return (v * v).sum(others, keepdim=True).sqrt()


def _weight_norm(v, g, dim):
    return v * (g / norm_except_dim(v, dim))


class WeightNorm:
    """The forward pre-hook that recomputes module.<name> from <name>_g and <name>_v."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparameterise module.<name> as <name>_g * <name>_v / ||<name>_v|| (norm over every dim
    but `dim`; dim=None: over the whole tensor). Returns the module."""
    if not isinstance(module, Module):
        raise TypeError(f"weight_norm: expected a Module, got {type(module).__name__}")
    if any(isinstance(hook, WeightNorm) and hook.name == name for hook in module._forward_pre_hooks):
        raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same parameter {name!r}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter {name!r}")
    hook = WeightNorm(name, -1 if dim is None else dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight.detach(), hook.dim)))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: module.<name> becomes a plain Parameter again, with its current value."""
    for hook in module._forward_pre_hooks:
        if isinstance(hook, WeightNorm) and hook.name == name:
            weight = hook.compute_weight(module).detach()
            module._forward_pre_hooks.remove(hook)
            del module._parameters[name + "_g"], module._parameters[name + "_v"]
            delattr(module, name)
            setattr(module, name, Parameter(weight))
            return module
    raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in {type(module).__name__}")
