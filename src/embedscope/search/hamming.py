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
    if codes.shape[1] % 8:
        raise ValueError(f"codes of {codes.shape[1]} bytes: pad the packed bits to whole 64-bit words")
    codes_t = np.ascontiguousarray(np.ascontiguousarray(codes).view(np.uint64).T)  # (w, n): a word of many rows a load
    q64 = np.ascontiguousarray(queries).view(np.uint64)
    from .kernels.hamming import hamming_topk_kernel

    k = max(0, int(min(k, len(codes))))
    return np.asarray(hamming_topk_kernel(codes_t, q64, k, (0,) * codes_t.shape[0]))
