"""Exact k-nearest neighbours under four metrics, in blocks so memory stays bounded.

Scores, best first:

- ``cosine``: cosine similarity (higher is closer);
- ``dot``: dot product (higher is closer);
- ``euclidean``: Euclidean distance (lower is closer);
- ``manhattan``: L1 distance (lower is closer).

Cosine and dot run on BLAS matrix products over row blocks (never an ``n x n`` matrix: a block is at most
``block_bytes`` of scores). Euclidean uses the ``|q|^2 + |x|^2 - 2 q.x`` expansion to find candidates,
then recomputes their distances exactly in float64 so near-ties are ranked right. Manhattan has no BLAS
form and runs through ``scipy.spatial.distance.cdist`` block by block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Metric = Literal["cosine", "dot", "euclidean", "manhattan"]
METRICS: tuple[str, ...] = ("cosine", "dot", "euclidean", "manhattan")
#: Size of one block of scores, in bytes. Peak memory of a search is about 3x this (the scores, the
#: argpartition indices in int64) plus the data.
BLOCK_BYTES = 64 * 2**20


def higher_is_closer(metric: str) -> bool:
    """Whether larger scores mean closer items under ``metric``."""
    return metric in ("cosine", "dot")


def check_metric(metric: str) -> str:
    """Return ``metric`` or raise ``ValueError`` naming the valid ones."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    return metric


@dataclass
class KNN:
    """k nearest neighbours of each query.

    Attributes
    ----------
    indices
        int32, shape ``(m, k)``: row numbers into the searched matrix, best first.
    scores
        float32, shape ``(m, k)``: similarity (cosine, dot) or distance (euclidean, manhattan).
    metric
        The metric used.
    """

    indices: np.ndarray
    scores: np.ndarray
    metric: str

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (float32 copy; zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def search(
    data: np.ndarray,
    queries: np.ndarray,
    k: int,
    metric: str = "cosine",
    *,
    exclude_self: bool = False,
    block_bytes: int = BLOCK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """Exact k nearest rows of ``data`` for each row of ``queries``.

    Parameters
    ----------
    data
        Shape ``(n, d)``.
    queries
        Shape ``(m, d)``. With ``exclude_self``, ``queries`` must be ``data`` itself (row ``i`` never
        returns ``i``).
    k
        Neighbours per query, capped at ``n`` (``n - 1`` with ``exclude_self``).
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
    block_bytes
        Memory budget for one block of scores.
    progress
        Called with (queries done, total).

    Returns
    -------
    KNN
        ``indices`` and ``scores`` of shape ``(m, k)``.
    """
    check_metric(metric)
    same = queries is data
    data = np.ascontiguousarray(data, dtype=np.float32)
    queries = data if same else np.ascontiguousarray(queries, dtype=np.float32)
    n, m = data.shape[0], queries.shape[0]
    if data.ndim != 2 or queries.ndim != 2 or data.shape[1] != queries.shape[1]:
        raise ValueError(f"shapes do not match: data {data.shape}, queries {queries.shape}")
    k = int(max(0, min(k, n - 1 if exclude_self else n)))
    out_i = np.zeros((m, k), np.int32)
    out_s = np.zeros((m, k), np.float32)
    if k == 0 or m == 0:
        return KNN(out_i, out_s, metric)
    inv_norm = None
    base, qs = data, queries
    if metric == "cosine":
        # scale each block's scores by 1/|x| instead of writing a normalised copy of the data (1.5 GB at
        # 1M x 384); the queries are normalised a block at a time below
        norms = np.sqrt(np.einsum("ij,ij->i", data, data))
        norms[norms == 0] = 1.0
        inv_norm = (1.0 / norms).astype(np.float32)
    sq_base = np.einsum("ij,ij->i", base, base) if metric == "euclidean" else None
    rows = max(1, min(m, block_bytes // (4 * n)))
    if metric == "manhattan":
        rows = max(1, min(rows, 256))
    for start in range(0, m, rows):
        stop = min(m, start + rows)
        q = normalize(qs[start:stop]) if metric == "cosine" else qs[start:stop]
        if metric in ("cosine", "dot"):
            order_key = q @ base.T  # (b, n), higher is closer
            if inv_norm is not None:
                order_key *= inv_norm[None, :]
            np.negative(order_key, out=order_key)  # in place: smaller is closer
        elif metric == "euclidean":
            assert sq_base is not None
            order_key = q @ base.T
            order_key *= -2.0
            order_key += sq_base[None, :]  # |x|^2 - 2 q.x : same order as the distance
        else:
            from scipy.spatial.distance import cdist

            order_key = cdist(q, base, "cityblock").astype(np.float32)
        if exclude_self:
            order_key[np.arange(stop - start), np.arange(start, stop)] = np.inf
        extra = min(n - (1 if exclude_self else 0), k + 8) if metric == "euclidean" else k
        cand = topk_smallest(order_key, extra)
        if metric == "euclidean":
            diff = base[cand].astype(np.float64) - q[:, None, :].astype(np.float64)
            dist = np.sqrt(np.einsum("bkd,bkd->bk", diff, diff))
            o = np.argsort(dist, axis=1, kind="stable")[:, :k]
            cand = np.take_along_axis(cand, o, axis=1)
            sc = np.take_along_axis(dist, o, axis=1)
        else:
            sc = -np.take_along_axis(order_key, cand, axis=1) if metric in ("cosine", "dot") else \
                np.take_along_axis(order_key, cand, axis=1)
        out_i[start:stop] = cand
        out_s[start:stop] = sc
        if progress:
            progress(stop, m)
    return KNN(out_i, out_s, metric)


def topk_smallest(key: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k smallest entries of each row, sorted ascending (ties by index)."""
    if k < key.shape[1]:
        part = np.argpartition(key, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(key.shape[1]), key.shape).copy()
    vals = np.take_along_axis(key, part, axis=1)
    order = np.lexsort((part, vals), axis=1)
    return np.take_along_axis(part, order, axis=1).astype(np.int32)


def knn_graph(
    vectors: np.ndarray,
    k: int = 50,
    metric: str = "cosine",
    *,
    block_bytes: int = BLOCK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """The exact kNN graph of a space: each row's ``k`` nearest other rows.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    k
        Neighbours per item (capped at ``n - 1``).
    metric
        See :func:`search`.

    Returns
    -------
    KNN
        Shape ``(n, min(k, n - 1))``; an item is never its own neighbour.
    """
    return search(vectors, vectors, k, metric, exclude_self=True, block_bytes=block_bytes, progress=progress)


# ------------------------------------------------------------------------------------ approximate graph
#: Above this many items a space's stored kNN graph is approximate (HNSW, :func:`ann_graph`) unless an exact
#: one is asked for: the exact graph of 1M x 384 takes about an hour on 2 cores (see docs/BENCHMARKS.md).
ANN_ABOVE = 200_000
#: Items sampled to measure an approximate graph's recall@10 against exact search.
RECALL_SAMPLE = 1_000
#: Description of the approximate index, stored with the graph.
ANN_METHOD = "usearch-hnsw-f16"


def _usearch() -> Any:
    try:
        from usearch.index import Index
    except ImportError:
        raise ImportError("an approximate kNN graph (spaces above "
                          f"{ANN_ABOVE:,} items) needs usearch: pip install 'embedscope[ann]'") from None
    return Index


def ann_graph(
    vectors: np.ndarray,
    k: int = 50,
    *,
    connectivity: int = 16,
    expansion_add: int = 128,
    expansion_search: int = 64,
    threads: int = 0,
    chunk: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """An approximate cosine kNN graph: HNSW (usearch, half-precision vectors), scores rescored exactly.

    Every item is added to an HNSW index (Malkov & Yashunin 2018, "Efficient and robust approximate nearest
    neighbor search using Hierarchical Navigable Small World graphs") holding float16 copies of the vectors,
    then every item is searched for its ``k + 1`` nearest; the item itself is dropped and the ``k`` candidates'
    cosine similarities are recomputed in float32 from ``vectors`` and sorted, so the stored scores are exact
    even where the candidate set is not. Rows the index answers with fewer than ``k`` others (rare) get an
    exact search. Measure the result with :func:`graph_recall`.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``; not copied beyond the index's float16 copy.
    k
        Neighbours per item (capped at ``n - 1``).
    connectivity, expansion_add, expansion_search
        HNSW's M, efConstruction and efSearch (efSearch is raised to ``k + 1`` if lower).
    threads
        Threads for adding and searching (0: all cores).
    chunk
        Items added or searched per call (progress granularity).
    progress
        Called with (steps done, total): adding all items, then searching all items.

    Returns
    -------
    KNN
        Shape ``(n, min(k, n - 1))``; an item is never its own neighbour.
    """
    x = np.asarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = int(max(0, min(k, n - 1)))
    if k == 0:
        return KNN(np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float32), "cosine")
    index = hnsw_index(x, connectivity=connectivity, expansion_add=expansion_add,
                       expansion_search=max(expansion_search, k + 1), threads=threads, chunk=chunk,
                       progress=(lambda done, _t: progress(done, 2 * n)) if progress else None)
    norms = row_norms(x)
    out_i = np.empty((n, k), np.int32)
    out_s = np.empty((n, k), np.float32)
    short: list[np.ndarray] = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        cand, sims, valid = hnsw_search(index, x, norms, lo, hi, k, threads=threads)
        out_i[lo:hi] = cand
        out_s[lo:hi] = sims
        bad = ~valid.all(axis=1)
        if bad.any():
            short.append(np.arange(lo, hi)[bad])
        if progress:
            progress(n + hi, 2 * n)
    del index
    if short:
        fill_exact(x, np.concatenate(short), out_i, out_s)
    return KNN(out_i, out_s, "cosine")


def fill_exact(x: np.ndarray, rows: np.ndarray, out_i: np.ndarray, out_s: np.ndarray) -> None:
    """Overwrite rows ``rows`` of a graph (``out_i``/``out_s``, shape ``(n, k)``) with their exact neighbours.

    For the few items an approximate index answered with fewer than ``k`` others.
    """
    k = out_i.shape[1]
    res = search(x, x[rows], k + 1, "cosine")
    for j, r in enumerate(rows):
        keep = res.indices[j] != r
        out_i[r] = res.indices[j][keep][:k]
        out_s[r] = res.scores[j][keep][:k]


def row_norms(x: np.ndarray) -> np.ndarray:
    """L2 norms of the rows of ``x`` (n, d) as float32 ``(n,)``, zero norms replaced by 1."""
    norms = np.linalg.norm(x, axis=1).astype(np.float32)
    norms[norms == 0] = 1.0
    return norms


def hnsw_index(
    vectors: np.ndarray,
    keys: np.ndarray | None = None,
    *,
    connectivity: int = 16,
    expansion_add: int = 128,
    expansion_search: int = 64,
    threads: int = 0,
    chunk: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """A usearch HNSW index (cosine, float16 copies) of ``vectors`` (m, d) under ``keys`` (m,) (default ``0..m-1``).

    The index :func:`ann_graph` builds, also built per shard by :func:`embedscope.ray_engine.ann_graph_ray`.
    ``progress`` is called with (items added, m).
    """
    index_cls = _usearch()
    m, d = vectors.shape
    keys = np.arange(m, dtype=np.uint64) if keys is None else np.asarray(keys, dtype=np.uint64)
    index = index_cls(ndim=d, metric="cos", dtype="f16", connectivity=connectivity, expansion_add=expansion_add,
                      expansion_search=expansion_search)
    for lo in range(0, m, chunk):
        hi = min(m, lo + chunk)
        index.add(keys[lo:hi], np.ascontiguousarray(vectors[lo:hi], dtype=np.float32), threads=threads)
        if progress:
            progress(hi, m)
    return index


def hnsw_search(index: Any, x: np.ndarray, norms: np.ndarray, lo: int, hi: int, k: int, *, threads: int = 0,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``lo:hi`` of ``x`` searched in an HNSW index whose keys are row numbers of ``x``, rescored exactly.

    Each row asks the index for its ``k + 1`` nearest; the row itself and empty answers are dropped, the
    first ``k`` others are rescored as float32 cosine similarities from ``x`` and sorted (best first, ties by
    row number).

    Parameters
    ----------
    index
        From :func:`hnsw_index`; it may hold only some rows of ``x`` (a shard).
    x, norms
        All vectors, shape ``(n, d)``, and :func:`row_norms` of them, ``(n,)``.
    lo, hi
        The query rows.
    k
        Neighbours wanted.

    Returns
    -------
    indices : numpy.ndarray
        int32, shape ``(hi - lo, k)``; 0 where not ``valid``.
    scores : numpy.ndarray
        float32, shape ``(hi - lo, k)``; ``-inf`` where not ``valid`` (sorted last).
    valid : numpy.ndarray
        bool, shape ``(hi - lo, k)``: False where the index returned fewer than ``k`` others.
    """
    found = index.search(np.ascontiguousarray(x[lo:hi], dtype=np.float32), k + 1, threads=threads)
    keys = np.asarray(found.keys).astype(np.int64).reshape(hi - lo, -1)
    counts = np.asarray(found.counts).reshape(-1)
    rows = np.arange(lo, hi)
    drop = (keys == rows[:, None]) | (np.arange(keys.shape[1])[None, :] >= counts[:, None])
    order = np.argsort(drop, axis=1, kind="stable")[:, :k]  # valid non-self candidates first
    cand = np.take_along_axis(keys, order, axis=1)
    valid = ~np.take_along_axis(drop, order, axis=1)
    cand[~valid] = 0
    sims = np.einsum("bd,bkd->bk", x[lo:hi], x[cand]) / (norms[lo:hi, None] * norms[cand])
    sims = np.where(valid, sims, -np.inf).astype(np.float32)
    o = np.lexsort((cand, -sims), axis=1)
    return (np.take_along_axis(cand, o, axis=1).astype(np.int32), np.take_along_axis(sims, o, axis=1),
            np.take_along_axis(valid, o, axis=1))


def graph_recall(vectors: np.ndarray, graph: KNN, k: int = 10, *, sample: int = RECALL_SAMPLE, seed: int = 0,
                 ) -> tuple[float, float]:
    """Recall@k of a cosine kNN graph against exact search, on ``sample`` randomly chosen items.

    For each sampled item the exact ``k`` nearest other items are found by a brute-force scan of all
    ``vectors`` (only those rows: ``sample x n`` similarities, in blocks); a graph neighbour counts as found
    if it is among them or ties the exact ``k``-th similarity (within 1e-6), so exact duplicates do not count
    as misses.

    Returns
    -------
    recall : float
        Mean share of the exact ``k`` nearest found in the graph's first ``k``.
    scan_s : float
        Seconds the exact scan of the sample took (for extrapolating the exact graph's time: about
        ``scan_s * n / sample``).
    """
    import time

    x = np.asarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = min(k, graph.k)
    if k == 0 or n < 2:
        return 1.0, 0.0
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    t0 = time.perf_counter()
    exact = search(x, x[rows], k + 1, "cosine", block_bytes=4 * BLOCK_BYTES)
    scan_s = time.perf_counter() - t0
    found = 0
    for j, r in enumerate(rows):
        keep = exact.indices[j] != r
        ex_i, ex_s = exact.indices[j][keep][:k], exact.scores[j][keep][:k]
        kth = float(ex_s[-1])
        truth = set(ex_i.tolist())
        found += sum(1 for i, s in zip(graph.indices[r, :k].tolist(), graph.scores[r, :k].tolist(), strict=True)
                     if i in truth or s >= kth - 1e-6)
    return found / (len(rows) * k), scan_s
