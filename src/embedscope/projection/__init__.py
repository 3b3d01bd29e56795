"""2-D layouts of a space (PCA, UMAP), fitted from vectors and the stored kNN graph."""

from .layout import LayoutResult, project

__all__ = ["LayoutResult", "project"]
