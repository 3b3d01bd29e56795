"""Export a space: its items with metadata, layout coordinates and (optionally) vectors, as Parquet, CSV or the
TensorFlow Embedding Projector's two TSV files.

- ``parquet``: ``id``, ``text``, metadata columns, ``{method}_x`` / ``{method}_y`` for every stored layout (or the
  chosen one), and ``vector`` (fixed-size list of float32) unless ``vectors=False``;
- ``csv``: the same without the vector column (a CSV of 384 floats a row helps nobody); UTF-8; a list or struct
  value is written as its JSON text (``["a", "b"]``);
- ``projector-tsv``: ``PATH`` is a directory that gets ``vectors.tsv`` and ``metadata.tsv``, the two files
  https://projector.tensorflow.org loads with "Load", written to the Projector's own reading rules
  (``parseTensors`` / ``parseMetadata`` / ``mergeMetadata`` of its ``data-provider.ts``):

  - ``vectors.tsv``: one line of tab-separated floats per item, no header; the Projector refuses vectors of one
    dimension, so such a space is refused here;
  - ``metadata.tsv``: one line per item in the same order. Its first line is a header exactly when it holds a tab,
    so one column (ids only) is written with no header and two or more with one; a line that is blank is skipped
    (the rows would shift), and every line holds the id, which is never blank; tabs and newlines inside values
    and names become spaces;
  - list metadata: a list of numbers (an embedding, a score per class) is left out, since a 384-float text a cell
    made a 14 MB file of 1,500 rows; other lists are written as their values joined by ``", "``; structs as
    compact JSON. What was left out or summarised is said through ``note`` (the CLI prints it on stderr).

Files are written to a temporary name and renamed, so an interrupted export leaves no half file (and no
temporary); an existing file is replaced, an existing directory is refused (except for ``projector-tsv``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError
from ..io.files import atomic_path, storage_error

if TYPE_CHECKING:
    from ..results import Layout

FORMATS = ("parquet", "csv", "projector-tsv")


def export_table(scope: ExportSource, space: str, *, layouts: list[str] | None = None, vectors: bool = True) -> pa.Table:
    """One row per point of ``space`` (point order): id, text, metadata, layout coordinates, vectors."""
    items = scope.items_for(space) if scope.has_items() else pa.table({"id": pa.array(scope.point_ids(space))})
    ids, x = scope.vectors(space)
    cols: dict[str, Any] = {name: items.column(name) for name in items.column_names}
    for method in layouts if layouts is not None else scope.layouts(space):
        lay = scope.layout(space, method)
        xy = np.full((len(ids), 2), np.nan, np.float32)  # aligned by id: a stale layout may miss new items
        pos = {i: r for r, i in enumerate(lay.ids)}
        rows = np.array([pos.get(i, -1) for i in ids])
        have = rows >= 0
        xy[have] = lay.coords[rows[have], :2]
        cols[f"{method}_x"] = pa.array(xy[:, 0], from_pandas=True)
        cols[f"{method}_y"] = pa.array(xy[:, 1], from_pandas=True)
    if vectors:
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        cols["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(x32.reshape(-1)), x32.shape[1])
    return pa.table(cols)


def _tsv_cell(v: Any) -> str:
    return "" if v is None else " ".join(str(v).split())


def _json_text(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str)


def _nested(t: pa.DataType) -> bool:
    return pa.types.is_nested(t) or (pa.types.is_dictionary(t) and pa.types.is_nested(t.value_type))


def _numeric_list(t: pa.DataType) -> bool:
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        return False
    v = t.value_type
    return pa.types.is_integer(v) or pa.types.is_floating(v) or pa.types.is_decimal(v)


def json_columns(table: pa.Table) -> pa.Table:
    """``table`` with each list, struct or map column as a string column of JSON texts (for CSV)."""
    for i, field in enumerate(table.schema):
        if _nested(field.type):
            text = pa.array([_json_text(v) for v in table.column(i).to_pylist()], pa.string())
            table = table.set_column(i, field.name, text)
    return table


def projector_columns(table: pa.Table, note: Callable[[str], None] | None = None) -> tuple[list[str], list[list[str]]]:
    """The Projector's metadata: column names and one list of cells per column (see the module docstring);
    lists of numbers left out, other lists joined, structs as JSON, each said through ``note``."""
    names: list[str] = []
    cells: list[list[str]] = []
    for field in table.schema:
        values = table.column(field.name).to_pylist()
        if _numeric_list(field.type):
            if note:
                note(f"projector-tsv: column {field.name!r} (lists of numbers) left out: the Projector shows a "
                     "cell as text; --format parquet keeps it")
            continue
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type) or \
                pa.types.is_fixed_size_list(field.type):
            col = [_tsv_cell(None if v is None else ", ".join(_tsv_cell(e) if not isinstance(e, (dict, list))
                                                               else str(_json_text(e)) for e in v))
                   for v in values]
            if note:
                note(f"projector-tsv: column {field.name!r} (lists) written as its values joined by ', '")
        elif _nested(field.type):
            col = [_tsv_cell(_json_text(v)) for v in values]
            if note:
                note(f"projector-tsv: column {field.name!r} (structs) written as JSON")
        else:
            col = [_tsv_cell(v) for v in values]
        names.append(_tsv_cell(field.name))
        cells.append(col)
    return names, cells


def export(scope: ExportSource, space: str, path: str | Path, fmt: str, *, layout: str | None = None,
           note: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``space`` to ``path`` in ``fmt`` (see the module docstring); returns the files written. ``note``
    hears what an export left out or summarised (list metadata in ``projector-tsv``)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}")
    if layout is not None and layout not in scope.layouts(space):
        raise InputError(f"space {space!r} has no {layout!r} layout; layouts: {', '.join(scope.layouts(space)) or 'none'}")
    layouts = [layout] if layout else None
    path = Path(path)
    if fmt == "projector-tsv":
        if path.exists() and not path.is_dir():
            raise InputError(f"{path} exists and is not a directory (projector-tsv writes two files into a "
                             "directory); choose another path")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, path) or exc from None
        _, x = scope.vectors(space)
        if x.shape[1] < 2:
            raise InputError(f"space {space!r} has {x.shape[1]} dimension; the Projector reads vectors of at least "
                             "2 dimensions; export it as --format parquet or csv")
        table = export_table(scope, space, layouts=layouts, vectors=False)
        names, cells = projector_columns(table, note)
        vec_path, meta_path = path / "vectors.tsv", path / "metadata.tsv"
        with atomic_path(vec_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for start in range(0, len(x), 10_000):
                block = np.asarray(x[start:start + 10_000], dtype=np.float32)
                fh.write("\n".join("\t".join(f"{v:.6g}" for v in row) for row in block) + "\n")
        with atomic_path(meta_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            if len(names) > 1:  # the Projector takes a first line with a tab for the header, and only then
                fh.write("\t".join(names) + "\n")
            for row in zip(*cells, strict=True):
                fh.write("\t".join(row) + "\n")
        return [vec_path, meta_path]
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file to write (e.g. {path / f'{space}.{fmt}'}) or choose "
                         "another path")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: its directory does not exist")
    table = export_table(scope, space, layouts=layouts, vectors=fmt == "parquet")
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(json_columns(table), tmp)
    return [path]


class ExportSource(Protocol):
    """What :func:`export_table` and :func:`export` read of a workspace (a :class:`~embedscope.workspace.Scope`, or the server's
    :class:`~embedscope.server.protocol.ScopeAPI`)."""

    def has_items(self) -> bool: ...

    def items_for(self, space: str | None = None) -> pa.Table: ...

    def point_ids(self, space: str | None = None) -> list[str]: ...

    def vectors(self, space: str | None = None) -> tuple[list[str], np.ndarray]: ...

    def layouts(self, space: str | None = None) -> list[str]: ...

    def layout(self, space: str | None, method: str) -> Layout: ...
