"""2-D layouts of a space (UMAP, PCA, t-SNE, the sphere), fitted from vectors and the stored kNN graph.

Methods live in a registry (:mod:`.base`); :mod:`.builtin` registers the four embedscope ships.
"""

from . import builtin  # noqa: F401  (registers umap, pca, tsne, sphere)
from .base import (
    LayoutMethod,
    LayoutResult,
    get_method,
    method_names,
    preferred,
    project,
    register,
    traits,
    unregister,
)

__all__ = ["LayoutMethod", "LayoutResult", "get_method", "method_names", "preferred", "project", "register",
           "traits", "unregister"]
