"""The compression table of a space (``embedscope compress``): recall against bytes per vector per codec.

- ``GET /compress``: the stored table, or ``result: null`` when it was never measured;
- ``POST /compress``: measure it now (default codecs, up to ``queries`` held-out queries) and store it.

Small JSON (one row per codec), no vectors.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from ..columns import jsonable
from ..protocol import ScopeAPI
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/compress", tags=["compress"])


class CompressOut(BaseModel):
    """``result`` as ``embedscope compress --json`` prints it (``rows``, ``frontier``, ``dim``, ``items``,
    ``queries``, ``stale``), or ``null``."""

    space: str
    result: dict[str, Any] | None


@router.get("", response_model=CompressOut)
def get_compress(space: str, state: ExplorerState = Depends(get_state)) -> CompressOut:
    """The stored compression table of ``space``, or ``result: null``."""
    state.check_space(space)
    with state.lock:
        found = state.scope.compression(space)
    return CompressOut(space=space, result=jsonable(found) if found is not None else None)


@router.post("", response_model=CompressOut)
def post_compress(
    space: str,
    queries: int = Query(1000, ge=1, le=10_000, description="Held-out queries (at most a fifth of the items)."),
    state: ExplorerState = Depends(get_state),
) -> CompressOut:
    """Measure every default codec on ``space`` now, store the table, and return it (lookups are answered
    meanwhile: the job runs on its own handle of the workspace)."""
    state.check_space(space)

    def work(scope: ScopeAPI) -> Any:
        scope.compress(space, queries=queries)
        return scope.compression(space)

    return CompressOut(space=space, result=jsonable(state.run_job(work)))
