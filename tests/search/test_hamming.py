"""The Hamming top-k kernel against a numpy reference: odd sizes, k above n, ties, several word counts."""

from __future__ import annotations

import numpy as np
import pytest

from embedscope.search.hamming import hamming_topk


def reference(codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest rows by Hamming distance, nearest first, ties in row order (numpy, brute force)."""
    d = np.unpackbits(codes[None] ^ queries[:, None], axis=2).sum(axis=2)
    return np.argsort(d, axis=1, kind="stable")[:, : min(k, len(codes))]


@pytest.mark.parametrize(("n", "m", "words", "k"), [
    (4_099, 7, 6, 10),      # several row blocks and a short last chunk; a short group of queries
    (2_053, 33, 1, 300),    # one word; k large enough that the candidate buffer is cut many times
    (301, 18, 12, 40),      # 12 words (768 dims); a tile and a short one
    (5, 3, 6, 9),           # k above n: every row, in order
    (1, 1, 2, 1),
])
def test_matches_numpy_reference(rng: np.random.Generator, n: int, m: int, words: int, k: int) -> None:
    codes = rng.integers(0, 256, size=(n, 8 * words), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(m, 8 * words), dtype=np.uint8)
    queries[0] = codes[n // 2]  # an exact match
    got = hamming_topk(codes, queries, k)
    assert got.shape == (m, min(k, n)) and got.dtype == np.int64
    np.testing.assert_array_equal(got, reference(codes, queries, k))


def test_ties_keep_row_order(rng: np.random.Generator) -> None:
    # few distinct codes: every distance is shared by hundreds of rows, so the cut falls inside a tie
    palette = rng.integers(0, 256, size=(5, 48), dtype=np.uint8)
    codes = palette[rng.integers(0, 5, size=3_001)]
    codes[1_500:1_600] = 0
    queries = np.concatenate([palette[:3], np.zeros((2, 48), np.uint8), rng.integers(0, 256, (6, 48), np.uint8)])
    for k in (1, 17, 250, 700):
        np.testing.assert_array_equal(hamming_topk(codes, queries, k), reference(codes, queries, k))


def test_empty_and_zero_k(rng: np.random.Generator) -> None:
    codes = rng.integers(0, 256, size=(50, 16), dtype=np.uint8)
    q = rng.integers(0, 256, size=(4, 16), dtype=np.uint8)
    assert hamming_topk(codes, q, 0).shape == (4, 0)
    assert hamming_topk(codes, q[:0], 5).shape == (0, 5)
    assert hamming_topk(codes[:0], q, 5).shape == (4, 0)
    with pytest.raises(ValueError, match="64-bit words"):
        hamming_topk(codes[:, :12], q[:, :12], 3)
