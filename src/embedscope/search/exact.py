"""Exact k-nearest neighbours under four metrics, in blocks so memory stays bounded (approximate: :mod:`.ann`).

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
from typing import Literal

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

    For many queries at once: kNN graphs, the ground truth of evaluations (recall of a layout, of an HNSW
    graph, of a compression codec), qrels retrieval. One query against every item (``Scope.neighbors``, the
    similarity analyses, the server's search) goes through :class:`embedscope.search.scan.QueryScan` instead,
    which gives the same rows and scores (:meth:`~embedscope.search.scan.QueryScan.top`).

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
