"""A plain-text progress bar on stderr: step, losses, steps/s and time left.

On a terminal it redraws one line (carriage return) up to 10 times a second; elsewhere (a log
file, CI) it prints a full line every 10 seconds and at the end."""
import sys
import time

BAR_WIDTH = 20


def format_duration(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class ProgressBar:
    def __init__(self, total, start=0, stream=None):
        self.total, self.start = total, start
        self.stream = sys.stderr if stream is None else stream
        self.redraw = self.stream.isatty()
        self.interval = 0.1 if self.redraw else 10.0
        self.started = self.last_shown = time.perf_counter()
        self.shown_any = False

    def line(self, step, losses):
        elapsed = time.perf_counter() - self.started
        rate = (step - self.start) / elapsed if elapsed > 0 else 0.0
        filled = BAR_WIDTH * step // self.total
        left = format_duration((self.total - step) / rate) if rate > 0 else "?"
        values = " ".join(f"{name} {value:.4g}" for name, value in losses.items())
        return (f"step {step}/{self.total} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {values} | "
                f"{rate:.2f} steps/s | {left} left")

    def update(self, step, losses):
        now = time.perf_counter()
        if now - self.last_shown < self.interval and step < self.total:
            return
        self.last_shown = now
        self.shown_any = True
        if self.redraw:
            self.stream.write("\r" + self.line(step, losses) + "\033[K")
        else:
            self.stream.write(self.line(step, losses) + "\n")
        self.stream.flush()

    def close(self):
        """End the redrawn line, so what follows starts on a line of its own."""
        if self.redraw and self.shown_any:
            self.stream.write("\n")
            self.stream.flush()
