"""Draw the figures of docs/images/ that come from the code (scratchgen/viz.py), so that they
can be redrawn after the code changes:

    python docs/draw_figures.py            # needs Graphviz's `dot` (apt-get install graphviz)

  layers.svg, layers.png            the layers of scratchgen/layers.py and the imports between packages
  graph-linear-tanh-mse.svg, .txt   the graph of an MSE loss of a 784-400-10 MLP with tanh
  graph-dcgan-discriminator.svg     the graph of DCGAN's discriminator loss on a batch of real images
"""
import pathlib
import shutil
import sys

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn, viz
from scratchgen.models.dcgan import dcgan_discriminator

IMAGES = pathlib.Path(__file__).resolve().parent / "images"


def mlp_loss():
    """F.mse_loss of a two-layer MLP, the README's example with tanh: leaves named 0.weight,
    0.bias, 2.weight, 2.bias; the difference (output - target) is used twice by the square."""
    model = nn.Sequential(nn.Linear(784, 400), nn.Tanh(), nn.Linear(400, 10))
    x, y = sg.randn(64, 784), sg.randn(64, 10)
    return F.mse_loss(model(x), y), model


def dcgan_discriminator_loss():
    """-log D(x) on 4 real 28x28 images for DCGAN's discriminator (scratchgen/models/dcgan.py),
    8 channels wide: convolutions as Unfold + MatMul, batch norm as one Standardize node,
    LeakyReLU as MaskedScale."""
    model = dcgan_discriminator(1, 8, (1, 28, 28))
    logits = model(sg.randn(4, 1, 28, 28))
    return F.binary_cross_entropy_with_logits(logits, sg.ones(4)), model


def main():
    if shutil.which("dot") is None:
        sys.exit("draw_figures: Graphviz's `dot` is needed (apt-get install graphviz)")
    sg.manual_seed(0)
    written = [viz.draw_layers(IMAGES / "layers.svg"), viz.draw_layers(IMAGES / "layers.png")]
    loss, model = mlp_loss()
    written.append(viz.draw(loss, IMAGES / "graph-linear-tanh-mse.svg", params=model))
    text = IMAGES / "graph-linear-tanh-mse.txt"
    text.write_text(viz.graph_text(loss, params=model))
    written.append(text)
    loss, model = dcgan_discriminator_loss()
    written.append(viz.draw(loss, IMAGES / "graph-dcgan-discriminator.svg", params=model))
    for path in written:
        print(path.relative_to(IMAGES.parents[1]))


if __name__ == "__main__":
    main()
