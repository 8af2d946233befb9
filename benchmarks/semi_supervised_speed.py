"""The training-step speed-up of the Gumbel-Softmax estimators over marginalizing the class
variable of the semi-supervised VAE M2 (Jang, Gu & Poole 2016, Sec. 4.4 and Fig. 5: 2x at 10
classes, 9.9x at 100). Marginalization runs M2's encoder and decoder at every one of the K
classes for each unlabelled example; Gumbel-Softmax at one relaxed sample.

    python benchmarks/semi_supervised_speed.py --classes 10 100 --threads 1

Each pair of steps (`scratchgen train m2 --set estimator=E classes=K`, same batches) is timed in
alternating blocks in this process (harness.timed_pair); the ratio is marginalization's time per
step over the Gumbel estimator's. Writes its section of benchmarks/results/cpu.md.
"""
import argparse

import scratchgen as sg
from scratchgen.models.semi_supervised_vae import SemiSupervisedVAE
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import training_batches

import harness

PAPER_SPEEDUP = {10: "2x", 100: "9.9x"}  # Jang et al. 2016, Fig. 5


def step_function(estimator, classes, data_dir):
    """A function that takes one training step of M2 with `estimator` at K = `classes` on the next batch."""
    config = resolve_config(SemiSupervisedVAE, "mnist", dict(estimator=estimator, classes=classes),
                            data_dir=data_dir)
    sg.manual_seed(0)
    model, batches = SemiSupervisedVAE(config), training_batches(config, SemiSupervisedVAE.image_layout, 1)
    return lambda: model.train_step(next(batches))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--estimators", nargs="+", default=["gumbel-softmax", "st-gumbel-softmax"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    rows = []
    with harness.set_threads(args.threads):
        for classes in args.classes:
            exact = step_function("marginalization", classes, args.data_dir)
            for estimator in args.estimators:
                sampled = step_function(estimator, classes, args.data_dir)
                exact_ms, sampled_ms, ratio = harness.timed_pair(exact, sampled, args.repeats, rounds=args.rounds)
                rows.append((classes, estimator, f"{exact_ms:.1f}", f"{sampled_ms:.1f}", f"{ratio:.2f}x",
                             PAPER_SPEEDUP.get(classes, "-")))
                print(*rows[-1], flush=True)
    body = (f"{harness.machine_line(args.threads)}. `python benchmarks/semi_supervised_speed.py --classes "
            f"{' '.join(map(str, args.classes))} --threads {args.threads}`; M2 at its defaults, batches of 100 "
            f"unlabelled and 100 labelled examples; the speed-up is the median over rounds of neighbouring blocks' "
            f"ratio.\n\n" + harness.table(
                ["classes K", "estimator", "marginalization ms/step", "estimator ms/step", "speed-up",
                 "paper (Fig. 5)"], rows))
    print(body)
    return harness.write_section("semi-supervised-speed", "M2: Gumbel-Softmax over marginalization, per step",
                                 body)


if __name__ == "__main__":
    main()
