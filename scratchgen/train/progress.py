"""The training loop's progress bar: scratchgen.progress's bar (the one the whole library uses),
counting steps, with the step's losses after the bar:

    step 120/300 [########............] loss_d -0.3 gradient_penalty 0.012 loss_g 0.41 | 0m17s elapsed | 7.02 steps/s | 0m25s left

It shows from the first step (no delay): on a terminal it redraws one line up to 10 times a
second; in a log file, a line after 5 s, then every 10% of the run (at most one per 5 s) or
every minute, and at the end."""
from .. import progress

format_duration = progress.format_duration


class ProgressBar(progress.ProgressBar):
    """ProgressBar(total, start, stream); `update(step, losses)` after each step, `close()` at the end.
    stream=None: scratchgen.progress's default (stderr)."""

    def __init__(self, total, start=0, stream=None):
        super().__init__(total, "step", unit="steps", start=start, progress=stream, delay=0)
