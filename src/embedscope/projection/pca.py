"""Principal component analysis to 2-D."""

from __future__ import annotations

import numpy as np

from .layout import LayoutResult


def pca_layout(vectors: np.ndarray, *, seed: int = 42) -> LayoutResult:
    """The first two principal components of ``vectors`` (shape ``(n, d)``), with explained variance."""
    from sklearn.decomposition import PCA

    x = np.asarray(vectors, dtype=np.float32)
    n, d = x.shape
    comps = min(2, n, d)
    if comps < 1:
        return LayoutResult(np.zeros((n, 2), np.float32), "pca", {"n_components": 2})
    pca = PCA(n_components=comps, random_state=seed)
    y = pca.fit_transform(x).astype(np.float32)
    if comps < 2:
        y = np.pad(y, ((0, 0), (0, 2 - comps)))
    return LayoutResult(
        np.ascontiguousarray(y), "pca", {"n_components": 2, "seed": seed},
        {"explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_]},
    )
