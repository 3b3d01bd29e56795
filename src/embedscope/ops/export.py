"""Export a space: its items with metadata, layout coordinates and (optionally) vectors, as Parquet, CSV or the
TensorFlow Embedding Projector's two TSV files.

- ``parquet``: ``id``, ``text``, metadata columns, ``{method}_x`` / ``{method}_y`` for every stored layout (or the
  chosen one), and ``vector`` (fixed-size list of float32) unless ``vectors=False``;
- ``csv``: the same without the vector column (a CSV of 384 floats a row helps nobody); UTF-8;
- ``projector-tsv``: ``PATH`` is a directory that gets ``vectors.tsv`` (one row of tab-separated floats per item,
  no header) and ``metadata.tsv`` (a header row, then id, text and metadata; tabs and newlines in values become
  spaces), the two files https://projector.tensorflow.org loads with "Load".

Files are written to a temporary name and renamed, so an interrupted export leaves no half file (and no
temporary); an existing file is replaced, an existing directory is refused (except for ``projector-tsv``).
"""

from __future__ import annotations

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


def export(scope: ExportSource, space: str, path: str | Path, fmt: str, *, layout: str | None = None) -> list[Path]:
    """Write ``space`` to ``path`` in ``fmt`` (see the module docstring); returns the files written."""
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
        table = export_table(scope, space, layouts=layouts, vectors=False)
        _, x = scope.vectors(space)
        vec_path, meta_path = path / "vectors.tsv", path / "metadata.tsv"
        with atomic_path(vec_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for start in range(0, len(x), 10_000):
                block = np.asarray(x[start:start + 10_000], dtype=np.float32)
                fh.write("\n".join("\t".join(f"{v:.6g}" for v in row) for row in block) + "\n")
        rows = table.to_pylist()
        with atomic_path(meta_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            fh.write("\t".join(table.column_names) + "\n")
            for r in rows:
                fh.write("\t".join(_tsv_cell(r[c]) for c in table.column_names) + "\n")
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
            pacsv.write_csv(table, tmp)
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
