"""Clusters of a space (the steps behind :meth:`embedscope.scope.Scope.cluster` and ``clusters``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..analyses.clusters import Clustering
from ..errors import InputError
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import layout_table, vectors_table
from .base import ScopeLike


def cluster(scope: ScopeLike, space: str | None = None, method: str = "hdbscan", *, n_clusters: int | None = None,
            min_cluster_size: int | None = None, seed: int = 0) -> Clustering:
    """Cluster a space (HDBSCAN on its UMAP map, or k-means) and label clusters by class-based TF-IDF.

    The UMAP layout is computed first if missing. Stored as ``clusters__{space}``; rerunning with the
    same inputs and parameters returns the stored result.
    """
    from ..analyses.clusters import METHODS, cluster

    if method not in METHODS:
        raise InputError(f"unknown clustering --method {method!r}; use one of {', '.join(METHODS)}")
    space = scope.resolve_space(space)
    name = f"clusters__{space}"
    want = {"method": method, "n_clusters": n_clusters, "min_cluster_size": min_cluster_size, "seed": seed}
    rec = scope.store.record(name)
    if rec is not None and not scope.store.is_stale(rec) and rec.params.get("request") == want:
        return scope.clusters(space)  # type: ignore[return-value]
    from ..projection import method_names, preferred

    flat = preferred(method_names())
    if flat is None:
        raise InputError("no plane layout method is registered to cluster on")
    lay = scope.project(space, flat)
    with scope.store.writing():
        ids, x, _ = scope.store.arrays(space)
        items = scope.items_for(space)
        texts = items.column("text").to_pylist() if "text" in items.column_names else None
        if texts is not None:
            texts = [t or "" for t in texts]
        res = cluster(x, texts, reduced=lay.coords, method=method, n_clusters=n_clusters,
                      min_cluster_size=min_cluster_size, seed=seed)
        table = pa.table({"id": pa.array(ids, pa.string()), "cluster": pa.array(res.labels, pa.int32())})
        inputs = {vectors_table(space): scope.store.require(vectors_table(space)).fingerprint,
                  layout_table(space, flat): scope.store.require(layout_table(space, flat)).fingerprint}
        scope.store.write(Record(table=name, kind="clusters", params={"space": space, "request": want, **res.params},
                                 inputs=inputs, fingerprint=fingerprint_arrays(res.labels),
                                 metrics={"clusters": res.clusters}), table)
    return res


def clusters(scope: ScopeLike, space: str | None = None) -> Clustering | None:
    """The stored clustering of a space (labels in point order), or ``None``."""
    space = scope.resolve_space(space)
    rec = scope.store.record(f"clusters__{space}")
    if rec is None:
        return None
    t = scope.store.read(rec.table)
    params = {k: v for k, v in rec.params.items() if k != "request"}
    return Clustering(t.column("cluster").to_numpy().astype(np.int32), list(rec.metrics.get("clusters", [])),
                      params)
