"""Layouts of a space as Arrow bytes, in point order.

- ``/layouts/{method}``: the 2-D map, ``x``, ``y`` float32 (8 bytes a point); for the sphere these are
  longitude and latitude in degrees (an equirectangular map), from ``Layout.coords``.
- ``/layouts/{method}/xyz``: 3-D coordinates ``x``, ``y``, ``z`` float32 (the sphere's unit vectors, PCA's
  first three components); 404 when the layout has none.
- ``/layouts/{method}/honesty``: per-item honesty ``trustworthiness``, ``continuity``, ``knn_recall``
  float32 (NaN where not measured).
- ``/layouts/{method}/kdorder``: ``row`` uint32, the points in the order of the page's spatial index (KDBush),
  so the browser need not sort a million points itself (see :mod:`embedscope.server.kdorder`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Request, Response

from ...errors import WorkspaceError
from ..arrow import ARROW_CACHED
from ..kdorder import kd_order
from ..state import Blob, ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/layouts", tags=["layouts"])

#: Per-item honesty columns, in the order sent.
HONESTY = ("trustworthiness", "continuity", "knn_recall")
_ARROW = ARROW_CACHED


def _f32(values: np.ndarray) -> pa.Array:
    return pa.array(np.ascontiguousarray(values, dtype=np.float32), type=pa.float32())


def _send(request: Request, state: ExplorerState, key: tuple, table: Callable[[], pa.Table]) -> Response:
    return state.send_arrow(request, key, table)


@router.get("/{method}", response_class=Response, responses=_ARROW)
def get_layout(space: str, method: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """The ``method`` layout (``umap``, ``pca``, ``tsne``, ``sphere``) of ``space``: ``x``, ``y`` float32.

    For ``sphere`` these are longitude and latitude in degrees; its unit vectors are at ``.../xyz``.
    """

    return state.send_blob(request, layout_blob(state, space, method))


def layout_blob(state: ExplorerState, space: str, method: str) -> Blob:
    """The Arrow bytes of ``/layouts/{method}`` (``x``, ``y`` float32), cached."""

    def table() -> pa.Table:
        coords = state.layout(space, method).coords
        return pa.table({"x": _f32(coords[:, 0]), "y": _f32(coords[:, 1])})

    return state.blob(("layout", space, method), table)


@router.get("/{method}/kdorder", response_class=Response, responses=_ARROW)
def get_layout_kdorder(space: str, method: str, request: Request,
                       state: ExplorerState = Depends(get_state)) -> Response:
    """``row`` uint32: the points of the ``method`` layout sorted as a KDBush spatial index (node size 16) of
    its ``x``, ``y``, which the page fills with its own coordinates to find the points under the mouse."""
    return state.send_blob(request, kdorder_blob(state, space, method))


def kdorder_blob(state: ExplorerState, space: str, method: str) -> Blob:
    """The Arrow bytes of ``/layouts/{method}/kdorder``, cached (computed from the float32 coordinates sent)."""

    def table() -> pa.Table:
        coords = state.layout(space, method).coords
        x = np.ascontiguousarray(coords[:, 0], dtype=np.float32)
        y = np.ascontiguousarray(coords[:, 1], dtype=np.float32)
        return pa.table({"row": pa.array(kd_order(x, y), type=pa.uint32())})

    return state.blob(("kdorder", space, method), table)


@router.get("/{method}/xyz", response_class=Response, responses=_ARROW)
def get_layout_xyz(space: str, method: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """3-D coordinates ``x``, ``y``, ``z`` float32 (sphere: unit vectors, ``z`` towards the north pole;
    PCA: the first three components); 404 when the layout has none (UMAP, t-SNE)."""

    def table() -> pa.Table:
        xyz = state.layout(space, method).xyz
        if xyz is None:
            raise WorkspaceError(f"the {method} layout of space {space!r} has no 3-D coordinates "
                                 "(only sphere and pca layouts have them)")
        xyz = np.asarray(xyz)
        if xyz.shape != (state.count(space), 3):
            raise WorkspaceError(f"the {method} layout of space {space!r} has 3-D coordinates of shape "
                                 f"{xyz.shape}; recompute it")
        return pa.table({c: _f32(xyz[:, i]) for i, c in enumerate("xyz")})

    return _send(request, state, ("xyz", space, method), table)


@router.get("/{method}/honesty", response_class=Response, responses=_ARROW)
def get_layout_honesty(space: str, method: str, request: Request,
                       state: ExplorerState = Depends(get_state)) -> Response:
    """How honest the map is about each item, float32 in point order (NaN where not measured):

    ``knn_recall``: share of the item's k nearest neighbours (original space) that are also its k nearest
    on the map; ``trustworthiness``: 1 minus the rank penalty of map neighbours that are not true
    neighbours; ``continuity``: 1 minus the penalty of true neighbours missing from the map neighbourhood.
    """

    def table() -> pa.Table:
        layout = state.layout(space, method)
        n = state.count(space)
        missing = [c for c in HONESTY if c not in layout.per_item]
        if missing:
            raise WorkspaceError(f"the {method} layout of space {space!r} has no per-item honesty figures "
                                 f"({', '.join(missing)}); recompute it with embedscope project")
        cols = {c: np.asarray(layout.per_item[c]) for c in HONESTY}
        for c, values in cols.items():
            if values.shape != (n,):
                raise WorkspaceError(f"honesty column {c!r} of the {method} layout of space {space!r} has "
                                     f"shape {values.shape}, expected ({n},); recompute it")
        return pa.table({c: _f32(v) for c, v in cols.items()})

    return _send(request, state, ("honesty", space, method), table)
