"""UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426) on the stored kNN graph.

The space's exact cosine kNN graph is passed as ``precomputed_knn`` so UMAP does not search again.
numba compiles UMAP's kernels on first use (about half a minute here); the compiled code is cached in
``NUMBA_CACHE_DIR`` (default ``~/.cache/embedscope/numba``) so only the first run on a machine pays it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from ..neighbors import KNN
from .layout import LayoutResult
from .pca import pca_layout


def _numba_cache() -> None:
    if "NUMBA_CACHE_DIR" not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        path = base / "embedscope" / "numba"
        path.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(path)


def umap_layout(
    vectors: np.ndarray,
    *,
    knn: KNN | None = None,
    seed: int = 42,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: int | None = None,
) -> LayoutResult:
    """UMAP to 2-D.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    knn
        Cosine kNN graph with at least ``n_neighbors - 1`` neighbours per row (self excluded); reused.
    seed
        Random state (the layout is reproducible for the same inputs).
    n_neighbors
        Local neighbourhood size, reduced automatically for small ``n``.
    min_dist
        How tightly UMAP packs points.

    Returns
    -------
    LayoutResult
        For ``n < 5``, a PCA layout is returned instead (UMAP needs a neighbourhood to work with), with
        ``params["fallback"] = "pca"``.
    """
    x = np.asarray(vectors, dtype=np.float32)
    n = x.shape[0]
    if n < 5:
        res = pca_layout(x, seed=seed)
        res.method = "umap"
        res.params["fallback"] = "pca"
        return res
    _numba_cache()
    try:
        import umap
    except ImportError:
        raise MissingDependencyError("UMAP layouts", "umap", "umap-learn") from None
    nn = int(max(2, min(n_neighbors, n - 1)))
    params: dict[str, Any] = {"n_neighbors": nn, "min_dist": min_dist, "metric": "cosine", "seed": seed,
                              "init": "spectral" if n >= 50 else "random"}
    kwargs: dict[str, Any] = {}
    pre = _precomputed(knn, n, nn)
    if pre is not None:
        kwargs["precomputed_knn"] = pre
        params["knn"] = "stored"
    if n_epochs is not None:
        kwargs["n_epochs"] = n_epochs
        params["n_epochs"] = n_epochs
    reducer = umap.UMAP(
        n_neighbors=nn, n_components=2, metric="cosine", min_dist=min_dist, random_state=seed,
        init=params["init"], verbose=False, **kwargs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = reducer.fit_transform(x)
    y = np.asarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        raise FloatingPointError("UMAP produced non-finite coordinates")
    return LayoutResult(np.ascontiguousarray(y), "umap", params)


def _precomputed(knn: KNN | None, n: int, nn: int) -> tuple[np.ndarray, np.ndarray, None] | None:
    """The stored cosine graph in UMAP's ``precomputed_knn`` form (each item first, at distance 0)."""
    if knn is None or knn.k < nn - 1 or knn.metric != "cosine":
        return None
    idx = np.empty((n, nn), np.int64)
    dist = np.empty((n, nn), np.float32)
    idx[:, 0] = np.arange(n)
    dist[:, 0] = 0.0
    idx[:, 1:] = knn.indices[:, : nn - 1]
    dist[:, 1:] = np.clip(1.0 - knn.scores[:, : nn - 1], 0.0, 2.0)
    return idx, dist, None
