"""The compression table of a space (``embedscope compress``): recall against bytes per vector per codec.

- ``GET /compress``: the stored table, or ``result: null`` when it was never measured;
- ``POST /compress``: measure it now (default codecs, up to ``queries`` held-out queries) and store it.

Small JSON (one row per codec), no vectors.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ..columns import jsonable
from ..figures import Figure
from ..protocol import ScopeAPI
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/compress", tags=["compress"])


class CompressRow(BaseModel):
    """One codec of the table. The codec's small parameters (``rescore``, ``dims``, ``explained_variance``,
    depending on the codec) follow as further fields."""

    model_config = ConfigDict(extra="allow")
    codec: str
    #: Stored bytes per vector: all its search needs (binary+rescore keeps the float32 vectors too).
    bytes_per_vector: Figure
    #: Bytes per vector the search scans (the codes); absent in tables measured by earlier versions.
    scan_bytes: Figure = None
    recall_1: Figure = Field(alias="recall@1")
    recall_10: Figure = Field(alias="recall@10")
    recall_100: Figure = Field(alias="recall@100")
    #: Mean wall time per query of a top-10 search (milliseconds).
    query_ms: Figure
    #: Fit + encode time of the stored items (seconds).
    build_s: Figure


class CompressResult(BaseModel):
    """``embedscope compress --json``, plus ``stale`` (the vectors changed since) and the recorded ``params``."""

    space: str
    dim: int
    items: int
    queries: int
    rows: list[CompressRow]
    #: Codecs on the efficient frontier (no other codec as small and at least as accurate).
    frontier: list[str]
    stale: bool
    params: dict[str, JsonValue]


class CompressOut(BaseModel):
    """``result`` as ``embedscope compress --json`` prints it (``rows``, ``frontier``, ``dim``, ``items``,
    ``queries``, ``stale``), or ``null``."""

    space: str
    result: CompressResult | None


def _result(found: dict[str, Any] | None) -> CompressResult | None:
    return CompressResult.model_validate(jsonable(found)) if found is not None else None


@router.get("", response_model=CompressOut)
def get_compress(space: str, state: ExplorerState = Depends(get_state)) -> CompressOut:
    """The stored compression table of ``space``, or ``result: null``."""
    state.check_space(space)
    with state.lock:
        found = state.scope.compression(space)
    return CompressOut(space=space, result=_result(found))


@router.post("", response_model=CompressOut)
def post_compress(
    space: str,
    queries: int = Query(1000, ge=1, le=10_000, description="Held-out queries (at most a fifth of the items)."),
    state: ExplorerState = Depends(get_state),
) -> CompressOut:
    """Measure every default codec on ``space`` now, store the table, and return it (lookups are answered
    meanwhile: the job runs on its own handle of the workspace)."""
    state.check_space(space)

    def work(scope: ScopeAPI) -> dict[str, Any] | None:
        scope.compress(space, queries=queries)
        return scope.compression(space)

    return CompressOut(space=space, result=_result(state.run_job(work)))
