"""Metadata columns of a space's items as the explorer shows them: which kind each is, and its Arrow encoding.

Shared by the server (``/columns``, the item panel) and the notebook widget, so a column gets the same kind, the
same category order (most frequent first) and hence the same colours in both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: A string or bool column with at most this many distinct values is categorical (a colour each).
MAX_CATEGORIES = 64
#: Columns of ``items_for`` that are not metadata.
RESERVED = ("id", "text")

ColumnKind = Literal["categorical", "numeric", "text"]


@dataclass(frozen=True)
class ColumnInfo:
    """One metadata column: ``kind`` is ``categorical``, ``numeric`` or ``text``."""

    name: str
    kind: ColumnKind
    n_unique: int


def describe(items: pa.Table) -> list[ColumnInfo]:
    """Each metadata column of ``items`` (the :data:`RESERVED` ones left out), in table order."""
    out = []
    for field in items.schema:
        if field.name in RESERVED:
            continue
        kind, n_unique = classify(items.column(field.name))
        out.append(ColumnInfo(field.name, kind, n_unique))
    return out


def _base_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _is_stringish(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def classify(col: pa.ChunkedArray) -> tuple[ColumnKind, int]:
    """``(kind, n_unique)`` of a metadata column (nulls are not counted as a value)."""
    t = _base_type(col.type)
    if pa.types.is_boolean(t) or _is_stringish(t):
        n = len(pc.unique(col.drop_null()))
        return ("categorical" if n <= MAX_CATEGORIES else "text"), n
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = col.drop_null()
        return "numeric", len(pc.unique(values))
    try:
        n = len(pc.unique(col.drop_null()))
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        n = -1
    return "text", n


def categorical_table(col: pa.ChunkedArray, name: str) -> pa.Table:
    """``dictionary<int16, string>``; the dictionary is ordered by count (most frequent first), then name."""
    arr = col.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_boolean(arr.type):
        arr = pc.if_else(arr, "true", "false")
    arr = arr.cast(pa.string())
    counts = pc.value_counts(arr.drop_null())
    pairs = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
                   key=lambda vc: (-vc[1], vc[0]))
    values = [v for v, _ in pairs]
    lookup = pa.array(values, pa.string())
    codes = pc.index_in(arr, value_set=lookup).cast(pa.int16())
    dict_arr = pa.DictionaryArray.from_arrays(codes, lookup)
    return pa.table({name: dict_arr})


def numeric_table(col: pa.ChunkedArray, name: str) -> pa.Table:
    """float32 with nulls (NaN and infinities become null)."""
    arr = col.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    values = arr.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    finite = np.isfinite(values)
    out = pa.array(values.astype(np.float32), mask=~finite, type=pa.float32())
    return pa.table({name: out})


def jsonable(value: Any) -> Any:
    """A metadata value as JSON: NaN/inf become null, dates become ISO strings, bytes become text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        return jsonable(value.item())
    try:
        f = float(value)  # Decimal and friends
        return f if math.isfinite(f) else None
    except (TypeError, ValueError):
        return str(value)
