"""Layouts of a space: projections with their honesty, new items placed into a sampled fit (the steps behind
:meth:`embedscope.scope.Scope.project`, ``layout``, ``layouts`` and ``quality``)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pyarrow as pa

from ..engines import get_engine
from ..errors import InputError, WorkspaceError
from ..io.modelfiles import is_legacy, load_state, pack_strings, recorded_file, unpack_strings
from ..results import Layout, Progress
from ..search.graph import DEFAULT_K
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import layout_table, neighbors_table, vectors_table
from .base import ScopeLike


def project(scope: ScopeLike, space: str | None = None, method: str = "umap", *, seed: int = 42, k: int = 15,
            progress: Progress | None = None, engine: str = "local", address: str | None = None,
            **params: Any) -> Layout:
    """Compute (or reuse) a layout of a space, measure its honesty, and store both.

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    space
        Space name.
    method
        A registered layout method (:func:`embedscope.projection.method_names`): ``umap`` (default),
        ``pca``, ``tsne``, ``sphere``, or one added with :func:`embedscope.projection.register`.
    seed
        Random seed (the layout is reproducible).
    k
        Neighbourhood size of the honesty metrics (trustworthiness, continuity, kNN recall).
    engine, address
        ``ray`` (UMAP only): fit on a sample in this process, place every other item with ``transform``
        in Ray tasks on the cluster at ``address`` (``None``: a local runtime on 127.0.0.1); the same
        layout as the single-process path (:func:`embedscope.engines.ray.umap.umap_layout_ray`). Only spaces
        fitted on a sample (above 100,000 items, or ``sample=``) have anything to place.
    **params
        Method parameters (e.g. ``n_neighbors``, ``min_dist``, ``perplexity``), recorded with the layout.

    Returns
    -------
    Layout
        With ``quality`` (global figures) and ``per_item`` honesty arrays.
    """
    from ..projection import base as registry
    from ..projection import get_method, method_names
    from ..projection.quality import layout_quality

    if method not in method_names():
        raise InputError(f"unknown --method {method!r}; use one of {', '.join(method_names())}")
    traits = get_method(method)
    runner = get_engine(engine, address)
    if engine not in traits.engines:
        able = " or ".join(m for m in method_names() if engine in get_method(m).engines)
        raise InputError(f"--engine {engine} lays out {able} (fitted on a sample, placed shard by shard); "
                         f"compute {method} without --engine {engine}")
    space = scope.resolve_space(space)
    name = layout_table(space, method)
    vrec = scope.store.require(vectors_table(space))
    want = {"method": method, "space": space, "seed": seed, "k": k, **params}
    rec = scope.store.record(name)
    if rec is not None and not scope.store.is_stale(rec) and rec.params.get("request") == want:
        return scope.layout(space, method)
    if (traits.supports_place and rec is not None and rec.params.get("request") == want
            and rec.params.get("model_file")):
        placed = place_new_items(scope, space, method, rec, k=k, progress=progress)
        if placed is not None:
            return placed
    n = vrec.rows
    graph_k = max(DEFAULT_K, traits.graph_k(n, params)) if traits.graph_k is not None else DEFAULT_K
    graph_rec = scope.store.record(neighbors_table(space))
    if (not traits.needs_graph and n > registry.SAMPLE_FIT_MIN
            and (graph_rec is None or scope.store.is_stale(graph_rec))):
        # UMAP fits a sample with its own index and PCA needs none; honesty is measured on a sample of
        # items (exact neighbours among all items), so a big space gets a map without first building its
        # kNN graph (an HNSW build of 30-60 min at 1M here); a stored graph is used when there is one
        knn = None
    else:
        knn = scope.knn(space, graph_k, progress=progress)
    with scope.store.writing():
        ids, x, _ = scope.store.arrays(space)
        extra_args: dict[str, Any] = {}
        if traits.reuses is not None:
            flat_rec = scope.store.record(layout_table(space, traits.reuses))
            if flat_rec is not None and not scope.store.is_stale(flat_rec) and flat_rec.params.get("seed") == seed:
                extra_args["flat"] = scope.layout(space, traits.reuses).coords
        if progress:
            progress(method, 0, n)
        step = (lambda d, t: progress(method, d, t)) if progress else None
        res = runner.layout(x, method, knn=knn, seed=seed, progress=step, key=vrec.fingerprint,
                            staging=scope.store.staging_path(f"umap-{space}"), extra=extra_args, **params)
        if progress:
            progress(method, n, n)
        fit_rows = res.extra.pop("fit_rows", None)
        if res.model is not None and fit_rows is not None:
            from ..projection.umap import placement_state

            embedding, header = placement_state(res.model)
            arrays = {**pack_strings([ids[int(i)] for i in fit_rows]), "embedding": embedding}
            res.params["model_file"] = scope.store.save_model(f"{space}__{method}", "umap-place", arrays, header)
            res.params["rows_fingerprint"] = fingerprint_arrays(pa.array(ids, pa.string()), x)
        qcoords = res.extra.get("xyz", res.coords)
        cb = (lambda d, t: progress("honesty", d, t)) if progress else None
        q = layout_quality(x, qcoords, k=k, high_knn=knn, seed=seed, progress=cb)
        cols: dict[str, Any] = {"id": pa.array(ids, pa.string()), "x": pa.array(res.coords[:, 0]),
                                "y": pa.array(res.coords[:, 1])}
        if "xyz" in res.extra:
            cols["lon"], cols["lat"] = cols.pop("x"), cols.pop("y")
            for i, c in enumerate("xyz"):
                cols[c] = pa.array(res.extra["xyz"][:, i])
        if "z" in res.extra:
            cols["z"] = pa.array(res.extra["z"])
        write_layout(scope, space, method, ids, res.coords, cols, q, {"request": want, **res.params}, res.metrics)
    return scope.layout(space, method)


def write_layout(scope: ScopeLike, space: str, method: str, ids: list[str], coords: np.ndarray, cols: dict[str, Any],
                  q: Any, params: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Store a layout of ``space`` by ``method``: ``cols`` (``id``, coordinates) plus the per-item honesty arrays
    of ``q`` (a :class:`embedscope.projection.quality.LayoutQuality`), recorded with its inputs (the vectors and
    the current kNN graph), ``params`` and ``metrics`` (caller holds the lock)."""
    for key, arr in q.per_item.items():
        cols[f"q_{key}"] = pa.array(arr.astype(np.float32))
    inputs = {vectors_table(space): scope.store.require(vectors_table(space)).fingerprint}
    graph = scope.store.record(neighbors_table(space))
    if graph is not None and not scope.store.is_stale(graph):
        inputs[neighbors_table(space)] = graph.fingerprint
    rec = Record(table=layout_table(space, method), kind="layout",
                 params={"method": method, "space": space, **params},
                 inputs=inputs, fingerprint=fingerprint_arrays(coords),
                 metrics={**metrics, "quality": q.summary()})
    scope.store.write(rec, pa.table(cols))


def place_new_items(scope: ScopeLike, space: str, method: str, rec: Record, *, k: int,
                     progress: Progress | None) -> Layout | None:
    """Place items added since a sampled UMAP fit, keeping every existing coordinate; ``None`` if the
    old items changed (then the caller refits)."""
    from ..projection.quality import layout_quality
    from ..projection.umap import check_placement_state, place_from_state

    old = scope.layout(space, method)
    ids, x, pos = scope.store.arrays(space)
    if any(i not in pos for i in old.ids):
        return None
    old_rows = np.array([pos[i] for i in old.ids], np.int64)
    if fingerprint_arrays(pa.array(old.ids, pa.string()), np.ascontiguousarray(x[old_rows])) != \
            rec.params.get("rows_fingerprint"):
        return None
    path = recorded_file(scope.path, rec.params["model_file"], table=rec.table, key="model_file")
    if not path.exists():
        return None
    if is_legacy(path.name):  # a pickle from an earlier version: never opened, the layout is fitted again
        print(f"note: {path.name} is a pickle from an earlier embedscope and is not opened; the {method} "
              f"layout of {space!r} is fitted again", file=sys.stderr)
        return None
    try:
        arrays, header = load_state(path, "umap-place")
        fit_ids = unpack_strings(arrays["bytes"], arrays["offsets"])
        missing = [i for i in fit_ids if i not in pos]
        if missing:
            raise ValueError(f"fitted item {missing[0]!r} is not in the space")
        train = x[np.array([pos[i] for i in fit_ids], np.int64)]
        embedding = arrays["embedding"]
        check_placement_state(train, embedding, header)
    except (WorkspaceError, KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        print(f"note: {path} cannot place new items ({exc}); the {method} layout of {space!r} is fitted again",
              file=sys.stderr)
        return None
    old_set = set(old.ids)
    new_rows = np.array([r for r, i in enumerate(ids) if i not in old_set], np.int64)
    graph = scope.store.record(neighbors_table(space))
    knn = scope.knn(space) if graph is not None and not scope.store.is_stale(graph) else None
    with scope.store.writing():
        coords = np.empty((len(ids), 2), np.float32)
        coords[old_rows] = old.coords
        if len(new_rows):
            if progress:
                progress("place", 0, len(new_rows))
            coords[new_rows] = place_from_state(train, embedding, header, x[new_rows])
            if progress:
                progress("place", len(new_rows), len(new_rows))
        q = layout_quality(x, coords, k=k, high_knn=knn)
        cols: dict[str, Any] = {"id": pa.array(ids, pa.string()), "x": pa.array(coords[:, 0]),
                                "y": pa.array(coords[:, 1])}
        params = {key: v for key, v in rec.params.items() if key not in ("method", "space")}
        params["rows_fingerprint"] = fingerprint_arrays(pa.array(ids, pa.string()), x)
        params["placed_later"] = int(params.get("placed_later", 0)) + len(new_rows)
        write_layout(scope, space, method, ids, coords, cols, q, params, {})
    return scope.layout(space, method)


def import_layouts(scope: ScopeLike, space: str, ids: list[str], found: dict[str, np.ndarray], source: str, *,
                   k: int = 15, seed: int = 42) -> tuple[list[str], list[str]]:
    """Store coordinates read from a file (``found``: method -> float32 ``(n, 2)`` in the order of ``ids``) as
    layouts of ``space``, each with its honesty measured as a computed layout's is (caller holds the lock).

    Kept only when the file holds every point of the space; a layout already stored from the same coordinates is
    left as it is. Returns the methods stored and notes on those not stored."""
    from ..projection.quality import layout_quality

    stored: list[str] = []
    notes: list[str] = []
    if not found:
        return stored, notes
    space_ids, x, _ = scope.store.arrays(space)
    pos = {i: r for r, i in enumerate(ids)}
    if len(space_ids) != len(ids) or any(i not in pos for i in space_ids):
        notes.append(f"layouts {', '.join(found)} not kept: the file does not hold every point of space {space!r}")
        return stored, notes
    rows = np.array([pos[i] for i in space_ids], np.int64)
    for method, xy in found.items():
        coords = np.ascontiguousarray(xy[rows], dtype=np.float32)
        rec = scope.store.record(layout_table(space, method))
        if rec is not None and rec.fingerprint == fingerprint_arrays(coords) and not scope.store.is_stale(rec):
            stored.append(method)
            continue
        q = layout_quality(x, coords, k=min(k, max(1, len(space_ids) - 1)), seed=seed)
        cols: dict[str, Any] = {"id": pa.array(space_ids, pa.string()), "x": pa.array(coords[:, 0]),
                                "y": pa.array(coords[:, 1])}
        write_layout(scope, space, method, list(space_ids), coords, cols, q,
                     {"source": "imported", "file": source, "columns": [f"{method}_x", f"{method}_y"]}, {})
        stored.append(method)
    return stored, notes


def layouts(scope: ScopeLike, space: str | None = None) -> list[str]:
    """Stored layout methods of a space."""
    return scope.space_info(scope.resolve_space(space)).layouts


def layout(scope: ScopeLike, space: str | None, method: str) -> Layout:
    """A stored layout, in the space's point order."""
    space = scope.resolve_space(space)
    name = layout_table(space, method)
    rec = scope.store.record(name)
    if rec is None:
        raise WorkspaceError(f"space {space!r} has no {method} layout: embedscope project {scope.path} "
                             f"--space {space} --method {method}")
    t = scope.store.read(name)
    cx, cy = ("lon", "lat") if "lon" in t.column_names else ("x", "y")
    coords = np.stack([t.column(cx).to_numpy(), t.column(cy).to_numpy()], axis=1).astype(np.float32)
    xyz = None
    if "z" in t.column_names:
        xyz = np.stack([t.column(c).to_numpy() for c in ("x", "y", "z")] if "lon" in t.column_names
                       else [coords[:, 0], coords[:, 1], t.column("z").to_numpy()], axis=1).astype(np.float32)
    per_item = {c[2:]: t.column(c).to_numpy() for c in t.column_names if c.startswith("q_")}
    return Layout(space, method, t.column("id").to_pylist(), coords, dict(rec.params), dict(rec.metrics),
                  scope.store.is_stale(rec), xyz, dict(rec.metrics.get("quality", {})), per_item)


def quality(scope: ScopeLike, space: str | None = None) -> list[dict[str, Any]]:
    """Honesty figures of every stored layout of a space (JSON-ready, one dict per layout)."""
    space = scope.resolve_space(space)
    out = []
    for method in scope.layouts(space):
        lay = scope.layout(space, method)
        q = lay.quality
        out.append({"method": method, "k": q.get("k"), "trustworthiness": q.get("trustworthiness"),
                    "continuity": q.get("continuity"), "knn_recall": q.get("knn_recall"),
                    "rank_correlation": q.get("rank_correlation"), "sampled": q.get("sampled"),
                    "n": len(lay.ids), "stale": lay.stale,
                    "params": {k: v for k, v in lay.params.items() if k != "request"},
                    **({"comparison": lay.metrics["comparison"]} if "comparison" in lay.metrics else {}),
                    **({"explained_variance_ratio": lay.metrics["explained_variance_ratio"]}
                       if "explained_variance_ratio" in lay.metrics else {})})
    return out
