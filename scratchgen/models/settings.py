"""Declared run settings: each model class lists, in `settings` beside its `defaults`, every key
of its defaults and dataset_defaults with a `Setting`: its type, its range or choices, and one
line of help. `scratchgen train` checks every value of a run against these declarations before it
writes anything (train/config.py), so a model never starts with a setting outside its range.

    Setting(int, "critic updates per generator update", at_least=1, at_most=1000)
    Setting(float, "learning rate", above=0)                  # floats are always finite
    Setting(str, "generator loss", choices=("non-saturating", "minimax"))
    Setting(list, "hidden layer widths", item=Setting(int, "units", at_least=1), length=(1, 16))
    Setting(bool, "a switch")                                 # JSON true or false
    Setting(int, "...", at_least=1, optional=True)            # also None (JSON null)

The upper bounds of sizes (at_most) are sanity bounds that catch a mistyped value (1e9 units,
2**40 steps) before it asks for terabytes or runs for years, not limits of the models.
"""
import math
import numbers
import os

PIXEL_SCALINGS = ("tanh", "unit", "fixed-binary", "dynamic-binary")  # how train/datasets.py scales MNIST
MAX_UNITS = 2 ** 16          # hidden layer widths, latent dimensions
MAX_WIDTH = 2 ** 12          # channels of a conv model's first layer
MAX_BATCH = 2 ** 20
MAX_STEPS = 10 ** 9
MAX_CRITIC_STEPS = 1000
MAX_LAYERS = 16


class Setting:
    """The declaration of one run setting (module docstring). `check(key, value)` returns the
    value in its declared type (an int given for a float becomes a float, a tuple a list) or
    raises ValueError("setting KEY must be DESCRIPTION, got VALUE")."""

    def __init__(self, kind, help, *, at_least=None, above=None, below=None, at_most=None, multiple_of=None,
                 choices=None, item=None, length=(1, None), optional=False):
        if kind not in (int, float, str, list, bool):
            raise TypeError(f"Setting: kind must be int, float, str, list or bool, got {kind!r}")
        if (kind is str) != (choices is not None) or (kind is list) != (item is not None):
            raise TypeError("Setting: a str setting needs choices, a list setting an item declaration")
        self.kind, self.help = kind, help
        self.at_least, self.above, self.below, self.at_most = at_least, above, below, at_most
        self.multiple_of, self.choices, self.item, self.optional = multiple_of, choices, item, optional
        self.length = (length[0], math.inf if length[1] is None else length[1])

    def __repr__(self):
        return f"Setting({self.describe()})"

    # ---- what it accepts, in words ---------------------------------------------------------
    def describe(self, plural=False):
        """"an integer from 1 to 1000", "a finite number in [0, 1)", "one of 'a', 'b'", ..."""
        text = self._describe(plural)
        return f"{text} or null" if self.optional and not plural else text

    def _describe(self, plural):
        if self.kind is str:
            return "one of " + ", ".join(repr(choice) for choice in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is list:
            low, high = self.length
            count = f"{low}" if low == high else f"{low} or more" if high == math.inf else f"{low} to {high}"
            return f"a list of {count} {self.item.describe(plural=True)}"
        if self.kind is int:
            noun = "integers" if plural else "an integer"
            if self.multiple_of is not None:
                noun = f"multiples of {self.multiple_of}" if plural else f"a multiple of {self.multiple_of}"
        else:
            noun = "numbers" if plural else "a finite number"
        return f"{noun} {self._range()}".strip()

    def _range(self):
        low = self.at_least if self.at_least is not None else self.above
        low_open = self.at_least is None
        high = self.at_most if self.at_most is not None else self.below
        high_open = self.at_most is None
        if low is not None and high is not None:
            if self.kind is int and not low_open and not high_open:
                return f"from {low} to {high}"
            return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        if low is not None:
            return f"{'>' if low_open else '>='} {low}"
        if high is not None:
            return f"{'<' if high_open else '<='} {high}"
        return ""

    # ---- checking --------------------------------------------------------------------------
    def check(self, key, value):
        """`value` in the declared type, or ValueError naming `key`, the declaration and `value`."""
        checked, problem = self._checked(value)
        if problem is not None:
            detail = "" if problem == "" else f" ({problem})"
            raise ValueError(f"setting {key} must be {self.describe()}, got {shown(value)}{detail}")
        return checked

    def _checked(self, value):
        """(value in the declared type, None) or (None, "" or what is wrong inside a list)."""
        if value is None:
            return (None, None) if self.optional else (None, "")
        if self.kind is list:
            if not isinstance(value, (list, tuple)) or not self.length[0] <= len(value) <= self.length[1]:
                return None, ""
            items = []
            for index, element in enumerate(value):
                checked, problem = self.item._checked(element)
                if problem is not None:
                    return None, f"item {index} is {shown(element)}"
                items.append(checked)
            return items, None
        if self.kind is str:
            return (value, None) if isinstance(value, str) and value in self.choices else (None, "")
        if self.kind is bool:
            return (value, None) if isinstance(value, bool) else (None, "")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return None, ""
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                return None, ""
            value = int(value)
            if self.multiple_of is not None and value % self.multiple_of:
                return None, ""
        else:
            try:
                value = float(value)
            except OverflowError:  # an int too large for a float
                return None, ""
            if not math.isfinite(value):
                return None, ""
        if ((self.at_least is not None and value < self.at_least) or (self.above is not None and value <= self.above)
                or (self.below is not None and value >= self.below)
                or (self.at_most is not None and value > self.at_most)):
            return None, ""
        return value, None


class FolderSetting(Setting):
    """A setting that names a folder (a path as text, or a path-like) or is null (off). Setting's
    `choices` holds one example folder (what `scratchgen list` does not show, and what the CLI's
    fuzz test draws as a valid value)."""

    def __init__(self, help, example):
        super().__init__(str, help, choices=(example,), optional=True)

    def _describe(self, plural):
        return "folder paths" if plural else "a folder path"

    def _checked(self, value):
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if value is None or (isinstance(value, str) and value.strip() and "\0" not in value):
            return value, None
        return None, ""


def shown(value, limit=60):
    """repr(value), shortened to about `limit` characters (a huge number, a long or deep list)."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # too deep; an int past Python's digit limit for str()
        text = f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


# ---- declarations shared by several models ------------------------------------------------------
COMMON = dict(
    batch_size=Setting(int, "examples per step (per critic update for GANs)", at_least=1, at_most=MAX_BATCH),
    steps=Setting(int, "total training steps of the run", at_least=1, at_most=MAX_STEPS),
    lr=Setting(float, "learning rate of every optimizer", above=0),
    betas=Setting(list, "Adam's (beta1, beta2): decay rates of its moment estimates",
                  item=Setting(float, "a beta", at_least=0, below=1), length=(2, 2)),
    hidden=Setting(list, "widths of the hidden layers of the MLPs",
                   item=Setting(int, "units", at_least=1, at_most=MAX_UNITS), length=(1, MAX_LAYERS)),
    z_dim=Setting(int, "dimension of the latent z", at_least=1, at_most=MAX_UNITS),
    width=Setting(int, "channels of the first conv layer (the others are multiples of it)",
                  at_least=1, at_most=MAX_WIDTH),
    pixels=Setting(str, "MNIST pixel scaling: tanh [-1, 1], unit [0, 1], fixed-binary or dynamic-binary",
                   choices=PIXEL_SCALINGS),
)


def declare(*common, **own):
    """{key: Setting} of the shared declarations named in `common`, and the model's `own`."""
    return {**{key: COMMON[key] for key in common}, **own}
