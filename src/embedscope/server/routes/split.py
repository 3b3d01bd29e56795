"""``GET /api/spaces/{space}/split``: a tuned space's split (``embedscope train``) as Arrow bytes, in point order.

``part`` uint8 a point: 0 a training item, 1 a held-out item (2: an item the stored split does not list); 404 for
a space that is not tuned. The compare view shows only the held-out items of a base-vs-tuned pair with it.
"""

from __future__ import annotations

import pyarrow as pa
from fastapi import APIRouter, Depends, Request, Response

from ...errors import WorkspaceError
from ..arrow import ARROW_CACHED
from ..state import ExplorerState, get_state
from ..tuned import split_parts

router = APIRouter(prefix="/api/spaces/{space}", tags=["split"])


@router.get("/split", response_class=Response, responses=ARROW_CACHED)
def get_split(space: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """Each point's part of a tuned space's split: ``part`` uint8 (0 train, 1 held-out, 2 not in the split)."""
    state.check_space(space)
    parts = state.cached(("split", space), lambda: split_parts(state.scope, space, state.point_ids(space)))
    if parts is None:
        raise WorkspaceError(f"space {space!r} is not a tuned space (embedscope train): it has no split")
    return state.send_arrow(request, ("split", space), lambda: pa.table({"part": pa.array(parts, pa.uint8())}))
