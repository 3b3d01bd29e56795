"""Neighbours in a space: the stored kNN graph, one item's or a query's nearest items, vector arithmetic (the
steps behind :meth:`embedscope.scope.Scope.knn`, ``graph_info``, ``neighbors`` and ``arithmetic``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engines import get_engine
from ..errors import InputError
from ..results import Neighbors, Progress
from ..search.exact import KNN, check_metric, normalize
from ..search.graph import DEFAULT_K, GRAPH_ON_DEMAND_MAX, build_graph, wants_approximate
from ..search.scan import QueryScan, scan_for_scope
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import graph_arrays, graph_table, neighbors_table, vectors_table
from .base import ScopeLike


def knn(scope: ScopeLike, space: str | None = None, k: int = DEFAULT_K, *, exact: bool | None = None,
        progress: Progress | None = None, engine: str = "local", address: str | None = None) -> KNN:
    """The stored cosine kNN graph of a space (built and stored on first need).

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    space
        Space name (default: the only one).
    k
        Neighbours per item wanted (the graph is built with at least ``DEFAULT_K``).
    exact
        ``None`` (default): exact up to :data:`embedscope.search.ann.ANN_ABOVE` items, approximate (HNSW,
        needs ``embedscope[ann]``) above, and a stored graph of either kind is reused. ``True``: an exact
        graph (a stored approximate one is rebuilt). ``False``: approximate whatever the size (a stored
        exact graph is reused: it is at least as good).
    engine, address
        ``ray``: build the graph as Ray tasks on the cluster at ``address`` (``None``: a local runtime on
        127.0.0.1): an exact graph over query shards (:func:`embedscope.engines.ray.knn.knn_graph_ray`; the
        same graph), or an approximate one from one HNSW index per shard of the items, merged
        (:func:`embedscope.engines.ray.knn.ann_graph_ray`; finished shards are staged in the workspace, so a
        killed build reruns only the missing ones).

    Returns
    -------
    KNN
        ``indices``/``scores`` of shape ``(n, min(k, n - 1))`` in point order. How it was made is in
        :meth:`graph_info`: approximate graphs record their recall@10 against exact search, measured on
        1,000 sampled items when they are built.
    """
    runner = get_engine(engine, address)
    space = scope.resolve_space(space)
    name = neighbors_table(space)
    vrec = scope.store.require(vectors_table(space))
    rec = scope.store.record(name)
    if rec is None or rec.inputs.get(vectors_table(space)) != vrec.fingerprint or \
            int(rec.params.get("k", 0)) < min(k, vrec.rows - 1) or \
            (exact is True and rec.params.get("exact") is False):
        with scope.store.writing():
            _, x, _ = scope.store.arrays(space)
            kk = max(k, DEFAULT_K)
            cb = (lambda d, t: progress("neighbors", d, t)) if progress else None
            approx = wants_approximate(len(x), exact)
            staging = scope.store.staging_path(f"knn-{space}")
            graph, built = build_graph(
                x, kk, approximate=approx,
                exact_build=lambda v, n: runner.knn_graph(v, n, progress=cb),
                ann_build=lambda v, n: runner.ann_graph(v, n, key=vrec.fingerprint, staging=staging, progress=cb),
                engine=None if runner.name == "local" else runner.name)
            params: dict[str, Any] = {"metric": "cosine", "space": space, **built}
            table = graph_table(scope.store.arrays(space).ids, graph.indices, graph.scores)
            g = graph.k
            rec = Record(table=name, kind="neighbors", params={"k": g, **params},
                         inputs={vectors_table(space): vrec.fingerprint},
                         # exact graphs of the same vectors agree on their common prefix, so a graph
                         # grown to a larger k does not make the layouts built on it stale
                         fingerprint=fingerprint_arrays(vrec.fingerprint, "cosine-ann" if approx else
                                                        "cosine-exact"))
            scope.store.write(rec, table)
        return KNN(graph.indices[:, :k], graph.scores[:, :k], "cosine")
    # decoded once per table version: the server asks for one row's neighbours per click, and copying a
    # million-row graph out of Arrow each time cost ~100 ms and as many MB
    graph_rec = rec
    hit = scope.store.memo(name + "#arrays", rec.table_version,
                          lambda: graph_arrays(scope.store.read(name), int(graph_rec.params["k"])))
    idx, sim = hit
    return KNN(idx[:, :k], sim[:, :k], "cosine")


def graph_info(scope: ScopeLike, space: str | None = None) -> dict[str, Any] | None:
    """How the stored kNN graph of a space was made, or ``None`` if there is none (or it is stale).

    ``{"exact": bool, "k": int, "method": str}``, and for approximate graphs ``"recall@10"`` (against exact
    search, measured on ``"recall_sample"`` sampled items when it was built), ``"build_s"`` and, built on
    Ray, ``"engine": "ray"``.
    """
    space = scope.resolve_space(space)
    rec = scope.store.record(neighbors_table(space))
    vrec = scope.store.require(vectors_table(space))
    if rec is None or rec.inputs.get(vectors_table(space)) != vrec.fingerprint:
        return None
    out: dict[str, Any] = {"exact": rec.params.get("exact", True) is not False, "k": int(rec.params.get("k", 0)),
                           "method": rec.params.get("method", "exact")}
    for key in ("recall@10", "recall_sample", "build_s", "engine"):
        if key in rec.params:
            out[key] = rec.params[key]
    return out


def neighbors(
    scope: ScopeLike,
    item: str | None = None,
    *,
    query: str | None = None,
    vector: np.ndarray | None = None,
    k: int = 10,
    metric: str = "cosine",
    space: str | None = None,
    exact: bool = False,
) -> Neighbors:
    """The ``k`` nearest items, in the original space, to an item, a text or a vector.

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    item
        An item id (the item itself is left out of the answer).
    query
        A text, embedded with the space's own model.
    vector
        A vector of the space's dimension, shape ``(d,)``.
    k
        How many, 1..n.
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
    space
        Space name (default: the only one).
    exact
        For an item: scan every vector even when the stored kNN graph is approximate. By default an item's
        cosine neighbours come from the stored graph (``Neighbors.graph`` then says how it was made and,
        for an approximate one, its measured recall@10).
    """
    try:
        check_metric(metric)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    if sum(v is not None for v in (item, query, vector)) != 1:
        raise InputError("give exactly one of an item id, --query TEXT or a vector")
    space = scope.resolve_space(space)
    ids, x, pos = scope.store.arrays(space)
    if item is not None:
        row = pos.get(str(item))
        if row is None:
            raise InputError(f"no item with id {item!r} in space {space!r}")
        n = len(ids)
        if n < 2:
            raise InputError(f"too few items: an item's neighbours need at least 2 items ({scope.path} has {n} "
                             f"in space {space!r}); add items with embedscope ingest")
        graph_rec = scope.store.record(neighbors_table(space))
        if metric == "cosine" and (n <= GRAPH_ON_DEMAND_MAX or graph_rec is not None) and \
                not (exact and graph_rec is not None and graph_rec.params.get("exact") is False):
            if k <= DEFAULT_K or (graph_rec is not None and int(graph_rec.params.get("k", 0)) >= k):
                g = scope.knn(space, min(k, DEFAULT_K) if graph_rec is None else k)
                kk = min(k, g.k)
                r = g.indices[row, :kk].astype(np.int64)
                return Neighbors([ids[i] for i in r], r, g.scores[row, :kk].copy(), metric,
                                 graph=scope.graph_info(space))
        r, s = query_scan(scope, space, metric).top(x[row], k, metric=metric, exclude=[row])
        return Neighbors([ids[i] for i in r], r, s, metric)
    if query is not None:
        vector = scope.embed_query(query, space)
    assert vector is not None
    q = np.asarray(vector, dtype=np.float32).reshape(1, -1)
    if q.shape[1] != x.shape[1]:
        raise InputError(f"the vector has {q.shape[1]} dimensions, space {space!r} has {x.shape[1]}")
    if not np.isfinite(q).all():
        raise InputError("the query vector has non-finite values")
    r, s = query_scan(scope, space, metric).top(q[0], k, metric=metric)
    return Neighbors([ids[i] for i in r], r, s, metric)


def arithmetic(scope: ScopeLike, plus: Sequence[str], minus: Sequence[str] = (), *, k: int = 10,
               space: str | None = None) -> Neighbors:
    """Vector arithmetic on items: nearest (cosine) to ``sum(plus) - sum(minus)`` of unit vectors.

    The items used in the query are left out of the answer, as in word-analogy evaluations
    (``king - man + woman`` -> ``queen``).
    """
    space = scope.resolve_space(space)
    ids, x, pos = scope.store.arrays(space)
    missing = [t for t in (*plus, *minus) if t not in pos]
    if missing:
        raise InputError(f"no item with id {missing[0]!r} in space {space!r}")
    if not plus:
        raise InputError("give at least one item to add")
    xn = normalize(x[[pos[t] for t in (*plus, *minus)]])
    q = xn[: len(plus)].sum(0) - xn[len(plus):].sum(0)
    used = sorted({pos[t] for t in (*plus, *minus)})
    rows, scores = query_scan(scope, space).top(q, k, metric="cosine", exclude=used)
    return Neighbors([ids[i] for i in rows], rows, scores, "cosine")


def query_scan(scope: ScopeLike, space: str, metric: str = "cosine") -> QueryScan:
    """The space's query scan (:func:`embedscope.search.scan.scan_for_scope`: float32 for a first, one-off query;
    int8 codes with exact rescoring from the second cosine query of a space above 200,000 items), kept per
    table version."""
    name = vectors_table(space)
    _, x, _ = scope.store.arrays(space)
    # one slot per table version holding the last scan (a slot, not the scan: the scan is replaced when it
    # gains its int8 codes; a forked handle shares the slot, and a scan is never changed once made)
    slot: dict[str, QueryScan] = scope.store.memo(name + "#scan", scope.store.require(name).table_version, dict)
    scan = scan_for_scope(slot.get("scan"), x, metric)
    slot["scan"] = scan
    return scan
