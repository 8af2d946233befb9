"""The package's layers, top to bottom. A module may import from its own layer and the layers
below it, never from a layer above, and never in a cycle; tests/test_layers.py reads this
table and checks every import of every module (those inside functions too), and
docs/ARCHITECTURE.md draws it from the same table.

A package name stands for its modules (scratchgen.ops stands for scratchgen.ops.*).

The second half reads the imports out of the source with `ast` (those inside functions too),
for the test and for the picture of the layers that scratchgen/viz.py draws.
"""
import ast
import pathlib

LAYERS = (
    ("commands", ("scratchgen", "scratchgen.cli", "scratchgen.demo", "scratchgen.as_torch")),
    ("training runs", ("scratchgen.train",)),
    ("models and metrics", ("scratchgen.models", "scratchgen.metrics")),
    ("layers, optimizers, data, tools", ("scratchgen.nn", "scratchgen.optim", "scratchgen.data",
                                         "scratchgen.serialization", "scratchgen.gradcheck", "scratchgen.viz",
                                         "scratchgen.progress", "scratchgen.utils",
                                         "scratchgen.distributed", "scratchgen.cuda")),
    ("the op vocabulary", ("scratchgen.functional", "scratchgen.tensor_methods", "scratchgen.linalg")),
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
                           "scratchgen.data", "scratchgen.utils", "scratchgen.distributed")
PUBLIC_MODULES = ("scratchgen", "scratchgen.functional", "scratchgen.nn", "scratchgen.optim", "scratchgen.data",
                  "scratchgen.models", "scratchgen.metrics", "scratchgen.train", "scratchgen.serialization",
                  "scratchgen.hooks", "scratchgen.arguments", "scratchgen.progress", "scratchgen.distributed")


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


# ---- the imports, read from the source ----------------------------------------------------------
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def module_files(package_dir=PACKAGE_DIR):
    """{dotted module name: path} for every module of the package."""
    files = {}
    for path in sorted(pathlib.Path(package_dir).rglob("*.py")):
        parts = path.relative_to(pathlib.Path(package_dir).parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


class Import:
    """One imported name: `written` is the module the source names (relative imports made
    absolute), `target` the module the name comes from once the front file's re-exports
    (`aliases`) are followed, `name` the imported name (None for `import x`), `line` where it is."""

    def __init__(self, written, name, line, modules, aliases):
        self.written, self.name, self.line = written, name, line
        submodule = f"{written}.{name}" if name else None
        if submodule in modules:
            self.written = self.target = submodule
        elif written == "scratchgen" and name in aliases:
            self.target = aliases[name]
        else:
            self.target = written

    def __repr__(self):
        return f"<Import {self.name or self.written} from {self.target}, line {self.line}>"


def imports_of(module, modules, aliases):
    """Every scratchgen import of `module` (a key of `modules`, as module_files gives them)."""
    path = modules[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if base.split(".")[0] == "scratchgen":
                found += [Import(base, alias.name, node.lineno, modules, aliases) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [Import(alias.name, None, node.lineno, modules, aliases) for alias in node.names
                      if alias.name.split(".")[0] == "scratchgen"]
    for item in found:  # `from scratchgen.x.y import name` of a module that does not exist names a package
        while item.target not in modules and "." in item.target:
            item.target = item.target.rpartition(".")[0]
    return found


def front_aliases(modules):
    """{name: module it comes from} for the names the front file re-exports."""
    return {item.name: item.target for item in imports_of("scratchgen", modules, {}) if item.name}


def all_imports(modules=None):
    """{module: its imports} for every module of the package."""
    modules = module_files() if modules is None else modules
    aliases = front_aliases(modules)
    return {module: imports_of(module, modules, aliases) for module in modules}


def package_of(module):
    """The entry of LAYERS that covers a module: 'scratchgen.ops' for scratchgen.ops.shape."""
    covering = [p for _, prefixes in LAYERS for p in prefixes if within(module, (p,))]
    return max(covering, key=len) if covering else None


def package_imports(imports=None):
    """{(importer, imported): direct} for each pair of LAYERS entries between which the code
    has an import (the arrows of the picture of the layers); `direct` is False where every such
    import goes through the front file's re-exports (`from .. import Tensor` in scratchgen.nn)."""
    imports = all_imports() if imports is None else imports
    pairs = {}
    for module, found in imports.items():
        for item in found:
            a, b = package_of(module), package_of(item.target)
            if a != b and a is not None and b is not None:
                through_front_file = item.written == "scratchgen" and item.target != "scratchgen"
                pairs[a, b] = pairs.get((a, b), False) or not through_front_file
    return dict(sorted(pairs.items()))
