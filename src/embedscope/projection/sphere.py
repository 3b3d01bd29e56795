"""A true spherical layout: UMAP optimised on the sphere (``output_metric="haversine"``), compared with the
naive wrap of the flat UMAP map onto a ball.

Wrapping a flat map puts its left and right edges (items that are far apart) next to each other at the seam
and squeezes the top and bottom into the poles. Optimising on the sphere has no seam. Both are measured with
the same honesty metrics; the better one is kept and both figures are recorded.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..search.exact import KNN
from .base import LayoutResult
from .quality import layout_quality
from .umap import numba_cache, precomputed_knn, umap_layout


def xyz_from_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Unit vectors, shape ``(n, 3)``, from longitude and latitude in degrees."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1).astype(np.float32)


def lonlat_from_xyz(xyz: np.ndarray) -> np.ndarray:
    """Longitude in [-180, 180) and latitude in [-90, 90], degrees, shape ``(n, 2)``."""
    x, y, z = xyz[:, 0], xyz[:, 1], np.clip(xyz[:, 2], -1.0, 1.0)
    return np.stack([np.degrees(np.arctan2(y, x)), np.degrees(np.arcsin(z))], axis=1).astype(np.float32)


def naive_wrap(flat: np.ndarray) -> np.ndarray:
    """Stretch a flat map onto the sphere: x to longitude [-180, 180], y to latitude [-90, 90]; ``(n, 3)``."""
    lo = flat.min(axis=0)
    span = np.maximum(flat.max(axis=0) - lo, 1e-12)
    u = (flat - lo) / span
    return xyz_from_lonlat(u[:, 0] * 360.0 - 180.0, u[:, 1] * 180.0 - 90.0)


def haversine_umap(x: np.ndarray, *, knn: KNN | None, seed: int, n_neighbors: int = 15,
                   min_dist: float = 0.05, spread: float = 0.5) -> tuple[np.ndarray, dict[str, Any]]:
    """UMAP with a spherical output space; returns unit vectors ``(n, 3)`` and the parameters used.

    The sphere is small in UMAP's units (no two points are more than pi apart), so the defaults pack
    clusters tighter than on the plane (``spread=0.5, min_dist=0.05``); on 5,000 KJV verses this raised
    trustworthiness@15 from 0.748 (UMAP's plane defaults) to 0.808, above the naive wrap's 0.803.
    """
    numba_cache()
    import umap

    n = len(x)
    nn = int(max(2, min(n_neighbors, n - 1)))
    kwargs: dict[str, Any] = {}
    pre = precomputed_knn(knn, n, nn)
    if pre is not None:
        kwargs["precomputed_knn"] = pre
    reducer = umap.UMAP(n_neighbors=nn, n_components=2, metric="cosine", output_metric="haversine",
                        min_dist=min_dist, spread=spread, random_state=seed, init="random" if n < 50 else "spectral",
                        verbose=False, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = np.asarray(reducer.fit_transform(x), dtype=np.float64)
    # umap's haversine output is (polar angle, azimuth) in radians, not wrapped to their ranges.
    theta, phi = e[:, 0], e[:, 1]
    xyz = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1)
    params = {"n_neighbors": nn, "min_dist": min_dist, "spread": spread, "metric": "cosine",
              "output_metric": "haversine",
              "seed": seed, "knn": "stored" if pre is not None else "computed"}
    return xyz.astype(np.float32), params


def sphere_layout(vectors: np.ndarray, *, knn: KNN | None = None, seed: int = 42, flat: np.ndarray | None = None,
                  k: int = 15, **params: Any) -> LayoutResult:
    """A spherical layout: ``coords`` = (longitude, latitude) in degrees, ``extra["xyz"]`` unit vectors.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    knn
        The stored cosine kNN graph.
    flat
        An existing flat UMAP layout ``(n, 2)`` to wrap for the comparison (computed when absent).
    k
        Neighbourhood size of the comparison.
    """
    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 5:
        rng = np.random.default_rng(seed)
        v = rng.normal(size=(n, 3))
        xyz = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
        return LayoutResult(lonlat_from_xyz(xyz), "sphere", {"fallback": "random"}, {}, {"xyz": xyz})
    sph, used = haversine_umap(x, knn=knn, seed=seed, **params)
    if flat is None:
        flat = umap_layout(x, knn=knn, seed=seed).coords
    wrap = naive_wrap(flat)
    q_sph = layout_quality(x, sph, k=k, high_knn=knn)
    q_wrap = layout_quality(x, wrap, k=k, high_knn=knn)
    best_is_sphere = q_sph.trustworthiness >= q_wrap.trustworthiness
    xyz = sph if best_is_sphere else wrap
    used["chosen"] = "haversine" if best_is_sphere else "wrap"
    metrics = {"comparison": {"haversine": q_sph.summary(), "wrap": q_wrap.summary()}}
    return LayoutResult(lonlat_from_xyz(xyz), "sphere", used, metrics, {"xyz": xyz})
