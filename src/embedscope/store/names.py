"""Column names of the items table as stored and as shown: the one place they are mapped.

LanceDB refuses a ``.`` in a top-level column name (it reads ``a.b`` as field ``b`` of a struct ``a``), and dots
are common in real exports (``price.usd``, ``user.name``). The items table stores such a column under a safe name,
``%`` written ``%25`` and ``.`` written ``%2E`` (``price%2Eusd``), and :class:`~embedscope.store.workspace.Workspace`
hands every reader the name as the user wrote it, so the page, the CLI, the widget and exports all show
``price.usd``. The mapping is a pure function of the name (nothing is kept beside the table), one to one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyarrow as pa

_TO_STORED = {"%": "%25", ".": "%2E"}
_TO_SHOWN = {"%25": "%", "%2E": "."}
_STORED_RE = re.compile(r"[%.]")
_SHOWN_RE = re.compile(r"%(?:25|2E)")


def stored_name(name: str) -> str:
    """The name a column is stored under (``price.usd`` -> ``price%2Eusd``; most names are unchanged)."""
    return _STORED_RE.sub(lambda m: _TO_STORED[m.group(0)], name)


def shown_name(name: str) -> str:
    """The name a stored column is shown under (the inverse of :func:`stored_name`)."""
    return _SHOWN_RE.sub(lambda m: _TO_SHOWN[m.group(0)], name)


def stored_names(names: Iterable[str]) -> list[str]:
    """:func:`stored_name` of each."""
    return [stored_name(n) for n in names]


def to_stored(table: pa.Table) -> pa.Table:
    """``table`` with its columns renamed as stored (the same table when no name changes)."""
    names = stored_names(table.column_names)
    return table if names == table.column_names else table.rename_columns(names)


def to_shown(table: pa.Table) -> pa.Table:
    """``table`` with its stored columns renamed as shown (the same table when no name changes)."""
    names = [shown_name(n) for n in table.column_names]
    return table if names == table.column_names else table.rename_columns(names)


def stored_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with its field names as stored."""
    return pa.schema([f.with_name(stored_name(f.name)) for f in schema], metadata=schema.metadata)
