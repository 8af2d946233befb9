"""Progress of long work, for a person at a terminal and for a log file: the one progress bar the
library uses (training steps, the VAE's importance sampling, the classifier's training and
features, MNIST downloads).

On a terminal the bar redraws one line in place (a carriage return, at most 10 times a second):

    classifier training 1204/2814 [########............] epoch 2/3 loss 0.0580 | 1m15s elapsed | 16.1 steps/s | 1m40s left

Anywhere else (a log file, a pipe, CI, a notebook) it writes the same text as plain lines, never a
carriage return: the first after LOG_MIN_INTERVAL (5) seconds, then one each time the job has
advanced another 10% (at most one per 5 seconds) or LOG_MAX_INTERVAL (60) seconds have passed, and
the last one when it ends (or stops early: `close` shows where it stopped). A job that ends
within `delay` (2) seconds writes nothing at all.

Where progress goes. Library functions that can take long have a `progress` argument:

    progress=None    (the default) the current default, which is sys.stderr unless changed by `progress_to`
    progress=True    sys.stderr
    progress=False   nothing at all (also the one-line notes such as "downloading ...")
    progress=stream  that text stream (anything with write and flush; isatty() picks bar or lines)

and the argument holds for everything the call does, the work of the functions it calls included
(an `eval` that trains the classifier, which downloads MNIST). The same choice for a whole block:

    with scratchgen.progress.progress_to(False):       # or a file, or True
        image_sample_metrics(samples)
"""
import contextlib
import contextvars
import sys
import time

BAR_WIDTH = 20
REDRAW_INTERVAL = 0.1    # s between redraws on a terminal
LOG_FRACTION = 0.1       # in a log, a line each time the job has advanced this fraction of its total,
LOG_MIN_INTERVAL = 5.0   # but not more often than this (s),
LOG_MAX_INTERVAL = 60.0  # and at least this often (s)
DELAY = 2.0              # s a job runs before anything is shown (so quick calls stay silent)

clock = time.perf_counter  # the time source (tests replace it with a fake clock)

_target = contextvars.ContextVar("scratchgen progress output", default=True)


def _check_target(target, where):
    if not (target is None or isinstance(target, bool) or callable(getattr(target, "write", None))):
        raise TypeError(f"{where}: progress must be None, True, False or a text stream (with a write "
                        f"method), got {type(target).__name__}")


@contextlib.contextmanager
def progress_to(target):
    """Within the block, progress whose `progress` argument is None goes to `target`: True
    (sys.stderr), False (nowhere) or a text stream. None leaves the current default as it is,
    so a function can pass its own `progress` argument through: `with progress_to(progress): ...`."""
    _check_target(target, "scratchgen.progress.progress_to")
    if target is None:
        yield
        return
    token = _target.set(target)
    try:
        yield
    finally:
        _target.reset(token)


def stream_for(progress=None):
    """The stream that `progress` (a `progress` argument, see the module's docstring) writes to,
    or None for no output."""
    _check_target(progress, "scratchgen.progress")
    target = _target.get() if progress is None else progress
    if target is True:
        return sys.stderr  # looked up now, so a replaced sys.stderr (pytest's capture) is honoured
    return None if target is False else target


def note(text, progress=None):
    """One line "scratchgen: text" where progress goes (a download starting, a model being trained)."""
    stream = stream_for(progress)
    if stream is not None:
        stream.write(f"scratchgen: {text}\n")
        stream.flush()


def format_duration(seconds):
    """4m05s (to the nearest second), or 1h02m from an hour on."""
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def _is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _format_rate(rate):
    """1694, 16.5, 3.33, 0.066: three or four digits, two significant ones below 1."""
    if rate >= 100:
        return f"{rate:.0f}"
    return f"{rate:.1f}" if rate >= 10 else f"{rate:.2f}" if rate >= 1 else f"{rate:.2g}"


class ProgressBar:
    """Progress of a job of `total` units (None: unknown), `start` of them done before it began:

        with ProgressBar(len(images), "LeNet features", unit="images") as bar:
            for i in range(0, len(images), 500):
                ...
                bar.update(i + 500)                        # units done so far (a float is fine)

    The line reads "{desc} {done}/{total} [bar] {postfix} | {elapsed} elapsed | {rate} {unit}/s |
    {time} left"; update's `postfix` is a dict (printed as "name value" pairs) or a string.
    Counts are divided by `scale` for display (scale=1e6 with unit="MB" for bytes). `progress`
    (where it goes: None, True, False or a stream) and `delay` as the module's docstring says."""

    def __init__(self, total, desc="", unit="it", start=0, progress=None, delay=DELAY, scale=1):
        self.total, self.desc, self.unit, self.start, self.scale, self.delay = total, desc, unit, start, scale, delay
        self.stream = stream_for(progress)
        self.redraw = self.stream is not None and _is_terminal(self.stream)
        self.started = self.last_shown = clock()
        self.last_shown_count = start
        self.shown_any = False
        self.pending = None  # (count, postfix) of the last update, while it is not shown

    @property
    def enabled(self):
        return self.stream is not None

    # ---- the text -----------------------------------------------------------------------------
    def _count(self, count):
        if self.scale == 1:
            return f"{int(count)}"
        largest = (count if self.total is None else self.total) / self.scale
        return f"{count / self.scale:.{1 if largest >= 1 else 3}f}"  # 0.3/1.6 MB, 0.005/0.005 MB

    def line(self, count, postfix=None, now=None):
        """The text shown for `count` units done."""
        elapsed = (clock() if now is None else now) - self.started
        rate = (count - self.start) / elapsed if elapsed > 0 else 0.0
        if isinstance(postfix, dict):
            postfix = " ".join(f"{name} {value:.4g}" for name, value in postfix.items())
        head = f"{self.desc} " if self.desc else ""
        unit = f" {self.unit}" if self.scale != 1 else ""
        if self.total is None:
            head += f"{self._count(count)}{unit}"
            tail = ""
        else:
            filled = BAR_WIDTH if self.total <= 0 else min(BAR_WIDTH, int(BAR_WIDTH * count // self.total))
            head += f"{self._count(count)}/{self._count(self.total)}{unit} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
            left = format_duration(max(0, self.total - count) / rate) if rate > 0 else "?"
            tail = f" | {left} left"
        if postfix:
            head += f" {postfix}"
        return f"{head} | {format_duration(elapsed)} elapsed | {_format_rate(rate / self.scale)} {self.unit}/s{tail}"

    # ---- when to show it ----------------------------------------------------------------------
    def _due(self, count, now, done):
        if now - self.started < self.delay:
            return False  # a quick job stays silent, even at its end
        if done:
            return True
        since = now - self.last_shown
        if self.redraw:
            return since >= REDRAW_INTERVAL
        if not self.shown_any:
            return since >= LOG_MIN_INTERVAL  # the first line: what it is, how fast, how long
        advanced = self.total is not None and count - self.last_shown_count >= LOG_FRACTION * self.total
        return (advanced and since >= LOG_MIN_INTERVAL) or since >= LOG_MAX_INTERVAL

    def update(self, count, postfix=None):
        """`count` units are done (counted from 0, `start` included); `postfix`: losses and the like."""
        if self.stream is None:
            return
        now = clock()
        done = self.total is not None and count >= self.total
        if self._due(count, now, done):
            self._show(count, postfix, now)
        else:
            self.pending = (count, postfix)

    def _show(self, count, postfix, now):
        self.last_shown, self.last_shown_count, self.shown_any, self.pending = now, count, True, None
        text = self.line(count, postfix, now)
        self.stream.write("\r" + text + "\033[K" if self.redraw else text + "\n")
        self.stream.flush()

    def close(self):
        """Show the last update if it was not shown (a job stopped early, or of unknown total),
        unless the job took less than `delay`; end the redrawn line, so what follows starts on a
        line of its own."""
        if self.stream is None:
            return
        now = clock()
        if self.pending is not None and now - self.started >= self.delay:
            self._show(*self.pending, now)
        self.pending = None
        if self.redraw and self.shown_any:
            self.stream.write("\n")
            self.stream.flush()
            self.shown_any = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
