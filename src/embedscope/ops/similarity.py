"""Similarity in a workspace's space: rankings, closer-of-two, score histograms, label separation, metric
overlap, per-dimension statistics. The numbers come from :mod:`embedscope.analyses.similarity` and
:mod:`embedscope.analyses.distributions`; these functions read the space and check the inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..analyses import distributions, similarity
from ..errors import InputError
from ..results import Neighbors
from .base import ScopeLike, input_metric, query_vector


def rank(scope: ScopeLike, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
         k: int = 10, metric: str = "cosine", least: bool = False, space: str | None = None) -> Neighbors:
    """The ``k`` most (or, with ``least``, least) similar items to an item, a text or a vector.

    An exact scan of the space (see :func:`embedscope.analyses.similarity.rank`); the queried item is left out.
    Scores: cosine similarity, dot product, euclidean or manhattan distance.
    """
    space = scope.resolve_space(space)
    metric = input_metric(metric)
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    q, exclude = query_vector(scope, space, item, query, vector)
    ids, x, _ = scope.store.arrays(space)
    r = similarity.rank(np.asarray(x), q, k, metric, least=least, exclude=exclude)
    return Neighbors([ids[i] for i in r.rows], r.rows, r.scores, metric)


def closer(scope: ScopeLike, a: str, b: str, c: str, *, metric: str = "cosine",
           space: str | None = None) -> dict[str, Any]:
    """Which of items ``b`` and ``c`` is closer to item ``a``; JSON-ready.

    Returns
    -------
    dict
        ``{"space", "a", "b", "c", "metric", "closer": id | null (a tie), "score_b", "score_c",
        "rank_b", "rank_c", "n"}``: ranks are 1-based among all items seen from ``a``.
    """
    space = scope.resolve_space(space)
    metric = input_metric(metric)
    _ids, x, pos = scope.store.arrays(space)
    rows = []
    for name in (a, b, c):
        if str(name) not in pos:
            raise InputError(f"no item with id {name!r} in space {space!r}")
        rows.append(pos[str(name)])
    if len({rows[0], rows[1], rows[2]}) < 3:
        raise InputError("closer needs three different items: A, then B and C to compare")
    res = similarity.closer(np.asarray(x), rows[0], rows[1], rows[2], metric)
    who = {"b": b, "c": c}.get(res.closer)
    return {"space": space, "a": a, "b": b, "c": c, **res.to_json(), "closer": who}


def similarity_histogram(scope: ScopeLike, item: str | None = None, *, query: str | None = None,
                         vector: np.ndarray | None = None, metric: str = "cosine", bins: int = 50,
                         space: str | None = None) -> similarity.Histogram:
    """Histogram of one query's scores against every item (the item itself left out); a
    :class:`embedscope.analyses.similarity.Histogram` (``.to_json()`` for JSON)."""
    space = scope.resolve_space(space)
    metric = input_metric(metric)
    if bins < 1:
        raise InputError(f"bins must be at least 1, got {bins}")
    q, exclude = query_vector(scope, space, item, query, vector)
    _ids, x, _ = scope.store.arrays(space)
    if len(x) - len(exclude) < 1:
        raise InputError(f"space {space!r} has no other items")
    return similarity.query_histogram(np.asarray(x), q, metric, bins=bins, exclude=exclude)


def pair_histogram(scope: ScopeLike, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                   sample: int | None = None, seed: int = 0) -> similarity.Histogram:
    """Histogram of pair similarities: every pair up to 2,000 items, else ``sample`` (default 200,000)
    uniformly random pairs with ``seed``; a :class:`embedscope.analyses.similarity.Histogram` stating which."""
    space = scope.resolve_space(space)
    metric = input_metric(metric)
    if bins < 1:
        raise InputError(f"bins must be at least 1, got {bins}")
    if sample is not None and sample < 1:
        raise InputError(f"the pair sample must be at least 1, got {sample}")
    _ids, x, _ = scope.store.arrays(space)
    if len(x) < 2:
        raise InputError(f"space {space!r} has {len(x)} item(s); pair similarities need at least 2")
    return distributions.pair_histogram(np.asarray(x), metric, bins=bins, sample=sample or distributions.SAMPLE_PAIRS,
                                        seed=seed)


def label_columns(scope: ScopeLike, space: str | None = None, *, max_labels: int = 50) -> list[str]:
    """Metadata columns that look categorical: text or boolean, 2..``max_labels`` distinct values, and
    at least one value shared by two items."""
    space = scope.resolve_space(space)
    if not scope.has_items():
        return []
    t = scope.items_for(space)
    out = []
    for name in t.column_names:
        if name in ("id", "text"):
            continue
        col = t.column(name)
        typ = col.type
        if pa.types.is_dictionary(typ):
            typ = typ.value_type
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_boolean(typ)):
            continue
        distinct = pc.count_distinct(col).as_py()
        if 2 <= distinct <= max_labels and distinct < t.num_rows - col.null_count:
            out.append(name)
    return out


def label_separation(scope: ScopeLike, label: str, space: str | None = None, *, metric: str = "cosine",
                     bins: int = 50, sample: int | None = None, seed: int = 0) -> distributions.LabelSeparation:
    """Same-label against different-label pair similarities and their ROC AUC, for the metadata column
    ``label`` (items without a label left out); a :class:`embedscope.analyses.distributions.LabelSeparation`."""
    space = scope.resolve_space(space)
    metric = input_metric(metric)
    if not scope.has_items():
        raise InputError("this workspace has no item metadata, so no label column")
    items = scope.items_for(space)
    cols = [c for c in items.column_names if c != "id"]
    if label not in cols:
        raise InputError(f"no column {label!r}; " + (f"columns: {', '.join(cols)}" if cols else "the items have no "
                                                     "metadata columns"))
    _ids, x, _ = scope.store.arrays(space)
    try:
        return distributions.label_separation(np.asarray(x), items.column(label).to_pylist(), metric, bins=bins,
                                              sample=sample or distributions.SAMPLE_PAIRS, seed=seed)
    except ValueError as exc:
        raise InputError(f"column {label!r}: {exc}") from None


def metric_overlap(scope: ScopeLike, item: str | None = None, *, query: str | None = None,
                   vector: np.ndarray | None = None, k: int = 10, space: str | None = None) -> similarity.MetricOverlap:
    """The top-``k`` under cosine, dot, euclidean and manhattan for one query, with their overlap and
    which must agree; a :class:`embedscope.analyses.similarity.MetricOverlap` (``.to_json(ids)``)."""
    space = scope.resolve_space(space)
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    q, exclude = query_vector(scope, space, item, query, vector)
    _ids, x, _ = scope.store.arrays(space)
    return similarity.metric_overlap(np.asarray(x), q, k, exclude=exclude)


def dimension_stats(scope: ScopeLike, space: str | None = None) -> distributions.DimensionStats:
    """Mean, spread, min and max of each dimension; a :class:`embedscope.analyses.distributions.DimensionStats`."""
    _ids, x, _ = scope.store.arrays(scope.resolve_space(space))
    return distributions.dimension_stats(x)
