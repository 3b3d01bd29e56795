"""Read and validate the texts with metadata users bring (vectors: :mod:`embedscope.io.vectors`).

Readers return Arrow tables that are already checked. Every problem is an
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

from ..errors import InputError
from .formats import TEXT_FORMATS, file_suffix
from .textfiles import SNIFF_BYTES, decode_bytes, refuse_wide, sniff_bom

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



# ----------------------------------------------------------------------------------------------- texts
def read_items(
    source: str | Path | pd.DataFrame,
    *,
    text: str | None = None,
    id: str | None = None,
    require_text: bool = True,
    guess_text: bool = True,
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
    guess_text
        If False, no text column unless ``text`` names one (a table of image paths: its captions are optional).

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
        df = read_frame(path, kind, name, text_col=text, id_col=id)
    if len(df.columns) == 0:
        raise InputError("no columns found", file=name)
    if len(df) == 0:
        raise InputError("no rows: the file has a header but no data; add rows below the header", file=name)
    dup_cols = [c for c in df.columns if list(df.columns).count(c) > 1]
    if dup_cols:
        raise InputError("the header names this column twice; rename one of them", file=name, column=dup_cols[0])

    for col, what in ((text, "--text"), (id, "--id")):
        if col is not None and col not in df.columns:
            raise InputError(
                f"no column {col!r} ({what}); columns are: {', '.join(map(str, df.columns))}",
                file=name, column=col,
            )
    id_col = id if id is not None else ("id" if "id" in df.columns else None)
    text_col = text if text is not None or not guess_text else _guess_text_column(df, exclude=id_col)
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


def read_frame(path: Path, kind: str, name: str, *, text_col: str | None, id_col: str | None) -> pd.DataFrame:
    """The file ``path`` of format ``kind`` (``csv``, ``tsv``, ``parquet``, ``jsonl``, ``arrow``) as a DataFrame,
    with ``text_col`` and ``id_col`` kept as strings; an :class:`InputError` naming ``name`` if it cannot be read."""
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
            df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else id_str(v))
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
    found = _scan_quotes(content, sep)
    if found is None or found[0] != "unclosed":
        return
    _, rec, fld, _ = found
    raise InputError("a quoted value is never closed: the file ends inside it (truncated file, or a stray '\"'?); "
                     "close the quote or re-export the file", file=name, row=rec if rec > 0 else None,
                     column=_header_name(content, sep, rec, fld))


def _raise_stray_quote(content: str, sep: str, name: str) -> None:
    """If a quoted value's closing quote is followed by anything but the separator or the line end, raise an error
    at the data row (and column) where that quoted value starts: a stray ``"`` there swallowed the rows after it."""
    found = _scan_quotes(content, sep)
    if found is None:
        return
    kind, rec, fld, line = found
    if kind == "unclosed":
        _raise_unclosed_quote(content, sep, name)
    spans = f"; it runs on to line {line} of the file" if line > rec + 1 else ""
    raise InputError(f"a quoted value starts here and its closing quote is not followed by {sep!r} or the line end"
                     f"{spans} (a stray '\"'?); quote the whole value and double any quote inside it (\"\"), "
                     "or remove the stray quote", file=name, row=rec if rec > 0 else None,
                     column=_header_name(content, sep, rec, fld))


def _header_name(content: str, sep: str, rec: int, fld: int) -> str | None:
    header = next(csv.reader(io.StringIO(content.split("\n", 1)[0]), delimiter=sep), [])
    return header[fld] if rec > 0 and fld < len(header) else None


def _scan_quotes(content: str, sep: str) -> tuple[str, int, int, int] | None:
    """The first quoting problem of a CSV text: ``("stray", record, field, line)`` for a closing quote followed by
    something else than ``sep`` or a line end, ``("unclosed", record, field, line)`` for a quote still open at the
    end; ``record`` (0 = the header) and ``field`` where the quoted value starts, ``line`` (1-based, physical)
    where the problem is seen. ``None`` when the quoting is sound."""
    record = field = 0
    line = 1
    in_quotes, at_field_start, after_close = False, True, False
    opened = (0, 0)
    i, n = 0, len(content)
    while i < n:
        c = content[i]
        if c == "\n":
            line += 1
        if in_quotes:
            if c == '"':
                if i + 1 < n and content[i + 1] == '"':
                    i += 2
                    continue
                in_quotes, after_close = False, True
            i += 1
            continue
        if after_close and c not in (sep, "\n", "\r"):
            return "stray", opened[0], opened[1], line
        after_close = False
        if c == '"' and at_field_start:
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
        elif c == "\r":
            i += 1
            continue
        at_field_start = False
        i += 1
    if in_quotes:
        return "unclosed", opened[0], opened[1], line
    return None


def _check_ragged_csv(content: str, sep: str, name: str) -> None:
    """Rows with more fields than the header, named by their data row (quoted newlines handled); a quote that
    does not close right before the separator or the line end, named by the row where its value starts (read
    leniently, such a quote swallows the rows after it: a file of 3 rows was ingested as 1)."""
    reader = csv.reader(io.StringIO(content), delimiter=sep, strict=True)
    ncols = 0
    rows = enumerate(reader)
    while True:
        try:
            i, fields = next(rows)
        except StopIteration:
            return
        except csv.Error:
            _raise_stray_quote(content, sep, name)
            return
        if i == 0:
            ncols = len(fields)
            twice = duplicate_name(fields)
            if twice is not None:
                raise InputError("the header names this column twice; rename one of them", file=name, column=twice)
            continue
        if fields and len(fields) > ncols:
            raise InputError(
                f"{len(fields)} fields but the header has {ncols} (an unquoted {sep!r} in a value?)",
                file=name, row=i,
            )


def duplicate_name(names: list[str]) -> str | None:
    """The first header name given twice (empty names, which readers number, left aside), or ``None``."""
    seen: set[str] = set()
    for c in names:
        if c in seen and c.strip():
            return c
        seen.add(c)
    return None


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


def id_str(v: Any) -> str:
    """An id value as the string it is stored as (``3.0`` and ``np.int64(3)`` are ``"3"``)."""
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
        s = v if isinstance(v, str) else id_str(v)
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

