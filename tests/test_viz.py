"""scratchgen.viz: the recorded graph as text and as Graphviz DOT, read without changing it, and
the picture of the layers. The tests that run Graphviz's `dot` skip when it is not installed
(apt-get install graphviz); the text fallback is tested always."""
import re
import shutil
import subprocess

import pytest

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import layers, nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed (apt-get install graphviz)")


def small_graph():
    """(x @ w).tanh().sum() with both leaves named."""
    x = sg.randn(2, 3, requires_grad=True)
    w = sg.randn(3, 4, requires_grad=True)
    return (x @ w).tanh().sum(), dict(x=x, w=w)


SMALL_GRAPH_TEXT = """\
SumBackward  (2, 4) -> ()
  TanhBackward  (2, 4) -> (2, 4)  saved: output (2, 4)
    MatMulBackward  (2, 3), (3, 4) -> (2, 4)  saved: (2, 3), (3, 4)
      x (2, 3)
      w (3, 4)
"""


def dot_nodes(dot_source):
    return re.findall(r"^\s+(\w+) \[label=", dot_source, re.MULTILINE)


def dot_edges(dot_source):
    return re.findall(r"^\s+(\w+) -> (\w+);", dot_source, re.MULTILINE)


# ---- the graph as text -------------------------------------------------------------------------
def test_text_of_a_small_graph_names_leaves_and_gives_shapes():
    loss, params = small_graph()
    assert viz.graph_text(loss, params=params) == SMALL_GRAPH_TEXT


def test_unnamed_leaves_and_inputs_without_gradient():
    x = sg.randn(2, 3)  # data: needs no gradient
    w = sg.randn(3, 4, requires_grad=True)
    assert viz.graph_text((x @ w).sum()).splitlines() == [
        "SumBackward  (2, 4) -> ()",
        "  MatMulBackward  (2, 3), (3, 4) -> (2, 4)  saved: (2, 3), (3, 4)",
        "    constant (2, 3)",
        "    leaf (3, 4)",
    ]


def test_a_shared_subexpression_is_printed_once():
    x = sg.randn(5, requires_grad=True)
    y = sg.randn(5, requires_grad=True)
    d = x - y
    assert viz.graph_text((d * d).sum(), params=dict(x=x, y=y)).splitlines() == [
        "SumBackward  (5,) -> ()",
        "  MulBackward  (5,), (5,) -> (5,)  saved: (5,), (5,)",
        "    [1] SubBackward  (5,), (5,) -> (5,)",
        "      x (5,)",
        "      y (5,)",
        "    [1] SubBackward (see above)",
    ]


def test_arrays_saved_on_the_ctx_are_shown_by_name():
    x = sg.randn(2, 3, requires_grad=True)
    text = viz.graph_text(F.dropout(x, 0.2).sum(), params=dict(x=x))
    assert "DropoutBackward  (2, 3) -> (2, 3)  saved: mask (2, 3)" in text


def test_module_parameters_name_the_leaves():
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    loss = F.mse_loss(model(sg.randn(5, 4)), sg.randn(5, 2))
    text = viz.graph_text(loss, params=model)
    assert [line.strip() for line in text.splitlines() if "weight" in line or "bias" in line] == [
        "0.weight (3, 4)", "0.bias (3,)", "2.weight (2, 3)", "2.bias (2,)"]
    assert text == viz.graph_text(loss, params=dict(model.named_parameters()))
    assert text.count("[1] SubBackward") == 2  # mse squares the difference: one node, used twice


def test_reading_the_graph_changes_nothing():
    sg.manual_seed(0)
    loss, params = small_graph()
    viz.graph_text(loss, params), viz.graph_dot(loss, params)
    order, _, _ = viz.function_nodes(loss)
    assert [node.freed for node in order] == [False, False, False]
    loss.backward()  # would raise if reading had freed what forward saved
    sg.manual_seed(0)
    unread, unread_params = small_graph()
    unread.backward()
    for name in params:
        assert (params[name].grad.numpy() == unread_params[name].grad.numpy()).all()


def test_a_graph_freed_by_backward_still_prints():
    loss, params = small_graph()
    loss.backward()
    assert viz.graph_text(loss, params=params) == SMALL_GRAPH_TEXT.replace(
        "saved: output (2, 4)", "saved: freed").replace("saved: (2, 3), (3, 4)", "saved: freed").replace(
        "SumBackward  (2, 4) -> ()", "SumBackward  (2, 4) -> ()  saved: freed")
    assert "saved: freed" in viz.graph_dot(loss, params)


def test_a_tensor_without_a_graph():
    w = sg.randn(3, 4, requires_grad=True)
    assert viz.graph_text(w, params=dict(w=w)) == "w (3, 4) (no graph recorded)\n"
    assert viz.graph_text(sg.randn(2)) == "constant (2,) (no graph recorded)\n"
    assert dot_nodes(viz.graph_dot(w, params=dict(w=w))) == ["leaf0"]


def test_a_deep_chain_needs_no_recursion():
    x = sg.randn(3, requires_grad=True)
    y = x
    for _ in range(2000):  # deeper than Python's recursion limit
        y = y.tanh()
    lines = viz.graph_text(y.sum(), params=dict(x=x)).splitlines()
    assert len(lines) == 1 + 2000 + 1
    assert lines[-1] == "  " * 2001 + "x (3,)"


# ---- the graph as DOT ----------------------------------------------------------------------------
def test_dot_text_has_a_node_per_function_and_leaf_and_an_edge_per_input():
    loss, params = small_graph()
    source = viz.graph_dot(loss, params=params)
    assert source.startswith("digraph ") and source.rstrip().endswith("}")
    assert dot_nodes(source) == ["n0", "n1", "n2", "leaf0", "leaf1"]
    assert sorted(dot_edges(source)) == sorted([("n1", "n0"), ("n2", "n1"), ("leaf0", "n2"), ("leaf1", "n2")])
    assert 'label="MatMulBackward\\n(2, 3), (3, 4) -> (2, 4)\\nsaved: (2, 3), (3, 4)"' in source
    assert 'label="x\\n(2, 3)"' in source and 'label="w\\n(3, 4)"' in source


def test_dot_shares_a_node_used_twice():
    x = sg.randn(5, requires_grad=True)
    d = x - 1.0
    source = viz.graph_dot((d * d).sum(), params=dict(x=x))
    assert len(dot_nodes(source)) == 4  # Sum, Mul, Sub, x
    assert dot_edges(source).count(("n2", "n1")) == 2


@needs_dot
def test_dot_parses_the_dot_text_and_the_svg_names_the_parameters():
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    loss = F.mse_loss(model(sg.randn(5, 4)), sg.randn(5, 2))
    source = viz.graph_dot(loss, params=model)
    plain = subprocess.run(["dot", "-Tplain"], input=source, text=True, capture_output=True, check=True).stdout
    assert len([line for line in plain.splitlines() if line.startswith("node ")]) == 7 + 4  # functions, leaves
    svg = subprocess.run(["dot", "-Tsvg"], input=source, text=True, capture_output=True)
    assert svg.returncode == 0, svg.stderr
    for name in ("0.weight", "0.bias", "2.weight", "2.bias", "LinearBackward", "saved: output (5, 3)"):
        assert name in svg.stdout


@needs_dot
def test_draw_writes_svg_and_png_with_dot(tmp_path):
    loss, params = small_graph()
    path = viz.draw(loss, tmp_path / "graph.svg", params=params)
    assert path == tmp_path / "graph.svg"
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and ">x</text>" in svg and "MatMulBackward" in svg
    png = viz.draw(loss, tmp_path / "graph.png", params=params)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_without_dot_writes_the_text_next_to_the_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    loss, params = small_graph()
    path = viz.draw(loss, tmp_path / "graph.svg", params=params)
    assert path == tmp_path / "graph.txt"
    assert path.read_text() == SMALL_GRAPH_TEXT
    assert not (tmp_path / "graph.svg").exists()
    said = capsys.readouterr().err
    assert "`dot` was not found" in said and str(path) in said


# ---- the layers ---------------------------------------------------------------------------------
def test_every_arrow_of_the_layers_goes_down_or_stays_in_its_layer():
    pairs = layers.package_imports()
    assert pairs, "no imports read"
    assert [(a, b) for a, b in pairs if layers.layer_of(b) < layers.layer_of(a)] == []
    assert pairs["scratchgen.functional", "scratchgen.ops"] is True
    assert pairs["scratchgen.models", "scratchgen.autograd"] is False  # only through `from .. import Tensor`


def test_layers_dot_has_a_box_per_layer_and_an_arrow_per_package_import():
    source = viz.layers_dot()
    assert source.count("subgraph cluster_") == len(layers.LAYERS)
    for title, packages in layers.LAYERS:
        assert title in source
    arrows = re.findall(r'^\s+"([\w.]+)" -> "([\w.]+)"', source, re.MULTILINE)
    assert sorted(arrows) == sorted(layers.package_imports())


def test_layers_text_without_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    assert viz.main(["layers", str(tmp_path / "layers.svg")]) == 0
    text = (tmp_path / "layers.txt").read_text()
    assert text.startswith("1. commands\n")
    assert "     functional  imports autograd, ops\n" in text
    assert viz.main(["nonsense"]) == 2


@needs_dot
def test_draw_layers_with_dot(tmp_path):
    svg = viz.draw_layers(tmp_path / "layers.svg").read_text()
    assert "<svg" in svg and "tensor_methods" in svg and "array backends and random numbers" in svg
