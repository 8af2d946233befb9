"""What the scripts of this folder share, written with PyTorch alone: the flags that make a
run repeatable across frameworks, MNIST read from its IDX files with NumPy (no torchvision),
initial weights saved to and loaded from an .npz file, and noise drawn by NumPy, so that
`python dcgan.py` (PyTorch) and `python -m scratchgen.as_torch dcgan.py` (scratchgen) started
from the same weights see the same numbers."""
import argparse
import gzip
import os

import numpy as np
import torch


def parser(description, steps, batch_size, mnist=True):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--steps", type=int, default=steps, help="training steps (batches) in all")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--seed", type=int, default=1, help="seeds NumPy, which draws the batches' order and all noise")
    p.add_argument("--double", action="store_true", help="train in float64")
    p.add_argument("--init-from", metavar="FILE.npz", help="start from these weights (written by --save-init)")
    p.add_argument("--save-init", metavar="FILE.npz", help="write the initial weights here")
    p.add_argument("--cpu", action="store_true", help="stay on the CPU even if there is a GPU")
    p.add_argument("--log-interval", type=int, default=1, help="print the losses every this many steps")
    if mnist:
        p.add_argument("--mnist", default=os.environ.get("MNIST_DIR", "data/mnist"),
                       help="the folder of MNIST's four IDX .gz files")
        p.add_argument("--data", metavar="FILE.npz", help="arrays 'images' (N, 1, 28, 28) in [0, 1] and 'labels' "
                       "to train on instead of MNIST")
        p.add_argument("--n-images", type=int, default=10000, help="how many MNIST training images to read")
    return p


def setup(args):
    """Seed NumPy and torch; the device (a GPU when there is one) and the dtype."""
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    use_accel = not args.cpu and torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    return device, torch.float64 if args.double else torch.float32


def read_idx(path):
    """An IDX file (MNIST's format): two zero bytes, a type byte, the number of dimensions,
    each size as a big-endian uint32, then the values."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = np.frombuffer(raw, ">u4", ndim, 4).astype(int)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def training_data(args):
    """(images (N, 1, 28, 28) in [0, 1], labels (N,)) as NumPy arrays, shuffled by NumPy."""
    if args.data:
        data = np.load(args.data)
        images, labels = data["images"], data["labels"]
    else:
        images = read_idx(os.path.join(args.mnist, "train-images-idx3-ubyte.gz"))[:args.n_images, None] / 255.0
        labels = read_idx(os.path.join(args.mnist, "train-labels-idx1-ubyte.gz"))[:args.n_images]
    order = np.random.permutation(len(images))
    return images[order], labels[order].astype(np.int64)


def init_weights(args, **models):
    """--init-from: each model's state_dict from the file (keys 'G.main.0.weight', ...);
    --save-init: each model's state_dict written to it."""
    if args.init_from:
        arrays = np.load(args.init_from)
        for name, model in models.items():
            model.load_state_dict({key[len(name) + 1:]: torch.tensor(arrays[key])
                                   for key in arrays.files if key.startswith(name + ".")})
    if args.save_init:
        np.savez(args.save_init, **{f"{name}.{key}": value.detach().cpu().numpy()
                                    for name, model in models.items() for key, value in model.state_dict().items()})


def batches(loader, steps):
    """(step, batch) for `steps` batches in all, epoch after epoch (step counts from 1)."""
    step = 0
    while step < steps:
        for batch in loader:
            step += 1
            yield step, batch
            if step == steps:
                return


def randn(*size, dtype, device):
    """Standard normal noise, as torch.randn, but drawn by NumPy."""
    return torch.tensor(np.random.standard_normal(size), dtype=dtype, device=device)


def rand(*size, dtype, device):
    """Uniform noise on [0, 1), as torch.rand, but drawn by NumPy."""
    return torch.tensor(np.random.random_sample(size), dtype=dtype, device=device)


def report(step, steps, **values):
    print(f"[{step}/{steps}] " + " ".join(f"{name}: {value:.12g}" for name, value in values.items()), flush=True)
