"""ProcessGroup: the collectives the library needs, on top of what a communication engine
(MPI, NCCL) gives, each with a deadline.

A backend (mpi.py, nccl.py) supplies three non-blocking transports on one flat buffer:
`_start_all_reduce(buffer)` (a sum, in place), `_start_broadcast(buffer, root)` and
`_start_barrier()`, each returning a request whose `test()` says whether it finished, and
`abort(code)`, which ends every rank. Everything else is written here once:

    all_reduce(arrays, op="mean")   the arrays packed into flat buckets of at most
                                    `bucket_bytes` (one dtype and device per bucket), every
                                    bucket started, then all waited for; returns new arrays
    broadcast_(arrays, root=0)      rank `root`'s values into every rank's arrays, in place
    sum_floats(values)              a few Python floats summed across ranks (losses, flags)
    share_object(obj, root)         a picklable object from `root` to every rank
    barrier()

Every wait polls its requests until a deadline (`timeout`, SCRATCHGEN_COLLECTIVE_TIMEOUT
seconds, 120 by default) and then raises CollectiveTimeout: a rank that died or hangs makes
the others stop with that error instead of waiting for ever in a blocking call.
"""
import os
import pickle
import time

import numpy

DEFAULT_TIMEOUT_S = 120.0
TIMEOUT_VARIABLE = "SCRATCHGEN_COLLECTIVE_TIMEOUT"
DEFAULT_BUCKET_BYTES = 25 * 2 ** 20  # torch DDP's bucket_cap_mb default
SPIN_S = 2e-4                        # poll without sleeping this long, then sleep
MIN_PAUSE_S, MAX_PAUSE_S = 2e-5, 1e-3  # sleeps between polls grow from MIN to MAX


class CollectiveTimeout(RuntimeError):
    """A collective did not finish before its deadline: another rank stopped (died or hangs)."""


def timeout_from_environment():
    """SCRATCHGEN_COLLECTIVE_TIMEOUT (seconds) if set, else DEFAULT_TIMEOUT_S."""
    text = os.environ.get(TIMEOUT_VARIABLE)
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{TIMEOUT_VARIABLE} must be a positive number of seconds, got {text!r}")
    return value


def array_module(array):
    """numpy, or cupy for a CuPy array."""
    if hasattr(array, "__cuda_array_interface__"):
        import cupy
        return cupy
    return numpy


class ProcessGroup:
    """`size` processes numbered 0..size-1 (`rank`); `local_rank`/`local_size` count those on
    this machine. Statistics for benchmarks: `bytes_all_reduced` (payload of all_reduce, per
    rank) and `wait_seconds` (time spent waiting in collectives)."""
    backend = None

    def __init__(self, rank, size, local_rank=None, local_size=None, timeout=None, bucket_bytes=None):
        self.rank, self.size = rank, size
        self.local_rank = rank if local_rank is None else local_rank
        self.local_size = size if local_size is None else local_size
        self.timeout = timeout_from_environment() if timeout is None else float(timeout)
        self.bucket_bytes = DEFAULT_BUCKET_BYTES if bucket_bytes is None else int(bucket_bytes)
        self.bytes_all_reduced = 0
        self.wait_seconds = 0.0

    def __repr__(self):
        return f"<{type(self).__name__} rank {self.rank} of {self.size}, timeout {self.timeout:g} s>"

    # ---- what a backend supplies -------------------------------------------------------------
    def _start_all_reduce(self, buffer):
        raise NotImplementedError

    def _start_broadcast(self, buffer, root):
        raise NotImplementedError

    def _start_barrier(self):
        raise NotImplementedError

    def abort(self, code=1):
        """End every rank of the job now (MPI_Abort)."""
        raise NotImplementedError

    def _transport(self, flat):
        """The buffer the engine reduces for a packed bucket (MPI: host memory; NCCL: the device)."""
        return flat

    def _returned(self, buffer, like):
        """The reduced bucket back in the array module of the caller's arrays (`like`)."""
        return buffer

    # ---- waiting, with a deadline -------------------------------------------------------------
    def wait(self, requests, what):
        """Poll `requests` until every one has finished; CollectiveTimeout after `timeout` s."""
        started = time.monotonic()
        deadline, pause = started + self.timeout, 0.0
        pending = list(requests)
        try:
            while True:
                pending = [request for request in pending if not request.test()]
                if not pending:
                    return
                now = time.monotonic()
                if now > deadline:
                    raise CollectiveTimeout(
                        f"rank {self.rank} of {self.size}: {what} did not finish within {self.timeout:g} s, so "
                        f"another rank has stopped (it died, failed, or hangs; its own output says why). "
                        f"Stopping every rank (wait longer with {TIMEOUT_VARIABLE}=SECONDS)")
                if now - started > SPIN_S:
                    pause = min(MAX_PAUSE_S, max(MIN_PAUSE_S, 2 * pause))
                    time.sleep(pause)
        finally:
            self.wait_seconds += time.monotonic() - started

    # ---- collectives on arrays ------------------------------------------------------------------
    def all_reduce(self, arrays, op="mean", what="all-reduce"):
        """Sum (op="sum") or average (op="mean") each array over the ranks; returns new arrays of
        the same shapes, dtypes and devices (views of the reduced buckets). Every rank must pass
        arrays of the same shapes and dtypes in the same order."""
        if op not in ("sum", "mean"):
            raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
        arrays = list(arrays)
        buckets = self._buckets(arrays)
        started = []
        for indices in buckets:
            xp = array_module(arrays[indices[0]])
            flat = xp.concatenate([arrays[i].reshape(-1) for i in indices])  # a new buffer: a copy
            buffer = self._transport(flat)
            self.bytes_all_reduced += flat.nbytes
            started.append((indices, flat, buffer, self._start_all_reduce(buffer)))
        self.wait([request for *_, request in started], what)
        results = [None] * len(arrays)
        for indices, flat, buffer, _ in started:
            reduced = self._returned(buffer, flat)
            if op == "mean":
                reduced /= self.size
            offset = 0
            for i in indices:
                results[i] = reduced[offset:offset + arrays[i].size].reshape(arrays[i].shape)
                offset += arrays[i].size
        return results

    def broadcast_(self, arrays, root=0, what="broadcast"):
        """Rank `root`'s values into every rank's `arrays`, in place."""
        arrays = list(arrays)
        started = []
        for indices in self._buckets(arrays):
            xp = array_module(arrays[indices[0]])
            flat = xp.concatenate([arrays[i].reshape(-1) for i in indices])
            buffer = self._transport(flat)
            started.append((indices, flat, buffer, self._start_broadcast(buffer, root)))
        self.wait([request for *_, request in started], what)
        for indices, flat, buffer, _ in started:
            received = self._returned(buffer, flat)
            offset = 0
            for i in indices:
                arrays[i][...] = received[offset:offset + arrays[i].size].reshape(arrays[i].shape)
                offset += arrays[i].size

    def _buckets(self, arrays):
        """[[indices]]: consecutive arrays of one dtype and device, at most bucket_bytes each
        (a larger array is a bucket of its own)."""
        buckets, current, current_bytes, kind = [], [], 0, None
        for i, array in enumerate(arrays):
            this = (array.dtype, array_module(array).__name__)
            if current and (this != kind or current_bytes + array.nbytes > self.bucket_bytes):
                buckets.append(current)
                current, current_bytes = [], 0
            current.append(i)
            current_bytes += array.nbytes
            kind = this
        return buckets + ([current] if current else [])

    # ---- small things: floats, objects, a barrier ------------------------------------------------
    def sum_floats(self, values, what="all-reduce of the losses"):
        """[sum over ranks] of each float in `values` (float64, on the host)."""
        buffer = numpy.array(values, dtype=numpy.float64)
        self.wait([self._start_host_all_reduce(buffer)], what)
        return buffer.tolist()

    def share_object(self, obj, root=0, what="broadcast"):
        """`obj` (picklable) as rank `root` has it, on every rank."""
        payload = pickle.dumps(obj) if self.rank == root else b""
        length = numpy.array([len(payload)], dtype=numpy.int64)
        self.wait([self._start_host_broadcast(length, root)], what)
        data = numpy.frombuffer(payload, dtype=numpy.uint8).copy() if self.rank == root \
            else numpy.empty(int(length[0]), dtype=numpy.uint8)
        self.wait([self._start_host_broadcast(data, root)], what)
        return obj if self.rank == root else pickle.loads(data.tobytes())

    def barrier(self, what="barrier"):
        self.wait([self._start_barrier()], what)

    def _start_host_all_reduce(self, buffer):
        """A sum of a small host (NumPy) buffer: the control plane (MPI for every backend)."""
        return self._start_all_reduce(buffer)

    def _start_host_broadcast(self, buffer, root):
        return self._start_broadcast(buffer, root)
