"""UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426) on the stored kNN graph.

The space's exact cosine kNN graph is passed as ``precomputed_knn`` so UMAP does not search again.
numba compiles UMAP's kernels on first use (about half a minute here); the compiled code is cached in
``NUMBA_CACHE_DIR`` (default ``~/.cache/embedscope/numba``) so only the first run on a machine pays it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
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


#: Above this many items, UMAP is fitted on a random sample and the rest is placed with ``transform``.
SAMPLE_FIT_MIN = 100_000
#: Size of that sample.
SAMPLE_SIZE = 50_000
#: Items placed per ``transform`` call (one progress step).
TRANSFORM_BATCH = 20_000
#: Optimisation epochs of a fit. umap-learn uses 500 up to 10,000 items and 200 above; 500 at every size costs
#: about a third more time at 20,000 items and lifts trustworthiness@15 of the sample data from 0.807 to 0.817
#: (docs/BENCHMARKS.md), level with embedding-atlas's NN-descent pipeline.
N_EPOCHS = 500


def umap_layout(
    vectors: np.ndarray,
    *,
    knn: KNN | None = None,
    seed: int = 42,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: int | None = None,
    sample: int | None = None,
    progress: Callable[[int, int], None] | None = None,
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
    sample
        Fit on this many random items and place the others with ``transform`` (default: all items up to
        ``SAMPLE_FIT_MIN``, else ``SAMPLE_SIZE``). The fitted model is returned in ``LayoutResult.model`` so
        items added later can be placed without refitting.
    progress
        Called with (items placed, total) while transforming.

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
    if sample is None and n > SAMPLE_FIT_MIN:
        sample = SAMPLE_SIZE
    if sample is not None and sample < n:
        return _fit_sample_transform(x, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist, sample=sample,
                                     progress=progress)
    nn = int(max(2, min(n_neighbors, n - 1)))
    params: dict[str, Any] = {"n_neighbors": nn, "min_dist": min_dist, "metric": "cosine", "seed": seed,
                              "init": "spectral" if n >= 50 else "random"}
    kwargs: dict[str, Any] = {}
    pre = _precomputed(knn, n, nn)
    if pre is not None:
        kwargs["precomputed_knn"] = pre
        params["knn"] = "stored"
    n_epochs = N_EPOCHS if n_epochs is None else int(n_epochs)
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


def fit_sample(x: np.ndarray, *, seed: int, n_neighbors: int, min_dist: float, sample: int,
               ) -> tuple[Any, np.ndarray, np.ndarray, list[np.ndarray], dict[str, Any]]:
    """UMAP fitted on ``sample`` random rows of ``x`` (n, d) (its own NN-descent index), ready to ``transform``.

    Returns
    -------
    model
        The fitted ``umap.UMAP``, set to place items with umap-learn's default transform epochs.
    fit_rows : numpy.ndarray
        int64, shape ``(sample,)``: the sampled rows, ascending.
    fit_coords : numpy.ndarray
        float32, shape ``(sample, 2)``: their coordinates.
    batches : list of numpy.ndarray
        The other rows, in the batches (``TRANSFORM_BATCH`` each) that :func:`place` transforms one call
        each; a batch placed alone gives the same coordinates (umap-learn seeds every ``transform`` call).
    params : dict
        The layout's parameters.
    """
    import umap

    n = len(x)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=sample, replace=False))
    rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
    nn = int(max(2, min(n_neighbors, sample - 1)))
    reducer = umap.UMAP(n_neighbors=nn, n_components=2, metric="cosine", min_dist=min_dist, random_state=seed,
                        n_epochs=N_EPOCHS, low_memory=True, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.asarray(reducer.fit_transform(x[fit_rows]), dtype=np.float32)
    # transform would run n_epochs // 3 epochs per batch; umap-learn's own default (30 for batches above
    # 10,000 items, 100 below) places items as well at a fraction of the cost
    reducer.n_epochs = None
    batches = [rest[s:s + TRANSFORM_BATCH] for s in range(0, len(rest), TRANSFORM_BATCH)]
    params = {"n_neighbors": nn, "min_dist": min_dist, "metric": "cosine", "seed": seed, "init": "spectral",
              "knn": "nndescent (sample)", "n_epochs": N_EPOCHS, "fit_sample": sample, "placed_by_transform": len(rest)}
    return reducer, fit_rows, y, batches, params


def _fit_sample_transform(x: np.ndarray, *, seed: int, n_neighbors: int, min_dist: float, sample: int,
                          progress: Callable[[int, int], None] | None) -> LayoutResult:
    """UMAP fitted on ``sample`` random rows (:func:`fit_sample`), the rest placed by ``transform``."""
    n = len(x)
    out = np.empty((n, 2), np.float32)
    if progress:
        progress(0, n)
    reducer, fit_rows, fit_coords, batches, params = fit_sample(x, seed=seed, n_neighbors=n_neighbors,
                                                               min_dist=min_dist, sample=sample)
    out[fit_rows] = fit_coords
    done = sample
    if progress:
        progress(done, n)
    for rows in batches:
        out[rows] = place(reducer, x[rows])
        done += len(rows)
        if progress:
            progress(done, n)
    if not np.isfinite(out).all():
        raise FloatingPointError("UMAP produced non-finite coordinates")
    return LayoutResult(out, "umap", params, model=reducer)


def place(model: object, vectors: np.ndarray, *, batch: int = TRANSFORM_BATCH) -> np.ndarray:
    """Place new items (shape ``(m, d)``) into an existing UMAP layout without refitting; ``(m, 2)``."""
    out = np.empty((len(vectors), 2), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, len(vectors), batch):
            out[start:start + batch] = model.transform(vectors[start:start + batch])  # type: ignore[attr-defined]
    return out
