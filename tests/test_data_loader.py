"""DataLoader: every sample once per epoch, a new seeded permutation per epoch, Tensors of the
arrays' dtypes, exact mid-epoch resume from state_dict (also through sg.save / sg.load),
infinite batches for step-based training, and clear errors."""
import itertools

import numpy as np
import pytest

import scratchgen as sg
from scratchgen.data import DataLoader, DynamicBinarize, infinite_batches


def _dataset(n=10):
    """(features, labels) where row i of features holds i, so a batch shows which samples it took."""
    features = np.repeat(np.arange(n, dtype=np.float32)[:, None], 3, axis=1)
    return features, np.arange(n, dtype=np.int64)


def _indices(batch):
    features, labels = batch
    np.testing.assert_array_equal(features.array[:, 0], labels.array)  # rows stay paired with their labels
    return labels.array.tolist()


def _epoch(loader):
    return [_indices(batch) for batch in loader]


@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (8, 4, True, [4, 4]), (8, 4, False, [4, 4]),
    (3, 4, True, []), (3, 4, False, [3]), (0, 4, False, [])])
def test_batch_sizes_and_len(n, batch_size, drop_last, sizes):
    loader = DataLoader(_dataset(n), batch_size=batch_size, shuffle=True, drop_last=drop_last,
                        generator=sg.Generator(0))
    assert len(loader) == len(sizes)
    assert [len(batch) for batch in _epoch(loader)] == sizes


def test_shuffled_epochs_cover_every_sample_once_in_a_new_order_each_epoch():
    loader = DataLoader(_dataset(50), batch_size=8, shuffle=True, generator=sg.Generator(0))
    epochs = [sum(_epoch(loader), []) for _ in range(3)]
    assert all(sorted(order) == list(range(50)) for order in epochs)
    assert len({tuple(order) for order in epochs}) == 3 and epochs[0] != list(range(50))
    assert loader.epoch == 3


def test_without_shuffle_the_order_is_the_dataset_order():
    assert sum(_epoch(DataLoader(_dataset(7), batch_size=3)), []) == list(range(7))


def test_same_seed_same_batches():
    def run(seed):
        loader = DataLoader(_dataset(20), batch_size=6, shuffle=True, generator=sg.Generator(seed))
        return _epoch(loader) + _epoch(loader)
    assert run(1) == run(1) != run(2)


def test_without_a_generator_the_global_seed_decides_the_order():
    def run():
        sg.manual_seed(3)
        return _epoch(DataLoader(_dataset(20), batch_size=6, shuffle=True))
    assert run() == run()


def test_batches_are_tensors_with_the_arrays_dtypes():
    features, labels = _dataset(6)
    x, y = next(iter(DataLoader((features, sg.tensor(labels)), batch_size=4)))
    assert isinstance(x, sg.Tensor) and isinstance(y, sg.Tensor)
    assert (x.dtype, x.shape, y.dtype, y.shape, x.requires_grad) == (np.float32, (4, 3), np.int64, (4,), False)
    single = next(iter(DataLoader(features, batch_size=4)))  # one array: one Tensor per batch, as in PyTorch
    assert isinstance(single, sg.Tensor) and single.shape == (4, 3)


def test_transform_applies_to_the_first_array_only():
    loader = DataLoader(_dataset(6), batch_size=3, transform=lambda x: x * 10)
    x, y = next(iter(loader))
    np.testing.assert_array_equal(x.array[:, 0], [0, 10, 20])
    np.testing.assert_array_equal(y.array, [0, 1, 2])


# ---- resuming ----------------------------------------------------------------------------------
def _binarized_loader(seed):
    pixels = (np.arange(40 * 4).reshape(40, 4) % 256).astype(np.uint8)
    return DataLoader((pixels, np.arange(40)), batch_size=6, shuffle=True, generator=sg.Generator(seed),
                      transform=DynamicBinarize(sg.Generator(seed + 100)))


def _as_lists(batch):
    return [tensor.array.tolist() for tensor in batch]


@pytest.mark.parametrize("stop_after", [0, 3, 7, 9, 13])
def test_resume_mid_epoch_repeats_the_rest_of_the_run_bit_for_bit(stop_after, tmp_path):
    """7 batches per epoch: stops before the first batch, mid-epoch, at an epoch's last batch,
    and in the second epoch; the state goes through sg.save / sg.load like a checkpoint."""
    original = _binarized_loader(seed=0)
    batches = infinite_batches(original)
    head = [_as_lists(next(batches)) for _ in range(stop_after)]
    sg.save({"loader": original.state_dict()}, tmp_path / "checkpoint.npz")
    rest = [_as_lists(next(batches)) for _ in range(12)]

    resumed = _binarized_loader(seed=1)  # other seeds: everything must come from the state
    resumed.load_state_dict(sg.load(tmp_path / "checkpoint.npz")["loader"])
    assert [_as_lists(batch) for batch in itertools.islice(infinite_batches(resumed), 12)] == rest
    assert head + rest == [_as_lists(batch) for batch in itertools.islice(infinite_batches(_binarized_loader(0)),
                                                                          stop_after + 12)]


def test_resume_continues_an_epoch_loop_where_it_stopped():
    original = DataLoader(_dataset(20), batch_size=6, shuffle=True, generator=sg.Generator(0))
    iterator = iter(original)
    next(iterator)
    state = original.state_dict()
    rest_of_epoch = [_indices(batch) for batch in iterator]
    next_epoch = _epoch(original)

    resumed = DataLoader(_dataset(20), batch_size=6, shuffle=True, generator=sg.Generator(9))
    resumed.load_state_dict(state)
    assert (_epoch(resumed), resumed.epoch, _epoch(resumed)) == (rest_of_epoch, 1, next_epoch)


def test_a_pass_left_mid_epoch_is_followed_by_a_new_epoch():
    loader = DataLoader(_dataset(20), batch_size=6, shuffle=True, generator=sg.Generator(0))
    first_batch = _indices(next(iter(loader)))
    second_pass = _epoch(loader)
    assert loader.epoch == 2 and len(second_pass) == 4 and second_pass[0] != first_batch


@pytest.mark.parametrize("setting, value", [("batch_size", 5), ("shuffle", False), ("drop_last", True)])
def test_a_state_from_a_differently_configured_loader_is_refused(setting, value):
    state = DataLoader(_dataset(20), batch_size=6, shuffle=True, generator=sg.Generator(0)).state_dict()
    settings = {"batch_size": 6, "shuffle": True, "drop_last": False, setting: value}
    with pytest.raises(ValueError, match=f"DataLoader.load_state_dict: the state is for {setting}="):
        DataLoader(_dataset(20), generator=sg.Generator(0), **settings).load_state_dict(state)


def test_a_state_for_another_dataset_size_or_position_is_refused():
    state = DataLoader(_dataset(20), batch_size=6).state_dict()
    with pytest.raises(ValueError, match="the state is for num_samples=20, this loader has num_samples=19"):
        DataLoader(_dataset(19), batch_size=6).load_state_dict(state)
    with pytest.raises(ValueError, match="position 5 is outside \\[0, 4\\]"):
        DataLoader(_dataset(20), batch_size=6).load_state_dict({**state, "position": 5})


# ---- infinite batches and errors -------------------------------------------------------------
def test_infinite_batches_run_across_epochs():
    loader = DataLoader(_dataset(10), batch_size=4, shuffle=True, drop_last=True, generator=sg.Generator(0))
    taken = [_indices(batch) for batch in itertools.islice(infinite_batches(loader), 7)]
    assert all(len(batch) == 4 for batch in taken) and loader.epoch == 3
    assert len(set(sum(taken[0:2], []))) == 8  # no repeats within an epoch


def test_infinite_batches_of_an_empty_loader_is_refused():
    with pytest.raises(ValueError, match="infinite_batches: the loader yields no batches \\(3 samples, "
                                         "batch_size=4, drop_last=True\\)"):
        infinite_batches(DataLoader(_dataset(3), batch_size=4, drop_last=True))


@pytest.mark.parametrize("batch_size", [0, -2, 2.0, True, None])
def test_bad_batch_size_is_refused(batch_size):
    with pytest.raises(ValueError, match=f"DataLoader: batch_size should be a positive integer, got {batch_size!r}"):
        DataLoader(_dataset(), batch_size=batch_size)


def test_arrays_of_different_lengths_are_refused():
    features, labels = _dataset(10)
    with pytest.raises(ValueError, match="DataLoader: the dataset's arrays have different lengths \\[10, 9\\]"):
        DataLoader((features, labels[:9]), batch_size=2)


@pytest.mark.parametrize("dataset, expected", [
    ((), "dataset is an empty tuple"), (np.float32(1.0), "dataset arrays need a first dimension")])
def test_empty_or_scalar_datasets_are_refused(dataset, expected):
    with pytest.raises(ValueError, match=f"DataLoader: {expected}"):
        DataLoader(dataset)


def test_generator_must_be_a_scratchgen_generator():
    with pytest.raises(TypeError, match="DataLoader: generator should be a scratchgen.Generator, got int"):
        DataLoader(_dataset(), shuffle=True, generator=0)
