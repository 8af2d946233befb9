"""Module: the base class of every layer and model (torch.nn.Module).

Assigning a Parameter, a Module or a registered buffer to an attribute records it, so that
`parameters()`, `state_dict()`, `train()` and `to()` reach everything a model holds:

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)                 # a child module
            self.register_buffer("scale", sg.ones(3))  # state that is not learned
        def forward(self, x):
            return self.fc(x) * self.scale
"""
import collections
import itertools

import numpy

from .. import Tensor, as_tensor, float32, float64, no_grad
from ..hooks import RemovableHandle
from .parameter import Parameter


class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns, printed as PyTorch prints it."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text, spaces):
    """Indent every line but the first (PyTorch's nested module repr)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line if line.strip() else "" for line in rest])


class Module:
    """Base class for layers and models: subclasses set attributes in `__init__` (after
    `super().__init__()`) and define `forward`; call the module, not `forward`."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", collections.OrderedDict())
        object.__setattr__(self, "_buffers", collections.OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", collections.OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])

    # ---- registration -------------------------------------------------------------------
    def _check_new_name(self, method, kind, name, registry):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{method}: cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{method}: {kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"{method}: {kind} name must be non-empty and contain no '.', got {name!r}")
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"{method}: attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a Parameter (or None, e.g. a Linear without bias) under `name`."""
        self._check_new_name("register_parameter", "parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign '{type(param).__name__}' object to "
                            f"parameter '{name}' (scratchgen.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"register_parameter: cannot assign non-leaf Tensor to parameter '{name}'; "
                             "parameters must be created explicitly")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a Tensor that is part of the module's state but not learned (e.g. running
        statistics). A non-persistent buffer is left out of `state_dict()`."""
        self._check_new_name("register_buffer", "buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign '{type(tensor).__name__}' object to "
                            f"buffer '{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under `name`."""
        self._check_new_name("add_module", "module", name, "_modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def _forget(self, name, keep):
        """Drop `name` from every registry but `keep` (where it keeps its place in the order)."""
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)
        self.__dict__.pop(name, None)

    def __setattr__(self, name, value):
        """As torch: a Parameter or Module is registered; assigning to a registered name
        keeps its kind (a parameter takes a Parameter or None, a buffer a Tensor or None)."""
        if isinstance(value, (Parameter, Module)):
            kind = "parameter" if isinstance(value, Parameter) else "module"
            if "_parameters" not in self.__dict__:
                raise AttributeError(f"cannot assign {kind} '{name}' before Module.__init__() call")
            self._forget(name, keep="_parameters" if kind == "parameter" else "_modules")
            (self.register_parameter if kind == "parameter" else self.add_module)(name, value)
            return
        for registry, kind, allowed in (("_parameters", "parameter", Parameter),
                                        ("_modules", "module", Module),
                                        ("_buffers", "buffer", Tensor)):
            members = self.__dict__.get(registry)
            if members is not None and name in members:
                if value is not None and not isinstance(value, allowed):
                    raise TypeError(f"cannot assign '{type(value).__name__}' as {kind} '{name}' "
                                    f"({allowed.__name__} or None expected)")
                members[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            members = self.__dict__.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    # ---- traversal ----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_prefix, owner in owners:
            for name, member in owner.__dict__[registry].items():
                if member is None or member in seen:
                    continue
                if remove_duplicate:
                    seen.add(member)
                yield owner_prefix + ("." if owner_prefix else "") + name, member

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter), e.g. ("0.weight", ...); a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call `fn(module)` on every child (recursively), then on self; e.g. custom init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (Dropout drops, batch norm uses batch statistics) for this module
        and all its descendants."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {type(mode).__name__}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (default) or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = param.grad.detach()  # as torch: cut the gradient from any graph
                param.grad.zero_()

    # ---- device and dtype ---------------------------------------------------------------
    def to(self, device=None, dtype=None):
        """Move and/or cast floating-point parameters and buffers in place: the Parameter
        objects stay the same (an optimizer holding them keeps working), only their `.array`
        changes. `to("cuda")`, `to(sg.float64)`, or both; integer buffers keep their dtype."""
        if device is not None and not isinstance(device, str):
            device, dtype = None, device
        if dtype is not None and numpy.dtype(dtype).kind != "f":
            raise TypeError(f"Module.to: only floating-point dtypes are accepted, got {numpy.dtype(dtype)}")

        def convert(tensor):
            cast = dtype if tensor.dtype.kind == "f" else None
            return tensor.detach().to(device, cast).array

        for tensor in itertools.chain(self.parameters(), self.buffers()):
            tensor.array = convert(tensor)
            if tensor.grad is not None:
                tensor.grad = as_tensor(convert(tensor.grad))
        return self

    def double(self):
        return self.to(float64)

    def float(self):
        return self.to(float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # ---- calling ------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """`hook(module, args)` runs before forward; a non-None return replaces the inputs."""
        self._forward_pre_hooks.append(hook)
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """`hook(module, args, output)` runs after forward; a non-None return replaces the
        output (e.g. to collect intermediate features)."""
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    def __call__(self, *args, **kwargs):
        if not hasattr(type(self), "forward"):
            raise TypeError(f'Module [{type(self).__name__}] is missing the required "forward" function')
        for hook in list(self._forward_pre_hooks):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    # ---- state dict ---------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """OrderedDict of dotted name -> tensor: each module's parameters, then its persistent
        buffers, then its children's, as PyTorch orders them. Values are detached but share
        memory with the model (`keep_vars=True` returns the Parameters themselves)."""
        destination = collections.OrderedDict() if destination is None else destination
        own = itertools.chain(self._parameters.items(),
                              ((name, buffer) for name, buffer in self._buffers.items()
                               if name not in self._non_persistent_buffers_set))
        for name, tensor in own:
            if tensor is not None:
                destination[prefix + name] = tensor if keep_vars else tensor.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or arrays) into the parameters and buffers in place. With
        `strict`, missing and unexpected keys are errors; a shape mismatch always is. Nothing
        is copied unless every check passes. Returns (missing_keys, unexpected_keys)."""
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and missing:
            errors.append(f"load_state_dict: missing key(s) in state_dict for {type(self).__name__}: "
                          + ", ".join(f'"{key}"' for key in missing))
        if strict and unexpected:
            errors.append(f"load_state_dict: unexpected key(s) in state_dict for {type(self).__name__}: "
                          + ", ".join(f'"{key}"' for key in unexpected))
        sources = {key: _source_array(state_dict[key], target, key)
                   for key, target in own.items() if key in state_dict}
        for key, source in sources.items():
            if source.shape != own[key].shape:
                errors.append(f"load_state_dict: size mismatch for {key}: checkpoint has shape "
                              f"{tuple(source.shape)}, model has shape {tuple(own[key].shape)}")
        if errors:
            raise RuntimeError("\n".join(errors))
        with no_grad():
            for key, source in sources.items():
                own[key].copy_(source)
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing -----------------------------------------------------------------------
    def extra_repr(self):
        """The settings shown inside the parentheses of this module's repr; override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        """PyTorch's format: `Name(extra)` or one `(name): child` line per child."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(module), 2)}" for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _source_array(value, target, key):
    """A state-dict value as an array on `target`'s device."""
    if isinstance(value, Tensor):
        return value.detach().to(target.device).array
    if not hasattr(value, "shape"):
        raise TypeError(f"load_state_dict: value for {key} must be a Tensor or an array, "
                        f"got {type(value).__name__}")
    host = value.get() if hasattr(value, "__cuda_array_interface__") else numpy.asarray(value)  # CuPy or host
    return target.backend.from_host(host)
