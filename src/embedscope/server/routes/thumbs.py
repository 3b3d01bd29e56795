"""Thumbnails of image items (issue 19).

- ``GET /api/thumbs/{id}``: one item's WebP thumbnail (``id`` as the item's id, percent-encoded; it may hold
  ``/``); 404 when the item has none. With ``?v=`` (``/api/info``'s ``images_version``) the browser may keep it
  for a year (the version changes with the thumbnails); without, it revalidates by ETag.
- ``GET /api/thumbs?ids=a&ids=b`` (the parameter repeated: ids may hold commas) and ``POST /api/thumbs`` (a JSON
  body ``{"ids": [...]}`` or ``{"space": ..., "rows": [...]}``): at most 512 thumbnails as an Arrow IPC stream
  with ``id``, ``thumb`` (WebP bytes), ``width``, ``height`` (and ``row`` when asked by rows), for the map's
  thumbnail atlas at deep zoom. Ids without a thumbnail are left out.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ...errors import InputError, WorkspaceError
from ..arrow import ARROW_ONLY, arrow_response
from ..state import ExplorerState, get_state
from ..thumbs import Thumb, images_version, thumbnails

router = APIRouter(prefix="/api/thumbs", tags=["images"])

#: Thumbnails in one batch answer.
MAX_BATCH = 512
WEBP = "image/webp"
#: Kept by the browser when the URL names the thumbnails' version (it changes with them).
FOREVER = "private, max-age=31536000, immutable"


class ThumbsIn(BaseModel):
    """Which thumbnails: by item id, or by rows (point order) of a space."""

    ids: list[str] | None = Field(None, max_length=MAX_BATCH, description="Item ids (at most 512).")
    space: str | None = Field(None, description="With rows: the space whose point order they index.")
    rows: list[int] | None = Field(None, max_length=MAX_BATCH, description="Rows of space (at most 512).")


@router.get("", response_class=Response, responses=ARROW_ONLY)
def thumbs_by_query(
    ids: list[str] = Query(..., max_length=MAX_BATCH, description="An item id; repeat for more (at most 512)."),
    state: ExplorerState = Depends(get_state),
) -> Response:
    """Thumbnails of ``ids`` (``id``, ``thumb``, ``width``, ``height``) as an Arrow IPC stream."""
    return arrow_response(_batch(state, ids, None), cache=False)


@router.post("", response_class=Response, responses=ARROW_ONLY)
def thumbs_by_body(body: ThumbsIn, state: ExplorerState = Depends(get_state)) -> Response:
    """Thumbnails of ``ids``, or of ``rows`` of ``space`` (then with a ``row`` column), as an Arrow IPC stream."""
    if (body.ids is None) == (body.rows is None):
        raise InputError("give either ids, or space and rows")
    if body.rows is not None:
        if body.space is None:
            raise InputError("rows need the space whose point order they index")
        state.check_space(body.space)
        point_ids = state.point_ids(body.space)
        for r in body.rows:
            state.check_row(body.space, r)
        return arrow_response(_batch(state, [point_ids[r] for r in body.rows], body.rows), cache=False)
    assert body.ids is not None
    return arrow_response(_batch(state, body.ids, None), cache=False)


def _batch(state: ExplorerState, ids: list[str], rows: list[int] | None) -> pa.Table:
    if len(ids) > MAX_BATCH:
        raise InputError(f"{len(ids)} thumbnails asked for; at most {MAX_BATCH} a call")
    found = thumbnails(state, ids)
    keep = [i for i, item in enumerate(ids) if item in found]
    got: list[Thumb] = [found[ids[i]] for i in keep]
    columns: dict[str, pa.Array] = {}
    if rows is not None:
        columns["row"] = pa.array([rows[i] for i in keep], type=pa.int32())
    columns["id"] = pa.array([ids[i] for i in keep], type=pa.string())
    columns["thumb"] = pa.array([t.data for t in got], type=pa.binary())
    columns["width"] = pa.array([t.width for t in got], type=pa.int32())
    columns["height"] = pa.array([t.height for t in got], type=pa.int32())
    return pa.table(columns)


@router.get("/{item_id:path}", response_class=Response,
            responses={200: {"content": {WEBP: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The WebP thumbnail."},
                       304: {"description": "Not modified (If-None-Match)."}})
def thumb(
    item_id: str,
    request: Request,
    v: str | None = Query(None, max_length=64, description="The thumbnails' version (/api/info images_version)."),
    state: ExplorerState = Depends(get_state),
) -> Response:
    """The WebP thumbnail of the item ``item_id``; 404 when it has none."""
    version = images_version(state)
    found = thumbnails(state, [item_id]) if version is not None else {}
    if item_id not in found:
        raise WorkspaceError(f"no thumbnail for item {item_id!r}")
    data = found[item_id].data
    etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
    cache = FOREVER if v is not None and v == version else "private, no-cache"
    headers = {"ETag": etag, "Cache-Control": cache}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=WEBP, headers=headers)
