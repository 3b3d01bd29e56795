"""kNN graphs on Ray: the exact graph over query shards, the approximate graph as merged per-shard HNSW indexes."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ...search.exact import BLOCK_BYTES, KNN, search
from .runtime import ray_runtime
from .staging import ShardStage, gather


# --------------------------------------------------------------------------------------------- kNN graph
def _knn_shard(x: np.ndarray, start: int, stop: int, k: int, block_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine neighbours of rows ``start:stop`` of ``x`` (n, d) among all rows.

    Returns ``(indices, scores)``, int32 and float32 of shape ``(stop - start, k)``, best first, ties by index,
    a row never its own neighbour: what :func:`embedscope.search.exact.knn_graph` gives for those rows, computed
    the same way (each block's queries normalised, scores scaled by ``1/|x|``).
    """
    from ...search.exact import normalize, topk_smallest

    n = x.shape[0]
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms == 0] = 1.0
    inv_norm = (1.0 / norms).astype(np.float32)
    m = stop - start
    out_i = np.zeros((m, k), np.int32)
    out_s = np.zeros((m, k), np.float32)
    rows = max(1, min(n, block_bytes // (4 * n)))
    for a in range(start, stop, rows):
        b = min(stop, a + rows)
        key = normalize(x[a:b]) @ x.T  # (b - a, n), higher is closer
        key *= inv_norm[None, :]
        np.negative(key, out=key)
        key[np.arange(b - a), np.arange(a, b)] = np.inf
        cand = topk_smallest(key, k)
        out_i[a - start:b - start] = cand
        out_s[a - start:b - start] = -np.take_along_axis(key, cand, axis=1)
    return out_i, out_s


def knn_graph_ray(
    vectors: np.ndarray,
    k: int = 50,
    *,
    shards: int | None = None,
    address: str | None = None,
    block_bytes: int = BLOCK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """The exact cosine kNN graph, its query rows split into shards scanned by Ray tasks.

    The vectors go into the object store once; task ``j`` finds the neighbours of shard ``j``'s
    rows among all of them in blocks of ``block_bytes`` of scores; the shards are concatenated in row order.
    Shards are whole blocks of the single-process scan, so the scores are the same to the bit and near-ties
    fall the same way.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    k
        Neighbours per item (capped at ``n - 1``).
    shards
        Query shards (tasks); default four per CPU of the cluster.
    address
        See :func:`ray_runtime`.
    progress
        Called with (rows done, n) as shards finish.

    Returns
    -------
    KNN
        Cosine, shape ``(n, min(k, n - 1))``: the graph :func:`embedscope.search.exact.knn_graph` gives.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = int(max(0, min(k, n - 1)))
    if k == 0:
        return search(x, x, k, "cosine", exclude_self=True)
    with ray_runtime(address) as ray:
        n_shards = shards or 4 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        # shards made of whole blocks of the single-process scan, so every block multiplies the same rows and
        # the scores, hence the order of near-ties, are the same to the bit
        rows = max(1, min(n, block_bytes // (4 * n)))
        blocks = -(-n // rows)
        n_shards = max(1, min(n_shards, blocks))
        bounds = np.minimum(np.linspace(0, blocks, n_shards + 1).astype(int) * rows, n)
        task = ray.remote(num_cpus=1)(_knn_shard)
        ref = ray.put(x)
        pending = {task.remote(ref, int(a), int(b), k, block_bytes): (int(a), int(b))
                   for a, b in itertools.pairwise(bounds) if b > a}
        out_i = np.zeros((n, k), np.int32)
        out_s = np.zeros((n, k), np.float32)
        done = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            a, b = pending.pop(ready[0])
            out_i[a:b], out_s[a:b] = ray.get(ready[0])
            done += b - a
            if progress:
                progress(done, n)
    return KNN(out_i, out_s, "cosine")


# ------------------------------------------------------------------------------ approximate kNN graph
#: Query rows searched per call inside a shard task (bounds the task's memory: the candidates' vectors,
#: ``ANN_CHUNK * k * d`` float32, 150 MB at k = 50, d = 384).
ANN_CHUNK = 2_000


def _ann_shard(x: np.ndarray, lo: int, hi: int, k: int, hnsw: dict[str, int], threads: int,
               ) -> dict[str, np.ndarray]:
    """Rows ``lo:hi`` of ``x`` (n, d) indexed in an HNSW index, every row of ``x`` searched in it.

    Returns
    -------
    dict
        ``indices`` int32 and ``scores`` float32, shape ``(n, k)``: each item's ``k`` nearest among the
        shard's items (itself excluded), exact float32 cosine, best first; ``-inf`` scores where the index
        gave fewer.
    """
    from ...search.ann import hnsw_index, hnsw_search
    from ...search.exact import row_norms

    index = hnsw_index(x[lo:hi], np.arange(lo, hi), threads=threads, connectivity=hnsw["connectivity"],
                       expansion_add=hnsw["expansion_add"], expansion_search=hnsw["expansion_search"])
    norms = row_norms(x)
    n = x.shape[0]
    out_i = np.empty((n, k), np.int32)
    out_s = np.empty((n, k), np.float32)
    for a in range(0, n, ANN_CHUNK):
        b = min(n, a + ANN_CHUNK)
        out_i[a:b], out_s[a:b], _ = hnsw_search(index, x, norms, a, b, k, threads=threads)
    return {"indices": out_i, "scores": out_s}


def merge_topk(a_i: np.ndarray, a_s: np.ndarray, b_i: np.ndarray, b_s: np.ndarray, rows: int = 50_000,
               ) -> None:
    """Merge the top-k lists ``b`` into ``a`` in place: per row, the ``k`` best of both by (score desc, index).

    ``a_i``/``b_i`` int32 and ``a_s``/``b_s`` float32 of shape ``(n, k)`` (higher scores closer; the two hold
    disjoint candidates). The order is total, so merging shards in any order gives the same lists.
    """
    n, k = a_i.shape
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        idx = np.concatenate([a_i[lo:hi], b_i[lo:hi]], axis=1)
        sc = np.concatenate([a_s[lo:hi], b_s[lo:hi]], axis=1)
        o = np.lexsort((idx, -sc), axis=1)[:, :k]
        a_i[lo:hi] = np.take_along_axis(idx, o, axis=1)
        a_s[lo:hi] = np.take_along_axis(sc, o, axis=1)


def ann_graph_ray(
    vectors: np.ndarray,
    k: int = 50,
    *,
    shards: int | None = None,
    address: str | None = None,
    staging: str | os.PathLike[str] | None = None,
    key: str = "",
    connectivity: int = 16,
    expansion_add: int = 128,
    expansion_search: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """An approximate cosine kNN graph: one HNSW index per shard of the items, built by a Ray task, merged.

    Task ``j`` indexes shard ``j``'s items (:func:`embedscope.search.ann.hnsw_index`, the index
    :func:`embedscope.search.ann.ann_graph` builds over all items) and searches *every* item in it, rescoring
    the candidates as exact float32 cosine similarities (:func:`embedscope.search.ann.hnsw_search`). The driver
    merges the shards' lists into one top-``k`` per item (:func:`merge_topk`); items left with fewer than
    ``k`` candidates get an exact search. Each shard's lists are staged in ``staging`` as they arrive, so a
    killed job reruns only the shards missing there. Measure the result with
    :func:`embedscope.search.ann.graph_recall`.

    Cost: building is about that of one index over all items; searching is ``shards`` times that of one
    index (every item visits every shard's index), spread over the cluster.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``; put once in the object store.
    k
        Neighbours per item (capped at ``n - 1``).
    shards
        Index shards (tasks); default the cluster's CPUs, at most ``n // (k + 1)`` (a shard holds at least
        ``k + 1`` items).
    address
        See :func:`ray_runtime`.
    staging, key
        Directory for finished shards (``None``: no resume) and a fingerprint of ``vectors`` naming the job.
    connectivity, expansion_add, expansion_search
        HNSW's M, efConstruction and efSearch (raised to ``k + 1``), as in :func:`~embedscope.search.ann.ann_graph`.
    progress
        Called with (shards done, shards).

    Returns
    -------
    KNN
        Shape ``(n, min(k, n - 1))``; an item is never its own neighbour.
    """
    from ...search.exact import fill_exact

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = int(max(0, min(k, n - 1)))
    if k == 0:
        return KNN(np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float32), "cosine")
    hnsw = {"connectivity": connectivity, "expansion_add": expansion_add,
            "expansion_search": max(expansion_search, k + 1)}
    with ray_runtime(address) as ray:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        n_shards = max(1, min(shards or cpus, n // (k + 1)))
        bounds = np.linspace(0, n, n_shards + 1).astype(int)
        stage = ShardStage(staging, {"step": "ann", "key": key, "n": n, "k": k, "shards": n_shards, **hnsw})
        out_i = np.zeros((n, k), np.int32)
        out_s = np.full((n, k), -np.inf, np.float32)
        task = ray.remote(num_cpus=1, max_retries=3)(_ann_shard)
        ref: list[Any] = []

        def submit(j: int) -> Any:
            if not ref:
                ref.append(ray.put(x))
            return task.remote(ref[0], int(bounds[j]), int(bounds[j + 1]), k, hnsw, 1)

        def use(j: int, res: dict[str, np.ndarray]) -> None:
            merge_topk(out_i, out_s, res["indices"], res["scores"])

        gather(ray, stage, n_shards, submit, use, progress, window=n_shards)
        ref.clear()
    short = np.flatnonzero(~np.isfinite(out_s).all(axis=1))
    if len(short):
        fill_exact(x, short, out_i, out_s)
    stage.drop()
    return KNN(out_i, out_s, "cosine")
