"""Similarity analytics: rankings, "which is closer", query histograms and metrics side by side.

The questions people ask of a space about one query, answered with numbers:

- **rankings** (:func:`rank`): the most (or least) similar items to a query vector under a metric;
- **closer** (:func:`closer`): which of two items B and C is closer to a third one A, and where each ranks
  among all items seen from A;
- **query histogram** (:func:`query_histogram`): one query against every item;
- **metrics side by side** (:func:`metric_overlap`): the top-k under cosine, dot, euclidean and manhattan and
  how much the lists overlap, with which lists must agree (unit vectors: cosine, dot and euclidean rank
  identically).

Distributions over all pairs, labels and dimensions: :mod:`embedscope.analyses.distributions`. Scores follow
:mod:`embedscope.search.exact`: cosine similarity and dot product (higher is closer), euclidean and manhattan
distance (lower is closer). Every scan runs in row blocks (bounded memory), never on an ``n x n`` matrix.
Arrays in, small dataclasses out; no workspace import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..search.exact import METRICS, check_metric, higher_is_closer
from ..search.scan import QueryScan

#: Rows per block in scans (``block x n`` scores at most).
BLOCK_ROWS = 4_096


# ------------------------------------------------------------------------------------------ scores
def query_scores(x: np.ndarray, q: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Score of one query against every item, exactly (:meth:`embedscope.search.scan.QueryScan.scores` in float32).

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    q
        Query, shape ``(d,)``.
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n,)``: similarity (cosine, dot) or distance (euclidean, manhattan).
    """
    check_metric(metric)
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"the vectors must have shape (n, d), not {x.shape}")
    return QueryScan(x, int8=False).scores(q, metric)


# ---------------------------------------------------------------------------------------- rankings
@dataclass
class Ranking:
    """Items ranked against one query.

    Attributes
    ----------
    rows
        int64, shape ``(k,)``: rows of the searched matrix, best first (or worst first with ``least``).
    scores
        float32, shape ``(k,)``.
    metric
        The metric of ``scores``.
    least
        Whether this is the least similar end of the ranking.
    """

    rows: np.ndarray
    scores: np.ndarray
    metric: str
    least: bool = False


def rank(x: np.ndarray, q: np.ndarray, k: int = 10, metric: str = "cosine", *, least: bool = False,
         exclude: Sequence[int] = ()) -> Ranking:
    """The ``k`` most (or, with ``least``, least) similar items to a query.

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    q
        Query vector, shape ``(d,)``.
    k
        How many (capped at the number of candidates).
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
    least
        Return the least similar items (farthest first) instead of the most similar.
    exclude
        Rows left out (the queried item, the words of an analogy).

    Returns
    -------
    Ranking
        Ties are broken by row number.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return _rank_with(QueryScan(np.asarray(x), int8=False), q, k, metric, least=least, exclude=exclude)


def _rank_with(scan: QueryScan, q: np.ndarray, k: int, metric: str, *, least: bool = False,
               exclude: Sequence[int] = ()) -> Ranking:
    """:func:`rank` with a scan already made (one per space for several metrics)."""
    check_metric(metric)
    rows, scores = scan.top(q, k, metric=metric, least=least, exclude=exclude)
    return Ranking(rows, scores, metric, least)


@dataclass
class Closer:
    """Which of two items B and C is closer to A.

    Attributes
    ----------
    metric
        The metric used.
    score_b, score_c
        Score of (A, B) and (A, C).
    closer
        ``"b"``, ``"c"`` or ``"tie"``.
    rank_b, rank_c
        1-based rank of B and C among all other items seen from A (1 = nearest).
    n
        Number of items ranked (A excluded).
    """

    metric: str
    score_b: float
    score_c: float
    closer: str
    rank_b: int
    rank_c: int
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "score_b": self.score_b, "score_c": self.score_c, "closer": self.closer,
                "rank_b": self.rank_b, "rank_c": self.rank_c, "n": self.n}


def closer(x: np.ndarray, a: int, b: int, c: int, metric: str = "cosine") -> Closer:
    """Which of rows ``b`` and ``c`` is closer to row ``a``, with their ranks among all items seen from ``a``.

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    a, b, c
        Row numbers.
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
    """
    s = QueryScan(np.asarray(x), int8=False).scores(x[a], metric).astype(np.float64)
    key = -s if higher_is_closer(metric) else s
    key[a] = np.inf
    rank_b = int((key < key[b]).sum()) + 1
    rank_c = int((key < key[c]).sum()) + 1
    who = "tie" if key[b] == key[c] else ("b" if key[b] < key[c] else "c")
    return Closer(metric, float(s[b]), float(s[c]), who, rank_b, rank_c, len(s) - 1)


# -------------------------------------------------------------------------------------- histograms
@dataclass
class Histogram:
    """A histogram of scores with summary statistics.

    Attributes
    ----------
    metric
        The metric of the scores.
    counts
        int64, shape ``(bins,)``.
    edges
        float64, shape ``(bins + 1,)``.
    n
        Number of values counted.
    exact
        Whether every value was used (``False``: a random sample of stated size and seed).
    population
        Number of values in the full population (all pairs, all items).
    seed
        Seed of the sample, if sampled.
    stats
        ``mean``, ``std``, ``min``, ``max`` and quantiles ``p01, p05, p25, p50, p75, p95, p99``.
    kind
        ``query``, ``pairs``, ``same_label`` or ``different_label``.
    """

    metric: str
    counts: np.ndarray
    edges: np.ndarray
    n: int
    exact: bool
    population: int
    seed: int | None = None
    stats: dict[str, float] = field(default_factory=dict)
    kind: str = "pairs"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "counts": [int(c) for c in self.counts],
                "edges": [float(e) for e in self.edges], "n": self.n, "exact": self.exact,
                "population": self.population, "seed": self.seed, "stats": self.stats}


def _stats(v: np.ndarray) -> dict[str, float]:
    if len(v) == 0:
        return {}
    qs = np.quantile(v, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "max": float(v.max()),
            **{f"p{p:02d}": float(val) for p, val in zip((1, 5, 25, 50, 75, 95, 99), qs, strict=True)}}


def default_range(metric: str, values: np.ndarray) -> tuple[float, float]:
    """Histogram range: ``[-1, 1]`` for cosine, the data's range otherwise (a tiny pad when constant)."""
    if metric == "cosine":
        return -1.0, 1.0
    if len(values) == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    scale = max(abs(lo), abs(hi))
    if hi - lo <= 1e-9 * scale or hi <= lo:  # constant (to float precision, at any magnitude): pad it
        pad = max(0.5, 1e-6 * scale)
        lo, hi = lo - pad, hi + pad
    return lo, hi


def histogram(values: np.ndarray, metric: str, *, bins: int = 50, value_range: tuple[float, float] | None = None,
              exact: bool = True, population: int | None = None, seed: int | None = None, kind: str = "pairs"
              ) -> Histogram:
    """Histogram of ``values`` (shape ``(m,)``) with summary statistics."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    lo, hi = value_range if value_range is not None else default_range(metric, v)
    counts, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    return Histogram(metric, counts.astype(np.int64), edges, len(v), exact,
                     int(population if population is not None else len(v)), seed, _stats(v), kind)


def query_histogram(x: np.ndarray, q: np.ndarray, metric: str = "cosine", *, bins: int = 50,
                    exclude: Sequence[int] = ()) -> Histogram:
    """Histogram of one query's scores against every item (exact; ``exclude`` rows left out).

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    q
        Query, shape ``(d,)``.
    """
    s = query_scores(x, q, metric)
    if len(exclude):
        keep = np.ones(len(s), bool)
        keep[np.asarray(list(exclude), dtype=np.int64)] = False
        s = s[keep]
    return histogram(s, metric, bins=bins, exact=True, population=len(s), kind="query")


# ------------------------------------------------------------------------------- metrics side by side
@dataclass
class MetricOverlap:
    """The top-k under each metric for one query, and how much the lists overlap.

    Attributes
    ----------
    k
        List length.
    rankings
        Metric name -> :class:`Ranking` (best first).
    overlap
        ``overlap[a][b]``: share of the top-k under ``a`` also in the top-k under ``b`` (``|A & B| / k``).
    normalised
        Whether the vectors (and the query) are unit length.
    must_agree
        Pairs of metrics that rank identically on these vectors (cosine/dot/euclidean on unit vectors;
        cosine/dot when all norms are equal).
    """

    k: int
    rankings: dict[str, Ranking]
    overlap: dict[str, dict[str, float]]
    normalised: bool
    must_agree: list[tuple[str, str]]

    def to_json(self, ids: Sequence[str] | None = None) -> dict[str, Any]:
        def rec(r: Ranking) -> list[dict[str, Any]]:
            return [{"id": ids[i] if ids is not None else int(i), "score": float(s)}
                    for i, s in zip(r.rows, r.scores, strict=True)]

        return {"k": self.k, "normalised": self.normalised, "must_agree": [list(p) for p in self.must_agree],
                "overlap": self.overlap, "metrics": {m: rec(r) for m, r in self.rankings.items()}}


def metric_overlap(x: np.ndarray, q: np.ndarray, k: int = 10, *, exclude: Sequence[int] = (),
                   metrics: Sequence[str] = METRICS, tol: float = 1e-3) -> MetricOverlap:
    """Top-``k`` of one query under each metric, with their pairwise overlap.

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    q
        Query, shape ``(d,)``.
    k
        List length.
    exclude
        Rows left out of every list (the queried item).
    tol
        Tolerance on norms for "unit length" and "equal norms".
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    scan = QueryScan(np.asarray(x), int8=False)  # the norms are computed once for every metric
    rankings = {m: _rank_with(scan, q, k, m, exclude=exclude) for m in metrics}
    kk = min(len(r.rows) for r in rankings.values())
    sets = {m: set(r.rows[:kk].tolist()) for m, r in rankings.items()}
    overlap = {a: {b: (len(sets[a] & sets[b]) / kk if kk else 1.0) for b in metrics} for a in metrics}
    norms = np.linalg.norm(np.asarray(x, dtype=np.float32), axis=1)
    qn = float(np.linalg.norm(q))
    unit = bool(np.allclose(norms, 1.0, atol=tol) and abs(qn - 1.0) <= tol)
    equal = bool(len(norms) and np.ptp(norms) <= tol * max(float(norms.mean()), 1e-12))
    agree: list[tuple[str, str]] = []
    if equal:
        agree.append(("cosine", "dot"))
    if unit or (equal and abs(qn - float(norms.mean())) <= tol * max(qn, 1e-12)):
        agree += [("cosine", "euclidean"), ("dot", "euclidean")]
    agree = [p for p in agree if p[0] in metrics and p[1] in metrics]
    return MetricOverlap(kk, rankings, overlap, unit, agree)
