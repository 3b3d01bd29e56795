"""Approximate kNN graphs (HNSW, usearch) for spaces above :data:`ANN_ABOVE` items, and their measured recall.

The index stores float16 cosine vectors; every candidate is rescored as an exact float32 cosine similarity, and the
few items the index answers with fewer than ``k`` others get exact neighbours (:func:`~embedscope.search.exact.fill_exact`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .exact import BLOCK_BYTES, KNN, fill_exact, row_norms, search

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

    The index :func:`ann_graph` builds, also built per shard by :func:`embedscope.engines.ray.knn.ann_graph_ray`.
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
