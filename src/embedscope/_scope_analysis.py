"""Space analyses of a workspace: health, similarity rankings and distributions, the static report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa

from .errors import InputError, WorkspaceError
from .results import Neighbors
from .search.exact import check_metric
from .search.graph import GRAPH_ON_DEMAND_MAX
from .store.tables import neighbors_table

if TYPE_CHECKING:
    from .pipeline.base import ScopeLike as _ScopeBase
    from .scope import Scope
else:
    _ScopeBase = object

#: Fewest points a space's health checks can measure (pairs of items, a neighbour for each).
HEALTH_MIN_ITEMS = 2


class AnalysisMixin(_ScopeBase):
    """Methods of :class:`embedscope.workspace.Scope`."""

    def health(self, space: str | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
        """Every space-health check (see :mod:`embedscope.analyses.diagnostics`) as JSON-ready dicts."""
        from .analyses.diagnostics import health

        space = self.resolve_space(space)
        ids, x, _ = self.store.arrays(space)
        if len(ids) < HEALTH_MIN_ITEMS:
            raise InputError(f"too few items: health needs at least {HEALTH_MIN_ITEMS} items ({self.path} has "
                             f"{len(ids)} in space {space!r}); add items with embedscope ingest")
        graph = self.knn(space) if len(ids) <= GRAPH_ON_DEMAND_MAX or \
            self.store.record(neighbors_table(space)) is not None else None
        if graph is None:
            raise InputError(f"space {space!r} has {len(ids)} items; build its kNN graph first "
                             f"(embedscope neighbors computes it) to check its health")
        return [c.to_json() for c in health(np.asarray(x), ids, graph, seed=seed)]

    # ----------------------------------------------------------------------------------- similarity
    def _query_rows(self, space: str, item: str | None, query: str | None, vector: np.ndarray | None
                    ) -> tuple[np.ndarray, list[int]]:
        """The query vector (shape ``(d,)``) of an item, a text or a vector, and the rows to leave out."""
        if sum(v is not None for v in (item, query, vector)) != 1:
            raise InputError("give exactly one of an item id, --query TEXT or a vector")
        _ids, x, pos = self.store.arrays(space)
        if item is not None:
            row = pos.get(str(item))
            if row is None:
                raise InputError(f"no item with id {item!r} in space {space!r}")
            return np.asarray(x[row], dtype=np.float32), [row]
        if query is not None:
            vector = self.embed_query(query, space)
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape[0] != x.shape[1]:
            raise InputError(f"the vector has {q.shape[0]} dimensions, space {space!r} has {x.shape[1]}")
        if not np.isfinite(q).all():
            raise InputError("the query vector has non-finite values")
        return q, []

    @staticmethod
    def _metric(metric: str) -> str:
        try:
            return check_metric(metric)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def rank(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
             k: int = 10, metric: str = "cosine", least: bool = False, space: str | None = None) -> Neighbors:
        """The ``k`` most (or, with ``least``, least) similar items to an item, a text or a vector.

        An exact scan of the space (see :func:`embedscope.analyses.similarity.rank`); the queried item is left out.
        Scores: cosine similarity, dot product, euclidean or manhattan distance.
        """
        from .analyses.similarity import rank as _rank

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        q, exclude = self._query_rows(space, item, query, vector)
        ids, x, _ = self.store.arrays(space)
        r = _rank(np.asarray(x), q, k, metric, least=least, exclude=exclude)
        return Neighbors([ids[i] for i in r.rows], r.rows, r.scores, metric)

    def closer(self, a: str, b: str, c: str, *, metric: str = "cosine", space: str | None = None) -> dict[str, Any]:
        """Which of items ``b`` and ``c`` is closer to item ``a``; JSON-ready.

        Returns
        -------
        dict
            ``{"space", "a", "b", "c", "metric", "closer": id | null (a tie), "score_b", "score_c",
            "rank_b", "rank_c", "n"}``: ranks are 1-based among all items seen from ``a``.
        """
        from .analyses.similarity import closer as _closer

        space = self.resolve_space(space)
        metric = self._metric(metric)
        _ids, x, pos = self.store.arrays(space)
        rows = []
        for name in (a, b, c):
            if str(name) not in pos:
                raise InputError(f"no item with id {name!r} in space {space!r}")
            rows.append(pos[str(name)])
        if len({rows[0], rows[1], rows[2]}) < 3:
            raise InputError("closer needs three different items: A, then B and C to compare")
        res = _closer(np.asarray(x), rows[0], rows[1], rows[2], metric)
        who = {"b": b, "c": c}.get(res.closer)
        return {"space": space, "a": a, "b": b, "c": c, **res.to_json(), "closer": who}

    def similarity_histogram(self, item: str | None = None, *, query: str | None = None,
                             vector: np.ndarray | None = None, metric: str = "cosine", bins: int = 50,
                             space: str | None = None) -> Any:
        """Histogram of one query's scores against every item (the item itself left out); a
        :class:`embedscope.analyses.similarity.Histogram` (``.to_json()`` for JSON)."""
        from .analyses.similarity import query_histogram

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if bins < 1:
            raise InputError(f"bins must be at least 1, got {bins}")
        q, exclude = self._query_rows(space, item, query, vector)
        _ids, x, _ = self.store.arrays(space)
        if len(x) - len(exclude) < 1:
            raise InputError(f"space {space!r} has no other items")
        return query_histogram(np.asarray(x), q, metric, bins=bins, exclude=exclude)

    def pair_histogram(self, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                       sample: int | None = None, seed: int = 0) -> Any:
        """Histogram of pair similarities: every pair up to 2,000 items, else ``sample`` (default 200,000)
        uniformly random pairs with ``seed``; a :class:`embedscope.analyses.similarity.Histogram` stating which."""
        from .analyses.distributions import SAMPLE_PAIRS
        from .analyses.distributions import pair_histogram as _ph

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if bins < 1:
            raise InputError(f"bins must be at least 1, got {bins}")
        if sample is not None and sample < 1:
            raise InputError(f"the pair sample must be at least 1, got {sample}")
        _ids, x, _ = self.store.arrays(space)
        if len(x) < 2:
            raise InputError(f"space {space!r} has {len(x)} item(s); pair similarities need at least 2")
        return _ph(np.asarray(x), metric, bins=bins, sample=sample or SAMPLE_PAIRS, seed=seed)

    def label_columns(self, space: str | None = None, *, max_labels: int = 50) -> list[str]:
        """Metadata columns that look categorical: text or boolean, 2..``max_labels`` distinct values, and
        at least one value shared by two items."""
        import pyarrow.compute as pc

        space = self.resolve_space(space)
        if not self.has_items():
            return []
        t = self.items_for(space)
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

    def label_separation(self, label: str, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                         sample: int | None = None, seed: int = 0) -> Any:
        """Same-label against different-label pair similarities and their ROC AUC, for the metadata column
        ``label`` (items without a label left out); a :class:`embedscope.analyses.distributions.LabelSeparation`."""
        from .analyses.distributions import SAMPLE_PAIRS
        from .analyses.distributions import label_separation as _ls

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if not self.has_items():
            raise InputError("this workspace has no item metadata, so no label column")
        items = self.items_for(space)
        cols = [c for c in items.column_names if c != "id"]
        if label not in cols:
            raise InputError(f"no column {label!r}; " + (f"columns: {', '.join(cols)}" if cols else "the items have no "
                                                         "metadata columns"))
        _ids, x, _ = self.store.arrays(space)
        try:
            return _ls(np.asarray(x), items.column(label).to_pylist(), metric, bins=bins,
                       sample=sample or SAMPLE_PAIRS, seed=seed)
        except ValueError as exc:
            raise InputError(f"column {label!r}: {exc}") from None

    def metric_overlap(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
                       k: int = 10, space: str | None = None) -> Any:
        """The top-``k`` under cosine, dot, euclidean and manhattan for one query, with their overlap and
        which must agree; a :class:`embedscope.analyses.similarity.MetricOverlap` (``.to_json(ids)``)."""
        from .analyses.similarity import metric_overlap as _mo

        space = self.resolve_space(space)
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        q, exclude = self._query_rows(space, item, query, vector)
        _ids, x, _ = self.store.arrays(space)
        return _mo(np.asarray(x), q, k, exclude=exclude)

    def dimension_stats(self, space: str | None = None) -> Any:
        """Mean, spread, min and max of each dimension; a :class:`embedscope.analyses.distributions.DimensionStats`."""
        from .analyses.distributions import dimension_stats as _ds

        _ids, x, _ = self.store.arrays(self.resolve_space(space))
        return _ds(x)

    def report(self, path: str | Path, *, spaces: Sequence[str] | None = None, png_dir: str | Path | None = None,
               seed: int = 0, item: str | None = None) -> Path:
        """Write the static, self-contained HTML report of the given spaces (default: all) to ``path``; with
        ``png_dir``, the same figures also as PNG files there. ``item``: the example item of the query
        histogram, rankings and vector chart (default: each space's top hub). See :mod:`embedscope.ops.report`."""
        from .ops.report import write_report

        names = [self.resolve_space(s) for s in spaces] if spaces else self.spaces()
        if not names:
            raise WorkspaceError(f"{self.path} has no embedding space yet: embedscope embed {self.path}")
        for s in names:
            n = len(self.point_ids(s))
            if n < HEALTH_MIN_ITEMS:
                raise InputError(f"too few items: a report needs at least {HEALTH_MIN_ITEMS} items ({self.path} has "
                                 f"{n} in space {s!r}); add items with embedscope ingest")
        if item is not None:
            for s in names:
                if str(item) not in self.store.arrays(s).pos:
                    raise InputError(f"no item with id {item!r} in space {s!r}")
        if not Path(path).resolve().parent.is_dir():
            raise InputError(f"cannot write {path}: its directory does not exist")
        return write_report(cast("Scope", self), path, spaces=names, png_dir=png_dir, seed=seed, item=item)
