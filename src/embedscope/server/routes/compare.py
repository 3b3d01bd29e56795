"""Comparison of two spaces of the workspace (``embedscope compare``), for the compare view.

- ``GET /api/compare?a=A&b=B``: the stored comparison (agreement, CKA, similarity scales, retrieval, the
  items that changed most), or ``result: null``;
- ``POST /api/compare?a=A&b=B&k=10&label=COLUMN``: compare now and store it;
- ``GET /api/compare/points?a=A&b=B&side=a|b``: per point of that side's space, in its point order, an Arrow
  stream of ``jaccard`` (float32, the item's neighbour agreement; NaN when the item is not in both spaces or
  never compared) and ``other`` (int32, the same item's row in the other space, -1 if absent): what colours
  the two maps and links selection and hover between them.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ...errors import InputError
from ..arrow import ARROW_STREAM
from ..columns import jsonable
from ..figures import Figure
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/compare", tags=["compare"])

_ARROW: dict[int | str, dict[str, Any]] = {
    200: {"content": {ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}}},
          "description": "Arrow IPC stream."},
    304: {"description": "Not modified: the bytes with the ETag sent in If-None-Match still hold."}}

A = Query(..., min_length=1, max_length=200, description="First space.")
B = Query(..., min_length=1, max_length=200, description="Second space.")
K = Query(10, ge=1, le=100, description="Neighbourhood size.")
LABEL = Query(None, min_length=1, max_length=200, description="A metadata column for same-label retrieval.")
SIDE = Query("a", description="Whose point order: a or b.")


class SimilarityScales(BaseModel):
    """Both spaces' cosine similarities of the same random pairs, as histograms on one shared range."""

    edges: list[Figure]
    a: list[int]
    b: list[int]
    pairs: int
    #: Mean and spread of each side's similarities, ``[a, b]``; absent when there are no pairs.
    mean: list[Figure] | None = Field(None, exclude_if=lambda v: v is None)
    std: list[Figure] | None = Field(None, exclude_if=lambda v: v is None)


class Calibration(BaseModel):
    """Percentile calibration of the two similarity scales: at each percentile, the similarity in A and in B."""

    percentiles: list[Figure]
    a: list[Figure]
    b: list[Figure]


class RetrievalRow(BaseModel):
    """One metric of a retrieval table: each space's mean, the best space, its margin over the runner-up."""

    metric: str
    values: dict[str, Figure]
    best: str
    runner_up: str
    difference: Figure
    ci95: list[Figure]
    #: ``null``: a tie (the 95% interval of the margin holds 0).
    winner: str | None


class LabelRetrieval(BaseModel):
    """Same-label retrieval of both spaces (``--label``)."""

    metric: str
    a: Figure
    b: Figure
    difference: Figure
    ci95: list[Figure]
    bootstrap: int
    queries: int
    rows: list[RetrievalRow]
    column: str | None
    #: Set when the classes are quantile bins of a numeric column (how, in words).
    note: str | None = None


class QrelsRetrieval(BaseModel):
    """Retrieval of both spaces on the judgements of a qrels file (``--qrels``)."""

    file: str
    queries: int
    text_queries: int
    judgements: int
    rows: list[RetrievalRow]


class ChangedItem(BaseModel):
    """An item whose neighbours changed most, with both neighbour lists and its row in each space."""

    id: str
    jaccard: Figure
    neighbors_a: list[str]
    neighbors_b: list[str]
    row_a: int
    row_b: int


class CompareResult(BaseModel):
    """``embedscope compare --json``, each "changed most" item with its rows."""

    spaces: list[str]
    k: int
    items: int
    dims: list[int]
    jaccard_mean: Figure
    jaccard_median: Figure
    jaccard_histogram: list[int]
    chance_jaccard: Figure
    cka: Figure
    spearman: Figure
    spearman_pairs: int
    similarity: SimilarityScales
    calibration: Calibration | None
    retrieval: LabelRetrieval | None
    qrels: QrelsRetrieval | None
    changed_most: list[ChangedItem]
    verdict: str


class CompareOut(BaseModel):
    """``result`` as ``embedscope compare --json`` prints it, or ``null`` when never computed (or stale)."""

    a: str
    b: str
    result: CompareResult | None


def _with_rows(state: ExplorerState, doc: dict[str, Any]) -> CompareResult:
    """``doc`` with each "changed most" item's row in both spaces (the page selects it on both maps)."""
    a, b = doc["spaces"]
    pos = [{s: i for i, s in enumerate(state.point_ids(sp))} for sp in (a, b)]
    changed = [{**c, "row_a": pos[0].get(c["id"], -1), "row_b": pos[1].get(c["id"], -1)} for c in doc["changed_most"]]
    return CompareResult.model_validate({**jsonable(doc), "changed_most": changed})


def _check(state: ExplorerState, a: str, b: str) -> None:
    state.check_space(a)
    state.check_space(b)
    if a == b:
        raise InputError("choose two different spaces")


@router.get("", response_model=CompareOut)
def get_compare(a: str = A, b: str = B, state: ExplorerState = Depends(get_state)) -> CompareOut:
    """The stored comparison of spaces ``a`` and ``b``, or ``result: null``."""
    _check(state, a, b)
    with state.lock:
        found = state.scope.comparison(a, b)
        return CompareOut(a=a, b=b, result=_with_rows(state, found[2]) if found is not None else None)


@router.post("", response_model=CompareOut)
def post_compare(a: str = A, b: str = B, k: int = K, label: str | None = LABEL,
                 state: ExplorerState = Depends(get_state)) -> CompareOut:
    """Compare ``a`` and ``b`` now (neighbour agreement, CKA, similarity scales, retrieval) and store it (lookups
    are answered meanwhile: the job runs on its own handle of the workspace)."""
    _check(state, a, b)
    if label is not None:
        state.column(a, label)  # 404 for an unknown column
    doc = state.run_job(lambda scope: scope.compare(a, b, k=k, label=label))
    return CompareOut(a=a, b=b, result=_with_rows(state, doc))


@router.get("/points", response_class=Response, responses=_ARROW)
def compare_points(request: Request, a: str = A, b: str = B, side: Literal["a", "b"] = SIDE,
                   state: ExplorerState = Depends(get_state)) -> Response:
    """Per point of one side: its neighbour agreement and the same item's row in the other space (Arrow)."""
    _check(state, a, b)
    mine, theirs = (a, b) if side == "a" else (b, a)

    def table() -> pa.Table:
        with state.lock:
            ids = state.point_ids(mine)
            other_pos = {s: i for i, s in enumerate(state.point_ids(theirs))}
            found = state.scope.comparison(a, b)
        other = np.fromiter((other_pos.get(s, -1) for s in ids), np.int32, len(ids))
        jac = np.full(len(ids), np.nan, np.float32)
        if found is not None:
            pos = {s: i for i, s in enumerate(ids)}
            rows = np.fromiter((pos.get(s, -1) for s in found[0]), np.int64, len(found[0]))
            keep = rows >= 0
            jac[rows[keep]] = found[1][keep]
        return pa.table({"jaccard": pa.array(jac, pa.float32()), "other": pa.array(other, pa.int32())})

    return state.send_arrow(request, ("compare-points", a, b, side), table)
