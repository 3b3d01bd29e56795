"""Space health for the explorer's Health sheet (``embedscope health`` plus the pair-similarity histogram).

- ``GET /health``: every check (value, verdict, threshold, ok, supporting figures such as hubs and rogue
  dimensions by index), the histogram of pair cosine similarities (all pairs up to 2,000 items, else a seeded
  sample of ``pairs`` pairs; ``exact`` says which), and, with ``label`` (or the first categorical column when
  ``label`` is omitted), same- vs different-label pair histograms with their ROC AUC.

- ``GET /health/dimensions``: each dimension's mean, spread (std), min and max as an Arrow stream (the
  per-dimension chart; rogue dimensions stand out as bars far from 0 with little spread).

Small JSON: counts and bin edges, never vectors. Computed once per workspace version and query.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, JsonValue

from ...analyses.diagnostics import CHECKS
from ..arrow import ARROW_CACHED
from ..columns import jsonable
from ..protocol import ScopeAPI
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/health", tags=["health"])


class CheckOut(BaseModel):
    """One check as ``embedscope health --json`` prints it, plus its ``title``; the supporting figures of each
    check (``hubs``, ``dimensions``, ``pairs``, ...) follow as further fields."""

    model_config = ConfigDict(extra="allow")

    name: str
    #: The check's title for people (``embedscope.analyses.diagnostics.CHECKS``).
    title: str
    #: The figure: a number, a list (rogue dimensions), counts (duplicates) or ``false`` (not normalised).
    value: JsonValue
    verdict: str
    #: The value at which the verdict changes: a number, named limits, or ``null``.
    threshold: JsonValue
    ok: bool


class CountsOut(BaseModel):
    """A histogram's ``counts`` over ``len(counts) + 1`` bin ``edges``, of ``n`` values."""

    counts: list[int]
    edges: list[float]
    n: int


class PairHistogramOut(CountsOut):
    """The pair similarities: all pairs (``exact``) or a seeded sample of ``population`` pairs."""

    kind: str
    metric: str
    exact: bool
    population: int
    seed: int | None
    #: ``mean``, ``std``, ``min``, ``max`` and quantiles ``p01`` ... ``p99`` (empty without pairs).
    stats: dict[str, float | None]


class LabelSeparationOut(BaseModel):
    """Same- against different-label pairs of a categorical ``column``, and the ROC AUC between them."""

    column: str
    auc: float | None
    verdict: str
    labels: int
    items: int
    exact: bool
    #: Why the AUC says little (most labels name one item), or null.
    warning: str | None = None
    same: CountsOut
    different: CountsOut


class HealthOut(BaseModel):
    """``checks`` as ``embedscope health --json`` prints them (each with its ``title``), the pair-similarity
    ``histogram``, and ``labels`` (``null`` without a categorical column)."""

    space: str
    items: int
    checks: list[CheckOut]
    histogram: PairHistogramOut
    labels: LabelSeparationOut | None


@router.get("", response_model=HealthOut)
def get_health(
    space: str,
    bins: int = Query(40, ge=5, le=200, description="Histogram bins."),
    pairs: int = Query(200_000, ge=1_000, le=2_000_000, description="Pairs sampled above 2,000 items."),
    label: str | None = Query(None, max_length=200, description="Categorical column for same/different-label pairs "
                              "(default: the first one; '' for none)."),
    state: ExplorerState = Depends(get_state),
) -> HealthOut:
    """Health checks of ``space`` and the distribution of its pair similarities."""
    state.check_space(space)

    def compute(scope: ScopeAPI) -> HealthOut:
        checks = scope.health(space)
        hist = scope.pair_histogram(space, bins=bins, sample=pairs).to_json()
        col = label if label is not None else next(iter(scope.label_columns(space)), "")
        labels: dict[str, Any] | None = None
        if col:
            sep = scope.label_separation(col, space, bins=bins, sample=pairs)
            doc = sep.to_json()
            labels = {"column": col, **{k: doc[k] for k in ("auc", "verdict", "labels", "items", "exact")},
                      "same": {k: doc["same"][k] for k in ("counts", "edges", "n")},
                      "different": {k: doc["different"][k] for k in ("counts", "edges", "n")}}
        return HealthOut(space=space, items=len(scope.point_ids(space)),
                         checks=[CheckOut.model_validate({**jsonable(c), "title": CHECKS.get(c["name"], c["name"])})
                                 for c in checks],
                         histogram=PairHistogramOut.model_validate(jsonable(hist)),
                         labels=None if labels is None else LabelSeparationOut.model_validate(jsonable(labels)))

    # off the shared lock (seconds on a big space), kept for the last few parameter sets
    return state.recent(("health", space, bins, pairs, label), lambda: state.run_job(compute, stores=False))


@router.get("/dimensions", response_class=Response, responses=ARROW_CACHED)
def get_dimensions(space: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """Per-dimension ``mean``, ``std``, ``min``, ``max`` (float32, one row per dimension) as an Arrow stream."""
    state.check_space(space)

    def table() -> pa.Table:
        with state.lock:
            st = state.scope.dimension_stats(space)
        return pa.table({name: pa.array(np.asarray(getattr(st, name), dtype=np.float32))
                         for name in ("mean", "std", "min", "max")})

    return state.send_arrow(request, ("dimensions", space), table)
