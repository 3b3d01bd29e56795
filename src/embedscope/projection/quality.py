"""How much a layout lies: trustworthiness, continuity and kNN recall, per item and on average.

Definitions (Venna & Kaski 2001, "Neighborhood preservation in nonlinear projection methods"; Kaski et al.
2003), with ``r(i, j)`` the rank of ``j`` among ``i``'s neighbours in the original space (1 = nearest),
``r'(i, j)`` its rank in the layout, ``N_k(i)`` / ``N'_k(i)`` the ``k`` nearest in the original space / in the
layout:

- trustworthiness ``T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in N'_k(i) \\ N_k(i)} (r(i, j) - k)``:
  are the map's neighbours real neighbours? (intruders are penalised by how far they really are);
- continuity ``C(k)``: the same with the roles swapped: are real neighbours kept together on the map?
- kNN recall@k: ``|N_k(i) & N'_k(i)| / k``, the share of an item's true neighbours that are its map neighbours.

The per-item value of T and C is the item's term of the sum, scaled so that their mean is the global figure.
Original-space ranks are exact (blocked similarity rows, never an n x n matrix). A global Spearman
correlation of original and layout distances on a random sample of pairs completes the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..search.exact import KNN, knn_graph, normalize

#: Memory budget of one block of scored items (their rows of scores, indices and layout distances against all
#: items): bounds the peak at about a gigabyte for a million items (42 items a block) while keeping the
#: matrix products large enough to run at BLAS speed.
QUALITY_BLOCK_BYTES = 1 << 30

#: Above this many items, trustworthiness and continuity are computed on a random sample of items (each
#: still ranked exactly against all items: the mean's standard error is about 0.002 at 5,000 items);
#: kNN recall always covers every item.
EXACT_MAX = 10_000


@dataclass
class Quality:
    """Honesty metrics of one layout.

    Attributes
    ----------
    k
        Neighbourhood size.
    trustworthiness, continuity, knn_recall
        Means over the items (or the sample, see ``sampled``).
    rank_correlation
        Spearman correlation of original vs layout distances over ``pairs`` random pairs.
    per_item
        ``trustworthiness``, ``continuity``, ``knn_recall``: float32 arrays of shape ``(n,)``; NaN for items
        outside the sample (kNN recall covers every item when the kNN graph is given).
    sampled
        Number of items T and C were computed on when sampled, else ``None``.
    """

    k: int
    trustworthiness: float
    continuity: float
    knn_recall: float
    rank_correlation: float
    pairs: int
    per_item: dict[str, np.ndarray] = field(default_factory=dict)
    sampled: int | None = None

    def summary(self) -> dict[str, Any]:
        """The global figures as a JSON-ready dict."""
        return {"k": self.k, "trustworthiness": self.trustworthiness, "continuity": self.continuity,
                "knn_recall": self.knn_recall, "rank_correlation": self.rank_correlation,
                "rank_pairs": self.pairs, "sampled": self.sampled}


def _low_knn(coords: np.ndarray, k: int) -> np.ndarray:
    from scipy.spatial import cKDTree

    tree = cKDTree(coords)
    _, idx = tree.query(coords, k=k + 1)
    idx = np.asarray(idx).reshape(len(coords), k + 1)
    out = np.empty((len(coords), k), np.int64)
    for i in range(len(coords)):  # drop the item itself (it may not come first when points coincide)
        row = idx[i][idx[i] != i][:k]
        out[i] = row
    return out


def layout_quality(
    vectors: np.ndarray,
    coords: np.ndarray,
    *,
    k: int = 15,
    high_knn: KNN | None = None,
    rank_pairs: int = 20_000,
    sample: int | None = None,
    seed: int = 0,
    block_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Quality:
    """Measure how well ``coords`` keeps the cosine neighbourhoods of ``vectors``.

    Parameters
    ----------
    vectors
        Original space, shape ``(n, d)``; compared by cosine.
    coords
        Layout, shape ``(n, c)`` with ``c`` = 2 or 3 (a sphere as unit x, y, z: chord distance ranks like
        the great-circle distance); compared by Euclidean distance.
    k
        Neighbourhood size (capped for small ``n``: at most ``(n - 1) // 2`` keeps T and C defined).
    high_knn
        The stored cosine kNN graph (at least ``k`` neighbours); computed when absent.
    rank_pairs
        Random pairs for the rank correlation.
    sample
        Compute T and C on this many random items only (default: all when ``n <= EXACT_MAX``).
    block_rows
        Items scored at once (default: at most 256, fewer for large ``n`` so one block's ``(rows, n)`` score,
        index and distance arrays stay within ``QUALITY_BLOCK_BYTES``).

    Returns
    -------
    Quality
    """

    x = np.asarray(vectors, dtype=np.float32)  # not normalised as a whole: that copy is 1.5 GB at 1M x 384
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms == 0] = 1.0
    inv_norm = (1.0 / norms).astype(np.float32)
    y = np.asarray(coords, dtype=np.float64)
    n = len(x)
    k = int(max(1, min(k, (n - 1) // 2))) if n >= 3 else 1
    if n < 3:
        ones = np.ones(n, np.float32)
        return Quality(k, 1.0, 1.0, 1.0, 1.0, 0, {"trustworthiness": ones, "continuity": ones, "knn_recall": ones})
    lo = _low_knn(y, k)
    rng = np.random.default_rng(seed)
    if sample is None and n > EXACT_MAX:
        sample = max(2_000, min(5_000, int(2e9 // n)))
    rows = np.sort(rng.choice(n, size=sample, replace=False)) if sample and sample < n else np.arange(n)
    if high_knn is not None and high_knn.k >= k:
        hi_all: np.ndarray | None = np.asarray(high_knn.indices[:, :k], np.int64)
    elif len(rows) == n:
        hi_all = np.asarray(knn_graph(x, k).indices, np.int64)
    else:  # no graph and a sample: the sampled rows' true neighbours come from their similarity rows below
        hi_all = None
    norm = 2.0 / (k * (2 * n - 3 * k - 1))  # per item; the mean over items gives T(k) and C(k)
    trust = np.full(n, np.nan, np.float32)
    cont = np.full(n, np.nan, np.float32)
    recall = np.full(n, np.nan, np.float32)
    if hi_all is not None:
        recall[:] = _overlap(hi_all, lo) / k
    y_sq = (y**2).sum(1)
    if block_rows is None:  # a block holds (rows, n) float32 scores, int64 indices and float64 distances
        block_rows = int(max(1, min(256, QUALITY_BLOCK_BYTES // (24 * n))))
    for start in range(0, len(rows), block_rows):
        blk = rows[start:start + block_rows]
        b = np.arange(len(blk))
        sims = normalize(x[blk]) @ x.T  # (b, n) original-space similarities; larger is nearer
        sims *= inv_norm[None, :]
        if hi_all is None:
            sims[b, blk] = -np.inf
            np.negative(sims, out=sims)  # in place (exact): no second (b, n) array
            part = np.argpartition(sims, k - 1, axis=1)[:, :k]
            np.negative(sims, out=sims)
            hi_blk = np.take_along_axis(part, np.argsort(-np.take_along_axis(sims, part, 1), axis=1), 1)
            recall[blk] = _overlap(hi_blk, lo[blk]) / k
        else:
            hi_blk = hi_all[blk]
        sims[b, blk] = np.inf  # the item itself: counted as rank 1, so counts below are 1-based ranks
        dist = y_sq[blk][:, None] + y_sq[None, :]  # (b, n) layout distances^2, two (b, n) arrays at a time
        prod = y[blk] @ y.T
        prod *= 2.0
        dist -= prod
        del prod
        dist[b, blk] = -np.inf
        trust[blk] = 1.0 - norm * _penalty(sims, lo[blk], hi_blk, k, nearer="greater")
        cont[blk] = 1.0 - norm * _penalty(dist, hi_blk, lo[blk], k, nearer="smaller")
        if progress:
            progress(min(start + block_rows, len(rows)), len(rows))

    m = min(rank_pairs, n * (n - 1) // 2)
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n - 1, size=m)
    b = b + (b >= a)
    hd = 1.0 - np.einsum("ij,ij->i", normalize(x[a]), normalize(x[b]))
    ld = np.sqrt(((y[a] - y[b]) ** 2).sum(-1))
    rho = spearman(hd, ld) if m > 2 else 1.0
    sampled = len(rows) if len(rows) < n else None
    return Quality(
        k=k, trustworthiness=float(np.nanmean(trust)), continuity=float(np.nanmean(cont)),
        knn_recall=float(np.nanmean(recall)), rank_correlation=rho if np.isfinite(rho) else 0.0, pairs=m,
        per_item={"trustworthiness": trust, "continuity": cont, "knn_recall": recall}, sampled=sampled,
    )


def average_ranks(v: np.ndarray) -> np.ndarray:
    """1-based ranks of ``v`` (n,), ties sharing their mean rank (``scipy.stats.rankdata``'s default)."""
    order = np.argsort(v, kind="mergesort")
    sv = v[order]
    starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
    ends = np.r_[starts[1:], len(v)]
    mean = (starts + ends + 1) / 2.0  # mean of the 1-based positions starts+1 .. ends
    out = np.empty(len(v), np.float64)
    out[order] = np.repeat(mean, ends - starts)
    return out


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of ``a`` and ``b`` (n,) (as ``scipy.stats.spearmanr``, without importing
    scipy.stats: 0.6 s of a one-shot command); NaN when either is constant."""
    ra, rb = average_ranks(np.asarray(a)), average_ranks(np.asarray(b))
    ra -= ra.mean()
    rb -= rb.mean()
    den = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def _overlap(a: np.ndarray, b: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Size of the intersection of each row of ``a`` and ``b`` (both (n, k), no repeats within a row)."""
    out = np.empty(len(a), np.float32)
    for s in range(0, len(a), chunk):
        out[s:s + chunk] = (a[s:s + chunk, :, None] == b[s:s + chunk, None, :]).any(-1).sum(1)
    return out


def _penalty(score: np.ndarray, found: np.ndarray, truth: np.ndarray, k: int, *, nearer: str) -> np.ndarray:
    """Sum over ``j in found[i] \\ truth[i]`` of (rank of j in ``score[i]``) - k, for each row ``i``.

    ``score`` is (b, n); ranks are 1-based counts of entries nearer than j (the item itself included).
    """
    outside = ~(found[:, :, None] == truth[:, None, :]).any(-1)  # (b, k): not a true neighbour
    vals = np.take_along_axis(score, found, axis=1)  # (b, k)
    kernel = _rank_kernel()
    if kernel is not None:
        return kernel(score, vals, outside, nearer == "greater", k)  # type: ignore[no-any-return]
    out = np.zeros(len(score), np.float64)
    step = int(max(1, min(32, (QUALITY_BLOCK_BYTES // 8) // max(1, k * score.shape[1]))))  # (step, k, n) booleans at a time
    for s in range(0, len(score), step):
        sl = slice(s, s + step)
        if nearer == "greater":
            ranks = (score[sl, None, :] > vals[sl, :, None]).sum(-1)
        else:
            ranks = (score[sl, None, :] < vals[sl, :, None]).sum(-1)
        out[sl] = np.where(outside[sl], ranks - k, 0).sum(1)
    return out


def _rank_penalty(score: np.ndarray, vals: np.ndarray, outside: np.ndarray, greater: bool, k: int) -> np.ndarray:
    """:func:`_penalty`'s counts, one pass over each row per value, rows in parallel (compiled by numba)."""
    b, n = score.shape
    out = np.zeros(b, np.float64)
    for i in prange(b):
        total = 0.0
        for c in range(vals.shape[1]):
            if not outside[i, c]:
                continue
            v = vals[i, c]
            cnt = 0
            if greater:
                for j in range(n):
                    cnt += score[i, j] > v
            else:
                for j in range(n):
                    cnt += score[i, j] < v
            total += cnt - k
        out[i] = total
    return out


def prange(n: int) -> range:  # numba.prange once compiled
    return range(n)


_KERNEL: list[Any] = []


def _rank_kernel() -> Any:
    """The compiled :func:`_rank_penalty` (numba's disk cache), or ``None`` without numba (the numpy path)."""
    if not _KERNEL:
        try:
            import numba  # noqa: F401
        except ImportError:
            _KERNEL.append(None)
        else:
            from .kernels import compile_kernel

            _KERNEL.append(compile_kernel(globals(), _rank_penalty, parallel=True))
    return _KERNEL[0]
