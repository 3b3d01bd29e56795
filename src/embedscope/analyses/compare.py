"""Compare two embedding spaces of the same items, in their original spaces (not their 2-D pictures).

- **neighbour agreement**: per item, the Jaccard overlap of its k nearest neighbours in space A and in B;
- **linear CKA** (Kornblith et al. 2019): similarity of the two representations, invariant to rotation and
  isotropic scaling, defined for different dimensions: ``||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` on
  column-centred data (computed from d x d products, never an n x n matrix);
- **rank correlation**: Spearman correlation of the cosine similarities of random pairs in A and in B;
- **similarity scales**: both spaces' similarities of the same random pairs, and a percentile calibration
  (:class:`Calibration`) that maps a similarity in A to the similarity at the same percentile in B;
- **retrieval quality**: precision@k, recall@k and nDCG@k per space, of same-label retrieval (a label column)
  or of user-given query/relevant-item pairs (qrels), with a paired bootstrap 95% interval of each difference
  and a verdict (which space wins, or a tie when the interval holds 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..search.exact import KNN, normalize


@dataclass
class Comparison:
    """How two spaces agree on the same ``n`` items.

    Attributes
    ----------
    k
        Neighbourhood size.
    jaccard
        float32, shape ``(n,)``: per-item Jaccard overlap of the k-NN sets.
    cka
        Linear CKA in [0, 1].
    spearman
        Rank correlation of pair similarities.
    pairs
        Random pairs used for ``spearman``.
    retrieval
        Same-label retrieval table (see :func:`retrieval_table`), or ``None`` without labels.
    calibration
        Percentile calibration between the two similarity scales (on the same random pairs), or ``None``.
    chance
        The mean Jaccard@k two unrelated spaces would show (random neighbour sets among the ``n - 1`` others).
    """

    k: int
    jaccard: np.ndarray
    cka: float
    spearman: float
    pairs: int
    retrieval: dict[str, Any] | None = None
    calibration: Calibration | None = None
    chance: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


#: Percentiles listed in the calibration table.
CALIBRATION_PERCENTILES = (1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9)


@dataclass
class Calibration:
    """Map a similarity in space A to the similarity at the same percentile in space B (and back).

    Built from the cosine similarities of the same random item pairs in both spaces. "0.8 in A" becomes
    "the top x% of pairs in A", then the value with the same share of pairs above it in B.

    Attributes
    ----------
    percentiles
        float64, shape ``(p,)``: 0..100, increasing.
    a, b
        float64, shape ``(p,)``: the similarity at each percentile in A and in B (non-decreasing).
    """

    percentiles: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def fit(cls, sim_a: np.ndarray, sim_b: np.ndarray, *, steps: int = 1001) -> Calibration:
        """From pair similarities ``sim_a`` and ``sim_b``, shape ``(m,)`` each (the same pairs)."""
        pct = np.linspace(0.0, 100.0, steps)
        return cls(pct, np.percentile(np.asarray(sim_a, np.float64), pct),
                   np.percentile(np.asarray(sim_b, np.float64), pct))

    @staticmethod
    def _map(v: Any, src: np.ndarray, dst: np.ndarray, pct: np.ndarray) -> np.ndarray:
        # ties in src (flat stretches) would make interp ambiguous: go through the mean percentile of each value
        src_u, inv = np.unique(src, return_inverse=True)
        pct_u = np.bincount(inv, weights=pct) / np.bincount(inv)
        p = np.interp(np.asarray(v, np.float64), src_u, pct_u)
        return np.interp(p, pct, dst)

    def a_to_b(self, v: float | np.ndarray) -> np.ndarray:
        """The similarity in B at the percentile that ``v`` has in A (clipped to the observed range)."""
        return self._map(v, self.a, self.b, self.percentiles)

    def b_to_a(self, v: float | np.ndarray) -> np.ndarray:
        """The similarity in A at the percentile that ``v`` has in B."""
        return self._map(v, self.b, self.a, self.percentiles)

    def percentile_a(self, v: float | np.ndarray) -> np.ndarray:
        """The percentile (0..100) of similarity ``v`` among A's pairs."""
        src_u, inv = np.unique(self.a, return_inverse=True)
        return np.interp(np.asarray(v, np.float64), src_u, np.bincount(inv, weights=self.percentiles) / np.bincount(inv))

    def table(self, percentiles: tuple[float, ...] = CALIBRATION_PERCENTILES) -> dict[str, list[float]]:
        """``{"percentiles": [...], "a": [...], "b": [...]}`` at the listed percentiles (JSON-ready)."""
        p = np.asarray(percentiles, np.float64)
        return {"percentiles": p.tolist(), "a": np.interp(p, self.percentiles, self.a).round(4).tolist(),
                "b": np.interp(p, self.percentiles, self.b).round(4).tolist()}


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row Jaccard overlap of two neighbour index arrays of shape ``(n, k)``."""
    inter = np.empty(len(a), np.float32)
    for s in range(0, len(a), 4096):
        inter[s:s + 4096] = (a[s:s + 4096, :, None] == b[s:s + 4096, None, :]).any(-1).sum(1)
    k = a.shape[1]
    return inter / np.maximum(2 * k - inter, 1)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of ``x`` (n, d1) and ``y`` (n, d2), in float64."""
    xc = np.asarray(x, np.float64) - np.asarray(x, np.float64).mean(0)
    yc = np.asarray(y, np.float64) - np.asarray(y, np.float64).mean(0)
    cross = np.linalg.norm(yc.T @ xc) ** 2
    denom = np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc)
    return float(cross / denom) if denom > 0 else 0.0


def pair_similarities(x: np.ndarray, y: np.ndarray, *, pairs: int = 50_000, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of the same random pairs of distinct items in ``x`` (n, d1) and ``y`` (n, d2).

    Returns
    -------
    tuple of numpy.ndarray
        float32, shape ``(m,)`` each, ``m = min(pairs, n (n - 1) / 2)``.
    """
    n = len(x)
    if n < 2:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    rng = np.random.default_rng(seed)
    m = min(pairs, n * (n - 1) // 2)
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n - 1, size=m)
    b = b + (b >= a)
    sx = np.empty(m, np.float32)
    sy = np.empty(m, np.float32)
    for s in range(0, m, 8192):  # normalise only the rows used, in blocks
        e = min(m, s + 8192)
        sx[s:e] = np.einsum("ij,ij->i", normalize(x[a[s:e]]), normalize(x[b[s:e]]))
        sy[s:e] = np.einsum("ij,ij->i", normalize(y[a[s:e]]), normalize(y[b[s:e]]))
    return sx, sy


def pair_spearman(x: np.ndarray, y: np.ndarray, *, pairs: int = 50_000, seed: int = 0) -> tuple[float, int]:
    """Spearman correlation of cosine similarities of the same random pairs in two spaces."""
    if len(x) < 3:
        return 1.0, 0
    sx, sy = pair_similarities(x, y, pairs=pairs, seed=seed)
    return _spearman(sx, sy), len(sx)


def _spearman(sx: np.ndarray, sy: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(sx) < 3 or np.ptp(sx) == 0 or np.ptp(sy) == 0:
        return 1.0 if len(sx) < 3 or (np.ptp(sx) == 0 and np.ptp(sy) == 0) else 0.0
    rho = spearmanr(sx, sy).statistic
    return float(rho) if np.isfinite(rho) else 0.0


def chance_jaccard(n: int, k: int) -> float:
    """Expected Jaccard overlap of two independent random ``k``-sets drawn from ``n - 1`` candidates.

    The intersection is hypergeometric with mean ``k^2 / (n - 1)``; the expectation of the ratio is computed
    exactly over that distribution.
    """
    from scipy.stats import hypergeom

    pool = n - 1
    if pool <= 0 or k <= 0:
        return 0.0
    k = min(k, pool)
    inter = np.arange(0, k + 1)
    pmf = hypergeom(pool, k, k).pmf(inter)
    return float((pmf * inter / (2 * k - inter)).sum())


def label_precision(graph: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-item precision@k: share of an item's k neighbours with its label; shape ``(n,)``."""
    return (labels[graph] == labels[:, None]).mean(1).astype(np.float32)


def _dcg_discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def label_retrieval(graph: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Same-label retrieval of every item from its ranked neighbours.

    Parameters
    ----------
    graph
        int, shape ``(n, k)``: each item's k nearest other items, best first.
    labels
        Shape ``(n,)``.

    Returns
    -------
    dict
        float64 arrays of shape ``(q,)`` over the ``q`` items that have at least one other item with their
        label: ``precision`` (share of the k retrieved with the label), ``recall`` (share of the other items
        with the label that were retrieved), ``ndcg`` (binary gains, ideal = every slot relevant up to the
        number of relevant items); and ``rows`` (int64, the items measured).
    """
    lab = np.asarray(labels)
    _, inv, counts = np.unique(lab, return_inverse=True, return_counts=True)
    rel_total = counts[inv] - 1  # other items with the same label
    rows = np.flatnonzero(rel_total > 0)
    k = graph.shape[1]
    hit = (lab[graph[rows]] == lab[rows, None]).astype(np.float64)  # (q, k)
    disc = _dcg_discounts(k)
    ideal_cum = np.concatenate([[0.0], np.cumsum(disc)])
    rt = rel_total[rows]
    return {"rows": rows.astype(np.int64), "precision": hit.mean(1) if k else np.zeros(len(rows)),
            "recall": hit.sum(1) / rt, "ndcg": (hit @ disc) / ideal_cum[np.minimum(rt, k)]}


def qrels_retrieval(ranked: np.ndarray, relevant: list[dict[int, float]]) -> dict[str, np.ndarray]:
    """Retrieval quality of ranked results against graded relevance judgements (qrels).

    Parameters
    ----------
    ranked
        int, shape ``(q, k)``: the rows retrieved for each query, best first.
    relevant
        Length ``q``: for each query, ``{row: grade}`` of its relevant items (grade > 0).

    Returns
    -------
    dict
        float64 arrays of shape ``(q,)``: ``precision`` (relevant retrieved / k), ``recall`` (relevant retrieved
        / relevant), ``ndcg`` (linear gains = grades; ideal = the grades sorted, best first), ``mrr`` (1 / rank of
        the first relevant item, 0 if none in the top k).
    """
    q, k = ranked.shape
    disc = _dcg_discounts(k)
    out = {m: np.zeros(q) for m in ("precision", "recall", "ndcg", "mrr")}
    for i, rel in enumerate(relevant):
        gains = np.array([rel.get(int(r), 0.0) for r in ranked[i]], np.float64)
        hits = gains > 0
        n_rel = sum(1 for g in rel.values() if g > 0)
        ideal = np.sort(np.array([g for g in rel.values() if g > 0], np.float64))[::-1][:k]
        out["precision"][i] = hits.sum() / k if k else 0.0
        out["recall"][i] = hits.sum() / n_rel if n_rel else 0.0
        idcg = float(ideal @ disc[:len(ideal)])
        out["ndcg"][i] = float(gains @ disc) / idcg if idcg > 0 else 0.0
        first = np.flatnonzero(hits)
        out["mrr"][i] = 1.0 / (first[0] + 1) if len(first) else 0.0
    return out


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% interval of ``mean(a) - mean(b)`` over paired per-query values (resampling queries), shape ``(q,)``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    d = a - b
    means = np.empty(n)
    for s in range(0, n, 100):  # resample 100 at a time (q x 100 indices), bounded memory
        e = min(n, s + 100)
        means[s:e] = d[rng.integers(0, len(d), size=(e - s, len(d)))].mean(1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def retrieval_table(per_space: dict[str, dict[str, np.ndarray]], metrics: tuple[str, ...], k: int, *,
                    bootstrap: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per metric: each space's mean, the best space, and its margin over the runner-up.

    Parameters
    ----------
    per_space
        ``{space: {metric: per-query values (q,)}}``, the same queries in the same order in every space.

    Returns
    -------
    list of dict
        ``{"metric": "precision@10", "values": {space: mean}, "best": space, "runner_up": space,
        "difference": best - runner-up, "ci95": [lo, hi] (paired bootstrap), "winner": space or None}``;
        ``winner`` is ``None`` (a tie) when the interval holds 0.
    """
    rows = []
    names = list(per_space)
    for m in metrics:
        means = {s: float(np.mean(per_space[s][m])) if len(per_space[s][m]) else 0.0 for s in names}
        order = sorted(names, key=lambda s: -means[s])
        best, second = order[0], order[1] if len(order) > 1 else order[0]
        lo, hi = paired_bootstrap(per_space[best][m], per_space[second][m], n=bootstrap, seed=seed)
        rows.append({"metric": f"{m}@{k}", "values": means, "best": best, "runner_up": second,
                     "difference": means[best] - means[second], "ci95": [lo, hi],
                     "winner": best if lo > 0 else None})
    return rows


def compare(x: np.ndarray, y: np.ndarray, knn_x: KNN, knn_y: KNN, *, k: int = 10,
            labels: np.ndarray | None = None, seed: int = 0, bootstrap: int = 1000,
            pairs: int = 50_000) -> Comparison:
    """Compare spaces ``x`` (n, d1) and ``y`` (n, d2) whose rows are the same items, with their kNN graphs.

    Parameters
    ----------
    labels
        Optional labels, shape ``(n,)``, for same-label retrieval (precision, recall, nDCG at k).
    pairs
        Random pairs for the rank correlation and the calibration.
    """
    k = int(min(k, knn_x.k, knn_y.k))
    jac = jaccard(knn_x.indices[:, :k], knn_y.indices[:, :k])
    sx, sy = pair_similarities(x, y, pairs=pairs, seed=seed)
    rho = _spearman(sx, sy) if len(x) >= 3 else 1.0
    calibration = Calibration.fit(sx, sy) if len(sx) else None
    retrieval = None
    if labels is not None and k > 0:
        lab = np.asarray(labels)
        ra = label_retrieval(knn_x.indices[:, :k], lab)
        rb = label_retrieval(knn_y.indices[:, :k], lab)
        table = retrieval_table({"a": ra, "b": rb}, ("precision", "recall", "ndcg"), k, bootstrap=bootstrap,
                                seed=seed)
        p = table[0]
        diff = p["values"]["a"] - p["values"]["b"]
        lo, hi = paired_bootstrap(ra["precision"], rb["precision"], n=bootstrap, seed=seed)
        retrieval = {"metric": f"precision@{k} of same-label neighbours", "a": p["values"]["a"],
                     "b": p["values"]["b"], "difference": diff, "ci95": [lo, hi], "bootstrap": bootstrap,
                     "queries": len(ra["rows"]), "rows": table}
    return Comparison(k, jac, linear_cka(x, y), rho, len(sx), retrieval, calibration, chance_jaccard(len(x), k))


def changed_most(jac: np.ndarray, xa: np.ndarray, xb: np.ndarray, na: np.ndarray, nb: np.ndarray, top: int,
                 *, cap: int = 5_000) -> np.ndarray:
    """The ``top`` items whose neighbourhoods changed most between two spaces, most changed first.

    Lowest Jaccard first; ties (often many items share 0) broken by how far each space's neighbours moved in
    the other space: the mean cosine, in B, of the item to its A-neighbours relative to its own B-neighbours,
    plus the same from B to A (lower = moved further).

    Parameters
    ----------
    jac
        Float, shape ``(n,)``: each item's Jaccard@k between its neighbours in A and in B.
    xa, xb
        The items' vectors in A and B, shapes ``(n, d_a)`` and ``(n, d_b)``.
    na, nb
        Int, shape ``(n, k)``: the items' neighbours in A and B (rows of ``xa``/``xb``).
    top
        How many items to return.
    cap
        At most this many tied items are measured for the tie-break.

    Returns
    -------
    numpy.ndarray
        Int, shape ``(min(top, n),)``: rows, most changed first.
    """
    order = np.argsort(jac, kind="stable")
    if len(order) <= top:
        return order
    tied = order[jac[order] <= jac[order[top - 1]]][:cap]
    if len(tied) <= top:
        return order[:top]
    moved = np.zeros(len(tied))
    for x, mine, theirs in ((xb, na, nb), (xa, nb, na)):  # A's neighbours measured in B, then B's in A
        xn = x[tied] / np.maximum(np.linalg.norm(x[tied], axis=1, keepdims=True), 1e-12)

        def mean_cos(nbrs: np.ndarray, x: np.ndarray = x, xn: np.ndarray = xn) -> np.ndarray:
            v = x[nbrs[tied]]
            v = v / np.maximum(np.linalg.norm(v, axis=2, keepdims=True), 1e-12)
            return np.einsum("nd,nkd->nk", xn, v).mean(1)

        own = mean_cos(theirs)
        moved += mean_cos(mine) / np.where(np.abs(own) > 1e-9, own, 1e-9)
    worst = tied[np.lexsort((moved, jac[tied]))]
    return worst[:top]


def similarity_scales(xa: np.ndarray, xb: np.ndarray, *, seed: int = 0, bins: int = 50) -> dict[str, Any]:
    """Both spaces' cosine similarities of the same random pairs, as histograms on one shared range.

    Parameters
    ----------
    xa, xb
        The same items' vectors in two spaces, shapes ``(n, d_a)`` and ``(n, d_b)``.
    seed
        Seed of the random pairs (see :func:`pair_similarities`).
    bins
        Histogram bins.

    Returns
    -------
    dict
        ``{"edges": bins + 1 floats, "a": counts, "b": counts, "pairs": int, "mean": [a, b], "std": [a, b]}``
        (``{"edges": [], "a": [], "b": [], "pairs": 0}`` when there are no pairs).
    """
    sa, sb = pair_similarities(xa, xb, seed=seed)
    if len(sa) == 0:
        return {"edges": [], "a": [], "b": [], "pairs": 0}
    lo = float(min(sa.min(), sb.min()))
    hi = float(max(sa.max(), sb.max()))
    if hi <= lo:
        hi = lo + 1e-6
    edges = np.linspace(lo, hi, bins + 1)
    return {"edges": edges.round(5).tolist(), "a": np.histogram(sa, edges)[0].tolist(),
            "b": np.histogram(sb, edges)[0].tolist(), "pairs": len(sa),
            "mean": [float(sa.mean()), float(sb.mean())], "std": [float(sa.std()), float(sb.std())]}
