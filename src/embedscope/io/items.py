"""Read and validate what users bring: texts with metadata, or vectors.

Readers return Arrow tables / numpy arrays that are already checked. Every problem is an
:class:`~embedscope.errors.InputError` naming the file, the 1-based data row and the column. Nothing here
touches a workspace, so a bad file can never leave one half-written.

Ids are strings, kept exactly as given (``"007"`` stays ``"007"``). Without an id column, ids are the
0-based row position in the file, as strings (``"0"``, ``"1"``, ...).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError
from .textfiles import SNIFF_BYTES, decode_bytes, refuse_wide, sniff_bom

TEXT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".parquet": "parquet",
                ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".arrow": "arrow",
                ".feather": "arrow", ".ipc": "arrow"}
VECTOR_FORMATS = {".npy": "npy", ".json": "json", ".parquet": "parquet", ".pq": "parquet",
                  ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".jsonl": "jsonl"}
_TEXT_NAMES = ("text", "content", "body", "document", "sentence", "passage", "abstract", "description",
               "title", "name")
#: Longest text accepted, in characters (10 MB); longer texts are an input error, not a silent cut.
MAX_TEXT_CHARS = 10_000_000
# The csv module refuses fields over 128 KiB by default; long texts are checked against MAX_TEXT_CHARS instead.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@dataclass
class ItemsInput:
    """Validated items: ``table`` has ``id`` (string), ``text`` (string, may be absent) and metadata.

    Attributes
    ----------
    table
        Arrow table, one row per item, ``id`` first, then ``text`` (if any), then metadata columns.
    source
        Where the items came from (file path or ``"<DataFrame>"``).
    text_column, id_column
        The input columns used for text and id (``None`` for generated ids).
    """

    table: pa.Table
    source: str
    text_column: str | None
    id_column: str | None


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


def file_suffix(path: Path) -> str:
    """The lower-case suffix that names the format of ``path``, under a compression suffix (``a.csv.gz``: ``.csv``)."""
    s = path.suffix.lower()
    if s in (".gz", ".bz2", ".zst", ".xz"):
        return Path(path.stem).suffix.lower()
    return s


# ----------------------------------------------------------------------------------------------- texts
def read_items(
    source: str | Path | pd.DataFrame,
    *,
    text: str | None = None,
    id: str | None = None,
    require_text: bool = True,
) -> ItemsInput:
    """Read and validate a file (CSV, TSV, Parquet, JSONL, Arrow) or a DataFrame of texts with metadata.

    Parameters
    ----------
    source
        Path to the file, or a pandas DataFrame.
    text
        Name of the text column. Default: a column named ``text`` (or content, body, ...), else the string
        column with the longest texts.
    id
        Name of the id column. Default: a column named ``id`` if present, else generated row positions.
    require_text
        If False, a table without any text column is accepted (metadata only).

    Returns
    -------
    ItemsInput

    Raises
    ------
    InputError
        Missing column, empty or non-UTF-8 text, duplicate or empty ids, empty file; with file, row, column.
    """
    if isinstance(source, pd.DataFrame):
        name = "<DataFrame>"
        df = source.reset_index(drop=True)
        df.columns = [str(c) for c in df.columns]
    else:
        path = Path(source)
        name = str(source)
        if not path.exists():
            raise InputError("file not found", file=name)
        if path.is_dir():
            raise InputError("is a directory, expected a file", file=name)
        kind = TEXT_FORMATS.get(file_suffix(path))
        if kind is None:
            raise InputError(
                f"unknown file type {path.suffix!r}; use .csv, .tsv, .parquet, .jsonl or .arrow", file=name
            )
        if path.stat().st_size == 0:
            raise InputError("the file is empty; give a header row and at least one data row", file=name)
        df = _read_frame(path, kind, name, text_col=text, id_col=id)
    if len(df.columns) == 0:
        raise InputError("no columns found", file=name)
    if len(df) == 0:
        raise InputError("no rows: the file has a header but no data; add rows below the header", file=name)
    dup_cols = [c for c in df.columns if list(df.columns).count(c) > 1]
    if dup_cols:
        raise InputError("the header names this column twice", file=name, column=dup_cols[0])

    for col, what in ((text, "--text"), (id, "--id")):
        if col is not None and col not in df.columns:
            raise InputError(
                f"no column {col!r} ({what}); columns are: {', '.join(map(str, df.columns))}",
                file=name, column=col,
            )
    id_col = id if id is not None else ("id" if "id" in df.columns else None)
    text_col = text if text is not None else _guess_text_column(df, exclude=id_col)
    if text_col is None and require_text:
        raise InputError(
            f"no text column found; name one with --text (columns: {', '.join(map(str, df.columns))})",
            file=name,
        )
    if text_col is not None and text_col == id_col:
        raise InputError("the text and the id column must differ", file=name, column=text_col)

    ids = _validate_ids(df, id_col, name)
    cols: dict[str, pa.Array] = {"id": pa.array(ids, pa.string())}
    if text_col is not None:
        cols["text"] = pa.array(_validate_texts(df[text_col], text_col, name), pa.string())
    for c in df.columns:
        if c in (id_col, text_col):
            continue
        out_name = c if c not in ("id", "text") else f"{c}_"
        cols[out_name] = _metadata_array(df[c], c, name)
    return ItemsInput(pa.table(cols), name, text_col, id_col)


def _read_frame(path: Path, kind: str, name: str, *, text_col: str | None, id_col: str | None) -> pd.DataFrame:
    if kind in ("csv", "tsv"):
        raw = path.read_bytes()
        sep = "\t" if kind == "tsv" else ","
        try:
            content = decode_bytes(raw, name)
        except UnicodeDecodeError as exc:
            _raise_not_utf8(raw, exc, sep, name)
        if not content.strip():
            raise InputError("the file is empty (only whitespace); give a header row and at least one data row",
                             file=name)
        str_cols = {c: str for c in (text_col, id_col, "id", "text") if c}
        _check_ragged_csv(content, sep, name)
        try:
            df = pd.read_csv(
                io.StringIO(content), sep=sep, dtype=str_cols, keep_default_na=False, na_values=[""],
                engine="c", quoting=csv.QUOTE_MINIMAL,
            )
        except pd.errors.EmptyDataError:
            raise InputError("the file is empty; give a header row and at least one data row", file=name) from None
        except pd.errors.ParserError as exc:
            _raise_unclosed_quote(content, sep, name)
            raise InputError(f"cannot parse as {kind.upper()}: {' '.join(str(exc).split())}; check the quoting "
                             "(a value with the separator or a newline in it must be in double quotes)",
                             file=name) from None
        return df
    if kind == "parquet":
        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise InputError(f"cannot read as Parquet: {exc}", file=name) from None
        return _arrow_to_frame(table, name)
    if kind == "arrow":
        try:
            import pyarrow.feather as feather

            table = feather.read_table(path)
        except Exception as exc:
            raise InputError(f"cannot read as Arrow/Feather: {exc}", file=name) from None
        return _arrow_to_frame(table, name)
    # jsonl
    rows: list[dict[str, Any]] = []
    blob = path.read_bytes()
    lines: list[bytes | str]
    if sniff_bom(blob[:4])[0] == "utf-8":
        refuse_wide(blob[:SNIFF_BYTES], name)
        lines = list(blob.splitlines())
    else:  # UTF-16/32 with a BOM: the whole text, split where bytes.splitlines would
        lines = list(re.split(r"\r\n|\r|\n", decode_bytes(blob, name)))
    for lineno, raw_line in enumerate(lines, start=1):
        if not raw_line.strip():
            continue
        try:
            line = raw_line if isinstance(raw_line, str) else raw_line.decode("utf-8-sig" if lineno == 1 else "utf-8")
            obj = json.loads(line)
        except UnicodeDecodeError:
            raise InputError("line is not UTF-8; re-save the file as UTF-8", file=name, row=lineno) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg} (char {exc.pos})", file=name, row=lineno) from None
        except RecursionError:  # brackets nested thousands deep: the parser recurses once a level
            raise InputError("the line nests too deeply to read; write one flat {...} object per line",
                             file=name, row=lineno) from None
        if not isinstance(obj, dict):
            raise InputError(
                f"each line must be a JSON object, got {type(obj).__name__}; write one {{...}} object per line",
                file=name, row=lineno
            )
        rows.append(obj)
    if not rows:
        raise InputError("the file is empty (only blank lines); write one {...} JSON object per line", file=name)
    df = pd.DataFrame.from_records(rows)
    for c in (text_col, id_col, "id"):
        if c and c in df.columns:
            df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else _id_str(v))
    return df


def _raise_not_utf8(raw: bytes, exc: UnicodeDecodeError, sep: str, name: str) -> None:
    """Raise the not-UTF-8 error at its data row and column (quoted newlines counted as the CSV does)."""
    bad = raw[exc.start]
    hint = "re-save the file as UTF-8 (from Latin-1 / Windows-1252: iconv -f cp1252 -t utf-8 IN > OUT)"
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    try:
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        header: list[str] = []
        for i, fields in enumerate(reader):
            if i == 0:
                header = fields
            for j, value in enumerate(fields):
                if any("\udc80" <= ch <= "\udcff" for ch in value):
                    col = None if i == 0 else (header[j] if j < len(header) else f"field {j + 1}")
                    where = "the header is" if i == 0 else "value is"
                    raise InputError(f"{where} not UTF-8 (byte 0x{bad:02x} at offset {exc.start}); {hint}",
                                     file=name, row=None if i == 0 else i, column=col)
    except csv.Error:
        pass
    line = raw[: exc.start].count(b"\n") + 1
    raise InputError(f"line {line} is not UTF-8 (byte 0x{bad:02x} at offset {exc.start}); {hint}", file=name)


def _raise_unclosed_quote(content: str, sep: str, name: str) -> None:
    """If a quoted value is never closed (a truncated file?), raise an error at its data row and column."""
    record = field = 0
    in_quotes, at_field_start = False, True
    opened: tuple[int, int] | None = None
    i, n = 0, len(content)
    while i < n:
        c = content[i]
        if in_quotes:
            if c == '"':
                if i + 1 < n and content[i + 1] == '"':
                    i += 2
                    continue
                in_quotes = False
        elif c == '"' and at_field_start:
            in_quotes, opened = True, (record, field)
        elif c == sep:
            field += 1
            at_field_start = True
            i += 1
            continue
        elif c == "\n":
            record += 1
            field = 0
            at_field_start = True
            i += 1
            continue
        at_field_start = False
        i += 1
    if not in_quotes or opened is None:
        return
    rec, fld = opened
    header = next(csv.reader(io.StringIO(content.split("\n", 1)[0]), delimiter=sep), [])
    col = header[fld] if rec > 0 and fld < len(header) else None
    raise InputError("a quoted value is never closed: the file ends inside it (truncated file, or a stray '\"'?); "
                     "close the quote or re-export the file", file=name, row=rec if rec > 0 else None, column=col)


def _check_ragged_csv(content: str, sep: str, name: str) -> None:
    """Rows with more fields than the header, named by their data row (quoted newlines handled)."""
    reader = csv.reader(io.StringIO(content), delimiter=sep)
    ncols = 0
    for i, fields in enumerate(reader):
        if i == 0:
            ncols = len(fields)
            continue
        if fields and len(fields) > ncols:
            raise InputError(
                f"{len(fields)} fields but the header has {ncols} (an unquoted {sep!r} in a value?)",
                file=name, row=i,
            )


def _arrow_to_frame(table: pa.Table, name: str) -> pd.DataFrame:
    for field in table.schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            col = table.column(field.name)
            decoded: list[str | None] = []
            for i, v in enumerate(col.to_pylist()):
                if v is None:
                    decoded.append(None)
                    continue
                try:
                    decoded.append(v.decode("utf-8"))
                except UnicodeDecodeError:
                    raise InputError("value is not UTF-8 text", file=name, row=i + 1,
                                     column=field.name) from None
            table = table.set_column(table.schema.get_field_index(field.name), field.name,
                                     pa.array(decoded, pa.string()))
    return table.to_pandas(types_mapper=None)


def _id_str(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v)


def _guess_text_column(df: pd.DataFrame, exclude: str | None) -> str | None:
    lower = {str(c).lower(): c for c in df.columns if c != exclude}
    for cand in _TEXT_NAMES:
        if cand in lower:
            return str(lower[cand])
    best, best_len = None, 0.0
    for c in df.columns:
        if c == exclude:
            continue
        s = df[c]
        if s.dtype != object and not pd.api.types.is_string_dtype(s):
            continue
        vals = s.dropna()
        if len(vals) == 0 or not all(isinstance(v, str) for v in vals.iloc[:100]):
            continue
        mean_len = float(vals.astype(str).str.len().mean())
        if mean_len > best_len:
            best, best_len = str(c), mean_len
    return best


def _validate_ids(df: pd.DataFrame, id_col: str | None, name: str, *, start: int = 0,
                  seen: dict[str, int] | None = None) -> list[str]:
    """The ids of ``df`` (rows ``start``.. of the file; ``seen``: ids of earlier rows, updated)."""
    if id_col is None:
        return [str(i) for i in range(start, start + len(df))]
    ids: list[str] = []
    seen = {} if seen is None else seen
    for i, v in enumerate(df[id_col].tolist(), start=start):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            raise InputError("empty id", file=name, row=i + 1, column=id_col)
        s = v if isinstance(v, str) else _id_str(v)
        if not s.strip():
            raise InputError("empty id", file=name, row=i + 1, column=id_col)
        if s in seen:
            raise InputError(f"duplicate id {s!r} (first seen in row {seen[s] + 1}); make the ids unique, or "
                             "leave out the id column to number the rows", file=name, row=i + 1, column=id_col)
        seen[s] = i
        ids.append(s)
    return ids


def _validate_texts(col: pd.Series, text_col: str, name: str, *, start: int = 0) -> list[str]:
    out: list[str] = []
    for i, v in enumerate(col.tolist(), start=start):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            raise InputError("empty text", file=name, row=i + 1, column=text_col)
        if not isinstance(v, str):
            raise InputError(f"text must be a string, got {type(v).__name__}; name the text column with --text, "
                             "or store this column as strings",
                             file=name, row=i + 1, column=text_col)
        if not v.strip():
            raise InputError("empty text (only whitespace)", file=name, row=i + 1, column=text_col)
        if len(v) > MAX_TEXT_CHARS:
            raise InputError(f"text of {len(v):,} characters is longer than the limit "
                             f"({MAX_TEXT_CHARS:,}); split it into passages", file=name, row=i + 1,
                             column=text_col)
        if "\x00" in v:
            raise InputError("text contains a NUL byte (binary data?)", file=name, row=i + 1,
                             column=text_col)
        out.append(v)
    return out


def _metadata_array(col: pd.Series, cname: str, name: str) -> pa.Array:
    try:
        arr = pa.array(col, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array([None if v is None else json.dumps(v, default=str) for v in col], pa.string())
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_floating(arr.type):
        vals = arr.to_numpy(zero_copy_only=False)
        if np.isinf(vals).any():
            arr = pa.array(np.where(np.isinf(vals), np.nan, vals), from_pandas=True)
    if pa.types.is_nested(arr.type) and not pa.types.is_list(arr.type):
        arr = pa.array([None if v is None else json.dumps(v, default=str) for v in arr.to_pylist()],
                       pa.string())
    return arr


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
            df = _read_frame(path, "jsonl", name, text_col=None, id_col=id)
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
        ids.append(v if isinstance(v, str) else _id_str(v))
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
        ids.append(v if isinstance(v, str) else _id_str(v))
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
