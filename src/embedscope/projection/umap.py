"""UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426) on the stored kNN graph.

The steps are umap-learn's (the fuzzy simplicial set of the space's exact cosine kNN graph, its spectral start,
its edge sampling schedule); the optimisation is :mod:`.umap_sgd`'s, which runs on both cores and gives the
same map for the same seed whatever the threads (umap-learn's own runs single-threaded once seeded). Above
``base.SAMPLE_FIT_MIN`` items umap-learn fits a sample and places the rest with ``transform``. numba compiles
the kernels on first use (about half a minute here); the compiled code is cached in ``NUMBA_CACHE_DIR``
(default ``~/.cache/embedscope/numba``, :mod:`.kernels`) so only the first run of an install pays it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from ..search.exact import KNN
from . import base, fuzzy, umap_sgd
from .base import LayoutResult
from .kernels import numba_cache
from .pca import pca_layout

#: Size of the sample UMAP is fitted on above :data:`embedscope.projection.base.SAMPLE_FIT_MIN` items (the rest
#: is placed with ``transform``).
SAMPLE_SIZE = 50_000
#: Items placed per ``transform`` call (one progress step).
TRANSFORM_BATCH = 20_000
#: Optimisation epochs of a fit on all items (:mod:`.umap_sgd`, both cores). umap-learn uses 500 up to 10,000
#: items and 200 above; on 20,000 KJV verses trustworthiness@15 was 0.809 at 200, 0.812 at 300, 0.815 at 400 and
#: 0.817 at 500 (mean of 3 seeds; embedding-atlas's umap-learn pipeline 0.811-0.816), so 400 keeps the map level
#: with umap-learn's at 500 for 80% of the time (docs/BENCHMARKS.md, "Performance round 2").
N_EPOCHS = 400
#: Epochs of umap-learn's fit on a sample (above ``base.SAMPLE_FIT_MIN`` items; single-threaded when seeded).
SAMPLE_N_EPOCHS = 500


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
        ``base.SAMPLE_FIT_MIN``, else ``SAMPLE_SIZE``). The fitted model is returned in ``LayoutResult.model`` so
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
    try:
        import numba  # noqa: F401  (umap-learn's dependency; umap-learn itself is imported only where it is used)
    except ImportError:
        raise MissingDependencyError("UMAP layouts", "umap", "umap-learn") from None
    if sample is None and n > base.SAMPLE_FIT_MIN:
        sample = SAMPLE_SIZE
    if sample is not None and sample < n:
        return _fit_sample_transform(x, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist, sample=sample,
                                     progress=progress)
    nn = int(max(2, min(n_neighbors, n - 1)))
    n_epochs = N_EPOCHS if n_epochs is None else int(n_epochs)
    params: dict[str, Any] = {"n_neighbors": nn, "min_dist": min_dist, "metric": "cosine", "seed": seed,
                              "init": "spectral" if n >= 50 else "random", "n_epochs": n_epochs,
                              "optimiser": "blocks", "blocks": umap_sgd.BLOCKS}
    pre = precomputed_knn(knn, n, nn)
    params["knn"] = "stored" if pre is not None else "computed"
    if pre is None:
        pre = computed_knn(x, nn, seed)
    rs = np.random.RandomState(seed)
    graph = fuzzy_graph(pre, nn)
    head, tail, eps, kept = edge_schedule(graph, n_epochs)
    y = initial_layout(x, kept, params["init"], rs)
    a, b = fuzzy.find_ab(1.0, min_dist)
    y = umap_sgd.optimise(y, head, tail, eps, a=float(a), b=float(b), n_epochs=n_epochs, seed=seed)
    if not np.isfinite(y).all():
        raise FloatingPointError("UMAP produced non-finite coordinates")
    return LayoutResult(np.ascontiguousarray(y, dtype=np.float32), "umap", params)


def computed_knn(x: np.ndarray, nn: int, seed: int) -> tuple[np.ndarray, np.ndarray, None]:
    """The ``nn``-neighbour cosine graph (each item first) when none is stored: exact up to
    :data:`EXACT_KNN_MAX` items, else umap-learn's NN-descent, seeded (one thread, reproducible)."""
    if len(x) <= EXACT_KNN_MAX:
        from ..search.exact import knn_graph

        pre = precomputed_knn(knn_graph(x, k=nn - 1, metric="cosine"), len(x), nn)
        assert pre is not None
        return pre
    numba_cache()
    from sklearn.utils import check_random_state
    from umap.umap_ import nearest_neighbors

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idx, dist, _ = nearest_neighbors(x, nn, "cosine", {}, False, check_random_state(seed), low_memory=True,
                                         n_jobs=1, verbose=False)
    return idx, dist, None


#: Up to this many items without a stored graph, UMAP's graph is computed exactly.
EXACT_KNN_MAX = 20_000


def fuzzy_graph(pre: tuple[np.ndarray, np.ndarray, None], nn: int) -> Any:
    """umap-learn's fuzzy simplicial set of the kNN graph ``pre`` (indices, distances; each item first): a
    symmetric sparse ``(n, n)`` matrix of membership strengths (:func:`.fuzzy.fuzzy_union`)."""
    return fuzzy.fuzzy_union(pre[0][:, :nn], pre[1][:, :nn], nn)


def edge_schedule(graph: Any, n_epochs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """The edges (head, tail) of the fuzzy graph, how often each is sampled, and the graph they form, as
    umap-learn prepares them: strengths below ``max / n_epochs`` dropped, ``epochs_per_sample`` from the rest."""
    g = graph.tocoo(copy=True)
    g.sum_duplicates()
    g.data[g.data < g.data.max() / float(n_epochs)] = 0.0
    g.eliminate_zeros()
    return g.row, g.col, fuzzy.epochs_per_sample(g.data, n_epochs), g


def initial_layout(x: np.ndarray, graph: Any, init: str, rs: np.random.RandomState) -> np.ndarray:
    """umap-learn's start: the spectral layout of the graph (or uniform random points), with a little noise,
    scaled to [0, 10] on each axis; float32 ``(n, 2)``."""
    if init == "spectral":
        y = fuzzy.spectral_start(graph.tocsr(), x, rs)
        y = (y * (10.0 / np.abs(y).max())).astype(np.float32)
        y = y + rs.normal(scale=0.0001, size=y.shape).astype(np.float32)
    else:
        y = rs.uniform(low=-10.0, high=10.0, size=(graph.shape[0], 2))
    span = np.maximum(y.max(axis=0) - y.min(axis=0), 1e-12)
    return (10.0 * (y - y.min(axis=0)) / span).astype(np.float32, order="C")


def precomputed_knn(knn: KNN | None, n: int, nn: int) -> tuple[np.ndarray, np.ndarray, None] | None:
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
               n_epochs: int | None = None) -> tuple[Any, np.ndarray, np.ndarray, list[np.ndarray], dict[str, Any]]:
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
    numba_cache()
    import umap

    n = len(x)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=sample, replace=False))
    rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
    nn = int(max(2, min(n_neighbors, sample - 1)))
    n_epochs = SAMPLE_N_EPOCHS if n_epochs is None else int(n_epochs)
    reducer = umap.UMAP(n_neighbors=nn, n_components=2, metric="cosine", min_dist=min_dist, random_state=seed,
                        n_epochs=n_epochs, low_memory=True, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.asarray(reducer.fit_transform(x[fit_rows]), dtype=np.float32)
    # transform would run n_epochs // 3 epochs per batch; umap-learn's own default (30 for batches above
    # 10,000 items, 100 below) places items as well at a fraction of the cost
    reducer.n_epochs = None
    batches = [rest[s:s + TRANSFORM_BATCH] for s in range(0, len(rest), TRANSFORM_BATCH)]
    params = {"n_neighbors": nn, "min_dist": min_dist, "metric": "cosine", "seed": seed, "init": "spectral",
              "knn": "nndescent (sample)", "n_epochs": n_epochs, "fit_sample": sample, "placed_by_transform": len(rest)}
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
    return LayoutResult(out, "umap", params, extra={"fit_rows": fit_rows}, model=reducer)


def place(model: object, vectors: np.ndarray, *, batch: int = TRANSFORM_BATCH) -> np.ndarray:
    """Place new items (shape ``(m, d)``) into an existing UMAP layout without refitting; ``(m, 2)``."""
    out = np.empty((len(vectors), 2), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, len(vectors), batch):
            out[start:start + batch] = model.transform(vectors[start:start + batch])  # type: ignore[attr-defined]
    return out


# ------------------------------------------------------------------- placing later, from stored data
#: The fields of a fitted model that placing new items needs (besides the fit's vectors and coordinates).
PLACE_FIELDS = ("n_neighbors", "disconnection_distance", "local_connectivity", "a", "b", "repulsion_strength",
                "initial_alpha", "negative_sample_rate", "n_epochs", "transform_seed", "small_data")


def placement_state(model: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """What :func:`place_from_state` needs of a fitted ``umap.UMAP`` (cosine, 2-D), as data.

    Returns
    -------
    embedding : numpy.ndarray
        float32, shape ``(m, 2)``: the coordinates of the ``m`` fitted items.
    params : dict
        JSON-ready: the fields of :data:`PLACE_FIELDS`.
    """
    if model.metric != "cosine" or model.output_metric != "euclidean" or model.densmap:
        raise ValueError("only a cosine UMAP to a euclidean map is placed from stored data")
    params = {"n_neighbors": int(model._n_neighbors), "disconnection_distance": float(model._disconnection_distance),
              "local_connectivity": float(model.local_connectivity), "a": float(model._a), "b": float(model._b),
              "repulsion_strength": float(model.repulsion_strength), "initial_alpha": float(model._initial_alpha),
              "negative_sample_rate": int(model.negative_sample_rate),
              "n_epochs": None if model.n_epochs is None else int(model.n_epochs),
              "transform_seed": int(model.transform_seed), "small_data": bool(model._small_data)}
    return np.ascontiguousarray(model.embedding_, dtype=np.float32), params


def check_placement_state(train: np.ndarray, embedding: np.ndarray, params: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``params`` and the arrays can place items (shapes, types, finite numbers)."""
    if not set(PLACE_FIELDS) <= set(params):
        raise ValueError(f"missing fields {sorted(set(PLACE_FIELDS) - set(params))}")
    nums = [params[f] for f in PLACE_FIELDS if f not in ("n_epochs", "small_data")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in nums):
        raise ValueError("a parameter is not a finite number")
    if not (params["n_epochs"] is None or (isinstance(params["n_epochs"], int) and 0 < params["n_epochs"] < 10**6)):
        raise ValueError("n_epochs is not a positive integer")
    if not 2 <= int(params["n_neighbors"]) <= len(train) or not 0 < int(params["negative_sample_rate"]) <= 1000:
        raise ValueError("n_neighbors or negative_sample_rate out of range")
    if embedding.shape != (len(train), 2) or embedding.dtype.kind != "f" or not np.isfinite(embedding).all():
        raise ValueError("the fitted coordinates are not (items, 2) finite numbers")


def place_from_state(train: np.ndarray, embedding: np.ndarray, params: dict[str, Any], vectors: np.ndarray,
                     *, batch: int = TRANSFORM_BATCH) -> np.ndarray:
    """Place new items into a sampled UMAP fit rebuilt from data: umap-learn's own ``transform`` steps.

    For each batch: the ``n_neighbors`` nearest fitted items by cosine distance (exact; umap-learn searches
    its NN-descent index when the fit had 4,096 items or more, and exactly below, where the result is the same
    as the fitted model's ``transform``), the fuzzy membership strengths, the weighted mean of those items'
    coordinates as the start, and the same epochs of the same optimisation with the fitted items held still.

    Parameters
    ----------
    train
        Shape ``(m, d)``: the vectors of the fitted items.
    embedding
        Shape ``(m, 2)``: their coordinates.
    params
        As :func:`placement_state` returned.
    vectors
        Shape ``(q, d)``: the items to place.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(q, 2)``.
    """
    check_placement_state(train, embedding, params)
    numba_cache()
    train = np.ascontiguousarray(train, dtype=np.float32)
    tail_embedding = np.ascontiguousarray(embedding, dtype=np.float32)
    out = np.empty((len(vectors), 2), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, len(vectors), batch):
            x = np.ascontiguousarray(vectors[start:start + batch], dtype=np.float32)
            out[start:start + batch] = _place_batch(train, tail_embedding, params, x)
    return out


def _place_batch(train: np.ndarray, tail_embedding: np.ndarray, p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    import scipy.sparse
    from sklearn.utils import check_random_state
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import (
        INT32_MAX,
        INT32_MIN,
        compute_membership_strengths,
        init_graph_transform,
        make_epochs_per_sample,
        smooth_knn_dist,
    )

    k = int(p["n_neighbors"])
    rng_state = check_random_state(int(p["transform_seed"])).randint(INT32_MIN, INT32_MAX, 3).astype(np.int64)
    indices, dists = _nearest(train, x, k, exact_like_umap=bool(p["small_data"]))
    dists = dists.astype(np.float32, order="C")
    indices[dists >= float(p["disconnection_distance"])] = -1
    sigmas, rhos = smooth_knn_dist(dists, float(k), local_connectivity=float(max(0.0, p["local_connectivity"] - 1.0)))
    rows, cols, vals, _ = compute_membership_strengths(indices, dists, sigmas, rhos, bipartite=True)
    graph = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(len(x), len(train)))
    csr = graph.tocsr()
    csr.eliminate_zeros()
    head_embedding = init_graph_transform(csr, tail_embedding)
    if p["n_epochs"] is None:
        n_epochs = 100 if graph.shape[0] <= 10000 else 30
    else:
        n_epochs = int(p["n_epochs"] // 3.0)
    graph.data[graph.data < (graph.data.max() / float(n_epochs))] = 0.0
    graph.eliminate_zeros()
    epochs_per_sample = make_epochs_per_sample(graph.data, n_epochs)
    y = optimize_layout_euclidean(
        head_embedding, tail_embedding.copy(), graph.row, graph.col, n_epochs, graph.shape[1], epochs_per_sample,
        float(p["a"]), float(p["b"]), rng_state, float(p["repulsion_strength"]), float(p["initial_alpha"]) / 4.0,
        int(p["negative_sample_rate"]), False, verbose=False, tqdm_kwds={"disable": True})
    return np.asarray(y, dtype=np.float32)


def _nearest(train: np.ndarray, x: np.ndarray, k: int, *, exact_like_umap: bool) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest fitted items of each row of ``x`` by cosine distance: indices and distances."""
    if exact_like_umap:  # umap-learn's small-data path, step by step (its distance function, its ordering)
        import umap.distances as dist
        from sklearn.metrics import pairwise_distances
        from umap.utils import submatrix

        idx_parts, dist_parts = [], []
        for lo in range(0, len(x), 1024):  # rows are independent: blocks bound the distance matrix
            dmat = pairwise_distances(x[lo:lo + 1024], train, metric=dist.named_distances["cosine"])
            indices = np.argpartition(dmat, k)[:, :k] if k < dmat.shape[1] else np.tile(np.arange(k), (len(dmat), 1))
            short = submatrix(dmat, indices, k)
            order = np.argsort(short)
            idx_parts.append(submatrix(indices, order, k))
            dist_parts.append(submatrix(short, order, k))
        return np.concatenate(idx_parts), np.concatenate(dist_parts)
    from ..search.exact import search

    res = search(train, x, k, "cosine")
    return res.indices.astype(np.int64), np.clip(1.0 - res.scores, 0.0, 2.0).astype(np.float32)
