"""Vectors in bounded batches: from a file into a Lance table, and from a Lance table into one numpy array.

A million 384-dimensional float32 vectors are 1.5 GB; reading a file whole, turning it into an Arrow table and
reading the table back as Arrow then numpy held about five such copies at once. Here:

- :func:`open_vectors` checks a vectors file's ids and shape up front and then yields its vectors in batches of
  ``batch_rows``: a ``.npy`` file is memory-mapped, a Parquet file is read a record batch at a time (a row group
  is the unit Parquet decodes, so a file written as one huge row group costs that row group once); other formats
  (``.json``, ``.jsonl``, ``.arrow``) are read whole by :func:`embedscope.io.vectors.read_vectors` and then sliced;
- :func:`record_batches` turns those batches into Arrow record batches (``id``, ``vector``) that LanceDB writes
  as one commit, and computes the content fingerprint on the way (the same digest as
  :func:`embedscope.store.manifest.fingerprint_arrays` of the ids and the whole matrix);
- :func:`read_matrix` reads a stored ``vector`` column into one preallocated float32 array, page by page (with
  pylance, a bounded I/O buffer; else LanceDB's own batch reader). Lance stores vectors in encoded pages, not as
  one flat array, so they are read into memory once rather than memory-mapped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InputError
from . import formats, sidecols, vectors

#: Vectors per batch while ingesting and reading back (24 MB of float32 at 384 dimensions).
BATCH_ROWS = 16_384
#: Bytes Lance may hold in flight while a vector column is read back (pylance only).
IO_BUFFER_BYTES = 32 * 2**20


@dataclass
class VectorStream:
    """A checked vectors file, read in batches.

    Attributes
    ----------
    ids
        Item ids, length ``n``, unique, non-empty strings.
    source
        The file.
    dim
        Dimensions ``d`` if known before reading the vectors (``.npy``, fixed-size lists), else ``None``.
    metadata
        The file's other columns (see :mod:`embedscope.io.sidecols`), one row per id, stored as item metadata,
        and its text column as ``text``; ``None`` when it has none (``.npy``, JSON).
    layouts
        Layout coordinates found in the file (``{method}_x`` / ``{method}_y``): method -> float32 ``(n, 2)``.
    notes
        What was left out, in words.
    """

    ids: list[str]
    source: str
    dim: int | None
    _batches: Callable[[], Iterator[np.ndarray]]
    metadata: pa.Table | None = None
    layouts: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    def batches(self) -> Iterator[np.ndarray]:
        """Checked vectors in file order: float32, C-contiguous, shape ``(b, d)`` with ``b <= batch_rows``.

        Raises :class:`~embedscope.errors.InputError` (file, 1-based row, column) at the first bad vector.
        """
        return self._batches()

    def read_all(self) -> np.ndarray:
        """All vectors as one float32 array of shape ``(n, d)``, filled batch by batch."""
        out: np.ndarray | None = None
        lo = 0
        for block in self.batches():
            if out is None:
                out = np.empty((self.n, block.shape[1]), np.float32)
            out[lo:lo + len(block)] = block
            lo += len(block)
        assert out is not None and lo == self.n
        return out


def open_vectors(source: str | Path | Any, *, ids: str | Path | None = None, id: str | None = None,
                 vector: str | None = None, text: str | None = None, batch_rows: int = BATCH_ROWS) -> VectorStream:
    """Open bring-your-own vectors: ids and shape are checked now, the vectors as they are read.

    Parameters are those of :func:`embedscope.io.vectors.read_vectors` (which reads the same formats whole); the
    checks and error messages are the same. ``source`` is a file, or a pandas DataFrame or Arrow table with a
    vector column (lists or arrays of floats) read as a Parquet file is. A Parquet file's (or table's) other
    columns are read too (:mod:`embedscope.io.sidecols`): ``text`` names its text column (default: ``text``).

    Returns
    -------
    VectorStream
    """
    if not isinstance(source, (str, Path)):
        if ids:
            raise InputError("ids= is only for .npy files; a table carries its ids (an 'id' column, or id=)")
        return _parquet(_InMemory(source), "<DataFrame>", id, vector, text, batch_rows)
    path = Path(source)
    name = str(source)
    kind = formats.VECTOR_FORMATS.get(formats.file_suffix(path))
    if not path.exists() or kind not in ("npy", "parquet") or path.stat().st_size == 0:
        return _whole(vectors.read_vectors(source, ids=ids, id=id, vector=vector), batch_rows)
    if ids and kind != "npy":
        raise InputError("--ids is only for .npy files; other formats carry their ids", file=name)
    if text is not None and kind != "parquet":
        raise InputError("--text with vectors is for Parquet files (a text column beside the vectors)", file=name)
    stream = _npy(path, name, ids, batch_rows) if kind == "npy" else _parquet(path, name, id, vector, text,
                                                                             batch_rows)
    vectors.check_unique_ids(stream.ids, name)
    return stream


def _whole(inp: vectors.VectorsInput, batch_rows: int) -> VectorStream:
    x = inp.vectors

    def batches() -> Iterator[np.ndarray]:
        for lo in range(0, len(x), batch_rows):
            yield x[lo:lo + batch_rows]

    return VectorStream(inp.ids, inp.source, int(x.shape[1]), batches)


def _npy(path: Path, name: str, ids: str | Path | None, batch_rows: int) -> VectorStream:
    arr = vectors.load_npy(path, name, mmap=True)
    n = arr.shape[0]
    if n == 0:
        raise InputError("no vectors", file=name)
    id_list = vectors.read_id_file(Path(ids), n) if ids else [str(i) for i in range(n)]

    def batches() -> Iterator[np.ndarray]:
        for lo in range(0, n, batch_rows):
            yield vectors.validate_matrix(np.asarray(arr[lo:lo + batch_rows]), name, None, row_offset=lo)

    return VectorStream(id_list, name, int(arr.shape[1]), batches)


class _InMemory:
    """A pandas DataFrame or Arrow table read through the three calls :func:`_parquet` makes of a ParquetFile."""

    class _Meta:
        def __init__(self, n: int) -> None:
            self.num_rows = n

    def __init__(self, source: Any) -> None:
        if isinstance(source, pa.Table):
            table = source
        else:
            try:
                table = pa.Table.from_pandas(source, preserve_index=False)
            except Exception as exc:
                raise InputError(f"cannot read the DataFrame: {exc}; give a column of float lists or arrays as "
                                 "the vectors", file="<DataFrame>") from None
        self.table = table
        self.schema_arrow = table.schema
        self.metadata = self._Meta(table.num_rows)

    def read(self, columns: list[str]) -> pa.Table:
        return self.table.select(columns)

    def iter_batches(self, *, batch_size: int, columns: list[str], use_threads: bool = False) -> Iterator[pa.RecordBatch]:
        return iter(self.table.select(columns).to_batches(max_chunksize=batch_size))


def _parquet(path: Path | _InMemory, name: str, id: str | None, vector: str | None, text: str | None,
             batch_rows: int) -> VectorStream:
    import pyarrow.parquet as pq

    try:
        # no pre-buffering, one thread: a row group at a time in flight (pre-buffered, threaded reads held
        # about twice as much)
        pf: Any = path if isinstance(path, _InMemory) else pq.ParquetFile(path, pre_buffer=False,
                                                                           buffer_size=1 << 20)
        schema = pf.schema_arrow
    except Exception as exc:
        raise InputError(f"cannot read: {exc}", file=name) from None
    if pf.metadata.num_rows == 0:
        raise InputError("no rows", file=name)
    vcol = vectors.pick_vector_column(schema.empty_table(), name, vector)
    id_col = id if id is not None else ("id" if "id" in schema.names else None)
    if id_col is not None and id_col not in schema.names:
        raise InputError(f"no column {id_col!r}; columns are: {', '.join(schema.names)}", file=name, column=id_col)
    cols = sidecols.plan(schema, id_col=id_col, vector_col=vcol, text=text, name=name)
    try:
        side = pf.read(columns=[c for c in (id_col, *cols.columns) if c is not None])
    except Exception as exc:
        raise InputError(f"cannot read: {exc}", file=name) from None
    id_list = vectors.table_ids(side, name, id_col) if id_col is not None else \
        [str(i) for i in range(pf.metadata.num_rows)]
    meta: dict[str, Any] = {}
    if cols.text is not None:
        meta["text"] = sidecols.text_column(side.column(cols.text), cols.text, name)
    layouts: dict[str, np.ndarray] = {}
    notes = [f"column {c!r} ({schema.field(c).type}) left out" for c in cols.left_out]
    for method, pair in cols.layouts.items():
        xy = sidecols.layout_coords(side, pair)
        if xy is None:
            notes.append(f"layout {method!r} not kept: {pair[0]}/{pair[1]} have missing values (kept as metadata)")
            cols.metadata.extend(pair)
        else:
            layouts[method] = xy
    for c in cols.metadata:
        meta[sidecols.metadata_name(c)] = sidecols.metadata_column(side.column(c))
    metadata = pa.table(meta) if meta else None
    vtype = schema.field(vcol).type
    dim = int(vtype.list_size) if pa.types.is_fixed_size_list(vtype) else None

    def batches() -> Iterator[np.ndarray]:
        lo = 0
        want = dim
        try:
            it = pf.iter_batches(batch_size=batch_rows, columns=[vcol], use_threads=False)
            for batch in it:
                col = batch.column(0)
                mat = vectors.list_matrix(col, name, vcol, row_offset=lo, dim=want)
                want = mat.shape[1]
                yield vectors.validate_matrix(mat, name, None, row_offset=lo)
                lo += len(col)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"cannot read: {exc}", file=name) from None

    return VectorStream(id_list, name, dim, batches, metadata, layouts, notes)


class StreamFingerprint:
    """:func:`embedscope.store.manifest.fingerprint_arrays` ``(ids, x)`` computed while ``x`` streams by in row order.

    Parameters
    ----------
    ids
        The ids as one Arrow string array (as stored).
    shape
        ``(n, d)`` of the float32 matrix that will be fed with :meth:`update`.
    """

    def __init__(self, ids: pa.Array, shape: tuple[int, int]) -> None:
        self._h = hashlib.blake2b(digest_size=16)
        self._h.update(f"p{ids.type}".encode())
        for buf in ids.buffers():
            if buf is not None:
                self._h.update(memoryview(buf))
        self._h.update(f"|{len(ids)}|{ids.offset}".encode())
        self._h.update(f"a{np.dtype(np.float32).str}{tuple(shape)}".encode())

    def update(self, block: np.ndarray) -> None:
        """Feed the next rows (float32, C-contiguous)."""
        self._h.update(np.ascontiguousarray(block, dtype=np.float32).data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def vectors_schema(dim: int) -> pa.Schema:
    """The schema of a ``vectors__{space}`` table."""
    return pa.schema([("id", pa.string()), ("vector", pa.list_(pa.float32(), dim))])


def record_batches(stream: VectorStream) -> tuple[pa.RecordBatchReader, Callable[[], str], int]:
    """The stream as Arrow record batches (``id``, ``vector``) for one LanceDB write.

    The first batch is read now (to learn the dimension), the rest as the writer pulls them, so a bad vector
    anywhere raises inside the write, before it commits.

    Returns
    -------
    reader : pyarrow.RecordBatchReader
    fingerprint : callable
        After the reader is exhausted: the content fingerprint of (ids, vectors).
    dim : int
    """
    it = stream.batches()
    first = next(it, None)
    if first is None:
        raise InputError("no vectors", file=stream.source)
    dim = int(first.shape[1])
    id_arr = pa.array(stream.ids, pa.string())
    fp = StreamFingerprint(id_arr, (stream.n, dim))
    schema = vectors_schema(dim)
    state = {"rows": 0}

    def gen() -> Iterator[pa.RecordBatch]:
        lo = 0
        for block in _chain(first, it):
            if block.shape[1] != dim:
                raise InputError(f"vector has {block.shape[1]} dimensions, row 1 has {dim}; every vector needs "
                                 "the same number", file=stream.source, row=lo + 1)
            fp.update(block)
            hi = lo + len(block)
            yield pa.record_batch([id_arr.slice(lo, hi - lo),
                                   pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), dim)],
                                  schema=schema)
            lo = hi
        state["rows"] = lo

    def fingerprint() -> str:
        if state["rows"] != stream.n:
            raise InputError(f"{state['rows']} vectors for {stream.n} ids", file=stream.source)
        return fp.hexdigest()

    return pa.RecordBatchReader.from_batches(schema, gen()), fingerprint, dim


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def read_matrix(table: Any, n: int, dim: int, *, column: str = "vector") -> np.ndarray:
    """A stored fixed-size-list column of an open LanceDB table (at its checked-out version) as one array.

    Parameters
    ----------
    table
        A ``lancedb`` table.
    n, dim
        Its rows and the list size.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n, dim)``, read-only; filled a page at a time, so the peak is this array plus a
        bounded read buffer (``IO_BUFFER_BYTES`` with pylance).
    """
    out = np.empty((n, dim), np.float32)
    try:
        ds = table.to_lance()
        batches: Any = ds.scanner(columns=[column], batch_size=BATCH_ROWS, io_buffer_size=IO_BUFFER_BYTES,
                                  batch_readahead=1, fragment_readahead=1).to_batches()
    except ImportError:  # no pylance: LanceDB's own reader (a larger read-ahead)
        batches = table.search().select([column]).limit(None).to_batches(BATCH_ROWS)
    lo = 0
    for batch in batches:
        col = batch.column(0)
        m = len(col)
        if lo + m > n:
            raise ValueError(f"the table holds more than the {n} rows recorded")
        flat = col.values if col.offset == 0 else col.flatten()
        out[lo:lo + m] = flat.to_numpy(zero_copy_only=False).reshape(m, dim)
        lo += m
    if lo != n:
        raise ValueError(f"the table holds {lo} rows, {n} recorded")
    out.flags.writeable = False
    return out


def read_column(table: Any, column: str) -> pa.ChunkedArray:
    """One column of an open LanceDB table (at its checked-out version), in row order, without the others."""
    try:
        return table.to_lance().to_table(columns=[column]).column(column)
    except ImportError:
        return table.search().select([column]).limit(None).to_arrow().column(column)


def column_batches(table: Any, column: str, batch_rows: int = BATCH_ROWS) -> Iterator[pa.Array]:
    """One column of an open LanceDB table (at its checked-out version), in row order, a batch at a time."""
    try:
        batches: Any = table.to_lance().scanner(columns=[column], batch_size=batch_rows,
                                                io_buffer_size=IO_BUFFER_BYTES, batch_readahead=1,
                                                fragment_readahead=1).to_batches()
    except ImportError:
        batches = table.search().select([column]).limit(None).to_batches(batch_rows)
    for batch in batches:
        yield batch.column(0)
