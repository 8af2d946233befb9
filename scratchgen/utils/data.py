"""torch.utils.data: datasets of samples and a DataLoader that collates them into batches.

    dataset = TensorDataset(images, labels)            # or a Dataset subclass with __getitem__, __len__
    loader = DataLoader(dataset, batch_size=64, shuffle=True, drop_last=True)
    for x, y in loader: ...                            # x: (64, ...) Tensor, y: (64,) Tensor

The loader asks its sampler for the indices of each batch, gets each sample with
`dataset[i]` and puts the samples together with `collate_fn` (default_collate: tensors and
arrays stacked, numbers made tensors, tuples and dicts collated field by field), all as
torch's does. Differences: `num_workers` is accepted, but samples are always loaded in the
main process; `pin_memory` is ignored. The shuffled order comes from scratchgen's random
numbers (`generator=sg.Generator(seed)`, or the global generator that sg.manual_seed seeds), so
it differs from torch's for the same seed. scratchgen.data.DataLoader is the library's own
loader over in-memory arrays (with a resumable state), which the training runs use.
"""
import collections.abc
import math
import numbers

import numpy

from .. import Generator, Tensor, as_tensor, default_generator, stack, tensor
from ..data.loader import generator_from_global_seed

# ---- datasets -------------------------------------------------------------------------------------

class Dataset:
    """A map-style dataset: subclasses define `__getitem__(index)` (one sample) and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: a Dataset subclass defines __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define `__iter__` (samples, one after another)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: an IterableDataset subclass defines __iter__")


class TensorDataset(Dataset):
    """Sample i is (tensors[0][i], tensors[1][i], ...): the tensors share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: tensors[{i}] must be a Tensor, got {type(t).__name__}")
            if t.ndim == 0 or t.shape[0] != tensors[0].shape[0]:
                raise ValueError(f"TensorDataset: size mismatch between tensors: every tensor needs the first "
                                 f"dimension {tensors[0].shape[0] if tensors[0].ndim else '(none)'}, tensors[{i}] has "
                                 f"shape {t.shape}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(numpy.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} is out of range for length {len(self)}")
            index += len(self)
        which = int(numpy.searchsorted(self.cumulative_sizes, index, side="right"))
        start = 0 if which == 0 else int(self.cumulative_sizes[which - 1])
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions that sum to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) and 0 <= x <= 1 for x in lengths) and math.isclose(sum(lengths), 1):
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):  # the remainder, one to each split in turn, as torch
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} do not add up to the dataset's length {n}")
    order = (generator or default_generator).permutation(n, "cpu").tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets


# ---- samplers: the order of the indices -------------------------------------------------------------

class Sampler:
    """Yields dataset indices."""

    def __init__(self, data_source=None):
        pass


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new permutation each pass, from `generator` (default: one seeded from the global generator
    at each pass, as torch's RandomSampler)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if replacement or num_samples is not None:
            raise ValueError("RandomSampler: replacement and num_samples are not supported by scratchgen")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"RandomSampler: generator must be a scratchgen Generator, got {type(generator).__name__}")
        self.data_source, self.generator = data_source, generator

    def __iter__(self):
        generator = self.generator if self.generator is not None else generator_from_global_seed()
        return iter(generator.permutation(len(self.data_source), "cpu").tolist())

    def __len__(self):
        return len(self.data_source)


class BatchSampler(Sampler):
    """Lists of `batch_size` indices from `sampler`; the last shorter one is dropped with drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        full, remainder = divmod(len(self.sampler), self.batch_size)
        return full + (1 if remainder and not self.drop_last else 0)


# ---- collating samples into a batch ----------------------------------------------------------------

def default_collate(batch):
    """Samples to a batch, as torch's default_collate: Tensors stacked along a new first
    dimension, NumPy arrays stacked into a Tensor, Python floats to a float64 tensor and ints to
    int64 (torch's rule), strings left as a list, and tuples, lists, named tuples and dicts
    collated field by field (a tuple of fields comes back as a list, as in torch)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, numpy.ndarray):
        if elem.dtype.kind not in "biufc":
            raise TypeError(f"default_collate: batch must contain tensors, arrays of numbers, numbers, dicts or "
                            f"lists; found an array of dtype {elem.dtype}")
        return as_tensor(numpy.stack(batch))
    if isinstance(elem, numpy.generic):
        return as_tensor(numpy.array(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, numbers.Integral):
        return tensor(batch, dtype=numpy.int64)
    if isinstance(elem, numbers.Real):
        return tensor(batch, dtype=numpy.float64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(data):
    """Without batching (batch_size=None), as torch's: NumPy arrays and scalars made tensors,
    tuples made lists (named tuples kept), lists and dicts converted item by item."""
    if isinstance(data, (numpy.ndarray, numpy.generic)) and data.dtype.kind in "biufc":
        return as_tensor(numpy.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


# ---- the loader ---------------------------------------------------------------------------------------

class DataLoader:
    """Batches of a dataset (torch.utils.data.DataLoader's arguments and meaning).

    Each pass asks the batch sampler (BatchSampler over SequentialSampler, or over RandomSampler
    with shuffle=True) for index lists, gets the samples with `dataset[i]`, and collates them
    with `collate_fn` (default_collate). With batch_size=None, samples come one by one, not
    collated. A TensorDataset with the default collate is indexed once per batch instead of once
    per sample (the same batch, faster)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be a non-negative integer, got {num_workers!r}")
        self.dataset, self.num_workers, self.pin_memory, self.generator = dataset, num_workers, pin_memory, generator
        self.drop_last, self.timeout = drop_last, timeout
        self._iterable = isinstance(dataset, IterableDataset) or (
            not hasattr(dataset, "__getitem__") and hasattr(dataset, "__iter__"))
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: an IterableDataset takes no shuffle, sampler or batch_sampler")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) is mutually exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
        if not self._iterable and sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if not self._iterable and batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.sampler, self.batch_sampler = batch_size, sampler, batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iterate_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return (self._fetch(indices) for indices in self.batch_sampler)

    def _fetch(self, indices):
        if (isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
                and not any(t.requires_grad for t in self.dataset.tensors)):
            rows = numpy.asarray(indices, dtype=numpy.int64)
            return [as_tensor(t.array[as_tensor(rows, device=t.device).array]) for t in self.dataset.tensors]
        return self.collate_fn([self.dataset[i] for i in indices])

    def _iterate_stream(self):
        if self.batch_size is None:
            yield from (self.collate_fn(sample) for sample in self.dataset)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)


def get_worker_info():
    """None: samples are loaded in the main process (torch's answer there too)."""
    return
