"""Stretch: translating with few or no paired items, using unpaired vectors of both spaces.

**Experimental.** ``selflearn`` starts from a map and refines it with pseudo-pairs found in unpaired data:

1. start: orthogonal Procrustes on the known pairs; with fewer than :data:`MIN_SEED_PAIRS` pairs, an
   unsupervised start in the spirit of mini-vec2vec: k-means in each space, the two centroid similarity
   graphs matched by approximate quadratic assignment (``scipy.optimize.quadratic_assignment``, FAQ), the
   matched centroids used as pseudo-pairs;
2. refine (Artetxe et al. 2017; Conneau et al. 2018, "MUSE"): translate the unpaired source vectors, take
   the mutual nearest neighbours among the unpaired target vectors (cosine) as pseudo-pairs, keep the most
   similar half, refit Procrustes on known + pseudo-pairs; repeat.

The map is an orthogonal Procrustes map (method ``procrustes`` in the file), so it saves, loads and applies
like any other. It only helps when the two spaces have a similar shape (two neural sentence models); between
a neural model and TF-IDF, expect little. :func:`evaluate_fewshot` measures it with the same metrics as
:func:`~embedscope.translate.evaluate`, on held-out items that are in neither pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .evaluate import CurvePoint, check_pairs, score
from .maps import Translator, fit_map
from .ridge import normalize

#: Below this many pairs, the start is unsupervised (cluster matching).
MIN_SEED_PAIRS = 10


def _procrustes(xc: np.ndarray, yc: np.ndarray, ds: int, dt: int) -> np.ndarray:
    """Semi-orthogonal ``W`` ``(d_s, d_t)`` times the least-squares scale (as ``fit_map``'s procrustes)."""
    if len(xc) == 0:
        return np.eye(ds, dt)
    u, sv, vt = np.linalg.svd(xc.T @ yc, full_matrices=False)
    return np.asarray(u @ vt) * float(sv.sum() / max(float((xc**2).sum()), 1e-12))


def _mutual_nn(p: np.ndarray, q: np.ndarray, block: int = 2048) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mutual nearest neighbours (cosine) between rows of ``p`` ``(m, d)`` and ``q`` ``(k, d)``."""
    pn, qn = normalize(p.astype(np.float32)), normalize(q.astype(np.float32))
    fwd = np.empty(len(pn), np.int64)
    fsim = np.empty(len(pn), np.float32)
    bwd_best = np.full(len(qn), -np.inf, np.float32)
    bwd = np.zeros(len(qn), np.int64)
    for s in range(0, len(pn), block):
        sim = pn[s:s + block] @ qn.T
        fwd[s:s + block] = sim.argmax(1)
        fsim[s:s + block] = sim.max(1)
        col_best = sim.max(0)
        better = col_best > bwd_best
        bwd[better] = sim.argmax(0)[better] + s
        bwd_best[better] = col_best[better]
    rows = np.flatnonzero(bwd[fwd] == np.arange(len(pn)))
    return rows, fwd[rows], fsim[rows]


def _cluster_start(xn: np.ndarray, yn: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Matched centroids of the two spaces (pseudo-pairs) by graph matching of their similarity graphs."""
    from scipy.optimize import quadratic_assignment
    from sklearn.cluster import KMeans

    ca = KMeans(k, n_init=3, random_state=seed).fit(xn).cluster_centers_
    cb = KMeans(k, n_init=3, random_state=seed).fit(yn).cluster_centers_
    sa, sb = normalize(ca) @ normalize(ca).T, normalize(cb) @ normalize(cb).T
    best = None
    for r in range(8):  # FAQ finds local optima: restart from random doubly stochastic points
        opts = {"maximize": True, "P0": "randomized", "rng": np.random.default_rng(seed + r)}
        res = quadratic_assignment(sa, sb, method="faq", options=opts)
        if best is None or res.fun > best.fun:
            best = res
    assert best is not None
    return ca, cb[best.col_ind]


@dataclass
class SelfLearnInfo:
    """What :func:`fit_selflearn` did: the start, and pseudo-pairs per refinement round."""

    start: str
    rounds: list[int]


def fit_selflearn(x: np.ndarray, y: np.ndarray, pool_x: np.ndarray, pool_y: np.ndarray, *, iterations: int = 5,
                  keep: float = 0.5, clusters: int = 32, seed: int = 0) -> Translator:
    """Fit an orthogonal map from few pairs plus unpaired vectors of both spaces.

    Parameters
    ----------
    x, y
        Known pairs: source ``(n, d_s)`` and target ``(n, d_t)``; ``n`` may be 0.
    pool_x, pool_y
        Unpaired source ``(m_s, d_s)`` and target ``(m_t, d_t)`` vectors (no known correspondence).
    iterations
        Refinement rounds.
    keep
        Share of the mutual nearest neighbours (the most similar) used as pseudo-pairs in a round.
    clusters
        k-means clusters of the unsupervised start (used when ``n <`` :data:`MIN_SEED_PAIRS`).
    seed
        Seeds k-means and the graph matching.

    Returns
    -------
    Translator
        ``method == "procrustes"``; ``meta["params"]`` records ``selflearn`` details.
    """
    ds, dt = pool_x.shape[1], pool_y.shape[1]
    allx = normalize(np.concatenate([np.asarray(x, np.float64).reshape(-1, ds), np.asarray(pool_x, np.float64)]))
    ally = normalize(np.concatenate([np.asarray(y, np.float64).reshape(-1, dt), np.asarray(pool_y, np.float64)]))
    mx, my = allx.mean(0), ally.mean(0)
    n = len(x)
    xs, ys = allx[:n] - mx, ally[:n] - my
    px, py = allx[n:] - mx, ally[n:] - my
    starts = [("pairs", xs, ys)] if n >= 2 else []
    if n < MIN_SEED_PAIRS:
        ca, cb = _cluster_start(px, py, min(clusters, len(px), len(py)), seed)
        starts.append(("cluster matching", np.concatenate([xs, ca]), np.concatenate([ys, cb])))
    best: tuple[float, str, np.ndarray, list[int]] | None = None
    for start, sx, sy in starts:  # several starts: keep the one whose pseudo-pairs agree best (no labels used)
        w = _procrustes(sx, sy, ds, dt)
        rounds: list[int] = []
        agree = -np.inf
        for _ in range(iterations):
            rows, cols, sim = _mutual_nn(px @ w, py)  # cosine: the scale of w does not matter here
            if len(rows) == 0:
                break
            top = np.argsort(-sim)[: max(1, int(len(rows) * keep))]
            rounds.append(len(top))
            agree = float(sim[top].sum()) / max(len(px), 1)
            w = _procrustes(np.concatenate([xs, px[rows[top]]]), np.concatenate([ys, py[cols[top]]]), ds, dt)
        if best is None or agree > best[0]:
            best = (agree, start, w, rounds)
    assert best is not None
    _, start, w, rounds = best
    tl = fit_map(np.ones((1, ds)), np.ones((1, dt)), "mean")  # a carrier with the right shapes
    tl.method = "procrustes"
    tl.src_mean, tl.tgt_mean = mx.astype(np.float32), my.astype(np.float32)
    tl.weights = {"W": np.ascontiguousarray(w, np.float32)}
    tl.output_norm = 1.0
    tl.meta.update({"n_train": n, "params": {"selflearn": {"start": start, "pseudo_pairs": rounds, "pool": [len(px), len(py)]}}})
    return tl


def evaluate_fewshot(x: np.ndarray, y: np.ndarray, sizes: Sequence[int] = (0, 10, 25, 50, 100, 250), *,
                     test_size: int = 1000, pool: int = 4000, seed: int = 0, iterations: int = 5) -> list[CurvePoint]:
    """Few-pair learning curve of ``selflearn`` vs Procrustes and ridge fitted on the pairs alone.

    A random ``test_size`` items are held out (in neither pool). For each size ``s``, ``s`` pairs are known;
    the unpaired pools are the source vectors of ``pool`` other items and the target vectors of a *different*
    random ``pool`` items (so the pools are not even the same items), all scored on the held-out items.

    Returns
    -------
    list of CurvePoint
        Methods ``selflearn``, ``procrustes``, ``ridge`` (``s >= 2``) and ``mean`` per size.
    """
    x, y = check_pairs(x, y)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    test, rest = perm[:test_size], perm[test_size:]
    pool = min(pool, len(rest) - max(sizes))
    out: list[CurvePoint] = []
    for s in sizes:
        pairs = rest[:s]
        others = rest[s:]
        px = others[rng.permutation(len(others))[:pool]]
        py = others[rng.permutation(len(others))[:pool]]
        base = np.tile(normalize(np.asarray(y[py], np.float64)).mean(0), (len(test), 1))  # the target pool's mean
        preds: dict[str, Any] = {"mean": base,
                                 "selflearn": fit_selflearn(x[pairs], y[pairs], x[px], y[py], seed=seed,
                                                            iterations=iterations).transform(x[test])}
        if s >= 2:
            for m in ("procrustes", "ridge"):
                preds[m] = fit_map(x[pairs], y[pairs], m, seed=seed).transform(x[test])
        for m, p in preds.items():
            sc = score(p, y[test], base, method=m)
            out.append(CurvePoint(s, m, sc.mean_cosine, sc.gain_over_mean_baseline, sc.top1, sc.top10, sc.recall_at_10,
                                  sc.mean_rank))
    return out
