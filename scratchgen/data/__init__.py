"""Data: MNIST and the statically binarized MNIST (found, downloaded, verified, decoded once per
process), Tiny Shakespeare as one-hot character sequences (text.py), the WGAN-GP toy distributions,
and a seeded, resumable DataLoader.

    from scratchgen.data import DataLoader, load_mnist, to_tanh_range
    images, labels = load_mnist("train", data_dir="~/data")     # or $SCRATCHGEN_DATA, or the cache
    loader = DataLoader((to_tanh_range(images), labels), batch_size=64, shuffle=True,
                        generator=sg.Generator(0))
"""
from .binarized_mnist import load_binarized_mnist
from .loader import DataLoader, infinite_batches
from .mnist import (MNIST, DynamicBinarize, add_channel_dim, binarize, cache_dir, find_mnist_file,
                    flatten_images, load_mnist, search_folders, to_tanh_range, to_unit_range)
from .text import OneHot, load_tinyshakespeare, one_hot, sequences, split_text, to_text
from .toy import (EIGHT_GAUSSIANS, SWISS_ROLL, TOY_DISTRIBUTIONS, TWENTY_FIVE_GAUSSIANS, GaussianMixture,
                  SwissRoll, toy_distribution)
