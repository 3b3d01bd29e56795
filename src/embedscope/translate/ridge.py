"""Ridge regression for the translation maps: data preparation, closed-form ridge through the SVD, reduced-rank
ridge, and the k-fold cross-validation that picks their strength and rank (shared by :mod:`.maps` and :mod:`.mlp`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Ridge strengths, relative to the mean eigenvalue of the centred source Gram matrix.
RIDGE_GRID: tuple[float, ...] = tuple(float(a) for a in np.logspace(-4, 2, 13))
#: Hyperparameters (ridge strength, rank) are cross-validated on at most this many random training pairs.
CV_MAX = 20_000
#: Floor of a norm or a scale divided by.
EPS = 1e-12


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero); same dtype, shape ``(n, d)``."""
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, EPS).astype(x.dtype)


@dataclass
class Prepared:
    """Training pairs after preprocessing (float64).

    Attributes
    ----------
    xn, yn
        Unit-normalised sources ``(n, d_s)`` and targets ``(n, d_t)``.
    src_mean, tgt_mean
        Their column means.
    output_norm
        1.0 if the raw targets are unit-normalised, else their median norm.
    """

    xn: np.ndarray
    yn: np.ndarray
    src_mean: np.ndarray
    tgt_mean: np.ndarray
    output_norm: float

    @property
    def xc(self) -> np.ndarray:
        return self.xn - self.src_mean

    @property
    def yc(self) -> np.ndarray:
        return self.yn - self.tgt_mean


def prepare(x: np.ndarray, y: np.ndarray) -> Prepared:
    """Normalise and centre training pairs ``x`` ``(n, d_s)`` and ``y`` ``(n, d_t)``."""
    x64 = np.asarray(x, np.float64)
    y64 = np.asarray(y, np.float64)
    norms = np.linalg.norm(y64, axis=1)
    unit = bool(np.median(np.abs(norms - 1.0)) < 1e-3) if len(norms) else True
    xn, yn = normalize(x64), normalize(y64)
    return Prepared(xn, yn, xn.mean(0), yn.mean(0), 1.0 if unit else float(np.median(norms)))


def kfold(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, validation) index splits of ``range(n)``, shuffled with ``seed``."""
    k = max(2, min(k, n))
    perm = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(perm, k)
    return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]


def _cos_rows(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(n, d)`` arrays."""
    num = (p * y).sum(1)
    return num / np.maximum(np.linalg.norm(p, axis=1) * np.linalg.norm(y, axis=1), EPS)


def ridge_factors(xtr: np.ndarray, ytr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                               np.ndarray, float]:
    """SVD factors of a centred ridge problem: (mx, my, s, Vt, U^T Yc, mean eigenvalue)."""
    mx, my = xtr.mean(0), ytr.mean(0)
    u, s, vt = np.linalg.svd(xtr - mx, full_matrices=False)
    # floored: identical sources (no variance) would make every ridge weight 0/0; with the floor they are 0
    # and the map predicts the target mean
    return mx, my, s, vt, u.T @ (ytr - my), max(float((s**2).sum() / xtr.shape[1]), EPS)


def ridge_weights(s: np.ndarray, vt: np.ndarray, uty: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge weights of strength ``alpha`` from the factors of :func:`ridge_factors`."""
    return (vt.T * (s / (s**2 + alpha))) @ uty


def ridge_cv(xn: np.ndarray, yn: np.ndarray, *, folds: int = 5, seed: int = 0,
             grid: Sequence[float] = RIDGE_GRID) -> tuple[float, dict[float, float]]:
    """Choose the ridge strength by k-fold cross-validation (mean cosine of the held-out predictions).

    Parameters
    ----------
    xn, yn
        Unit-normalised sources ``(n, d_s)`` and targets ``(n, d_t)`` (centred inside each fold).
    grid
        Strengths relative to the mean eigenvalue of the centred source Gram matrix.

    Returns
    -------
    relative_alpha : float
        The best strength on the relative grid.
    scores : dict
        Mean held-out cosine per relative strength.
    """
    tot = np.zeros(len(grid))
    for tr, va in kfold(len(xn), folds, seed):
        mx, my, s, vt, uty, lam = ridge_factors(xn[tr], yn[tr])
        a = (xn[va] - mx) @ vt.T
        for j, rel in enumerate(grid):
            pred = (a * (s / (s**2 + rel * lam))) @ uty + my
            tot[j] += _cos_rows(pred, yn[va]).sum()
    scores = {float(g): float(t / len(xn)) for g, t in zip(grid, tot, strict=True)}
    return float(grid[int(np.argmax(tot))]), scores


def lowrank_cv(xn: np.ndarray, yn: np.ndarray, rel_alpha: float, ranks: Sequence[int], *, folds: int = 5,
               seed: int = 0) -> tuple[int, dict[int, float]]:
    """Choose the rank of reduced-rank ridge regression by k-fold cross-validation (mean held-out cosine)."""
    tot = np.zeros(len(ranks))
    for tr, va in kfold(len(xn), folds, seed):
        mx, my, s, vt, uty, lam = ridge_factors(xn[tr], yn[tr])
        w = ridge_weights(s, vt, uty, rel_alpha * lam)
        # fitted values X W = U (S Vt W): their right singular vectors are those of the small S Vt W
        _, _, vy = np.linalg.svd((s[:, None] * vt) @ w, full_matrices=False)
        pv = (xn[va] - mx) @ w
        for j, r in enumerate(ranks):
            pred = (pv @ vy[:r].T) @ vy[:r] + my
            tot[j] += _cos_rows(pred, yn[va]).sum()
    return int(ranks[int(np.argmax(tot))]), {int(r): float(t / len(xn)) for r, t in zip(ranks, tot, strict=True)}


def cv_rows(n: int, seed: int) -> np.ndarray:
    """Rows used to cross-validate hyperparameters: all ``n``, or a random :data:`CV_MAX` of them."""
    if n <= CV_MAX:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, CV_MAX, replace=False))


def rank_grid(ds: int, dt: int, n: int) -> list[int]:
    """Ranks tried by ``lowrank``: powers of two below ``min(d_s, d_t)`` and the number of pairs."""
    top = min(ds, dt, max(n - 1, 1))
    ranks = [r for r in (2**i for i in range(1, 12)) if r < min(ds, dt) and r <= top]
    return ranks or [max(1, min(top, min(ds, dt)))]
