"""RemovableHandle: what `register_hook` returns, for Tensors and Modules (torch.utils.hooks)."""


class RemovableHandle:
    """`handle.remove()` takes the hook out of the list it was added to."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
