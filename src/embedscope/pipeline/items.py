"""Items and user vectors into a workspace (the steps behind :meth:`embedscope.scope.Scope.ingest`,
``ingest_items``, ``add_vectors``, ``ingest_vectors`` and ``add_vector_stream``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InputError
from ..results import IngestReport
from ..store.manifest import Record
from ..store.tables import check_space_name, vectors_table
from .base import ScopeLike


def ingest(scope: ScopeLike, source: str | Path | pd.DataFrame, *, text: str | None = None,
           id: str | None = None, space: str | None = None, vector: str | None = None) -> IngestReport:
    """Add or update items from a file (CSV, TSV, Parquet, JSONL, Arrow) or a DataFrame.

    New ids are added; rows whose id exists replace the old values (columns absent from the new input
    keep their old values). Spaces embedded from changed texts become stale.

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    source
        File path or DataFrame.
    text, id
        Text and id columns (see :func:`embedscope.io.items.read_items`).
    space, vector
        With ``space``: ``source`` holds vectors (a vector column, ``vector`` names it) brought into that space,
        as ``embedscope ingest WS FILE --space NAME`` does (:func:`ingest_vectors`).
    """
    from ..io.items_stream import open_items

    if space is not None:
        return ingest_vectors(scope, source, space, id=id, vector=vector, text=text)
    if vector is not None:
        raise InputError("vector= names the vector column of vectors brought into a space: add space=NAME")
    return ingest_items(scope, open_items(source, text=text, id=id))


def ingest_items(scope: ScopeLike, stream: Any) -> IngestReport:
    """Store an :class:`embedscope.io.items_stream.ItemsStream` (a file already opened and checked by
    :func:`embedscope.io.items_stream.open_items`), as :meth:`ingest` does: the CLI opens the file before it
    creates the workspace, so a bad file leaves no workspace behind."""
    with scope.store.writing():
        return ingest_stream(scope, stream)


def ingest_stream(scope: ScopeLike, stream: Any) -> IngestReport:
    """Store an :class:`embedscope.io.items_stream.ItemsStream` (caller holds the lock).

    Into a workspace without items the batches go straight into the items table (one Lance commit; a bad
    row raises before it commits, so nothing is stored); into one with items they are upserted by id in
    memory (:func:`upsert_items`)."""
    if scope.has_items():
        rep = upsert_items(scope, stream.read_all(), stream.source)
    else:
        rows = scope.store.create_items(pa.RecordBatchReader.from_batches(stream.schema, stream.batches()),
                                       stream.source)
        rep = IngestReport(stream.source, rows, 0, 0, rows)
    rep.text_column, rep.id_column = stream.text_column, stream.id_column
    return rep


def upsert_items(scope: ScopeLike, new: pa.Table, source: str) -> IngestReport:
    """Upsert ``new`` items (an ``id`` column and any others) by id (caller holds the lock)."""
    added, updated, unchanged, rows = scope.store.upsert_items(new, source)
    return IngestReport(source, added, updated, unchanged, rows)



def add_vectors(scope: ScopeLike, space: str, ids: Sequence[str], vectors: np.ndarray, *, source: str = "<array>"
                ) -> IngestReport:
    """Store user vectors as (or into) ``space``, upserting by id; new ids are added to the items.

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    space
        Space name (created if missing).
    ids
        Length ``n``, strings.
    vectors
        Shape ``(n, d)``; must be finite with no all-zero rows (see :func:`embedscope.io.vectors.read_vectors`).
    """
    check_space_name(space)
    ids = [str(s) for s in ids]
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != len(ids):
        raise InputError(f"{source}: expected {len(ids)} vectors, got shape {x.shape}")
    with scope.store.writing():
        name = vectors_table(space)
        rec = scope.store.record(name)
        if rec is not None and rec.params.get("source") == "embedded":
            raise InputError(f"space {space!r} was embedded with {rec.params.get('model')!r}; "
                             "bring vectors into a new --space")
        added = updated = unchanged = 0
        if rec is not None:
            old_ids, old_x, old_pos = scope.store.arrays(space)
            if old_x.shape[1] != x.shape[1]:
                raise InputError(f"{source}: vectors have {x.shape[1]} dimensions but space {space!r} has "
                                 f"{old_x.shape[1]}; use another --space")
            all_ids = list(old_ids)
            merged = np.array(old_x, copy=True)
            extra_rows = []
            for i, s in enumerate(ids):
                j = old_pos.get(s)
                if j is None:
                    all_ids.append(s)
                    extra_rows.append(i)
                    added += 1
                elif not np.array_equal(merged[j], x[i]):
                    merged[j] = x[i]
                    updated += 1
                else:
                    unchanged += 1
            merged = np.concatenate([merged, x[extra_rows]]) if extra_rows else merged
            ids_out, x_out = all_ids, merged
        else:
            ids_out, x_out, added = ids, x, len(ids)
        upsert_items(scope, pa.table({"id": pa.array(ids, pa.string())}), source)
        if added or updated or rec is None:
            scope.store.write_space(space, ids_out, x_out, {"source": "vectors", "file": source})
    return IngestReport(source, added, updated, unchanged, len(ids_out), space=space)


def ingest_vectors(scope: ScopeLike, source: str | Path | Any, space: str, *, ids: str | Path | None = None,
                   id: str | None = None, vector: str | None = None, text: str | None = None) -> IngestReport:
    """Bring your own vectors from ``.npy`` (+ ``ids`` file), ``.json`` ``{id: [floats]}``, Parquet/Arrow, or a
    pandas DataFrame / Arrow table with a vector column (its other columns: texts, metadata, ``{method}_x/_y``
    layouts, as in a Parquet file).

    A new space is streamed from the file into its table in batches (see :func:`add_vector_stream`).
    """
    from ..io.streams import open_vectors

    check_space_name(space)
    return add_vector_stream(scope, space, open_vectors(source, ids=ids, id=id, vector=vector, text=text))


def add_vector_stream(scope: ScopeLike, space: str, stream: Any) -> IngestReport:
    """Store a :class:`embedscope.io.streams.VectorStream` as ``space``, upserting by id.

    Into a new space the vectors go from the file to the table a batch at a time (``.npy`` memory-mapped,
    Parquet a record batch at a time), each batch checked as it passes; a bad vector raises
    :class:`~embedscope.errors.InputError` before anything is committed. The peak is about one batch plus
    Lance's write buffers, not a copy of the vectors. An existing space is merged in memory
    (:meth:`add_vectors`). The file's other scalar columns (``stream.metadata``) are upserted into the
    items as metadata.
    """
    from ..io.streams import record_batches
    from .layouts import import_layouts

    check_space_name(space)
    name = vectors_table(space)
    found = getattr(stream, "layouts", {})
    with scope.store.writing():
        if scope.store.record(name) is None:
            reader, fingerprint, dim = record_batches(stream)
            version = scope.store.commit(name, reader)
            fp = fingerprint()
            upsert_items(scope, stream_items(stream), stream.source)
            rec = Record(table=name, kind="space", params={"source": "vectors", "file": stream.source,
                                                           "dim": dim}, fingerprint=fp)
            scope.store.record_version(rec, version, stream.n)
            rep = IngestReport(stream.source, stream.n, 0, 0, stream.n, space=space)
            rep.layouts, rep.notes = import_layouts(scope, space, stream.ids, found, stream.source)
            rep.notes = [*getattr(stream, "notes", []), *rep.notes]
            return _with_text(rep, stream)
    rep = scope.add_vectors(space, stream.ids, stream.read_all(), source=stream.source)
    with scope.store.writing():
        if getattr(stream, "metadata", None) is not None:
            upsert_items(scope, stream_items(stream), stream.source)
        rep.layouts, rep.notes = import_layouts(scope, space, stream.ids, found, stream.source)
    rep.notes = [*getattr(stream, "notes", []), *rep.notes]
    return _with_text(rep, stream)


def _with_text(rep: IngestReport, stream: Any) -> IngestReport:
    meta = getattr(stream, "metadata", None)
    if meta is not None and "text" in meta.column_names:
        rep.text_column = "text"
    return rep


def stream_items(stream: Any) -> pa.Table:
    """``id`` and the stream's metadata columns, as items."""
    table = pa.table({"id": pa.array(stream.ids, pa.string())})
    meta = getattr(stream, "metadata", None)
    if meta is not None:
        for c in meta.column_names:
            table = table.append_column(c, meta.column(c))
    return table
