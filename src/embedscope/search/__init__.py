"""Nearest neighbours: exact search and graphs, approximate (HNSW) graphs, the query-vs-all scan, filters."""

from .exact import KNN, knn_graph, normalize, search

__all__ = ["KNN", "knn_graph", "normalize", "search"]
