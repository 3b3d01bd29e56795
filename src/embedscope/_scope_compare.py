"""Comparing spaces of a workspace, as methods of :class:`embedscope.workspace.Scope`: one-line delegations to
:mod:`embedscope.ops.compare`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .ops import compare as ops_compare

if TYPE_CHECKING:
    from ._scope_core import ScopeCore as Base
else:
    Base = object


class CompareMixin(Base):
    """Methods of :class:`embedscope.workspace.Scope`."""

    def compare(self, a: str, b: str, *, k: int = 10, label: str | None = None, qrels: str | Path | None = None,
                top: int = 10, seed: int = 0) -> dict[str, Any]:
        """Compare two spaces on the items they share (see :mod:`embedscope.analyses.compare`); JSON-ready, stored
        as ``compare__{a}__{b}`` and reused until either space changes (:func:`embedscope.ops.compare.compare`).

        Parameters
        ----------
        a, b
            Space names (any dimensions: they share ids, not coordinates).
        k
            Neighbourhood size for agreement and retrieval.
        label
            A metadata column for same-label retrieval (precision, recall, nDCG at k), or ``None``.
        qrels
            A file of query / relevant-item judgements (see :mod:`embedscope.io.qrels`), or ``None``.
        top
            How many "changed most" items to list with both neighbour lists.
        seed
            Seed of the random pairs and of the bootstrap.

        Returns
        -------
        dict
            ``{"spaces": [a, b], "k", "items", "dims", "jaccard_mean", "jaccard_median", "jaccard_histogram",
            "chance_jaccard", "cka", "spearman", "spearman_pairs", "similarity": {"edges", "a", "b"},
            "calibration": {"percentiles", "a", "b"}, "retrieval": {...} | None, "qrels": {...} | None,
            "changed_most": [{"id", "jaccard", "neighbors_a", "neighbors_b"}], "verdict": str}``.
        """
        return ops_compare.compare(self, a, b, k=k, label=label, qrels=qrels, top=top, seed=seed)

    def comparison(self, a: str, b: str) -> tuple[list[str], np.ndarray, dict[str, Any]] | None:
        """The stored comparison of ``a`` and ``b``: ids, per-item Jaccard@k (float32, ``(n,)``) and the result.

        ``None`` when it was never computed or either space changed since (:func:`embedscope.ops.compare.comparison`).
        """
        return ops_compare.comparison(self, a, b)

    def retrieval(self, spaces: Sequence[str], *, k: int = 10, label: str | None = None,
                  qrels: str | Path | None = None, bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
        """Retrieval quality of two or more spaces on the items they share: which model wins on this data
        (:func:`embedscope.ops.compare.retrieval`).

        Parameters
        ----------
        spaces
            Two or more space names.
        label
            Same-label retrieval: every item with at least one other item of its label is a query.
        qrels
            Query / relevant-item judgements (:mod:`embedscope.io.qrels`): a query that is an item id is that item
            (left out of its own results); any other query is a text embedded with each space's own model.

        Returns
        -------
        dict
            ``{"spaces", "k", "label": {...} | None, "qrels": {...} | None}``; each part is ``{"queries",
            "rows": [{"metric", "values": {space: mean}, "best", "runner_up", "difference", "ci95", "winner"}]}``
            (``winner`` is ``None`` when the 95% interval of the best-minus-runner-up difference holds 0).
        """
        return ops_compare.retrieval(self, spaces, k=k, label=label, qrels=qrels, bootstrap=bootstrap, seed=seed)
