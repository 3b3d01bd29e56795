"""Metadata columns of a space's items: the list, and one column as Arrow bytes (for colouring the map)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from ...errors import InputError
from ..arrow import ARROW_CACHED
from ..columns import ColumnKind, categorical_table, numeric_table
from ..state import Blob, ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}", tags=["columns"])


class ColumnOut(BaseModel):
    name: str
    kind: ColumnKind
    n_unique: int


@router.get("/columns", response_model=list[ColumnOut])
def list_columns(space: str, state: ExplorerState = Depends(get_state)) -> list[ColumnOut]:
    """Metadata columns: ``categorical`` (string/bool, <= 64 values), ``numeric``, or ``text``."""
    return [ColumnOut(name=c.name, kind=c.kind, n_unique=c.n_unique) for c in state.columns(space)]


@router.get("/columns/{name}", response_class=Response,
            responses=ARROW_CACHED)
def get_column(space: str, name: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """One column in point order, as an Arrow IPC stream.

    Categorical: ``dictionary<int16, string>`` (most frequent value first); numeric: ``float32`` with nulls.
    """
    return state.send_blob(request, column_blob(state, space, name))


def column_blob(state: ExplorerState, space: str, name: str) -> Blob:
    """The Arrow bytes of ``/columns/{name}`` (categorical or numeric), cached; free text is a 400."""
    col = state.column(space, name)
    if col.kind == "text":
        raise InputError(f"column {name!r} is free text ({col.n_unique} distinct values); only categorical "
                         "and numeric columns can be sent as colours")

    def table():
        data = state.metadata(space).column(name)
        return categorical_table(data, name) if col.kind == "categorical" else numeric_table(data, name)

    return state.blob(("column", space, name), table)
