"""The package's import structure: no cycles, no import from a lower layer to a higher one
(scratchgen/layers.py), and the packages above the op vocabulary use only the public API.
Every import is read from the source with `ast`, those inside functions included
(layers.all_imports)."""
import ast

import pytest

from scratchgen import layers

PACKAGE = layers.PACKAGE_DIR
MODULES = layers.module_files()  # the reading of the code (module_files, imports_of) lives in layers.py,
IMPORTS = layers.all_imports(MODULES)  # where scratchgen/viz.py draws the layers from it too


def where(module, item):
    return f"{MODULES[module].relative_to(PACKAGE.parent)}:{item.line}"


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layers.layer_of(m) is None] == []


def test_no_import_from_a_lower_layer_to_a_higher_one():
    wrong = []
    for module, found in IMPORTS.items():
        for item in found:
            if layers.layer_of(item.target) < layers.layer_of(module):
                wrong.append(f"{where(module, item)} imports {item.target} "
                             f"({layers.LAYERS[layers.layer_of(item.target)][0]}) into {module} "
                             f"({layers.LAYERS[layers.layer_of(module)][0]})")
    assert wrong == []


def import_cycles(edges):
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, cycles, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_import_cycle():
    edges = {module: {item.target for item in found if item.target != module} for module, found in IMPORTS.items()}
    described = []
    for cycle in import_cycles(edges):
        links = [f"{where(a, item)} imports {item.target}" for a in cycle for item in IMPORTS[a]
                 if item.target in cycle and item.target != a]
        described.append(f"cycle through {', '.join(cycle)}: " + "; ".join(links))
    assert described == []


def test_the_cycle_finder_finds_a_cycle():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def subpackage(module):
    """The part of the package a module belongs to: 'ops' for scratchgen.ops.shape."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_private_name_imported_from_another_subpackage():
    wrong = [f"{where(module, item)} imports the private {item.name} from {item.written}"
             for module, found in IMPORTS.items() for item in found
             if item.name and item.name.startswith("_") and not item.name.startswith("__")
             and subpackage(item.written) != subpackage(module)]
    assert wrong == []


@pytest.mark.parametrize("package", layers.USERS_OF_THE_PUBLIC_API)
def test_packages_above_the_ops_use_the_public_api(package):
    wrong = [f"{where(module, item)} imports {item.written}"
             for module, found in IMPORTS.items() if layers.within(module, (package,))
             for item in found if not layers.within(item.written, layers.PUBLIC_MODULES + (package,))]
    assert wrong == []


def private_attributes_of_imports(module):
    """`Name._attribute` where Name was imported from another subpackage (Tensor._wrap)."""
    tree = ast.parse(MODULES[module].read_text())
    imported = {}
    for item in IMPORTS[module]:
        if item.name and subpackage(item.written) != subpackage(module):
            imported[item.name] = item.written
    return [f"{MODULES[module].relative_to(PACKAGE.parent)}:{node.lineno} uses {node.value.id}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in imported and node.attr.startswith("_") and not node.attr.startswith("__")]


def test_no_private_attribute_of_another_subpackage():
    """ops and autograd are one engine (ops build Tensors with Tensor._wrap); elsewhere the
    public names (sg.as_tensor) are used."""
    wrong = [line for module in MODULES if subpackage(module) not in ("ops", "autograd")
             for line in private_attributes_of_imports(module)]
    assert wrong == []
