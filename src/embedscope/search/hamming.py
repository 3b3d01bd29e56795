"""Top-k by Hamming distance over packed binary codes (the search of the ``binary`` compression codec)."""

from __future__ import annotations

import numpy as np


def hamming_topk(codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Rows ``(m, k)`` of the ``k`` codes nearest each query code by Hamming distance, nearest first (ties in
    row order).

    Parameters
    ----------
    codes
        uint8 ``(n, b)`` packed bits, ``b`` a multiple of 8.
    queries
        uint8 ``(m, b)`` packed bits.
    k
        At most ``n``.
    """
    c64 = np.ascontiguousarray(codes).view(np.uint64)
    q64 = np.ascontiguousarray(queries).view(np.uint64)
    from .kernels.hamming import hamming_topk_kernel

    return np.asarray(hamming_topk_kernel(c64, q64, int(min(k, len(codes))), int(codes.shape[1] * 8)))
