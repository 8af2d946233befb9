"""DataLoader: mini-batches of in-memory arrays, reshuffled every epoch from a seeded
generator, with a state_dict that resumes a run mid-epoch bit for bit (like torchdata's
StatefulDataLoader).

    loader = DataLoader((images, labels), batch_size=64, shuffle=True, generator=sg.Generator(0))
    for x, y in loader: ...                       # one epoch; x and y are scratchgen Tensors
    batches = infinite_batches(loader)            # step-based training: x, y = next(batches)
    checkpoint["loader"] = loader.state_dict()    # ... later: loader.load_state_dict(checkpoint["loader"])
"""
import itertools

import numpy

from .. import Generator, Tensor, as_tensor, default_generator


class DataLoader:
    """Batches of `dataset`: one array (or Tensor), yielding one Tensor per batch, or a tuple
    of arrays with one row per sample (like torch's TensorDataset), yielding a tuple of Tensors.
    Tensors keep the arrays' dtypes and device; no copy of the dataset is made.

    shuffle=True draws a new permutation at the start of every epoch from `generator` (default:
    a new Generator seeded from the global one, see sg.manual_seed), which the loader then owns:
    load_state_dict rewinds it, so do not share it with other code. `transform` is applied to the
    first array of each batch (the inputs; labels pass through), e.g. DynamicBinarize; if it has
    a state_dict, that is saved and restored with the loader's. One pass at a time: a new pass
    after one left mid-epoch starts the next epoch, as in PyTorch, unless a state was just loaded.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, transform=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got {batch_size!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator should be a scratchgen.Generator, got {type(generator).__name__}")
        self.dataset = dataset
        self.batch_size, self.shuffle, self.drop_last, self.transform = batch_size, shuffle, drop_last, transform
        self.generator = generator if generator is not None or not shuffle else generator_from_global_seed()
        self._arrays, self._single = _as_arrays(dataset)
        self._num_samples = len(self._arrays[0])
        self._epoch, self._position = 0, 0  # batches of this epoch already yielded
        self._order, self._epoch_start_state, self._resuming = None, None, False

    @property
    def epoch(self):
        """Epochs completed (the current one counts once its last batch has been passed on)."""
        return self._epoch

    def __len__(self):
        full, remainder = divmod(self._num_samples, self.batch_size)
        return full + (1 if remainder and not self.drop_last else 0)

    def __iter__(self):
        if self._position > 0 and not self._resuming:
            self._end_epoch()
        self._resuming = False
        if self._order is None:
            self._start_epoch()
        while self._position < len(self):
            start = self._position * self.batch_size
            self._position += 1
            yield self._batch(self._order[start:start + self.batch_size])
        self._end_epoch()

    def state_dict(self):
        """Everything needed to continue exactly here: epoch, position in it, generator state at
        the epoch's start (the permutation is drawn again from it), the transform's state."""
        return {**self._settings(), "epoch": self._epoch, "position": self._position,
                "generator": self._generator_state(),
                "transform": self.transform.state_dict() if hasattr(self.transform, "state_dict") else None}

    def load_state_dict(self, state):
        for key, value in self._settings().items():
            if state[key] != value:
                raise ValueError(f"DataLoader.load_state_dict: the state is for {key}={state[key]!r}, "
                                 f"this loader has {key}={value!r}")
        if not 0 <= state["position"] <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: position {state['position']} is outside "
                             f"[0, {len(self)}] (batches per epoch)")
        if self.shuffle:
            self.generator.set_state(state["generator"])
        if state["transform"] is not None:
            self.transform.load_state_dict(state["transform"])
        self._epoch, self._position = state["epoch"], state["position"]
        self._order, self._resuming = None, True

    def _settings(self):
        return {"num_samples": self._num_samples, "batch_size": self.batch_size, "shuffle": self.shuffle,
                "drop_last": self.drop_last}

    def _generator_state(self):
        if not self.shuffle:
            return None
        return self._epoch_start_state if self._order is not None else self.generator.get_state()

    def _start_epoch(self):
        if self.shuffle:
            self._epoch_start_state = self.generator.get_state()
            self._order = self.generator.permutation(self._num_samples, "cpu")
        else:
            self._order = numpy.arange(self._num_samples)

    def _end_epoch(self):
        self._epoch, self._position, self._order = self._epoch + 1, 0, None

    def _batch(self, indices):
        index = as_tensor(indices, device=as_tensor(self._arrays[0]).device).array  # on the data's device
        batch = [array[index] for array in self._arrays]
        if self.transform is not None:
            batch[0] = self.transform(batch[0])
        tensors = tuple(as_tensor(array) for array in batch)
        return tensors[0] if self._single else tensors


def infinite_batches(loader):
    """Batches forever, epoch after epoch, for step-based training (gan_toy.py's inf_train_gen).
    The position lives in `loader`, so `loader.state_dict()` can be saved at any step."""
    if len(loader) == 0:
        raise ValueError(f"infinite_batches: the loader yields no batches ({loader._num_samples} samples, "
                         f"batch_size={loader.batch_size}, drop_last={loader.drop_last})")
    return itertools.chain.from_iterable(itertools.repeat(loader))


def generator_from_global_seed():
    """A new Generator seeded from the global one, as PyTorch's DataLoader seeds its sampler."""
    return Generator(int(default_generator.integers(0, 2**63 - 1, (), numpy.int64, "cpu")))


def _as_arrays(dataset):
    """([arrays], whether the dataset is a single array)."""
    single = not isinstance(dataset, (tuple, list))
    items = [dataset] if single else list(dataset)
    if not items:
        raise ValueError("DataLoader: dataset is an empty tuple; expected an array or a tuple of arrays")
    arrays = [item.array if isinstance(item, Tensor) else _as_array(item) for item in items]
    if any(array.ndim == 0 for array in arrays):
        raise ValueError(f"DataLoader: dataset arrays need a first dimension (one row per sample), got shapes "
                         f"{[array.shape for array in arrays]}")
    lengths = [len(array) for array in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"DataLoader: the dataset's arrays have different lengths {lengths}; each needs one "
                         "row per sample")
    return arrays, single


def _as_array(item):
    return item if hasattr(item, "shape") else numpy.asarray(item)
