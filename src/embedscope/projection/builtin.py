"""The layout methods embedscope ships: UMAP, PCA, t-SNE and the sphere, registered in this order (the order
of ``embedscope project --method``'s help). Each fit imports its module on first call, so importing the
registry costs nothing and the method modules (which import :mod:`.base`) are never imported back from it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .base import LayoutMethod, LayoutResult, register

Progress = Callable[[int, int], None]


def _umap(vectors: np.ndarray, *, knn: Any = None, seed: int = 42, progress: Progress | None = None,
          **params: Any) -> LayoutResult:
    from .umap import umap_layout

    return umap_layout(vectors, knn=knn, seed=seed, progress=progress, **params)


def _pca(vectors: np.ndarray, *, knn: Any = None, seed: int = 42, progress: Progress | None = None,
         **params: Any) -> LayoutResult:
    from .pca import pca_layout

    return pca_layout(vectors, seed=seed)


def _tsne(vectors: np.ndarray, *, knn: Any = None, seed: int = 42, progress: Progress | None = None,
          **params: Any) -> LayoutResult:
    from .tsne import tsne_layout

    return tsne_layout(vectors, knn=knn, seed=seed, **params)


def _sphere(vectors: np.ndarray, *, knn: Any = None, seed: int = 42, progress: Progress | None = None,
            **params: Any) -> LayoutResult:
    from .sphere import sphere_layout

    return sphere_layout(vectors, knn=knn, seed=seed, **params)


def tsne_graph_k(n: int, params: Mapping[str, Any]) -> int:
    """Neighbours t-SNE reads from the kNN graph: three times the perplexity (30 by default), at most ``n - 1``."""
    return min(n - 1, 3 * int(params.get("perplexity", 30)))


UMAP = register(LayoutMethod("umap", _umap, label="UMAP", needs_graph=False, sampled=True, supports_place=True,
                             engines=frozenset({"local", "ray"}), rank=0))
PCA = register(LayoutMethod("pca", _pca, label="PCA", needs_graph=False, has_xyz=True, rank=2))
TSNE = register(LayoutMethod("tsne", _tsne, label="t-SNE", graph_k=tsne_graph_k, rank=1))
SPHERE = register(LayoutMethod("sphere", _sphere, label="sphere", surface="sphere", has_xyz=True, reuses="umap",
                               rank=3))
