"""t-SNE with openTSNE (Poličar, Stražar & Zupan 2024, J. Stat. Softw.; FFT-accelerated interpolation,
Linderman et al. 2019) on the stored kNN graph, PCA initialisation (Kobak & Linderman 2021)."""

from __future__ import annotations

import numpy as np

from ..errors import MissingDependencyError
from ..search.exact import KNN, knn_graph
from .base import LayoutResult
from .pca import pca_layout


def tsne_layout(vectors: np.ndarray, *, knn: KNN | None = None, seed: int = 42, perplexity: float = 30.0,
                n_iter: int = 500, early_iter: int = 250) -> LayoutResult:
    """t-SNE to 2-D.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    knn
        Cosine kNN graph with at least ``3 * perplexity`` neighbours (computed when it has fewer).
    perplexity
        Effective neighbourhood size; reduced to ``(n - 1) / 3`` for small ``n``.
    n_iter, early_iter
        Iterations of the main phase and of the early-exaggeration phase (exaggeration 12).
    """
    try:
        import openTSNE
        from openTSNE.nearest_neighbors import PrecomputedNeighbors
    except ImportError:
        raise MissingDependencyError("t-SNE layouts", "tsne", "openTSNE") from None
    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 5:
        res = pca_layout(x, seed=seed)
        res.method, res.params["fallback"] = "tsne", "pca"
        return res
    perp = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
    k = int(min(n - 1, max(3, round(3 * perp))))
    graph = knn if knn is not None and knn.k >= k and knn.metric == "cosine" else knn_graph(x, k)
    idx = np.ascontiguousarray(graph.indices[:, :k], dtype=np.int64)
    dist = np.ascontiguousarray(np.clip(1.0 - graph.scores[:, :k], 0.0, 2.0), dtype=np.float64)
    aff = openTSNE.affinity.PerplexityBasedNN(knn_index=PrecomputedNeighbors(idx, dist), perplexity=perp,
                                              random_state=seed)
    init = openTSNE.initialization.pca(x, random_state=seed)
    method = "fft" if n >= 1000 else "bh"
    emb = openTSNE.TSNEEmbedding(init, aff, negative_gradient_method=method, random_state=seed, n_jobs=1,
                                 verbose=False)
    emb = emb.optimize(n_iter=early_iter, exaggeration=12, momentum=0.5)
    emb = emb.optimize(n_iter=n_iter, momentum=0.8)
    y = np.ascontiguousarray(np.asarray(emb, dtype=np.float32))
    params = {"perplexity": perp, "n_neighbors": k, "n_iter": n_iter, "early_iter": early_iter,
              "exaggeration": 12, "init": "pca", "gradient": method, "seed": seed,
              "knn": "stored" if graph is knn else "computed"}
    return LayoutResult(y, "tsne", params)
