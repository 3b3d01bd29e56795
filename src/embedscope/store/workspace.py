"""A workspace's storage: one directory with a LanceDB database (``db/``), the ``scope.json`` manifest, the write
lock (``.lock``), fitted models (``models/``) and staged work (``staging/``).

:class:`Workspace` is the public API the rest of embedscope stores and reads through: tables are written as one
Lance commit each and recorded in the manifest under the write lock (:meth:`Workspace.writing`), and read back at
the version the manifest records, so a process killed between a commit and the manifest update leaves the
previous, consistent state. Results derived from other tables record their inputs' fingerprints;
:meth:`Workspace.is_stale` says when an input changed since.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Self, TypeVar

import numpy as np
import pyarrow as pa

from ..errors import InputError, ManifestError, WorkspaceError
from ..io.files import storage_error, sweep_temporaries
from ..io.modelfiles import save_state
from . import lock
from .cache import LanceCache
from .items import items_fingerprint, items_fingerprint_batches, merge_items
from .manifest import Manifest, Record, fingerprint_arrays, library_versions, now
from .tables import ITEMS, is_table_key, vectors_table

T = TypeVar("T")

#: What a workspace folder holds at its top; none of them may be a symbolic link that leads out of it.
_TOP = ("scope.json", ".lock", "db", "models", "staging")


class SpaceArrays(NamedTuple):
    """A space's points, as :meth:`Workspace.arrays` reads them."""

    #: Item ids in point order, length ``n``.
    ids: list[str]
    #: float32 vectors, shape ``(n, d)``, read-only.
    x: np.ndarray
    #: id -> row.
    pos: dict[str, int]


class Upserted(NamedTuple):
    """What :meth:`Workspace.upsert_items` did: counts of the new rows, and the items' size after."""

    added: int
    updated: int
    unchanged: int
    rows: int


class _Lance:
    """The LanceDB connection (the one place that holds it); a :class:`~embedscope.store.cache.TableHost`."""

    def __init__(self, path: Path) -> None:
        import lancedb

        self.db = lancedb.connect(str(path))

    def table_names(self) -> list[str]:
        res = self.db.list_tables()
        return list(getattr(res, "tables", res))

    def open_table(self, name: str) -> Any:
        return self.db.open_table(name)

    def create_table(self, name: str, data: pa.Table | pa.RecordBatchReader) -> Any:
        return self.db.create_table(name, data=data)

    def drop_table(self, name: str) -> None:
        self.db.drop_table(name)


def _check_contained(root: Path) -> None:
    """Refuse a workspace in which a symbolic link (``db``, ``models``, ``staging``, ``scope.json``, ``.lock``,
    a table folder in ``db/`` or a folder in ``staging/``) leads outside the workspace folder: a workspace from
    elsewhere could otherwise make embedscope read, write or overwrite files elsewhere on this machine (a table
    elsewhere gets the new version, the lock file is created or opened there)."""
    if not root.is_dir():
        return
    top = root.resolve()
    entries = [root / name for name in _TOP]
    for folder in ("db", "staging"):  # table folders; a step's staged shards (emptied with rmtree)
        if (root / folder).is_dir() and not (root / folder).is_symlink():
            entries += sorted((root / folder).iterdir())
    for entry in entries:
        if not entry.is_symlink():
            continue
        try:
            target = entry.resolve()
            inside = target.is_relative_to(top)
        except (OSError, RuntimeError):  # a symlink loop
            target, inside = entry, False
        if not inside:
            raise WorkspaceError(f"{entry} is a symbolic link to {target}, outside the workspace; a workspace keeps "
                                 "its files inside its folder: replace the link by a copy of what it points to, "
                                 "or do not open this workspace")


class Workspace:
    """The storage of one workspace directory. Open one with :meth:`open` or :meth:`create`.

    Parameters
    ----------
    path
        The workspace directory (it must hold a ``scope.json``).

    Raises
    ------
    WorkspaceError
        No manifest, or a symbolic link that leads out of the directory.
    ManifestError
        The manifest is damaged or names a table the database does not hold.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_contained(self.path)
        self._manifest = Manifest.load(self.path)
        self._lance = _Lance(self.path / "db")
        if self._manifest.records:
            names = set(self.table_names())
            for key, rec in self._manifest.records.items():
                if not is_table_key(key):
                    raise ManifestError(f"names table {key!r}, which is not a name embedscope gives a table (each "
                                        "part letters, digits, '-', '.', '_', at most 64 characters); restore the "
                                        "manifest from a backup, or delete the workspace and ingest again",
                                        file=self.path / "scope.json", column=f"records.{key}")
                if rec.table not in names:
                    raise ManifestError(f"the manifest names table {rec.table!r}, which the database does not hold; "
                                        "restore the manifest from a backup, or delete the workspace and ingest "
                                        "again", file=self.path / "scope.json", column=f"records.{key}")
        self._memo: dict[tuple[str, Any], Any] = {}

    # ---------------------------------------------------------------------------------------- open
    @classmethod
    def create(cls, path: str | Path, *, exist_ok: bool = False) -> Self:
        """Create an empty workspace at ``path`` (or open it if it exists and ``exist_ok``).

        Built beside its place and renamed into it, so a killed create leaves no half-made workspace; the
        directory is private to its owner (mode 0700): it holds the user's texts.
        """
        p = Path(path)
        if (p / "scope.json").exists():
            if exist_ok:
                return cls(p)
            raise WorkspaceError(f"{p} already exists")
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise WorkspaceError(f"{p} exists and is not an empty directory or an embedscope workspace")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.creating-", dir=p.parent))
        except OSError as exc:  # a read-only or full disk: say where and what to do
            raise storage_error(exc, p) or exc from None
        try:
            (tmp / "db").mkdir()
            Manifest(created=now()).save(tmp)
            os.rename(tmp, p)  # replaces an empty directory at p, if there is one
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError) and (p / "scope.json").exists():  # another process created it first
                if exist_ok:
                    return cls(p)
                raise WorkspaceError(f"{p} already exists") from None
            err = storage_error(exc, p)
            if err is not None:
                raise err from None
            raise
        return cls(p)

    @classmethod
    def open(cls, path: str | Path) -> Self:
        """Open an existing workspace."""
        p = Path(path)
        if not p.is_dir():
            raise InputError(f"no workspace at {p} (create one with: embedscope ingest {p} FILE)")
        return cls(p)

    def fork(self) -> Self:
        """A second handle on this workspace: its own manifest and connection, starting with what this one has
        already read and memoised (shared, not copied: never changed in place). See it after :meth:`reload`."""
        other = type(self)(self.path)
        other._memo = dict(self._memo)
        return other

    def reload(self) -> None:
        """Re-read the manifest (after another process or handle wrote to the workspace)."""
        self._manifest = Manifest.load(self.path)

    @property
    def manifest(self) -> Manifest:
        """The manifest as last read (do not change it: write through :meth:`write` and :meth:`drop`)."""
        return self._manifest

    # -------------------------------------------------------------------------------------- records
    def record(self, table: str) -> Record | None:
        """The manifest's record of ``table``, or ``None`` if it records none."""
        return self._manifest.records.get(table)

    def require(self, table: str) -> Record:
        """The manifest's record of ``table``.

        Raises
        ------
        WorkspaceError
            The manifest records no such table.
        """
        rec = self._manifest.records.get(table)
        if rec is None:
            raise WorkspaceError(f"{self.path}: no table {table!r}")
        return rec

    def records(self, kind: str | None = None) -> list[Record]:
        """Every record (of ``kind``, e.g. ``"space"``, ``"layout"``), in the manifest's order."""
        return [r for r in self._manifest.records.values() if kind is None or r.kind == kind]

    def is_stale(self, record: Record) -> bool:
        """Whether an input of ``record`` is gone or changed since it was made (it is recomputed on next use)."""
        for table, fp in record.inputs.items():
            cur = self._manifest.records.get(table)
            if cur is None or cur.fingerprint != fp:
                return True
        return False

    def space_is_stale(self, record: Record) -> bool:
        """Whether an embedded space's inputs changed since it was embedded: its items (a text added, edited or
        removed) and, for an image space, the ``images`` table (a file's content changed)."""
        if record.params.get("source") != "embedded":
            return False
        items = self._manifest.records.get(ITEMS)
        return items is None or record.inputs.get(ITEMS) != items.fingerprint or self.is_stale(record)

    # -------------------------------------------------------------------------------------- writing
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the workspace's write lock, and re-read the manifest so concurrent writers do not clobber.

        A read-only workspace or a full disk is raised as a :class:`~embedscope.errors.StorageError` naming the
        workspace and what to do; on any failure the temporaries the write left are removed."""
        try:
            fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # never through a link
        except OSError as exc:
            raise storage_error(exc, self.path, workspace=self.path) or exc from None
        try:
            lock.acquire(fd, self.path)  # says which process it waits for, if another holds the lock
        except BaseException:
            os.close(fd)
            raise
        try:
            self._manifest = Manifest.load(self.path)
            try:
                yield
            except Exception as exc:
                sweep_temporaries(self.path)
                err = storage_error(exc, self.path, workspace=self.path)
                if err is not None:
                    raise err from exc
                raise
            except BaseException:
                sweep_temporaries(self.path)
                raise
        finally:
            lock.release(fd)
            os.close(fd)

    def write(self, record: Record, table: pa.Table) -> None:
        """Commit ``table`` as ``record.table`` and record it in the manifest (inside :meth:`writing`)."""
        self.record_version(record, self.commit(record.table, table), table.num_rows)

    def commit(self, name: str, data: pa.Table | pa.RecordBatchReader) -> int:
        """Write ``data`` as the new content of table ``name``; returns the new table version, not yet recorded.

        One Lance commit; a reader is streamed, and an error raised while reading it commits nothing and is
        raised as itself, not as the Arrow error that carries it out of Lance.
        """
        raised: list[BaseException] = []
        if isinstance(data, pa.RecordBatchReader):
            source = data

            def relay() -> Iterator[pa.RecordBatch]:
                try:
                    yield from source
                except BaseException as exc:
                    raised.append(exc)
                    raise

            data = pa.RecordBatchReader.from_batches(source.schema, relay())
        try:
            return self._commit_data(name, data)
        except Exception:
            if raised:
                raise raised[0] from None
            raise

    def _commit_data(self, name: str, data: pa.Table | pa.RecordBatchReader) -> int:
        tbl = None
        if name in self.table_names():
            try:
                tbl = self._lance.open_table(name)
            except Exception:
                self._lance.drop_table(name)
        if tbl is None:
            tbl = self._lance.create_table(name, data)
        else:
            tbl.add(data, mode="overwrite")
        return int(tbl.version)

    def record_version(self, record: Record, version: int, rows: int, *, save: bool = True) -> None:
        """Record a committed table version in the manifest and save it (inside :meth:`writing`). With
        ``save=False`` the record waits for the next save (two tables recorded by one atomic manifest write)."""
        record.table_version = version
        record.rows = rows
        record.created = now()
        record.versions = library_versions()
        self._manifest.records[record.table] = record
        if save:
            self._manifest.save(self.path)

    def drop(self, name: str) -> None:
        """Forget table ``name`` in the manifest and remove it (inside :meth:`writing`)."""
        self._manifest.records.pop(name, None)
        self._manifest.save(self.path)
        if name in self.table_names():
            self._lance.drop_table(name)

    def table_names(self) -> list[str]:
        """The names of the database's tables (recorded or not: an interrupted write leaves an orphan)."""
        return self._lance.table_names()

    # -------------------------------------------------------------------------------------- reading
    def open_table(self, name: str, version: int | None = None) -> Any:
        """The LanceDB table ``name`` checked out at ``version`` (default: the version the manifest records)."""
        if version is None:
            version = self.require(name).table_version
        try:
            tbl = self._lance.open_table(name)
        except Exception as exc:
            raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None
        if version is not None and tbl.version != version:
            try:
                tbl.checkout(version)
            except ValueError as exc:
                raise ManifestError(
                    f"the manifest records version {version} of table {name!r}, which the database does not hold "
                    f"({exc}); restore the manifest from a backup, or delete the workspace and ingest again",
                    file=self.path / "scope.json", column=f"records.{name}.table_version",
                ) from None
        return tbl

    def read(self, name: str) -> pa.Table:
        """The table at its recorded version (kept until the table's version changes)."""
        rec = self.require(name)
        return self.memo(name, rec.table_version, lambda: self._scan(name, None))

    def read_columns(self, name: str, columns: list[str]) -> pa.Table:
        """Some columns of a table at its recorded version, in row order (not kept; the whole table is read only
        if :meth:`read` already holds it)."""
        rec = self.require(name)
        hit = self._memo.get((name, rec.table_version))
        if hit is not None:
            return hit.select(columns)  # type: ignore[no-any-return]
        return self._scan(name, columns)

    def _scan(self, name: str, columns: list[str] | None) -> pa.Table:
        tbl = self.open_table(name)
        try:
            if columns is None:
                return tbl.to_arrow()  # type: ignore[no-any-return]
            try:  # pylance reads only the wanted columns' pages (0.4 s for 1M ids against 1.9 s via a query)
                return tbl.to_lance().to_table(columns=columns)  # type: ignore[no-any-return]
            except ImportError:
                return tbl.search().select(columns).limit(None).to_arrow()  # type: ignore[no-any-return]
        except Exception as exc:
            raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None

    def memo(self, key: str, version: Any, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``key`` until ``version`` changes (one value per key: a new version
        replaces the old one). Values are shared with :meth:`fork`\\ ed handles: never change one in place."""
        full = (key, version)
        if full in self._memo:
            return self._memo[full]  # type: ignore[no-any-return]
        value = compute()
        self._memo = {k: v for k, v in self._memo.items() if k[0] != key}
        self._memo[full] = value
        return value

    def arrays(self, space: str) -> SpaceArrays:
        """The ids, vectors and id -> row map of ``space`` (an existing space), read once per table version."""
        name = vectors_table(space)
        rec = self.require(name)

        def load() -> SpaceArrays:
            from ..io.streams import read_column, read_matrix

            # one float32 array filled page by page (the Arrow table is not kept: it was a second copy)
            tbl = self.open_table(name)
            try:
                x = read_matrix(tbl, tbl.count_rows(), int(tbl.schema.field("vector").type.list_size))
                ids = read_column(tbl, "id").to_pylist()
            except Exception as exc:
                raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None
            return SpaceArrays(ids, x, {s: i for i, s in enumerate(ids)})

        return self.memo(name + "#arrays", rec.table_version, load)

    def point_ids(self, space: str) -> list[str]:
        """Ids of ``space``'s points in point order (read without the vectors unless :meth:`arrays` holds them)."""
        name = vectors_table(space)
        version = self.require(name).table_version
        arrays = self._memo.get((name + "#arrays", version))
        if arrays is not None:
            return list(arrays.ids)
        ids = self.memo(name + "#ids", version,
                        lambda: self.read_columns(name, ["id"]).column("id").to_pylist())
        return list(ids)

    # ---------------------------------------------------------------------------------------- items
    def has_items(self) -> bool:
        """Whether the workspace holds items."""
        return ITEMS in self._manifest.records

    def items(self) -> pa.Table:
        """All items: ``id``, ``text`` (if any), metadata columns."""
        if not self.has_items():
            raise WorkspaceError(f"{self.path} holds no items yet: embedscope ingest {self.path} FILE")
        return self.read(ITEMS)

    def item_columns(self) -> list[str]:
        """Names of the items' columns (``id``, ``text`` if any, metadata), without reading the table."""
        if not self.has_items():
            return []
        return list(self.open_table(ITEMS).schema.names)

    def items_for(self, space: str, columns: Sequence[str] | None = None) -> pa.Table:
        """Items aligned to ``space``'s point order; ``columns``: only ``id`` and these (read without the others).

        Raises
        ------
        WorkspaceError
            No items, or a point without an item.
        """
        rec = self.require(vectors_table(space))
        items_rec = self.record(ITEMS)
        wanted = None if columns is None else tuple(columns)

        def align() -> pa.Table:
            ids = self.point_ids(space)
            if wanted is None:
                items = self.items()
            else:
                if not self.has_items():
                    raise WorkspaceError(f"{self.path} holds no items yet: embedscope ingest {self.path} FILE")
                items = self.read_columns(ITEMS, ["id", *[c for c in wanted if c != "id"]])
            have = items.column("id").combine_chunks()
            want = pa.array(ids, have.type)
            if have.equals(want):  # the usual case: items stored in point order (0.02 s vs 1.7 s at 1M)
                return items
            import pyarrow.compute as pc

            take = pc.index_in(want, value_set=have)
            if take.null_count:
                raise WorkspaceError(f"{take.null_count} point(s) of space {space!r} have no item; "
                                     f"re-ingest the items or the vectors")
            return items.take(take)

        return self.memo(f"items_for#{space}#{wanted}",
                         (rec.table_version, items_rec.table_version if items_rec else None), align)

    def upsert_items(self, new: pa.Table, source: str) -> Upserted:
        """Add or update items by id (inside :meth:`writing`): new ids are appended, known ids get the new
        values (columns absent from ``new`` keep theirs); nothing is written when nothing changes."""
        if not self.has_items():
            merged, added, updated, unchanged = new, new.num_rows, 0, 0
        else:
            old = self.read(ITEMS)
            merged, added, updated, unchanged = merge_items(old, new)
            if added == 0 and updated == 0 and set(new.column_names) <= set(old.column_names):
                return Upserted(0, 0, unchanged, old.num_rows)
        self.write(Record(table=ITEMS, kind="items", params={"source": source},
                          fingerprint=items_fingerprint(merged)), merged)
        return Upserted(added, updated, unchanged, merged.num_rows)

    def create_items(self, reader: pa.RecordBatchReader, source: str) -> int:
        """Stream the first items into a workspace without items (inside :meth:`writing`; one Lance commit, and
        an error raised by ``reader`` commits nothing); returns the number of rows stored."""
        from ..io.streams import column_batches, read_column

        counted = {"rows": 0}

        def batches() -> Iterator[pa.RecordBatch]:
            for b in reader:
                counted["rows"] += b.num_rows
                yield b

        version = self.commit(ITEMS, pa.RecordBatchReader.from_batches(reader.schema, batches()))
        tbl = self.open_table(ITEMS, version)
        # the fingerprint of the stored (id, text), read back a batch of texts at a time
        ids = read_column(tbl, "id").combine_chunks()
        has_text = "text" in reader.schema.names
        fp = items_fingerprint_batches(ids, lambda: column_batches(tbl, "text")) if has_text else None
        if fp is None:
            cols = {c: read_column(tbl, c) for c in ("id", "text") if c in reader.schema.names}
            fp = items_fingerprint(pa.table(cols))
        self.record_version(Record(table=ITEMS, kind="items", params={"source": source}, fingerprint=fp),
                            version, counted["rows"])
        return counted["rows"]

    # --------------------------------------------------------------------------------------- spaces
    def write_space(self, space: str, ids: Sequence[str], x: np.ndarray, params: dict[str, Any],
                    inputs: dict[str, str] | None = None, metrics: dict[str, Any] | None = None) -> None:
        """Store ``x`` (shape ``(n, d)``) with ``ids`` (length ``n``) as ``space``'s vectors and record the space
        (kind ``space``, ``params`` plus ``dim``, fingerprint of ids and vectors, ``metrics`` if given; inside
        :meth:`writing`)."""
        from ..io.streams import BATCH_ROWS

        x = np.ascontiguousarray(x, dtype=np.float32)
        vec = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])  # zero-copy views of x
        table = pa.table({"id": pa.array(list(ids), pa.string()), "vector": vec})
        rec = Record(table=vectors_table(space), kind="space", params={**params, "dim": int(x.shape[1])},
                     inputs=inputs or {}, fingerprint=fingerprint_arrays(table.column("id"), x), metrics=metrics or {})
        # written in slices, so Lance writes bounded pages (read back a page at a time, see arrays)
        reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=BATCH_ROWS))
        self.record_version(rec, self.commit(rec.table, reader), table.num_rows)

    # ---------------------------------------------------------------------------------------- files
    def model_path(self, name: str) -> Path:
        """Where the model file ``name`` lives (``models/name``; check a recorded name with
        :func:`embedscope.io.modelfiles.recorded_file` before opening it)."""
        return self.path / "models" / name

    def staging_path(self, name: str) -> Path:
        """Where a step stages its partial work (``staging/name``; a rerun resumes from it)."""
        return self.path / "staging" / name

    def save_model(self, stem: str, kind: str, arrays: dict[str, np.ndarray], header: dict[str, Any]) -> str:
        """Write fitted state into ``models/`` as data (:func:`embedscope.io.modelfiles.save_state`: arrays and
        JSON, atomically; never a pickle); returns its file name. A pickle an earlier version wrote under the
        same name is removed (nothing records it any more)."""
        name = save_state(self.model_path(f"{stem}.npz"), kind, arrays, header)
        self.model_path(f"{stem}.pkl").unlink(missing_ok=True)
        return name

    def lance_cache(self, model_key: str) -> LanceCache:
        """The embedding cache of the embedder whose key is ``model_key`` (its table lives in this database)."""
        return LanceCache(self._lance, model_key)
