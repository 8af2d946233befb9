"""Training runs: run folders, checkpoints, the step loop with its progress bar, plots, and
the sample and eval commands (the machinery behind `scratchgen train | sample | eval`).

    from scratchgen import train
    run, outcome = train.start("wgan-gp", dataset="8gaussians", steps=300, out="runs/demo")
    run, outcome = train.resume("runs/demo", steps=600)
    train.evaluate("runs/demo")
"""
from .evaluation import evaluate
from .loop import Trainer, TrainingDiverged
from .run import RunFolder
from .sample import sample_to_file
from .session import load_trained, resume, start
