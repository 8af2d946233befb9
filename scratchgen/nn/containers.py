"""Containers that hold child modules: Sequential, ModuleList, ModuleDict (torch.nn names)."""
import collections
import operator

from .module import Module, _addindent


def _position(index, length, container):
    """An int index (negative counts from the end) as a position in [0, length)."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} modules")
    return index % length


class _IndexedModules(Module):
    """Children named "0", "1", ... in order; shared by Sequential and ModuleList."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return list(self._modules.values())[_position(index, len(self), type(self).__name__)]

    def __setitem__(self, index, module):
        setattr(self, str(_position(index, len(self), type(self).__name__)), module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else _position(index, len(modules), type(self).__name__)]
        self._renumber(modules)

    def _renumber(self, modules):
        """Re-register `modules` as children "0", "1", ... (as torch keeps them numbered)."""
        self._modules.clear()
        for module in modules:
            self.append(module)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class Sequential(_IndexedModules):
    """Chain modules: `forward` feeds each one's output to the next.

        nn.Sequential(nn.Linear(784, 400), nn.ReLU())
        nn.Sequential(OrderedDict([("fc", nn.Linear(784, 400)), ("act", nn.ReLU())]))
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], collections.OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for module in modules:
                self.append(module)

    @classmethod
    def _from_items(cls, items):
        """A slice keeps the children's names, as in torch."""
        return cls(collections.OrderedDict(items))

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered (a plain Python list's would not be).
    It has no forward: index or iterate it in your own."""

    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or [])

    @classmethod
    def _from_items(cls, items):
        """A slice is numbered from 0 again, as in torch."""
        return cls([module for _, module in items])

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def __repr__(self):
        """Like PyTorch's: runs of identical children print once, as `(0-2): 3 x Linear(...)`."""
        runs = []  # [first index, last index, repr]
        for index, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        if not runs:
            return "ModuleList()"
        lines = [_addindent(f"({first}): {text}" if first == last else
                            f"({first}-{last}): {last - first + 1} x {text}", 2)
                 for first, last, text in runs]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, in insertion order, whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        self.update(modules or {})

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add (name, module) pairs from a mapping or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module
