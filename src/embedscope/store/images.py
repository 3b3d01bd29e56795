"""The ``images`` table: one row per item that has an image (its source file, content hash, size and WebP thumbnail).

Columns: ``id`` string, ``path`` string (the source file's absolute resolved path at ingest time), ``sha256``
string (content hash of the file's bytes), ``width``, ``height`` int32 (pixels after EXIF rotation), ``thumb``
binary (WebP, longest side :data:`embedscope.io.images.THUMB_SIZE`), ``thumb_width``, ``thumb_height`` int32, and
``size``, ``mtime_ns`` int64 (the file as it was read: a rerun skips a file whose path, size and modification time
are unchanged, without reading it). Recorded in ``scope.json`` (kind ``images``; fingerprint: the (id, sha256)
pairs, so a space embedded from the images can record it as an input and go stale when an image changes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from .manifest import Record, fingerprint_arrays
from .tables import IMAGES
from .workspace import Workspace

#: The ``images`` table's schema.
SCHEMA = pa.schema([
    ("id", pa.string()), ("path", pa.string()), ("sha256", pa.string()),
    ("width", pa.int32()), ("height", pa.int32()),
    ("thumb", pa.binary()), ("thumb_width", pa.int32()), ("thumb_height", pa.int32()),
    ("size", pa.int64()), ("mtime_ns", pa.int64()),
])
#: Every column but the thumbnails: what a rerun compares against (small: about 150 bytes a row).
META_COLUMNS = [f.name for f in SCHEMA if f.name != "thumb"]


class StoredImages(NamedTuple):
    """The stored images' metadata (no thumbnails) and where each id's row is."""

    #: :data:`META_COLUMNS`, in table order.
    meta: pa.Table
    #: id -> row.
    pos: dict[str, int]


def has_images(store: Workspace) -> bool:
    """Whether the workspace records an ``images`` table."""
    return store.record(IMAGES) is not None


def stored_images(store: Workspace) -> StoredImages | None:
    """The recorded images' metadata (read once per table version), or ``None`` without an images table."""
    rec = store.record(IMAGES)
    if rec is None:
        return None

    def load() -> StoredImages:
        meta = store.read_columns(IMAGES, META_COLUMNS)
        return StoredImages(meta, {s: i for i, s in enumerate(meta.column("id").to_pylist())})

    return store.memo(IMAGES + "#meta", rec.table_version, load)


def thumbs_at(store: Workspace, rows: list[int]) -> list[bytes]:
    """The thumbnails of table rows ``rows`` (recorded version), in that order."""
    if not rows:
        return []
    ds = store.open_table(IMAGES).to_lance()
    got = ds.take(rows, columns=["thumb"]).column("thumb").to_pylist()
    return list(got)


def thumbnails(store: Workspace, ids: list[str]) -> dict[str, bytes]:
    """WebP bytes of the thumbnails of ``ids`` that have one (others are left out)."""
    stored = stored_images(store)
    if stored is None:
        return {}
    found = [(s, stored.pos[s]) for s in dict.fromkeys(ids) if s in stored.pos]
    return dict(zip([s for s, _ in found], thumbs_at(store, [r for _, r in found]), strict=True))


def other_rows(store: Workspace, keep_out: set[str], batch_rows: int = 1024) -> Iterator[pa.RecordBatch]:
    """The recorded rows whose id is not in ``keep_out``, a batch at a time (the thumbnails included)."""
    if store.record(IMAGES) is None:
        return
    ds = store.open_table(IMAGES).to_lance()
    drop = pa.array(sorted(keep_out), pa.string())
    for batch in ds.scanner(columns=SCHEMA.names, batch_size=batch_rows).to_batches():
        kept = batch.filter(pc.invert(pc.is_in(batch.column("id"), value_set=drop)))
        if kept.num_rows:
            yield kept.cast(SCHEMA) if kept.schema != SCHEMA else kept


def commit_images(store: Workspace, batches: Iterator[pa.RecordBatch]) -> int:
    """Write ``batches`` (:data:`SCHEMA`) as the new content of the images table (one Lance commit, not yet
    recorded; an error raised by ``batches`` commits nothing); returns the table version."""
    return store.commit(IMAGES, pa.RecordBatchReader.from_batches(SCHEMA, batches))


def images_record(source: str, ids: pa.Array, sha256: pa.Array) -> Record:
    """The manifest record of an images table holding ``ids`` with content hashes ``sha256`` (in table order)."""
    return Record(table=IMAGES, kind="images", params={"source": source}, fingerprint=fingerprint_arrays(ids, sha256))
