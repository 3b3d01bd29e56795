"""Compiled Hamming top-k (numba): XOR + popcount over 64-bit words, then a counting selection of the k
smallest distances per query (distances are small integers, so nothing of length ``n`` is sorted).

Imported lazily by :func:`embedscope.search.hamming.hamming_topk`, so importing embedscope does not import numba.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@numba.njit(cache=True, inline="always")
def _popcount64(v: Any) -> Any:
    """SWAR popcount; LLVM turns this pattern into the ``popcnt`` instruction where the CPU has it."""
    v = v - ((v >> np.uint64(1)) & _M1)
    v = (v & _M2) + ((v >> np.uint64(2)) & _M2)
    v = (v + (v >> np.uint64(4))) & _M4
    return (v * _H01) >> np.uint64(56)


@numba.njit(parallel=True, cache=True)
def hamming_topk_kernel(codes: Any, queries: Any, k: int, maxd: int) -> Any:
    """Rows ``(m, k)`` of the ``k`` nearest codes per query by Hamming distance (ties in row order).

    ``codes`` is uint64 ``(n, w)``, ``queries`` uint64 ``(m, w)``, ``1 <= k <= n``, ``maxd = 64 w``.
    """
    n, w = codes.shape
    m = queries.shape[0]
    out = np.empty((m, k), np.int64)
    for qi in numba.prange(m):
        q = queries[qi]
        dist = np.empty(n, np.int32)
        hist = np.zeros(maxd + 2, np.int64)
        for j in range(n):
            acc = np.uint64(0)
            for t in range(w):
                acc += _popcount64(codes[j, t] ^ q[t])
            dj = np.int32(acc)
            dist[j] = dj
            hist[dj] += 1
        # the distance of the k-th nearest (cut) and how many rows lie strictly closer (below)
        below = 0
        cut = 0
        for dd in range(maxd + 1):
            if below + hist[dd] >= k:
                cut = dd
                break
            below += hist[dd]
        fill = np.zeros(cut + 1, np.int64)
        for dd in range(1, cut + 1):
            fill[dd] = fill[dd - 1] + hist[dd - 1]
        for j in range(n):
            dj = dist[j]
            if dj < cut or (dj == cut and fill[cut] < k):
                out[qi, fill[dj]] = j
                fill[dj] += 1
    return out
