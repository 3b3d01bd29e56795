"""Metadata filters for the explorer (see :mod:`embedscope.search.filters`).

- ``GET /api/spaces/{space}/filter?filter={...}``: which points pass, an Arrow stream of ``keep`` (uint8, point
  order), so the page hides the rest of the map and counts what is left;
- :func:`filter_mask` is what the search and neighbour routes use with the same ``filter`` parameter, so the
  histogram, the hits and the neighbours are restricted to the same items.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response

from ...search.filters import MAX_FILTER_CHARS, mask, parse_filter
from ..arrow import ARROW_CACHED
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/filter", tags=["filter"])

FILTER = Query(None, alias="filter", max_length=MAX_FILTER_CHARS,
               description='Keep only items matching this JSON object, e.g. {"topic": ["a"], "n": {"min": 3}} '
                           '(see embedscope.search.filters).')


def filter_mask(state: ExplorerState, space: str, spec: str | None) -> np.ndarray | None:
    """The points of ``space`` that pass ``spec`` (bool, point order; cached), or ``None`` for no filter."""
    conditions = parse_filter(spec)
    if not conditions:
        return None
    return state.recent(("filter", space, spec), lambda: mask(state.items(space), conditions))


@router.get("", response_class=Response, responses=ARROW_CACHED)
def get_filter(request: Request, space: str, spec: str | None = FILTER,
               state: ExplorerState = Depends(get_state)) -> Response:
    """``keep`` (uint8, 1 = passes the filter) for every point of ``space``, as an Arrow stream."""
    state.check_space(space)
    found = filter_mask(state, space, spec)
    keep = np.ones(state.count(space), np.uint8) if found is None else found.astype(np.uint8)
    blob = state.recent(("filter-keep", space, spec), lambda: state.blob_of(("filter-keep", space, spec),
                                                                             pa.table({"keep": pa.array(keep)})))
    return state.send_blob(request, blob)
