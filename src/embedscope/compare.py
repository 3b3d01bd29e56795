"""Compare two embedding spaces of the same items, in their original spaces (not their 2-D pictures).

- **neighbour agreement**: per item, the Jaccard overlap of its k nearest neighbours in space A and in B;
- **linear CKA** (Kornblith et al. 2019): similarity of the two representations, invariant to rotation and
  isotropic scaling, defined for different dimensions: ``||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` on
  column-centred data (computed from d x d products, never an n x n matrix);
- **rank correlation**: Spearman correlation of the cosine similarities of random pairs in A and in B;
- **retrieval against labels**: precision@k of same-label neighbours in each space, with a bootstrap
  confidence interval of the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .neighbors import KNN, normalize


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
        Per-space precision@k against a label column, or ``None``.
    """

    k: int
    jaccard: np.ndarray
    cka: float
    spearman: float
    pairs: int
    retrieval: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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


def pair_spearman(x: np.ndarray, y: np.ndarray, *, pairs: int = 50_000, seed: int = 0) -> tuple[float, int]:
    """Spearman correlation of cosine similarities of the same random pairs in two spaces."""
    from scipy.stats import spearmanr

    n = len(x)
    if n < 3:
        return 1.0, 0
    rng = np.random.default_rng(seed)
    m = min(pairs, n * (n - 1) // 2)
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n - 1, size=m)
    b = b + (b >= a)
    xn, yn = normalize(x), normalize(y)
    sx = np.einsum("ij,ij->i", xn[a], xn[b])
    sy = np.einsum("ij,ij->i", yn[a], yn[b])
    rho = spearmanr(sx, sy).statistic
    return (float(rho) if np.isfinite(rho) else 0.0), m


def label_precision(graph: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-item precision@k: share of an item's k neighbours with its label; shape ``(n,)``."""
    return (labels[graph] == labels[:, None]).mean(1).astype(np.float32)


def compare(x: np.ndarray, y: np.ndarray, knn_x: KNN, knn_y: KNN, *, k: int = 10,
            labels: np.ndarray | None = None, seed: int = 0, bootstrap: int = 1000) -> Comparison:
    """Compare spaces ``x`` (n, d1) and ``y`` (n, d2) whose rows are the same items, with their kNN graphs.

    Parameters
    ----------
    labels
        Optional labels, shape ``(n,)``, for same-label retrieval precision@k.
    """
    k = int(min(k, knn_x.k, knn_y.k))
    jac = jaccard(knn_x.indices[:, :k], knn_y.indices[:, :k])
    rho, m = pair_spearman(x, y, seed=seed)
    retrieval = None
    if labels is not None and k > 0:
        lab = np.asarray(labels)
        px = label_precision(knn_x.indices[:, :k], lab)
        py = label_precision(knn_y.indices[:, :k], lab)
        rng = np.random.default_rng(seed)
        diffs = np.empty(bootstrap)
        for i in range(bootstrap):
            sel = rng.integers(0, len(px), len(px))
            diffs[i] = px[sel].mean() - py[sel].mean()
        retrieval = {"metric": f"precision@{k} of same-label neighbours", "a": float(px.mean()),
                     "b": float(py.mean()), "difference": float(px.mean() - py.mean()),
                     "ci95": [float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))],
                     "bootstrap": bootstrap}
    return Comparison(k, jac, linear_cka(x, y), rho, m, retrieval)
