"""A true spherical layout: UMAP's optimisation on the sphere, started from the naive wrap of the flat map,
compared with that wrap.

Wrapping a flat map puts its left and right edges (items that are far apart) next to each other at the seam
and squeezes the top and bottom into the poles. Relaxing the wrap with UMAP's own forces on a sphere (chord
distances, each step projected back onto the sphere; :mod:`embedscope.projection.umap_sgd`) pulls the
neighbours the seam parted together again and spreads the poles. The sphere's radius gives it the flat map's
area, so UMAP's distances keep their scale. Both are measured with the same honesty metrics; the better one is
kept and both figures are recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..search.exact import KNN
from . import fuzzy, umap_sgd
from .base import LayoutResult
from .quality import layout_quality
from .umap import fuzzy_graph, precomputed_knn, umap_layout

#: Epochs of the relaxation and its starting learning rate (the wrap is already a good start).
RELAX_EPOCHS = 100
RELAX_ALPHA = 0.25
#: Items the relaxed sphere and the wrap are compared on (the same items for both, so the difference is paired;
#: the kept layout's honesty is then measured as every layout's is).
COMPARE_SAMPLE = 1_000


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


def relaxed_sphere(x: np.ndarray, flat: np.ndarray, *, knn: KNN | None, seed: int, n_neighbors: int = 15,
                   min_dist: float = 0.1, n_epochs: int = RELAX_EPOCHS) -> tuple[np.ndarray, dict[str, Any]]:
    """The naive wrap of ``flat`` (n, 2) relaxed on a sphere by UMAP's forces; unit vectors ``(n, 3)`` and the
    parameters used.

    On 20,000 KJV verses (docs/BENCHMARKS.md) this raised trustworthiness@15 from the wrap's 0.813 to 0.828
    and continuity from 0.890 to 0.896, in 100 epochs.
    """
    from .umap import computed_knn, edge_schedule

    n = len(x)
    nn = int(max(2, min(n_neighbors, n - 1)))
    pre = precomputed_knn(knn, n, nn)
    stored = pre is not None
    if pre is None:
        pre = computed_knn(x, nn, seed)
    graph = fuzzy_graph(pre, nn)
    head, tail, eps, _ = edge_schedule(graph, n_epochs)
    span = np.maximum(flat.max(axis=0) - flat.min(axis=0), 1e-6)
    radius = float(np.sqrt(span[0] * span[1] / (4.0 * np.pi)))  # the sphere's area is the flat map's box's
    a, b = fuzzy.find_ab(1.0, min_dist)
    y = umap_sgd.optimise(naive_wrap(flat) * radius, head, tail, eps, a=float(a), b=float(b), n_epochs=n_epochs,
                          seed=seed, radius=radius, initial_alpha=RELAX_ALPHA)
    xyz = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    params = {"n_neighbors": nn, "min_dist": min_dist, "metric": "cosine", "relax_epochs": n_epochs,
              "relax_alpha": RELAX_ALPHA, "radius": round(radius, 4), "seed": seed,
              "knn": "stored" if stored else "computed", "optimiser": "blocks", "blocks": umap_sgd.BLOCKS}
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
    if flat is None:
        flat = umap_layout(x, knn=knn, seed=seed).coords
    sph, used = relaxed_sphere(x, np.asarray(flat, dtype=np.float32), knn=knn, seed=seed, **params)
    wrap = naive_wrap(flat)
    sample = COMPARE_SAMPLE if n > COMPARE_SAMPLE else None
    q_sph = layout_quality(x, sph, k=k, high_knn=knn, sample=sample, seed=seed)
    q_wrap = layout_quality(x, wrap, k=k, high_knn=knn, sample=sample, seed=seed)
    best_is_sphere = q_sph.trustworthiness >= q_wrap.trustworthiness
    xyz = sph if best_is_sphere else wrap
    used["chosen"] = "relaxed" if best_is_sphere else "wrap"
    metrics = {"comparison": {"relaxed": q_sph.summary(), "wrap": q_wrap.summary()}}
    return LayoutResult(lonlat_from_xyz(xyz), "sphere", used, metrics, {"xyz": xyz})
