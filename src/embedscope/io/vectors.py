"""Read and validate bring-your-own vectors (``.npy``, ``.json``, Parquet, Arrow, JSONL).

Readers return numpy arrays that are already checked. Every problem is an :class:`~embedscope.errors.InputError`
naming the file, the 1-based data row and the column. Nothing here touches a workspace.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from .formats import VECTOR_FORMATS, file_suffix
from .items import id_str, read_frame
from .textfiles import decode_bytes


@dataclass
class VectorsInput:
    """Validated vectors.

    Attributes
    ----------
    ids
        Item ids, shape ``(n,)``, strings.
    vectors
        float32 array, shape ``(n, d)``, finite, no all-zero rows.
    source
        The file they came from.
    """

    ids: list[str]
    vectors: np.ndarray
    source: str


# ---------------------------------------------------------------------------------------------- vectors
def load_npy(path: Path, name: str, *, mmap: bool = False) -> np.ndarray:
    """A ``.npy`` file of vectors, shape ``(n, d)``, real numbers (memory-mapped with ``mmap``); a clear
    :class:`InputError` naming the file otherwise."""
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"cannot read as .npy: {exc}", file=name) from None
    if arr.ndim != 2:
        raise InputError(f"expected a 2-D array (items x dimensions), got shape {arr.shape}", file=name)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"expected real numbers, got dtype {arr.dtype}", file=name)
    return arr


def read_vectors(
    source: str | Path,
    *,
    ids: str | Path | None = None,
    id: str | None = None,
    vector: str | None = None,
) -> VectorsInput:
    """Read and validate bring-your-own vectors.

    Parameters
    ----------
    source
        ``.npy`` (2-D array), ``.json`` (an object ``{id: [floats]}``), ``.parquet`` / ``.arrow`` (a list
        column of floats), or ``.jsonl`` (objects with an id and a vector field).
    ids
        For ``.npy``: a text file with one id per line. Default: row positions ``"0"``, ``"1"``, ...
    id
        Id column (Parquet, Arrow, JSONL). Default: ``id`` if present, else row positions.
    vector
        Vector column (Parquet, Arrow, JSONL). Default: the only list column, or one named
        ``vector`` / ``embedding``.

    Returns
    -------
    VectorsInput
        ``vectors`` is float32 of shape ``(n, d)``.

    Raises
    ------
    InputError
        Not an object, mixed dimensions, NaN/inf, all-zero vectors, duplicate ids, empty file.
    """
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise InputError("file not found", file=name)
    kind = VECTOR_FORMATS.get(file_suffix(path))
    if kind is None:
        raise InputError(
            f"unknown vector file type {path.suffix!r}; use .npy, .json, .parquet, .arrow or .jsonl",
            file=name,
        )
    if path.stat().st_size == 0:
        raise InputError("the file is empty; it should hold the vectors", file=name)
    if kind == "npy":
        arr = load_npy(path, name)
        id_list = read_id_file(Path(ids), arr.shape[0]) if ids else [str(i) for i in range(arr.shape[0])]
        keys = None
        mat = arr
    elif kind == "json":
        id_list, mat, keys = _read_json_vectors(path, name)
    else:
        if kind == "jsonl":
            df = read_frame(path, "jsonl", name, text_col=None, id_col=id)
            table = pa.Table.from_pandas(df, preserve_index=False) if vector is None else None
            id_list, mat = _frame_vectors(df, name, id, vector, table)
        else:
            reader = pq.read_table if kind == "parquet" else None
            try:
                if reader is not None:
                    table = reader(path)
                else:
                    import pyarrow.feather as feather

                    table = feather.read_table(path)
            except Exception as exc:
                raise InputError(f"cannot read: {exc}", file=name) from None
            id_list, mat = _table_vectors(table, name, id, vector)
        keys = None
    if ids and kind != "npy":
        raise InputError("--ids is only for .npy files; other formats carry their ids", file=name)
    vecs = validate_matrix(mat, name, keys)
    check_unique_ids(id_list, name)
    return VectorsInput(id_list, vecs, name)


def read_id_file(path: Path, n: int) -> list[str]:
    """The ``n`` ids of a text file with one id per line (checked: UTF-8, ``n`` non-empty lines)."""
    if not path.exists():
        raise InputError("ids file not found", file=str(path))
    try:
        lines = decode_bytes(path.read_bytes(), str(path)).splitlines()
    except UnicodeDecodeError:
        raise InputError("ids file is not UTF-8", file=str(path)) from None
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) != n:
        raise InputError(f"{len(lines)} ids for {n} vectors; give one id per line", file=str(path))
    for i, s in enumerate(lines):
        if not s.strip():
            raise InputError("empty id", file=str(path), row=i + 1)
    return lines


def _read_json_vectors(path: Path, name: str) -> tuple[list[str], np.ndarray, list[str]]:
    dups: dict[int, tuple[str, int]] = {}  # id of an object -> its first key given twice, and where

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, (k, v) in enumerate(items):
            if k in out and id(out) not in dups:
                dups[id(out)] = (k, i)
            out[k] = v
        return out

    try:
        obj = json.loads(decode_bytes(path.read_bytes(), name), object_pairs_hook=pairs)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); re-save the file "
                         "as UTF-8", file=name) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=name) from None
    except RecursionError:  # brackets nested thousands deep
        raise InputError("the JSON nests too deeply to read; write {id: [floats], ...} with flat lists of numbers",
                         file=name) from None
    if not isinstance(obj, dict):
        raise InputError(
            f"expected a JSON object {{id: [floats]}}, got {type(obj).__name__}", file=name
        )
    if not obj:
        raise InputError("the JSON object is empty", file=name)
    if id(obj) in dups:
        k, i = dups[id(obj)]
        raise InputError(f"duplicate id {k!r} (a JSON key given twice); make the ids unique", file=name,
                         row=i + 1, column=k)
    keys = list(obj.keys())
    dim = None
    rows: list[list[float]] = []
    for i, k in enumerate(keys):
        v = obj[k]
        if not isinstance(v, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v
        ):
            raise InputError("value must be a list of numbers", file=name, row=i + 1, column=k)
        if dim is None:
            dim = len(v)
        elif len(v) != dim:
            raise InputError(f"vector has {len(v)} dimensions, earlier ones have {dim}; every vector needs the "
                             "same number",
                             file=name, row=i + 1, column=k)
        rows.append(v)
    return keys, np.asarray(rows, dtype=np.float64), keys


def pick_vector_column(table: pa.Table, name: str, vector: str | None) -> str:
    """The vector column of ``table``: ``vector`` if given (checked), else one named vector/embedding(s), else the
    only list column."""
    if vector is not None:
        if vector not in table.column_names:
            raise InputError(f"no column {vector!r}; columns are: {', '.join(table.column_names)}",
                             file=name, column=vector)
        return vector
    lists = [f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
             or pa.types.is_fixed_size_list(f.type)]
    for pref in ("vector", "embedding", "embeddings"):
        if pref in lists:
            return pref
    if len(lists) == 1:
        return lists[0]
    if not lists:
        raise InputError("no list column of numbers found (the vectors)", file=name)
    raise InputError(f"several list columns ({', '.join(lists)}); choose one with --vector", file=name)


def _table_vectors(table: pa.Table, name: str, id: str | None, vector: str | None
                   ) -> tuple[list[str], np.ndarray]:
    if table.num_rows == 0:
        raise InputError("no rows", file=name)
    vcol = pick_vector_column(table, name, vector)
    mat = list_matrix(table.column(vcol).combine_chunks(), name, vcol)
    return table_ids(table, name, id), mat


def list_matrix(col: pa.Array, name: str, vcol: str, *, row_offset: int = 0, dim: int | None = None
                ) -> np.ndarray:
    """The numbers of a list (or fixed-size list) column as a matrix, checked: no missing vector, the same
    dimension in every row (``dim`` if given), numbers only.

    Parameters
    ----------
    col
        One Arrow array of ``m`` lists.
    row_offset
        Rows of the file before this array (for the row numbers in errors).

    Returns
    -------
    numpy.ndarray
        Shape ``(m, d)``, the column's own number type (zero-copy when it allows).
    """
    if pa.types.is_fixed_size_list(col.type):
        if col.null_count:
            bad = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise InputError("missing vector", file=name, row=row_offset + bad + 1, column=vcol)
        values = col.flatten()
        d = col.type.list_size
        if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
            raise InputError(f"vector values must be numbers, got {values.type}; store the vectors as lists of "
                             "floats", file=name, row=row_offset + 1, column=vcol)
        if dim is not None and d != dim and len(col):
            raise InputError(f"vector has {d} dimensions, row 1 has {dim}; every vector needs the same number",
                             file=name, row=row_offset + 1, column=vcol)
        return values.to_numpy(zero_copy_only=False).reshape(-1, d)
    lens = col.value_lengths().to_numpy(zero_copy_only=False)
    nulls = col.is_null().to_numpy(zero_copy_only=False)
    if nulls.any():
        raise InputError("missing vector", file=name, row=row_offset + int(np.flatnonzero(nulls)[0]) + 1,
                         column=vcol)
    want = dim if dim is not None else (int(lens[0]) if len(lens) else 0)
    if len(lens) and (lens != want).any():
        bad = int(np.flatnonzero(lens != want)[0])
        raise InputError(f"vector has {lens[bad]} dimensions, row 1 has {want}; every vector needs the same "
                         "number",
                         file=name, row=row_offset + bad + 1, column=vcol)
    values = col.flatten()
    if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        raise InputError(f"vector values must be numbers, got {values.type}; store the vectors as lists of "
                         "floats", file=name, row=row_offset + 1, column=vcol)
    if values.null_count:
        flat_bad = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError("null inside a vector", file=name, row=row_offset + flat_bad // int(want) + 1,
                         column=vcol)
    return values.to_numpy(zero_copy_only=False).reshape(len(col), want)


def table_ids(table: pa.Table, name: str, id: str | None) -> list[str]:
    """The ids of a table of vectors: its ``id`` column (or ``id``), else row positions; checked non-empty."""
    id_col = id if id is not None else ("id" if "id" in table.column_names else None)
    if id_col is None:
        return [str(i) for i in range(table.num_rows)]
    if id_col not in table.column_names:
        raise InputError(f"no column {id_col!r}; columns are: {', '.join(table.column_names)}",
                         file=name, column=id_col)
    ids = []
    for i, v in enumerate(table.column(id_col).to_pylist()):
        if v is None or (isinstance(v, str) and not v.strip()):
            raise InputError("empty id", file=name, row=i + 1, column=id_col)
        ids.append(v if isinstance(v, str) else id_str(v))
    return ids


def _frame_vectors(df: pd.DataFrame, name: str, id: str | None, vector: str | None,
                   table: pa.Table | None) -> tuple[list[str], np.ndarray]:
    vcol = vector
    if vcol is None:
        cands = [c for c in df.columns if df[c].map(lambda v: isinstance(v, list)).all()]
        for pref in ("vector", "embedding", "embeddings"):
            if pref in cands:
                vcol = pref
                break
        else:
            if len(cands) != 1:
                raise InputError("choose the vector field with --vector", file=name)
            vcol = str(cands[0])
    if vcol not in df.columns:
        raise InputError(f"no field {vcol!r}", file=name, column=vcol)
    dim = None
    for i, v in enumerate(df[vcol].tolist()):
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise InputError("vector must be a list of numbers", file=name, row=i + 1, column=vcol)
        if dim is None:
            dim = len(v)
        elif len(v) != dim:
            raise InputError(f"vector has {len(v)} dimensions, row 1 has {dim}; every vector needs the same number",
                             file=name, row=i + 1,
                             column=vcol)
    mat = np.asarray(df[vcol].tolist(), dtype=np.float64)
    id_col = id if id is not None else ("id" if "id" in df.columns else None)
    if id_col is None:
        return [str(i) for i in range(len(df))], mat
    if id_col not in df.columns:
        raise InputError(f"no field {id_col!r}", file=name, column=id_col)
    ids = []
    for i, v in enumerate(df[id_col].tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
            raise InputError("empty id", file=name, row=i + 1, column=id_col)
        ids.append(v if isinstance(v, str) else id_str(v))
    return ids, mat


def validate_matrix(mat: np.ndarray, name: str, keys: list[str] | None, *, row_offset: int = 0) -> np.ndarray:
    """``mat`` as C-contiguous float32, checked: finite, fits float32, no all-zero row. ``row_offset``: rows of
    the file before ``mat`` (for the row numbers in errors)."""
    if mat.shape[0] == 0:
        raise InputError("no vectors", file=name)
    if mat.ndim != 2 or mat.shape[1] == 0:
        raise InputError("vectors have no dimensions", file=name)
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(mat)
        as32 = mat.astype(np.float32)
    if not finite.all():
        r, c = map(int, np.argwhere(~finite)[0])
        raise InputError(f"value {mat[r, c]} in dimension {c} is not a finite number; fix or drop this vector",
                         file=name, row=row_offset + r + 1, column=keys[r] if keys else None)
    big = ~np.isfinite(as32)
    if big.any():
        r, c = map(int, np.argwhere(big)[0])
        raise InputError(f"value {mat[r, c]} in dimension {c} does not fit in float32", file=name, row=row_offset + r + 1,
                         column=keys[r] if keys else None)
    zero = ~as32.any(axis=1)
    if zero.any():
        r = int(np.flatnonzero(zero)[0])
        raise InputError("all-zero vector (it has no direction, so no similarity); drop or fix it",
                         file=name, row=row_offset + r + 1, column=keys[r] if keys else None)
    return np.ascontiguousarray(as32)


def check_unique_ids(ids: list[str], name: str) -> None:
    """Raise :class:`InputError` naming the row of the first repeated id in ``ids`` (of file ``name``)."""
    seen: dict[str, int] = {}
    for i, s in enumerate(ids):
        if s in seen:
            raise InputError(f"duplicate id {s!r} (first seen in row {seen[s] + 1}); make the ids unique", file=name,
                             row=i + 1)
        seen[s] = i
