"""Principal component analysis to 2-D."""

from __future__ import annotations

import numpy as np

from .base import LayoutResult

#: Above this many numbers (``n * d``), PCA runs in blocks over the rows instead of on a centred copy.
BLOCKED_ABOVE = 4_000_000
#: Rows per block of :func:`_pca_blocked`.
BLOCK_ROWS = 32_768


def pca_layout(vectors: np.ndarray, *, seed: int = 42) -> LayoutResult:
    """The first three principal components of ``vectors`` (shape ``(n, d)``), with explained variance.

    ``coords`` holds components 1 and 2, ``extra["z"]`` component 3 (for a 3-D view); the explained variance
    ratio of each is in ``metrics``. Above ``BLOCKED_ABOVE`` numbers (``n * d``) the components come from the
    covariance matrix accumulated in blocks (:func:`_pca_blocked`), so no centred copy of the vectors is made.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(vectors, dtype=np.float32)
    n, d = x.shape
    comps = min(3, n, d)
    if comps < 1:
        return LayoutResult(np.zeros((n, 2), np.float32), "pca", {"n_components": 3})
    if n * d < BLOCKED_ABOVE:
        pca = PCA(n_components=comps, random_state=seed, svd_solver="full")
        y = pca.fit_transform(x).astype(np.float32)
        ratio = [float(v) for v in pca.explained_variance_ratio_]
    else:
        y, ratio = _pca_blocked(x, comps)
    if comps < 3:
        y = np.pad(y, ((0, 0), (0, 3 - comps)))
    return LayoutResult(
        np.ascontiguousarray(y[:, :2]), "pca", {"n_components": 3, "seed": seed},
        {"explained_variance_ratio": ratio, "explained_variance_2d": float(sum(ratio[:2]))},
        {"z": np.ascontiguousarray(y[:, 2])},
    )


def _pca_blocked(x: np.ndarray, comps: int) -> tuple[np.ndarray, list[float]]:
    """Exact PCA from the covariance matrix, accumulated over blocks of rows.

    The mean and the ``(d, d)`` scatter matrix are summed block by block (float32 products, float64 sums),
    the top ``comps`` eigenvectors are the components (signs fixed like scikit-learn's ``svd_flip`` with
    ``u_based_decision=False``: each component's largest-magnitude entry is positive), and the rows are
    projected block by block. Peak memory: the ``(n, comps)`` output plus one block, never a copy of ``x``.

    Parameters
    ----------
    x
        Shape ``(n, d)``, float32.
    comps
        Components wanted, ``<= min(n, d)``.

    Returns
    -------
    y : numpy.ndarray
        float32, shape ``(n, comps)``.
    ratio : list of float
        Explained variance ratio of each component.
    """
    n, d = x.shape
    mean = np.zeros(d, np.float64)
    for lo in range(0, n, BLOCK_ROWS):
        mean += x[lo:lo + BLOCK_ROWS].sum(axis=0, dtype=np.float64)
    mean /= n
    mean32 = mean.astype(np.float32)
    scatter = np.zeros((d, d), np.float64)
    for lo in range(0, n, BLOCK_ROWS):
        b = x[lo:lo + BLOCK_ROWS] - mean32
        scatter += b.T @ b
    cov = scatter / max(n - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:comps]
    components = vecs[:, order].T  # (comps, d)
    signs = np.sign(components[np.arange(comps), np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1.0
    components *= signs[:, None]
    total = float(np.trace(cov))
    ratio = [float(max(vals[i], 0.0) / total) if total > 0 else 0.0 for i in order]
    comp32 = components.T.astype(np.float32)
    y = np.empty((n, comps), np.float32)
    for lo in range(0, n, BLOCK_ROWS):
        y[lo:lo + BLOCK_ROWS] = (x[lo:lo + BLOCK_ROWS] - mean32) @ comp32
    return y, ratio
