"""Arrow IPC responses: per-point arrays go to the browser as bytes, never as JSON lists."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi import Response

#: The IANA media type of the Arrow IPC stream format.
ARROW_STREAM = "application/vnd.apache.arrow.stream"
_BYTES = {"schema": {"type": "string", "format": "binary"}}
#: OpenAPI ``responses`` of a route answering an Arrow stream with no ETag.
ARROW_ONLY: dict[int | str, dict[str, Any]] = {200: {"content": {ARROW_STREAM: _BYTES}, "description": "Arrow IPC stream."}}
#: ... and of one with an ETag (``ExplorerState.send_arrow``): 304 when ``If-None-Match`` still holds.
ARROW_CACHED: dict[int | str, dict[str, Any]] = {
    **ARROW_ONLY, 304: {"description": "Not modified: the bytes with the ETag sent in If-None-Match still hold."}}


def ipc_bytes(table: pa.Table) -> bytes:
    """Serialise ``table`` as one Arrow IPC stream (schema + record batches, no compression)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches():
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


class ArrowResponse(Response):
    """A response whose body is an Arrow IPC stream."""

    media_type = ARROW_STREAM


def arrow_response(payload: pa.Table | bytes, *, cache: bool = True) -> ArrowResponse:
    """Wrap a table (or its already serialised bytes) as an :class:`ArrowResponse`.

    ``cache`` lets the browser keep the bytes but revalidate them on every use (``no-cache`` with the ETag
    the routes set: an unchanged array costs a 304, a workspace changed by another process is never served
    stale).
    """
    body = payload if isinstance(payload, bytes) else ipc_bytes(payload)
    headers = {"Cache-Control": "private, no-cache" if cache else "no-store"}
    return ArrowResponse(content=body, headers=headers)
