"""Dispatch to a projection method and return a layout with its parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..search.exact import KNN

METHODS = ("umap", "pca", "tsne", "sphere")


@dataclass
class LayoutResult:
    """A 2-D layout.

    Attributes
    ----------
    coords
        float32, shape ``(n, 2)``.
    method
        ``umap`` or ``pca``.
    params
        The parameters actually used (after adapting to small inputs).
    metrics
        Method-specific figures (e.g. explained variance for PCA).
    extra
        Further coordinates: ``xyz`` (n, 3) unit vectors for the sphere (``coords`` are then longitude and
        latitude in degrees), ``z`` (n,) the third principal component for PCA.
    """

    coords: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    #: The fitted model when the method can place new items later (UMAP fitted on a sample), else None.
    model: Any = None


def project(
    vectors: np.ndarray,
    method: str = "umap",
    *,
    knn: KNN | None = None,
    seed: int = 42,
    progress: Callable[[int, int], None] | None = None,
    **params: Any,
) -> LayoutResult:
    """Project ``vectors`` (shape ``(n, d)``) to 2-D.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    method
        ``umap`` (default), ``pca``, ``tsne`` or ``sphere``.
    knn
        The stored cosine kNN graph of the space (UMAP reuses it instead of searching again).
    seed
        Random seed; the same inputs and seed give the same layout.
    progress
        Called with (items placed, total) by methods that work in steps (UMAP on a sample + transform).
    **params
        Method parameters (``n_neighbors``, ``min_dist``, ``sample`` for UMAP; ``perplexity`` for t-SNE).
    """
    if method == "pca":
        from .pca import pca_layout

        return pca_layout(vectors, seed=seed)
    if method == "umap":
        from .umap import umap_layout

        return umap_layout(vectors, knn=knn, seed=seed, progress=progress, **params)
    if method == "tsne":
        from .tsne import tsne_layout

        return tsne_layout(vectors, knn=knn, seed=seed, **params)
    if method == "sphere":
        from .sphere import sphere_layout

        return sphere_layout(vectors, knn=knn, seed=seed, **params)
    raise ValueError(f"unknown projection method {method!r}; use one of {', '.join(METHODS)}")
