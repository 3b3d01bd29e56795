"""Images into a workspace (the steps behind :meth:`embedscope.scope.Scope.ingest_images`, ``has_images``,
``image_files`` and ``thumbnails``).

A folder (recursive) or a table of image paths is listed (:mod:`embedscope.io.imagefiles`), then its files are read
in batches of :data:`BATCH_FILES` on :data:`WORKERS` threads (Pillow decodes without the GIL; results keep the
listing's order), each batch's thumbnails streamed into one Lance commit of the ``images`` table
(:mod:`embedscope.store.images`), so memory holds one batch, not the folder. The items (``id``, ``image``,
metadata) are upserted by id as text ingest does (:meth:`embedscope.store.workspace.Workspace.upsert_items`),
and both tables are recorded by one manifest write: a failed or killed run leaves the workspace as it was.

A rerun does not decode unchanged files: a file whose path, size and modification time match its stored row is
not even read; a file whose bytes hash to the item's stored sha256 keeps its stored thumbnail.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import InputError
from ..io.imagefiles import (
    FileKey,
    ImageListing,
    ImageSource,
    LoadedImage,
    Skipped,
    file_key,
    list_folder,
    load_image,
    read_image_table,
)
from ..io.images import IMAGE_SUFFIXES
from ..results import ImageIngestReport, Progress
from ..store import images as store_images
from ..store.tables import ITEMS
from .base import ScopeLike

#: Files read per batch (the peak holds one batch of thumbnails and at most :data:`WORKERS` decoded images).
BATCH_FILES = 64
#: Threads decoding at once.
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: The progress stage of an image ingest.
STAGE = "ingest images"


def ingest_images(scope: ScopeLike, source: str | Path, *, image_column: str | None = None,
                  id_column: str | None = None, text_column: str | None = None, image_root: str | Path | None = None,
                  strict: bool = False, progress: Progress | None = None) -> ImageIngestReport:
    """Add or update image items from a folder or a table of image paths.

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    source
        A folder (recursive; ids are the files' relative POSIX paths; metadata ``folder``, ``width``,
        ``height``), or a table file whose ``image_column`` holds paths relative to the table's folder.
    image_column, id_column, text_column
        The table's image path column (required for a table), id column (default: ``id``, else the path) and
        caption column (stored as ``text``). Not for a folder.
    image_root
        The folder a table's image paths are relative to (default: the table's folder); paths may not leave it.
    strict
        Stop at the first file that cannot be used (an ``InputError`` naming it; nothing stored). Default: skip
        it, and list it in the report.
    progress
        Called with ``("ingest images", done, total)`` after each batch.

    Returns
    -------
    ImageIngestReport

    Raises
    ------
    InputError
        A bad table, no image files, no image that could be used, or (``strict``) the first bad file; the
        workspace is left as it was.
    """
    listing = list_images(source, image_column=image_column, id_column=id_column, text_column=text_column,
                          image_root=image_root)
    if strict and listing.skipped:
        raise InputError(listing.skipped[0].message)
    if not listing.sources:
        raise no_images(listing, listing.skipped)
    with scope.store.writing():
        try:
            return _ingest(scope, listing, strict, progress)
        except BaseException:
            scope.store.reload()  # the images record waits in memory until the items are stored: drop it
            raise


def list_images(source: str | Path, *, image_column: str | None = None, id_column: str | None = None,
                text_column: str | None = None, image_root: str | Path | None = None) -> ImageListing:
    """The listing of a folder (:func:`embedscope.io.imagefiles.list_folder`) or of a table of image paths
    (:func:`embedscope.io.imagefiles.read_image_table`)."""
    p = Path(source)
    if p.is_dir():
        if image_column or id_column or text_column or image_root:
            raise InputError("--image, --id, --text and --image-root are for a table of image paths; a folder's "
                             "ids are its files' paths", file=p)
        return list_folder(p)
    if not p.exists():
        raise InputError("file or folder not found", file=p)
    if image_column is None:
        raise InputError("a table of images needs --image COLUMN, the column of image paths (relative to the "
                         "table's folder); or give a folder of images", file=p)
    return read_image_table(p, image_column, id=id_column, text=text_column, root=image_root)


def skip_summary(skipped: list[dict[str, str]] | list[Skipped]) -> str:
    """``"2 corrupt, 1 empty"``: the skipped files counted by reason (most first)."""
    reasons = Counter(s["reason"] if isinstance(s, dict) else s.reason for s in skipped)
    return ", ".join(f"{n} {r}" for r, n in reasons.most_common())


def no_images(listing: ImageListing, skipped: list[Skipped]) -> InputError:
    """The one-line error of a listing from which no image could be ingested."""
    if skipped:
        return InputError(f"no image could be ingested: {len(skipped)} of {len(listing.sources) + len(listing.skipped)}"
                          f" files skipped ({skip_summary(skipped)}), the first: {skipped[0].message}",
                          file=listing.source)
    if listing.kind == "table":
        return InputError("the table lists no images", file=listing.source)
    other = f" ({listing.ignored} other files ignored)" if listing.ignored else ""
    return InputError(f"no image files ({', '.join(s.lstrip('.') for s in IMAGE_SUFFIXES)}) in this folder or "
                      f"below{other}; give a folder of images", file=listing.source)


def _name(listing: ImageListing, src: ImageSource) -> str:
    """A file as messages name it: the folder or table's folder as given, joined with the relative path."""
    base = Path(listing.source) if listing.kind == "folder" else Path(listing.source).parent
    return str(base / src.image)


class _Run:
    """What one ingest gathers while its batches stream into the images table."""

    def __init__(self, listing: ImageListing, stored: store_images.StoredImages | None) -> None:
        self.listing, self.stored = listing, stored
        self.table_ids: list[str] = []
        self.table_sha: list[str] = []
        self.ok: list[ImageSource] = []
        self.sizes: list[tuple[int, int]] = []
        self.skipped: list[Skipped] = list(listing.skipped)
        self.decoded = self.reused = 0

    def stored_row(self, src: ImageSource) -> int | None:
        return None if self.stored is None else self.stored.pos.get(src.id)

    def unchanged(self, src: ImageSource, key: FileKey | None) -> bool:
        """Whether ``src`` is the file its stored row was made from (same path, size, modification time)."""
        row = self.stored_row(src)
        if row is None or key is None or self.stored is None:
            return False
        m = self.stored.meta
        return bool(m.column("path")[row].as_py() == str(src.path) and m.column("size")[row].as_py() == key.size
                    and m.column("mtime_ns")[row].as_py() == key.mtime_ns)

    def keep(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        self.table_ids += batch.column("id").to_pylist()
        self.table_sha += batch.column("sha256").to_pylist()
        return batch


def _ingest(scope: ScopeLike, listing: ImageListing, strict: bool, progress: Progress | None
            ) -> ImageIngestReport:
    store = scope.store
    run = _Run(listing, store_images.stored_images(store))
    sources = listing.sources
    total = len(sources)
    if progress:
        progress(STAGE, 0, total)
    keys = [file_key(s.path) for s in sources]
    same = [run.unchanged(s, k) for s, k in zip(sources, keys, strict=True)]
    changed, checked = _precheck(run, same, strict)
    if not changed and run.stored is not None:  # nothing new: the stored table stands, not rewritten
        m = run.stored.meta
        for i, s in enumerate(sources):
            got = checked.get(i)
            if isinstance(got, Skipped):
                run.skipped.append(got)
                continue
            row = run.stored.pos[s.id]
            run.ok.append(s)
            run.sizes.append((m.column("width")[row].as_py(), m.column("height")[row].as_py()))
            run.reused += 1
        if not run.ok:
            raise no_images(listing, run.skipped)
        if progress:
            progress(STAGE, total, total)
        rec = store.require(store_images.IMAGES)
        version = None
    else:
        version = store_images.commit_images(store, _batches(scope, run, same, checked, strict, progress))
        rec = store_images.images_record(listing.source, pa.array(run.table_ids, pa.string()),
                                         pa.array(run.table_sha, pa.string()))
        store.record_version(rec, version, len(run.table_ids), save=False)
    up = store.upsert_items(_items(run), listing.source)
    if version is not None:
        store.record_version(rec, version, len(run.table_ids))  # saved with the items (if they changed), or now
    return ImageIngestReport(
        listing.source, up.added, up.updated, up.unchanged, up.rows, text_column=listing.text_column,
        id_column=listing.id_column, kind=listing.kind, image_column=listing.image_column,
        files=total + len(listing.skipped), decoded=run.decoded, reused=run.reused,
        skipped=[s.to_json() for s in run.skipped], ignored=listing.ignored)


def _precheck(run: _Run, same: list[bool], strict: bool) -> tuple[bool, dict[int, LoadedImage | Skipped]]:
    """Whether the run changes the images table (stops at the first file that does: new, other bytes, moved), and
    what the files read so far gave (bad files, the same bytes, the first change: not read again)."""
    got: dict[int, LoadedImage | Skipped] = {}
    if run.stored is None:
        return True, got
    for i, src in enumerate(run.listing.sources):
        if same[i]:
            continue
        row = run.stored_row(src)
        known = run.stored.meta.column("sha256")[row].as_py() if row is not None else None
        res = got[i] = load_image(src.path, _name(run.listing, src), known_sha256=known)
        if isinstance(res, Skipped):
            if strict:
                raise InputError(res.message)
            if row is not None:
                return True, got
        elif res.thumb is not None or row is None or run.stored.meta.column("path")[row].as_py() != str(src.path):
            return True, got
    return False, got


def _batches(scope: ScopeLike, run: _Run, same: list[bool], checked: dict[int, LoadedImage | Skipped],
             strict: bool, progress: Progress | None) -> Any:
    """The new images table, a batch at a time: stored rows of other ids, then this run's rows in listing order
    (raises before the commit when a file is bad and ``strict``, or when no image could be used)."""
    store = scope.store
    sources = run.listing.sources
    for batch in store_images.other_rows(store, {s.id for s in sources}):
        yield run.keep(batch)
    stored_sha = run.stored.meta.column("sha256") if run.stored is not None else None

    def load(i: int) -> LoadedImage | Skipped:
        row = run.stored_row(sources[i])
        known = stored_sha[row].as_py() if row is not None and stored_sha is not None else None
        return load_image(sources[i].path, _name(run.listing, sources[i]), known_sha256=known)

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="embedscope-images") as pool:
        for start in range(0, len(sources), BATCH_FILES):
            idx = list(range(start, min(start + BATCH_FILES, len(sources))))
            todo = [i for i in idx if not same[i] and i not in checked]
            loaded: dict[int, LoadedImage | Skipped] = dict(zip(todo, pool.map(load, todo), strict=True))
            loaded.update((i, checked[i]) for i in idx if i in checked)
            rows: list[dict[str, Any]] = []
            from_store: list[tuple[int, int]] = []  # (index in rows, stored row) whose thumbnail is reused
            for i in idx:
                src, got = sources[i], loaded.get(i)
                if isinstance(got, Skipped):
                    if strict:
                        raise InputError(got.message)
                    run.skipped.append(got)
                    row = run.stored_row(src)
                    if row is not None:  # the item keeps the image it had
                        from_store.append((len(rows), row))
                        rows.append(_stored_meta(run, row))
                    continue
                row = run.stored_row(src)
                if got is None or got.thumb is None:  # unchanged file, or the same bytes: no decoding
                    assert row is not None
                    meta = _stored_meta(run, row)
                    if got is not None:
                        meta.update(path=str(src.path), size=got.key.size, mtime_ns=got.key.mtime_ns)
                    from_store.append((len(rows), row))
                    rows.append(meta)
                    run.reused += 1
                else:
                    rows.append({"id": src.id, "path": str(src.path), "sha256": got.sha256, "width": got.width,
                                 "height": got.height, "thumb": got.thumb, "thumb_width": got.thumb_width,
                                 "thumb_height": got.thumb_height, "size": got.key.size,
                                 "mtime_ns": got.key.mtime_ns})
                    run.decoded += 1
                run.ok.append(src)
                run.sizes.append((rows[-1]["width"], rows[-1]["height"]))
            for (j, _), thumb in zip(from_store, store_images.thumbs_at(store, [r for _, r in from_store]),
                                     strict=True):
                rows[j]["thumb"] = thumb
            if progress:
                progress(STAGE, idx[-1] + 1, len(sources))
            if rows:
                yield run.keep(pa.RecordBatch.from_pylist(rows, schema=store_images.SCHEMA))
    if not run.ok:
        raise no_images(run.listing, run.skipped)


def _stored_meta(run: _Run, row: int) -> dict[str, Any]:
    assert run.stored is not None
    return {c: run.stored.meta.column(c)[row].as_py() for c in store_images.META_COLUMNS}


def _items(run: _Run) -> pa.Table:
    """The items of the images ingested: ``id``, ``image``, (``text``), metadata, ``folder`` or the table's
    columns, ``width``, ``height``."""
    ok = run.ok
    widths = pa.array([w for w, _ in run.sizes], pa.int32())
    heights = pa.array([h for _, h in run.sizes], pa.int32())
    images = pa.array([s.image for s in ok], pa.string())
    meta = run.listing.metadata
    if meta is None:
        return pa.table({"id": pa.array([s.id for s in ok], pa.string()), "image": images,
                         "folder": pa.array([s.folder or "" for s in ok], pa.string()),
                         "width": widths, "height": heights})
    t = meta.take(pa.array([s.row for s in ok], pa.int64()))
    t = t.drop_columns(["image"]).append_column("image", images) if "image" in t.column_names else \
        t.append_column("image", images)
    for name, col in (("width", widths), ("height", heights)):
        if name not in t.column_names:  # the table's own columns of that name win
            t = t.append_column(name, col)
    return t


# ------------------------------------------------------------------------------------------------- reading
def has_images(scope: ScopeLike) -> bool:
    """Whether the workspace holds images (an ``images`` table)."""
    return store_images.has_images(scope.store)


def image_files(scope: ScopeLike) -> tuple[list[str], list[str], list[str]]:
    """The items that have an image, in item order: ids, absolute source paths, sha256 content hashes."""
    stored = store_images.stored_images(scope.store)
    if stored is None or not scope.has_items():
        return [], [], []
    item_ids = scope.store.read_columns(ITEMS, ["id"]).column("id").to_pylist()
    rows = [stored.pos[i] for i in item_ids if i in stored.pos]
    sub = stored.meta.take(pa.array(rows, pa.int64()))
    return (sub.column("id").to_pylist(), sub.column("path").to_pylist(), sub.column("sha256").to_pylist())


def thumbnails(scope: ScopeLike, ids: list[str]) -> dict[str, bytes]:
    """WebP thumbnails of ``ids`` (those that have one)."""
    return store_images.thumbnails(scope.store, list(ids))
