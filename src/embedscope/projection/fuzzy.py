"""UMAP's graph and start, computed as umap-learn computes them, without importing umap-learn.

Importing umap-learn costs 3-6 s in a fresh process (scikit-learn, pynndescent and numba kernels it compiles
at import), more than the layout of 10,000 items itself; a one-shot ``embedscope project`` only needs these
few numpy steps (McInnes, Healy & Melville 2018, section 3 and appendix): the smooth kNN distances and the
fuzzy union of the local memberships, the edge sampling schedule, the curve ``1 / (1 + a d^(2b))`` fitted to
``min_dist``, and the spectral start of a connected graph (a graph of several components still takes
umap-learn's own multi-component layout). ``tests/projection/test_fuzzy.py`` checks each against umap-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: umap-learn's constants (``umap.umap_``).
SMOOTH_K_TOLERANCE = 1e-5
MIN_K_DIST_SCALE = 1e-3
N_ITER = 64


def smooth_knn_dist(dists: np.ndarray, k: float, local_connectivity: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per item, the distance to its nearest neighbour (``rho``) and the bandwidth ``sigma`` that makes its
    memberships sum to ``log2(k)``; umap-learn's binary search, run on all rows at once.

    Parameters
    ----------
    dists
        float, shape ``(n, k)``: distances to the neighbours, the item itself first (distance 0).

    Returns
    -------
    sigmas, rhos : numpy.ndarray
        float32, shape ``(n,)`` each.
    """
    d = np.asarray(dists, dtype=np.float32)
    n = len(d)
    target = np.log2(k)
    rho = np.zeros(n, np.float32)
    index = int(np.floor(local_connectivity))
    interpolation = local_connectivity - index
    pos = d > 0
    n_pos = pos.sum(axis=1)
    srt = np.sort(np.where(pos, d, np.inf), axis=1)  # the non-zero distances first, ascending
    has = n_pos >= local_connectivity
    if index > 0:
        rho[has] = srt[has, index - 1]
        if interpolation > SMOOTH_K_TOLERANCE:
            rho[has] += interpolation * (srt[has, index] - srt[has, index - 1])
    else:
        rho[has] = interpolation * srt[has, 0]
    some = ~has & (n_pos > 0)
    rho[some] = np.where(pos[some], d[some], 0).max(axis=1)
    rest = d[:, 1:].astype(np.float64) - rho[:, None].astype(np.float64)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    mid = np.ones(n)
    active = np.ones(n, bool)
    for _ in range(N_ITER):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        r = rest[idx]
        m = mid[idx][:, None]
        psum = np.where(r > 0, np.exp(-(np.maximum(r, 0) / m)), 1.0).sum(axis=1)
        done = np.abs(psum - target) < SMOOTH_K_TOLERANCE
        go = idx[~done]
        above = psum[~done] > target
        hi[go[above]] = mid[go[above]]
        mid[go[above]] = (lo[go[above]] + hi[go[above]]) / 2.0
        up = go[~above]
        lo[up] = mid[up]
        mid[up] = np.where(np.isinf(hi[up]), mid[up] * 2.0, (lo[up] + hi[up]) / 2.0)
        active[idx[done]] = False
    mean_all = float(d.mean())
    mean_row = d.mean(axis=1)
    floor_ = np.where(rho > 0, MIN_K_DIST_SCALE * mean_row, MIN_K_DIST_SCALE * mean_all)
    sigma = np.maximum(mid, floor_)
    return sigma.astype(np.float32), rho


def fuzzy_union(indices: np.ndarray, dists: np.ndarray, n_neighbors: int) -> Any:
    """umap-learn's fuzzy simplicial set of a kNN graph (``fuzzy_simplicial_set`` with its defaults).

    Parameters
    ----------
    indices, dists
        Shape ``(n, n_neighbors)``: each item first (distance 0); ``-1`` marks a missing neighbour.

    Returns
    -------
    scipy.sparse.coo_matrix
        Symmetric ``(n, n)`` membership strengths ``a + a.T - a * a.T``.
    """
    import scipy.sparse

    idx = np.asarray(indices, dtype=np.int64)
    d = np.asarray(dists, dtype=np.float32)
    n = len(idx)
    sigma, rho = smooth_knn_dist(d, float(n_neighbors))
    rows = np.repeat(np.arange(n), idx.shape[1])
    with np.errstate(over="ignore"):
        val = np.where((d - rho[:, None] <= 0) | (sigma[:, None] == 0), 1.0,
                       np.exp(-((d.astype(np.float64) - rho[:, None]) / sigma[:, None]))).astype(np.float32)
    val[idx == np.arange(n)[:, None]] = 0.0
    keep = (idx.ravel() != -1) & (val.ravel() != 0)
    a = scipy.sparse.coo_matrix((val.ravel()[keep], (rows[keep], idx.ravel()[keep])), shape=(n, n)).tocsr()
    at = a.transpose().tocsr()
    union = (a + at - a.multiply(at)).tocoo()
    union.eliminate_zeros()
    return union


def epochs_per_sample(weights: np.ndarray, n_epochs: int) -> np.ndarray:
    """How many epochs apart each edge is sampled (umap-learn's ``make_epochs_per_sample``): the strongest every
    epoch, the others in proportion; -1 for an edge never sampled."""
    w = np.asarray(weights, dtype=np.float64)
    out = -np.ones(len(w), np.float64)
    n_samples = n_epochs * (w / w.max())
    out[n_samples > 0] = float(n_epochs) / n_samples[n_samples > 0]
    return out


def find_ab(spread: float, min_dist: float) -> tuple[float, float]:
    """``a, b`` of the curve ``1 / (1 + a d^(2b))`` fitted to 1 up to ``min_dist`` and ``exp(-(d - min_dist) /
    spread)`` beyond (umap-learn's ``find_ab_params``)."""
    from scipy.optimize import curve_fit

    def curve(x: np.ndarray, a: float, b: float) -> np.ndarray:
        return 1.0 / (1.0 + a * x ** (2 * b))

    xv = np.linspace(0, spread * 3, 300)
    yv = np.where(xv < min_dist, 1.0, np.exp(-(xv - min_dist) / spread))
    params, _ = curve_fit(curve, xv, yv)
    return float(params[0]), float(params[1])


def spectral_start(graph: Any, x: np.ndarray, rs: np.random.RandomState) -> np.ndarray:
    """The 2-D spectral layout of ``graph`` (umap-learn's: the normalised Laplacian's eigenvectors 2 and 3 by
    ARPACK), float64 ``(n, 2)``; a graph of several components goes to umap-learn's multi-component layout;
    uniform random points if the eigensolver fails, as umap-learn falls back."""
    import scipy.sparse
    import scipy.sparse.csgraph
    import scipy.sparse.linalg

    n = graph.shape[0]
    n_comp, _ = scipy.sparse.csgraph.connected_components(graph)
    if n_comp > 1:
        from .kernels import numba_cache

        numba_cache()
        from umap.spectral import spectral_layout

        return np.asarray(spectral_layout(x, graph, 2, rs, metric="cosine"))
    deg = np.asarray(graph.sum(axis=0)).ravel()
    inv_sqrt = scipy.sparse.diags(1.0 / np.sqrt(deg))
    lap = scipy.sparse.identity(n, dtype=np.float64) - inv_sqrt @ graph @ inv_sqrt
    k = 3
    try:
        vals, vecs = scipy.sparse.linalg.eigsh(lap, k, which="SM", ncv=max(2 * k + 1, int(np.sqrt(n))), tol=1e-4,
                                               v0=np.ones(n), maxiter=n * 5)
    except scipy.sparse.linalg.ArpackError:
        return rs.uniform(low=-10.0, high=10.0, size=(n, 2))
    return np.asarray(vecs[:, np.argsort(vals)[1:k]])
