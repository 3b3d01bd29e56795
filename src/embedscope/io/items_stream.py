"""Items from a large CSV or TSV file in bounded batches, checked as :func:`embedscope.io.items.read_items` checks
them, so a first ingest streams into the workspace instead of holding the file several times over.

A 200 MB CSV read whole was held as bytes, as one decoded string, as a copy in a ``StringIO``, as a DataFrame of
Python strings and as Arrow columns (peak about 9x the file). Here the file is parsed twice a batch of
``batch_rows`` rows at a time:

1. the column types of the whole file are settled (a column of integers with an empty value further down is
   float, as pandas makes it when it reads the whole file; a column with a word in it is text);
2. each batch is checked and converted by :func:`embedscope.io.items.read_items` itself (ids, texts, metadata),
   with row numbers counted from the start of the file and ids checked unique across batches.

The errors are the same, at the same row and column. Whatever the batches cannot reproduce exactly (a parse
error, bytes that are not UTF-8, a header problem) is handed to :func:`~embedscope.io.items.read_items` on the
whole file, which raises its usual located error. Files under ``stream_min_bytes`` and other formats are read
whole, as before.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import InputError
from . import formats, items
from .textfiles import SNIFF_BYTES, refuse_wide, sniff_bom

#: Rows per batch (about 5 MB of 500-character texts; 50,000 held 140 MB more while parsing).
BATCH_ROWS = 10_000
#: Files smaller than this are read whole (the batches would save nothing worth a second parse).
STREAM_MIN_BYTES = 16 * 2**20


@dataclass
class ItemsStream:
    """Checked items in batches of Arrow record batches, all of ``schema``.

    Attributes
    ----------
    source
        The file (or ``"<DataFrame>"``).
    text_column, id_column
        The input columns used for text and id (``None`` for generated ids).
    schema
        ``id`` (string), ``text`` (string, if any), then the metadata columns.
    rows
        Data rows, if known before the batches are read.
    """

    source: str
    text_column: str | None
    id_column: str | None
    schema: pa.Schema
    _batches: Callable[[], Iterator[pa.RecordBatch]]
    rows: int | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The items in file order; raises :class:`~embedscope.errors.InputError` at the first bad row."""
        return self._batches()

    def read_all(self) -> pa.Table:
        """All items as one table."""
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)


class _ReadWhole(Exception):
    """The batches cannot reproduce the whole-file reader exactly here: read the file whole."""


def open_items(source: str | Path | pd.DataFrame, *, text: str | None = None, id: str | None = None,
               batch_rows: int | None = None, stream_min_bytes: int | None = None) -> ItemsStream:
    """Open items to ingest: a CSV/TSV file of at least ``stream_min_bytes`` in batches, anything else whole.

    Parameters are those of :func:`embedscope.io.items.read_items`, plus the batch size and the size above which
    a file streams (default: :data:`BATCH_ROWS`, :data:`STREAM_MIN_BYTES`). Header and column problems are raised
    now; row problems as the batches are read.

    Returns
    -------
    ItemsStream
    """
    batch_rows = batch_rows or BATCH_ROWS
    stream_min_bytes = STREAM_MIN_BYTES if stream_min_bytes is None else stream_min_bytes
    if not isinstance(source, pd.DataFrame):
        path = Path(source)
        kind = formats.TEXT_FORMATS.get(path.suffix.lower())
        if kind in ("csv", "tsv") and path.is_file() and path.stat().st_size >= max(1, stream_min_bytes):
            try:
                return _csv_stream(path, str(source), kind, text, id, batch_rows)
            except _ReadWhole:
                pass
    return whole(items.read_items(source, text=text, id=id))


def whole(inp: items.ItemsInput) -> ItemsStream:
    """Items already read as one table, as a stream."""
    table = inp.table
    return ItemsStream(inp.source, inp.text_column, inp.id_column, table.schema,
                       lambda: iter(table.to_batches()), table.num_rows)


def _frames(path: Path, sep: str, dtype: dict[str, Any], batch_rows: int) -> Generator[pd.DataFrame, None, None]:
    """The file as DataFrames of ``batch_rows`` rows, parsed as :func:`embedscope.io.items.read_items` parses the
    whole file; anything unusual raises :class:`_ReadWhole`."""
    with path.open("rb") as fh:
        codec, skip, _ = sniff_bom(fh.read(4))
        if codec == "utf-8":
            fh.seek(0)
            refuse_wide(fh.read(SNIFF_BYTES), str(path))
            codec, skip = "utf-8-sig", 0
        fh.seek(skip)
        text = io.TextIOWrapper(fh, encoding=codec, newline="")
        try:
            reader = pd.read_csv(text, sep=sep, dtype=dtype, keep_default_na=False, na_values=[""], engine="c",
                                 quoting=csv.QUOTE_MINIMAL, chunksize=batch_rows)
            with reader:
                for frame in reader:
                    if not isinstance(frame.index, pd.RangeIndex):  # more fields than the header: refused whole
                        raise _ReadWhole
                    yield frame
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise _ReadWhole from exc


def _check_quotes(path: Path, sep: str) -> None:
    """Read the file strictly once (a quote closes right before the separator or the line end; the header names
    each column once), a row at a time; anything wrong: :class:`_ReadWhole`, whose reader names it. Read
    leniently, a stray quote swallows the rows after it."""
    with path.open("rb") as fh:
        codec, skip, _ = sniff_bom(fh.read(4))
        fh.seek(skip if codec != "utf-8" else 0)
        text = io.TextIOWrapper(fh, encoding="utf-8-sig" if codec == "utf-8" else codec, newline="")
        try:
            reader = csv.reader(text, delimiter=sep, strict=True)
            header = next(reader, [])
            if items.duplicate_name(header) is not None:
                raise _ReadWhole
            for _ in reader:
                pass
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _ReadWhole from exc


def _kind(col: pd.Series) -> str | None:
    """What a batch's column holds: ``int``, ``float``, ``bool``, ``str``; ``None`` when it is all empty."""
    if not col.notna().any():
        return None
    inferred = pd.api.types.infer_dtype(col, skipna=True)
    return {"integer": "int", "floating": "float", "mixed-integer-float": "float", "boolean": "bool"}.get(inferred,
                                                                                                          "str")


def _settle(kinds: set[str], has_empty: bool) -> Any:
    """The dtype of a column over the whole file, from what each batch held."""
    if not kinds:
        return "float64"
    if kinds == {"bool"}:
        return "boolean" if has_empty else bool
    if kinds == {"int"} and not has_empty:
        return "int64"
    if kinds <= {"int", "float"}:
        return "float64"
    return str


def _csv_stream(path: Path, name: str, kind: str, text: str | None, id: str | None, batch_rows: int
                ) -> ItemsStream:
    sep = "\t" if kind == "tsv" else ","
    str_cols: dict[str, Any] = {c: str for c in (text, id, "id", "text") if c}
    _check_quotes(path, sep)
    kinds: dict[str, set[str]] = {}
    empty: dict[str, bool] = {}
    head: pd.DataFrame | None = None
    rows = 0
    for frame in _frames(path, sep, str_cols, batch_rows):  # 1. the column types of the whole file
        if head is None:
            head = frame
        for c in frame.columns:
            k = _kind(frame[c])
            kinds.setdefault(c, set()).update([k] if k else [])
            empty[c] = empty.get(c, False) or bool(frame[c].isna().any())
        rows += len(frame)
    if head is None or rows == 0:
        raise _ReadWhole
    dtype = {c: (str if c in str_cols else _settle(kinds[c], empty[c])) for c in head.columns}
    try:  # the header, the columns and the first rows (typed as the whole file), checked as a whole file's are
        with closing(_frames(path, sep, dtype, batch_rows)) as frames:
            first = items.read_items(next(frames), text=text, id=id)
    except InputError as exc:
        raise _ReadWhole from exc
    text_col, id_col = first.text_column, first.id_column
    schema = first.table.schema

    def batches() -> Iterator[pa.RecordBatch]:
        seen: dict[str, int] = {}
        start = 0
        try:
            frames = _frames(path, sep, dtype, batch_rows)
            for frame in frames:  # 2. each batch checked and converted, rows counted from the file's start
                if id_col is not None:  # unique across batches, the first duplicate in file order named
                    for i, v in enumerate(frame[id_col].tolist(), start=start):
                        if not isinstance(v, str) or not v.strip():
                            break  # an empty id: read_items names it
                        if v in seen:
                            raise InputError(f"duplicate id {v!r} (first seen in row {seen[v] + 1}); make the ids "
                                             "unique, or leave out the id column to number the rows", file=name,
                                             row=i + 1, column=id_col)
                        seen[v] = i
                try:
                    got = items.read_items(frame, text=text_col, id=id_col)
                except InputError as exc:
                    raise InputError(exc.message, file=name, row=None if exc.row is None else exc.row + start,
                                     column=exc.column) from None
                table = got.table
                if id_col is None:
                    table = table.set_column(0, "id", pa.array([str(i) for i in range(start, start + len(frame))],
                                                               pa.string()))
                if table.schema != schema:
                    table = table.select(schema.names).cast(schema)
                yield from table.to_batches()
                start += len(frame)
        except _ReadWhole:  # changed under us? the whole-file reader says what is wrong
            items.read_items(path, text=text, id=id)
            raise InputError("the file changed while it was read; ingest it again", file=name) from None

    return ItemsStream(name, text_col, id_col, schema, batches, rows)
