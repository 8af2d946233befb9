"""Training runs: run folders, checkpoints, the step loop with its progress bar, plots, and
the sample and eval commands (the machinery behind `scratchgen train | sample | eval`).

    from scratchgen import train
    run, outcome = train.start("wgan-gp", dataset="8gaussians", steps=300, out="runs/demo")
    run, outcome = train.resume("runs/demo", steps=600)
    train.evaluate("runs/demo")

Input that cannot be used (a setting outside its declared range, a run folder that does not
exist or has no readable checkpoint, a missing --data-dir) raises UsageError, a ValueError.
"""
from .config import MissingInput, UsageError
from .evaluation import evaluate
from .loop import Trainer, TrainingDiverged
from .run import RunFolder
from .sample import sample_to_file
from .session import load_trained, resume, start
