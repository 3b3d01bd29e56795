"""Principal component analysis to 2-D."""

from __future__ import annotations

import numpy as np

from .layout import LayoutResult


def pca_layout(vectors: np.ndarray, *, seed: int = 42) -> LayoutResult:
    """The first three principal components of ``vectors`` (shape ``(n, d)``), with explained variance.

    ``coords`` holds components 1 and 2, ``extra["z"]`` component 3 (for a 3-D view); the explained variance
    ratio of each is in ``metrics``.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(vectors, dtype=np.float32)
    n, d = x.shape
    comps = min(3, n, d)
    if comps < 1:
        return LayoutResult(np.zeros((n, 2), np.float32), "pca", {"n_components": 3})
    pca = PCA(n_components=comps, random_state=seed, svd_solver="full" if n * d < 4_000_000 else "randomized")
    y = pca.fit_transform(x).astype(np.float32)
    if comps < 3:
        y = np.pad(y, ((0, 0), (0, 3 - comps)))
    ratio = [float(v) for v in pca.explained_variance_ratio_]
    return LayoutResult(
        np.ascontiguousarray(y[:, :2]), "pca", {"n_components": 3, "seed": seed},
        {"explained_variance_ratio": ratio, "explained_variance_2d": float(sum(ratio[:2]))},
        {"z": np.ascontiguousarray(y[:, 2])},
    )
