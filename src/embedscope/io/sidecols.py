"""The columns of a vectors table beside its ids and vectors: the texts, the metadata and the layouts, so an
export (``embedscope export``'s Parquet, or embedding-atlas's) ingests back as the same workspace.

- text: the column ``--text`` names, else a string column named ``text``; stored as the items' texts;
- layouts: pairs of number columns ``{method}_x`` / ``{method}_y`` (ours: ``umap_x``, ``pca_x``, ...;
  embedding-atlas's ``projection_x`` / ``projection_y``), ``method`` a valid name; stored as layouts of the space;
- metadata: every other column; lists of scalars stay lists, structs, maps and nested lists become JSON texts,
  binary columns are left out (named in the notes). A column named ``id`` or ``text`` that is not used as such
  is stored as ``id_`` / ``text_``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..errors import InputError

_METHOD_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


@dataclass
class SidePlan:
    """Which columns of a vectors table are what (see the module docstring)."""

    text: str | None = None
    metadata: list[str] = field(default_factory=list)
    layouts: dict[str, tuple[str, str]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The columns to read beside the id and the vectors."""
        out = [self.text] if self.text else []
        return [*out, *self.metadata, *(c for pair in self.layouts.values() for c in pair)]


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _binary(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)


def plan(schema: pa.Schema, *, id_col: str | None, vector_col: str, text: str | None, name: str) -> SidePlan:
    """What the other columns of ``schema`` are; ``text`` (``--text``) must name a string column."""
    out = SidePlan()
    names = [f.name for f in schema if f.name not in (id_col, vector_col)]
    if text is not None:
        if text not in schema.names:
            raise InputError(f"no column {text!r} (--text); columns are: {', '.join(schema.names)}", file=name,
                             column=text)
        out.text = text
    elif "text" in names and (pa.types.is_string(schema.field("text").type)
                              or pa.types.is_large_string(schema.field("text").type)):
        out.text = "text"
    for c in names:
        if not c.endswith("_x") or c[:-2] + "_y" not in names:
            continue
        method = c[:-2]
        if _METHOD_RE.match(method) and _numeric(schema.field(c).type) and _numeric(schema.field(method + "_y").type):
            out.layouts[method] = (c, method + "_y")
    in_layouts = {c for pair in out.layouts.values() for c in pair}
    for c in names:
        if c == out.text or c in in_layouts:
            continue
        t = schema.field(c).type
        if _binary(t) or pa.types.is_null(t):
            out.left_out.append(c)
        else:
            out.metadata.append(c)
    return out


def metadata_name(column: str) -> str:
    """The name a metadata column is stored under: ``id`` and ``text`` are the items' own, so ``id_``/``text_``."""
    return column if column not in ("id", "text") else f"{column}_"


def metadata_column(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """A metadata column as stored: scalars and lists of scalars as they are, anything else nested as JSON."""
    t = col.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        if not pa.types.is_nested(t.value_type) and not _binary(t.value_type):
            return col if not pa.types.is_fixed_size_list(t) else col.cast(pa.list_(t.value_type))
    elif not pa.types.is_nested(t):
        return col
    return pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in col.to_pylist()],
                    pa.string())


def text_column(col: pa.ChunkedArray, column: str, name: str) -> pa.ChunkedArray:
    """The texts as stored (strings; a missing text stays missing); not strings: an :class:`InputError`."""
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise InputError(f"the text column holds {col.type}, not strings; name the text column with --text",
                         file=name, column=column)
    for i, v in enumerate(col.to_pylist()):
        if v is not None and "\x00" in v:
            raise InputError("text contains a NUL byte (binary data?)", file=name, row=i + 1, column=column)
    return col.cast(pa.string())


def layout_coords(side: pa.Table, pair: tuple[str, str]) -> np.ndarray | None:
    """The float32 ``(n, 2)`` coordinates of a column pair, or ``None`` when a value is missing or not finite."""
    xy = np.stack([side.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in pair], axis=1)
    if not np.isfinite(xy).all():
        return None
    return xy.astype(np.float32)
