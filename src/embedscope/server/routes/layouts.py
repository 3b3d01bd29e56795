"""2D layouts of a space as Arrow bytes: ``x``, ``y`` float32 in point order (8 bytes a point)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Request, Response

from ...errors import WorkspaceError
from ..arrow import arrow_response
from .state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/layouts", tags=["layouts"])


@router.get("/{method}", response_class=Response,
            responses={200: {"content": {"application/vnd.apache.arrow.stream": {}}}})
def get_layout(space: str, method: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """The ``method`` layout (e.g. ``umap``, ``pca``) of ``space``: columns ``x``, ``y`` (float32), point order."""
    state.check_space(space)

    def table() -> pa.Table:
        layout = state.scope.layout(space, method)
        coords = np.asarray(layout.coords, dtype=np.float32)
        n = state.count(space)
        if coords.shape != (n, 2):
            raise WorkspaceError(f"layout {method!r} of space {space!r} has shape {coords.shape}, expected ({n}, 2);"
                                 " recompute it")
        if list(layout.ids) != state.point_ids(space):
            raise WorkspaceError(f"layout {method!r} of space {space!r} is not in point order; recompute it")
        return pa.table({"x": pa.array(np.ascontiguousarray(coords[:, 0])),
                         "y": pa.array(np.ascontiguousarray(coords[:, 1]))})

    blob = state.blob(("layout", space, method), table)
    if request.headers.get("if-none-match") == blob.etag:
        return Response(status_code=304, headers={"ETag": blob.etag})
    response = arrow_response(blob.body)
    response.headers["ETag"] = blob.etag
    return response
