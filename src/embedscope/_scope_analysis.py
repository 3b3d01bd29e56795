"""Space analyses of a workspace as methods of :class:`embedscope.workspace.Scope`: one-line delegations to
:mod:`embedscope.ops.health`, :mod:`embedscope.ops.similarity` and :mod:`embedscope.ops.report`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .analyses.distributions import DimensionStats, LabelSeparation
from .analyses.similarity import Histogram, MetricOverlap
from .ops import health as ops_health
from .ops import report as ops_report
from .ops import similarity as ops_similarity
from .results import Neighbors

if TYPE_CHECKING:
    from ._scope_core import ScopeCore as Base
else:
    Base = object


class AnalysisMixin(Base):
    """Methods of :class:`embedscope.workspace.Scope`."""

    def health(self, space: str | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
        """Every space-health check (see :mod:`embedscope.analyses.diagnostics`) as JSON-ready dicts
        (:func:`embedscope.ops.health.health`)."""
        return ops_health.health(self, space, seed=seed)

    def rank(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
             k: int = 10, metric: str = "cosine", least: bool = False, space: str | None = None) -> Neighbors:
        """The ``k`` most (or, with ``least``, least) similar items to an item, a text or a vector.

        An exact scan of the space (see :func:`embedscope.analyses.similarity.rank`); the queried item is left out.
        Scores: cosine similarity, dot product, euclidean or manhattan distance
        (:func:`embedscope.ops.similarity.rank`).
        """
        return ops_similarity.rank(self, item, query=query, vector=vector, k=k, metric=metric, least=least, space=space)

    def closer(self, a: str, b: str, c: str, *, metric: str = "cosine", space: str | None = None) -> dict[str, Any]:
        """Which of items ``b`` and ``c`` is closer to item ``a``; JSON-ready (:func:`embedscope.ops.similarity.closer`).

        Returns
        -------
        dict
            ``{"space", "a", "b", "c", "metric", "closer": id | null (a tie), "score_b", "score_c",
            "rank_b", "rank_c", "n"}``: ranks are 1-based among all items seen from ``a``.
        """
        return ops_similarity.closer(self, a, b, c, metric=metric, space=space)

    def similarity_histogram(self, item: str | None = None, *, query: str | None = None,
                             vector: np.ndarray | None = None, metric: str = "cosine", bins: int = 50,
                             space: str | None = None) -> Histogram:
        """Histogram of one query's scores against every item (the item itself left out); a
        :class:`embedscope.analyses.similarity.Histogram` (``.to_json()`` for JSON)
        (:func:`embedscope.ops.similarity.similarity_histogram`)."""
        return ops_similarity.similarity_histogram(self, item, query=query, vector=vector, metric=metric, bins=bins,
                                                   space=space)

    def pair_histogram(self, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                       sample: int | None = None, seed: int = 0) -> Histogram:
        """Histogram of pair similarities: every pair up to 2,000 items, else ``sample`` (default 200,000)
        uniformly random pairs with ``seed``; a :class:`embedscope.analyses.similarity.Histogram` stating which
        (:func:`embedscope.ops.similarity.pair_histogram`)."""
        return ops_similarity.pair_histogram(self, space, metric=metric, bins=bins, sample=sample, seed=seed)

    def label_columns(self, space: str | None = None, *, max_labels: int = 50) -> list[str]:
        """Metadata columns that look categorical: text or boolean, 2..``max_labels`` distinct values, and
        at least one value shared by two items (:func:`embedscope.ops.similarity.label_columns`)."""
        return ops_similarity.label_columns(self, space, max_labels=max_labels)

    def label_separation(self, label: str, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                         sample: int | None = None, seed: int = 0) -> LabelSeparation:
        """Same-label against different-label pair similarities and their ROC AUC, for the metadata column
        ``label`` (items without a label left out); a :class:`embedscope.analyses.distributions.LabelSeparation`
        (:func:`embedscope.ops.similarity.label_separation`)."""
        return ops_similarity.label_separation(self, label, space, metric=metric, bins=bins, sample=sample, seed=seed)

    def metric_overlap(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
                       k: int = 10, space: str | None = None) -> MetricOverlap:
        """The top-``k`` under cosine, dot, euclidean and manhattan for one query, with their overlap and
        which must agree; a :class:`embedscope.analyses.similarity.MetricOverlap` (``.to_json(ids)``)
        (:func:`embedscope.ops.similarity.metric_overlap`)."""
        return ops_similarity.metric_overlap(self, item, query=query, vector=vector, k=k, space=space)

    def dimension_stats(self, space: str | None = None) -> DimensionStats:
        """Mean, spread, min and max of each dimension; a :class:`embedscope.analyses.distributions.DimensionStats`
        (:func:`embedscope.ops.similarity.dimension_stats`)."""
        return ops_similarity.dimension_stats(self, space)

    def report(self, path: str | Path, *, spaces: Sequence[str] | None = None, png_dir: str | Path | None = None,
               seed: int = 0, item: str | None = None) -> Path:
        """Write the static, self-contained HTML report of the given spaces (default: all) to ``path``; with
        ``png_dir``, the same figures also as PNG files there. ``item``: the example item of the query
        histogram, rankings and vector chart (default: each space's top hub) (:func:`embedscope.ops.report.report`;
        the layouts' :meth:`quality` it reads comes from the layouts mixin, hence the cast)."""
        return ops_report.report(cast(ops_report.ReportScope, self), path, spaces=spaces, png_dir=png_dir, seed=seed, item=item)
