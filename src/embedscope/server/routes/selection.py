"""The page's export of a selection: the chosen points (a lasso, a search, a filter) as a CSV download.

``POST /api/spaces/{space}/selection.csv?layout=M`` with the rows as raw little-endian uint32 in the body
(``application/octet-stream``, 4 bytes a row: a million rows is 4 MB, never a JSON list) answers a UTF-8 CSV of
``id``, ``text``, the metadata columns and the layout's ``{M}_x`` / ``{M}_y``, in the order the rows were sent.

The answer is bounded by the space: at most as many rows as it has points (more means rows sent twice; a 1 MiB
body of one row repeated 262,144 times made a 695 MB answer), and it is streamed in blocks of
:data:`BLOCK_ROWS` rows, never built whole in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from ...errors import InputError, WorkspaceError
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}", tags=["selection"])

_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/octet-stream": {
    "schema": {"type": "string", "format": "binary"}}},
    "description": "Rows (point order) as little-endian uint32, 4 bytes each."}}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The selected items as CSV."}}


@router.post("/selection.csv", response_class=Response, responses=_CSV, openapi_extra=_BODY)
async def selection_csv(request: Request, space: str,
                        layout: str | None = Query(None, min_length=1, max_length=100,
                                                   description="Add this layout's x/y columns."),
                        state: ExplorerState = Depends(get_state)) -> Response:
    """The rows in the body (uint32 LE) as CSV: id, text, metadata, and the layout's coordinates."""
    body = await request.body()
    if len(body) == 0 or len(body) % 4:
        raise InputError("the body must hold the rows as little-endian uint32 (4 bytes each), at least one")
    rows = np.frombuffer(body, dtype="<u4").astype(np.int64)
    n = state.count(space)
    if rows.max() >= n:
        raise InputError(f"row {int(rows.max())} is out of range: space {space!r} has {n} points")
    if len(rows) > n:
        raise InputError(f"{len(rows)} rows but space {space!r} has {n} points: send each row once")
    if layout is not None and layout not in state.scope.layouts(space):
        raise WorkspaceError(f"space {space!r} has no {layout!r} layout")

    def table() -> pa.Table:
        from ...ops.export import export_table, json_columns

        # list and struct metadata as JSON texts (a list column made the CSV writer fail)
        return json_columns(export_table(state.scope, space, layouts=[layout] if layout else [], vectors=False))

    # read in the thread pool: building the export table of a big space takes seconds, not for the event loop
    full = await run_in_threadpool(state.cached, ("selection-table", space, layout), table)
    name = f"{space}-selection-{len(rows)}.csv".replace('"', "")
    return StreamingResponse(csv_blocks(full, rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


#: Rows written per block of the streamed CSV.
BLOCK_ROWS = 2048


def csv_blocks(table: pa.Table, rows: np.ndarray, block: int = BLOCK_ROWS) -> Iterator[bytes]:
    """``table.take(rows)`` as CSV, the header first, one block of ``block`` rows at a time."""
    for start in range(0, len(rows), block):
        sink = pa.BufferOutputStream()
        part = table.take(pa.array(rows[start:start + block]))
        pacsv.write_csv(part, sink, write_options=pacsv.WriteOptions(include_header=start == 0))
        yield sink.getvalue().to_pybytes()
