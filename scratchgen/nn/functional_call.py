"""A module called with parameter tensors given as arguments (torch.func.functional_call):

    weights = {name: p.detach().requires_grad_() for name, p in model.named_parameters()}
    out = nn.functional_call(model, weights, (x,))     # model's forward, with these tensors as its weights
    grads = sg.grad(out.sum(), list(weights.values()), create_graph=True)

The tensors may be any Tensors, results of other ops included (weights moved by an optimizer's
`differentiable_step`), so that what the module computes is a differentiable function of them:
Unrolled GAN (models/unrolled_gan.py) evaluates its critic at weights k Adam steps ahead this
way. Inside the call the module holds the given tensors in place of its own (as torch does);
afterwards it holds its own again, also when forward raises.
"""
from .. import Tensor
from .module import Module


def functional_call(module, parameters_and_buffers, args=(), kwargs=None, *, strict=False):
    """`module(*args, **kwargs)` with the parameters and buffers named in `parameters_and_buffers`
    ({dotted name as named_parameters() / named_buffers() give it: Tensor}) in place of the
    module's own (a tied parameter wherever it is held); the others are the module's. A single
    argument may be given without a tuple. With strict=True every parameter and buffer must be
    given. Unlike torch, a name the module does not have, or a tensor of another shape than the
    one it replaces, is an error."""
    places = _places(module, parameters_and_buffers, strict)
    args = args if isinstance(args, tuple) else (args,)
    saved = [(members, key, members[key]) for members, key, _ in places]
    try:
        for members, key, value in places:
            members[key] = value
        return module(*args, **({} if kwargs is None else kwargs))
    finally:
        for members, key, value in saved:
            members[key] = value


def _places(module, tensors, strict):
    """[(a module's _parameters or _buffers dict, key, new tensor)] for every place that holds a
    member named in `tensors`, after checking the names, types and shapes."""
    where = "functional_call"
    if not isinstance(module, Module):
        raise TypeError(f"{where}: module must be a Module, got {type(module).__name__}")
    if not isinstance(tensors, dict):
        raise TypeError(f"{where}: parameters_and_buffers must be a dict {{name: Tensor}}, "
                        f"got {type(tensors).__name__}")
    members = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    unknown = [name for name in tensors if name not in members]
    if unknown:
        raise ValueError(f"{where}: parameters_and_buffers names {', '.join(map(repr, unknown))}, which "
                         f"{type(module).__name__} does not have; it has {', '.join(members) or 'nothing'}")
    if not isinstance(strict, bool):
        raise TypeError(f"{where}: strict must be True or False, got {strict!r}")
    missing = [name for name in members if name not in tensors]
    if strict and missing:
        raise ValueError(f"{where}: strict=True, but parameters_and_buffers misses {', '.join(map(repr, missing))}")
    for name, value in tensors.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{where}: parameters_and_buffers[{name!r}] must be a Tensor, got {type(value).__name__}")
        if value.shape != members[name].shape:
            raise ValueError(f"{where}: parameters_and_buffers[{name!r}] has shape {tuple(value.shape)}, but the "
                             f"module's {name} has shape {tuple(members[name].shape)}")
    replacement = {id(members[name]): value for name, value in tensors.items()}
    return [(registry, key, replacement[id(member)])
            for _, owner in module.named_modules(remove_duplicate=False)
            for registry in (owner.__dict__["_parameters"], owner.__dict__["_buffers"])
            for key, member in registry.items() if member is not None and id(member) in replacement]
