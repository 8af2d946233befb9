"""Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011) in NumPy: the oracle that kernels/philox.cuh
and the dropout kernel are checked against, itself checked against Random123's known answers
(test_kernels.py). Too slow to serve as the CPU's random numbers (~6x NumPy's PCG64)."""
import numpy as np

MULTIPLIERS = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
WEYL = (np.uint32(0x9E3779B9), np.uint32(0xBB67AE85))
HIGH = np.uint64(32)


def philox4x32_10(counter, key):
    """The four output words of each counter: counter is four uint32 arrays (or ints), key two ints."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint32) for c in counter)
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    with np.errstate(over="ignore"):
        for _ in range(10):
            product0, product1 = c0.astype(np.uint64) * MULTIPLIERS[0], c2.astype(np.uint64) * MULTIPLIERS[1]
            c0, c1, c2, c3 = ((product1 >> HIGH).astype(np.uint32) ^ c1 ^ k0, product1.astype(np.uint32),
                              (product0 >> HIGH).astype(np.uint32) ^ c3 ^ k1, product0.astype(np.uint32))
            k0, k1 = k0 + WEYL[0], k1 + WEYL[1]
    return c0, c1, c2, c3


def dropout_uniforms(n, key):
    """The n uniforms of kernels/dropout.cu under a 64-bit key: element i is word i % 4 at counter (i / 4, 0)."""
    group = np.arange((n + 3) // 4, dtype=np.uint64)
    words = philox4x32_10(((group & np.uint64(0xFFFFFFFF)).astype(np.uint32), (group >> HIGH).astype(np.uint32), 0, 0),
                          (key & 0xFFFFFFFF, key >> 32))
    bits = np.stack(words, axis=1).reshape(-1)[:n]
    return (bits >> np.uint32(8)).astype(np.float64) * 2.0 ** -24
