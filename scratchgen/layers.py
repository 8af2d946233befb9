"""The package's layers, top to bottom. A module may import from its own layer and the layers
below it, never from a layer above, and never in a cycle; tests/test_layers.py reads this
table and checks every import of every module (those inside functions too), and
docs/ARCHITECTURE.md draws it from the same table.

A package name stands for its modules (scratchgen.ops stands for scratchgen.ops.*).
"""
LAYERS = (
    ("commands", ("scratchgen", "scratchgen.cli", "scratchgen.demo")),
    ("training runs", ("scratchgen.train",)),
    ("models and metrics", ("scratchgen.models", "scratchgen.metrics")),
    ("layers, optimizers, data, tools", ("scratchgen.nn", "scratchgen.optim", "scratchgen.data",
                                         "scratchgen.serialization", "scratchgen.gradcheck", "scratchgen.viz")),
    ("the op vocabulary", ("scratchgen.functional", "scratchgen.tensor_methods")),
    ("ops: each Function's forward and backward", ("scratchgen.ops",)),
    ("autograd: Tensor, Function, the engine", ("scratchgen.autograd", "scratchgen.hooks")),
    ("array backends and random numbers", ("scratchgen.backends", "scratchgen.random", "scratchgen.version",
                                           "scratchgen.layers", "scratchgen.arguments")),
)

# The packages above the op vocabulary write models the way a user does: they import the
# front file (`from .. import no_grad`), these public modules and their own package, never
# scratchgen.ops, scratchgen.autograd or scratchgen.backends, and never a private name
# (`_name`) of another package.
USERS_OF_THE_PUBLIC_API = ("scratchgen.nn", "scratchgen.models", "scratchgen.train", "scratchgen.metrics",
                           "scratchgen.data")
PUBLIC_MODULES = ("scratchgen", "scratchgen.functional", "scratchgen.nn", "scratchgen.optim", "scratchgen.data",
                  "scratchgen.models", "scratchgen.metrics", "scratchgen.train", "scratchgen.serialization",
                  "scratchgen.hooks", "scratchgen.arguments")


def layer_of(module):
    """The index in LAYERS (0 at the top) of a module's layer; None for a module no entry covers."""
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            covers = module == prefix or (prefix != "scratchgen" and module.startswith(prefix + "."))
            if covers and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


def within(module, packages):
    """Whether `module` is one of `packages` or inside one of them."""
    return any(module == p or (p != "scratchgen" and module.startswith(p + ".")) for p in packages)
