"""A VAE on MNIST through the Python training API: start a run, resume it, evaluate it (test
ELBO and the importance-weighted NLL bound), then load the trained model and draw from it.
The same as `scratchgen train vae`, `scratchgen train --resume`, `scratchgen eval`,
`scratchgen sample`, but from Python.

    python examples/03_vae_mnist_python_api.py --data-dir /path/to/mnist     # about 10 s
    SCRATCHGEN_DATA=/path/to/mnist python examples/03_vae_mnist_python_api.py --steps 200

MNIST's four IDX .gz files are looked for in --data-dir, then $SCRATCHGEN_DATA, then the cache
~/.cache/scratchgen/mnist (where they are downloaded and checksummed when you are online).
The model is Kingma & Welling's VAE with the IWAE paper's MNIST network (784-200-200-50,
Bernoulli pixels, dynamically binarised, Adam lr 1e-3, batch 100): scratchgen/models/vae.py.
"""
import argparse
import os
import tempfile

import numpy

from scratchgen import train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=int(os.environ.get("SCRATCHGEN_EXAMPLE_STEPS", 1000)),
                    help="total training steps, half before and half after the resume (default 1000; "
                         "the full run, `scratchgen train vae`, is 60000)")
parser.add_argument("--data-dir", default=None, help="the folder with MNIST's four .gz files")
parser.add_argument("--out", default=None, help="the run folder to create (default: a new temporary folder)")
args = parser.parse_args()
run_dir = args.out or tempfile.mkdtemp(prefix="scratchgen-vae-")

# ---- 1. start a run ------------------------------------------------------------------------
# train.start resolves the settings (the model's paper defaults, then `overrides`), makes the
# run folder (config.json, metrics.jsonl, checkpoints/, samples/, curves.png) and trains.
# The progress bar goes to stderr. It returns the RunFolder and "finished" or "interrupted"
# (Ctrl-C saves a checkpoint and returns "interrupted").
half = max(1, args.steps // 2)
run, outcome = train.start("vae", steps=half, out=run_dir, data_dir=args.data_dir, seed=0,
                           overrides={"log_every": max(1, half // 10)})
print(f"started {run.path}: {outcome} at step {half}")

# ---- 2. resume it --------------------------------------------------------------------------
# From the newest checkpoint, which holds the networks, the optimizer and every random
# generator: the resumed run is bit for bit the run that would not have stopped.
# `steps` is the run's new total.
run, outcome = train.resume(run_dir, steps=args.steps, data_dir=args.data_dir)
print(f"resumed to step {args.steps}: {outcome}")

# The losses the loop logged, one line per log_every steps (the run's metrics.jsonl):
metrics = run.read_metrics()
first, last = metrics[0], metrics[-1]
print(f"negative ELBO (nats per image) at step {first['step']}: {first['loss']:.1f}; "
      f"at step {last['step']}: {last['loss']:.1f}")
print("loss fell" if last["loss"] < first["loss"] else "loss did not fall")

# ---- 3. evaluate it ------------------------------------------------------------------------
# For a VAE: the test ELBO and the importance-weighted bound on the test NLL (Burda et al.
# 2015, Eq. 8, with k importance samples). `scratchgen eval` uses k=5000 on every test
# image; k=100 on the first 500 keeps this example short (a looser bound).
results = train.evaluate(run_dir, data_dir=args.data_dir, k=100, n_test=500)
# Both are in nats per image: the ELBO is a lower bound on log p(x) (so it is negative), and
# test_nll_iwae is minus the k-sample bound: an upper bound on -log p(x), tighter as k grows.
print(f"on {results['n_test']} test images: ELBO {results['test_elbo']:.1f} nats, "
      f"NLL <= {results['test_nll_iwae']:.1f} nats (IWAE bound, k={results['k']}; "
      "the papers reach about 86-90 after thousands of epochs)")

# ---- 4. load the trained model and sample from it -------------------------------------------
run, config, model, step = train.load_trained(run_dir)
images = model.sample(16)                # NumPy, (16, 1, 28, 28), pixel means in [0, 1]
print(f"model {config['model']} at step {step}: sampled {images.shape}, "
      f"mean pixel {images.mean():.3f} (MNIST's: 0.131)")
path = train.sample_to_file(run_dir, n=64)   # a PNG grid (as `scratchgen sample RUN_DIR`)
print(f"64 samples drawn to {path}")
numpy.save(os.path.join(run_dir, "samples.npy"), images)
print(f"the run folder: {run_dir} (config.json, metrics.jsonl, eval.json, checkpoints/, samples/, curves.png)")
