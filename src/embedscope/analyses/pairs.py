"""One pair of vectors looked at closely: its scores, norms, the dimensions that make its dot product, and where it
ranks among all pairs of its space.

- :func:`pair_scores_of`: cosine, dot, euclidean and manhattan of two vectors and both norms;
- :func:`top_products`: the dimensions of the element-wise product ``a * b`` (whose sum is the dot product) with
  the largest magnitude, sign kept;
- :func:`pair_rank`: the pair's rank among all ``n (n - 1) / 2`` pairs of distinct items under a metric: counted
  exactly when the space is small enough (``pair_count(n) * d <= EXACT_BUDGET``: well under a second), else
  estimated from a seeded uniform sample of pairs, with a 95 % Wilson interval and the sample size stated.

Scores follow :mod:`embedscope.search.exact` (cosine and dot: higher is closer; euclidean and manhattan: lower is
closer). Arrays in, small dataclasses out; no workspace import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..search.exact import check_metric, higher_is_closer
from .distributions import pair_count, sample_pairs

#: Largest ``pairs x dimensions`` counted exactly (cosine, dot, euclidean: one float64 matrix product in blocks;
#: 1,000 words x 300-d is 1.5e8, 2,000 x 384 is 7.7e8). Manhattan costs ~8 times more a pair, so its budget is
#: an eighth of this.
EXACT_BUDGET = 8e8
#: Pairs drawn when the rank is estimated.
SAMPLE_PAIRS = 200_000
#: Rows a block when counting exactly.
BLOCK_ROWS = 512
#: Two scores closer than this (relative to the larger magnitude, at least absolutely 1e-9) count as tied.
TIE_TOLERANCE = 1e-9


@dataclass
class PairScores:
    """Scores of one pair of vectors (float64 arithmetic).

    Attributes
    ----------
    cosine, dot, euclidean, manhattan
        Cosine similarity, dot product, euclidean and manhattan distance.
    norm_a, norm_b
        Euclidean norms of the two vectors.
    """

    cosine: float
    dot: float
    euclidean: float
    manhattan: float
    norm_a: float
    norm_b: float

    def to_json(self) -> dict[str, float]:
        return dict(self.__dict__)


def pair_scores_of(a: np.ndarray, b: np.ndarray) -> PairScores:
    """Every score of the pair ``(a, b)``, each shape ``(d,)``; the cosine of a zero vector is 0."""
    a64, b64 = _pair(a, b)
    na, nb = float(np.linalg.norm(a64)), float(np.linalg.norm(b64))
    dot = float(a64 @ b64)
    cos = dot / (na * nb) if na > 0 and nb > 0 else 0.0
    diff = a64 - b64
    return PairScores(cos, dot, float(np.linalg.norm(diff)), float(np.abs(diff).sum()), na, nb)


def top_products(a: np.ndarray, b: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` dimensions of ``a * b`` with the largest magnitude (ties by dimension number).

    Returns
    -------
    dims : numpy.ndarray
        int64, shape ``(min(k, d),)``, largest ``|a_i b_i|`` first.
    products : numpy.ndarray
        float64, shape ``(min(k, d),)``: ``a_i b_i`` with its sign.
    """
    a64, b64 = _pair(a, b)
    p = a64 * b64
    k = max(0, min(int(k), len(p)))
    order = np.lexsort((np.arange(len(p)), -np.abs(p)))[:k]
    return order.astype(np.int64), p[order]


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a64, b64 = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a64.shape != b64.shape:
        raise ValueError(f"the two vectors differ in length: {a64.shape[0]} and {b64.shape[0]}")
    return a64, b64


@dataclass
class PairRank:
    """Where one pair ranks among all pairs of distinct items of a space.

    Attributes
    ----------
    metric
        The metric ranked by.
    score
        The pair's score.
    rank
        1 + the number of pairs strictly closer (exact), or its estimate (rounded).
    pairs
        Number of pairs of distinct items, ``n (n - 1) / 2``.
    exact
        Whether every pair was counted.
    ties
        Other pairs with the same score (exact counting only; ``0`` when estimated).
    closer_fraction
        Fraction of pairs closer than this one (counted, or estimated from the sample).
    low, high
        95 % interval of the rank (equal to ``rank`` when exact; Wilson score interval when estimated).
    sample, seed
        Pairs drawn and the seed (``None`` when exact).
    """

    metric: str
    score: float
    rank: int
    pairs: int
    exact: bool
    ties: int
    closer_fraction: float
    low: int
    high: int
    sample: int | None = None
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def exact_rank_feasible(n: int, d: int, metric: str = "cosine", budget: float = EXACT_BUDGET) -> bool:
    """Whether :func:`pair_rank` counts every pair of ``n`` items of ``d`` dimensions (within ``budget``)."""
    cost = pair_count(n) * max(d, 1) * (8 if metric == "manhattan" else 1)
    return cost <= budget


def _scores_block(x: np.ndarray, sq: np.ndarray, lo: int, hi: int, metric: str) -> np.ndarray:
    """Scores of rows ``lo..hi`` against every row, float64 ``(hi - lo, n)`` (``x`` float64, unit rows for cosine)."""
    xb = x[lo:hi]
    if metric in ("cosine", "dot"):
        return xb @ x.T
    if metric == "euclidean":
        d2 = sq[lo:hi, None] + sq[None, :] - 2.0 * (xb @ x.T)
        return np.sqrt(np.maximum(d2, 0.0))
    out = np.empty((hi - lo, len(x)))
    for i in range(hi - lo):
        out[i] = np.abs(x - xb[i]).sum(1)
    return out


def _prepared(x: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    x64 = np.asarray(x, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(x64, axis=1, keepdims=True)
        x64 = x64 / np.where(norms > 0, norms, 1.0)
    return x64, np.einsum("ij,ij->i", x64, x64)


def _score(x64: np.ndarray, sq: np.ndarray, a: int, b: int, metric: str) -> float:
    """The pair's score computed exactly as the counting computes it (the same expression, so it ties itself)."""
    return float(_scores_block(x64, sq, a, a + 1, metric)[0, b])


def pair_rank(x: np.ndarray, a: int, b: int, metric: str = "cosine", *, sample: int = SAMPLE_PAIRS, seed: int = 0,
              budget: float = EXACT_BUDGET) -> PairRank:
    """The rank of the pair ``(a, b)`` among all pairs of distinct rows of ``x``.

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``, ``n >= 2``.
    a, b
        Two different rows.
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
    sample, seed
        Pairs drawn (uniformly over pairs of distinct items, with replacement) when the count is estimated.
    budget
        Largest ``pairs x dimensions`` counted exactly (:func:`exact_rank_feasible`).

    Returns
    -------
    PairRank
        Exact: ``rank = 1 + #pairs strictly closer``, ``ties`` the other pairs within :data:`TIE_TOLERANCE`.
        Estimated: ``rank = 1 + round(p * pairs)`` where ``p`` is the closer fraction in the sample, with its 95 %
        Wilson interval.
    """
    check_metric(metric)
    x = np.asarray(x)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"a pair rank needs at least 2 items, got {n}")
    if not (0 <= a < n and 0 <= b < n) or a == b:
        raise ValueError(f"rows {a} and {b} must be two different rows of 0..{n - 1}")
    x64, sq = _prepared(x, metric)
    s = _score(x64, sq, a, b, metric)
    tol = max(TIE_TOLERANCE * abs(s), TIE_TOLERANCE)
    higher = higher_is_closer(metric)
    total = pair_count(n)
    if exact_rank_feasible(n, d, metric, budget):
        closer = ties = 0
        for lo in range(0, n, BLOCK_ROWS):
            hi = min(n, lo + BLOCK_ROWS)
            block = _scores_block(x64, sq, lo, hi, metric)
            upper = np.arange(n)[None, :] > np.arange(lo, hi)[:, None]  # each unordered pair once
            vals = block[upper]
            closer += int((vals > s + tol).sum() if higher else (vals < s - tol).sum())
            ties += int((np.abs(vals - s) <= tol).sum())
        frac = closer / total
        return PairRank(metric, s, closer + 1, total, True, ties - 1, frac, closer + 1, closer + ties)
    rng = np.random.default_rng(seed)
    m = int(sample)
    ia, ib = sample_pairs(n, m, rng)
    vals = np.empty(m)
    step = 8_192
    for lo in range(0, m, step):
        pa, pb = x64[ia[lo:lo + step]], x64[ib[lo:lo + step]]
        if metric in ("cosine", "dot"):
            vals[lo:lo + step] = np.einsum("ij,ij->i", pa, pb)
        elif metric == "euclidean":
            vals[lo:lo + step] = np.sqrt(np.maximum(sq[ia[lo:lo + step]] + sq[ib[lo:lo + step]]
                                                    - 2.0 * np.einsum("ij,ij->i", pa, pb), 0.0))
        else:
            vals[lo:lo + step] = np.abs(pa - pb).sum(1)
    hits = int((vals > s + tol).sum() if higher else (vals < s - tol).sum())
    p = hits / m
    lo_p, hi_p = wilson(hits, m)
    return PairRank(metric, s, 1 + round(p * total), total, False, 0, p, 1 + math.floor(lo_p * total),
                    1 + math.ceil(hi_p * total), m, seed)


def wilson(hits: int, m: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``hits / m`` (95 % by default), clipped to ``[0, 1]``."""
    if m <= 0:
        return 0.0, 1.0
    p = hits / m
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    return max(0.0, centre - half), min(1.0, centre + half)
