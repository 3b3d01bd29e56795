"""The core of a workspace (see :mod:`embedscope.workspace` for the tables and the manifest): storage,
items, spaces, embedding, neighbours and provenance. The analyses live in mixins (``_scope_analysis``,
``_scope_compress``, ``_scope_layouts``, ``_scope_translate``) that :class:`embedscope.workspace.Scope`
combines."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import pyarrow as pa

from . import wslock
from ._cache import LanceCache
from ._upsert import items_fingerprint, items_fingerprint_batches, merge_items
from .embedders import DryRun, Embedder, get_embedder
from .embedders.run import embed_texts
from .errors import InputError, ManifestError, WorkspaceError
from .io.modelfiles import is_legacy, load_state, recorded_file, save_state
from .manifest import Manifest, Record, fingerprint_arrays, library_versions, now
from .results import EmbedReport, IngestReport, Neighbors, SpaceInfo
from .search.exact import KNN, check_metric, knn_graph, search
from .storage import storage_error, sweep_temporaries

ITEMS = "items"
DEFAULT_K = 50
#: Above this many points, a single item's neighbours come from a scan instead of building the graph.
GRAPH_ON_DEMAND_MAX = 50_000
_SPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

Progress = Callable[[str, int, int], None]


def _recorded_backend(params: dict[str, Any]) -> str | None:
    """The backend that embedded a space of a local model (``torch`` for spaces recorded before backends
    existed), ``None`` for other models."""
    if str(params.get("model", "")).partition(":")[0] != "local":
        return None
    return str(params.get("backend") or "torch")


def _check_space(name: str) -> str:
    if not _SPACE_RE.match(name) or "__" in name:
        raise InputError(
            f"invalid space name {name!r}: use letters, digits, '-', '.', '_' (not '__'), at most 64 characters"
        )
    return name


#: What a workspace folder holds at its top; none of them may be a symbolic link that leads out of it.
_TOP = ("scope.json", ".lock", "db", "models", "staging")


def _check_contained(root: Path) -> None:
    """Refuse a workspace in which a symbolic link (``db``, ``models``, ``staging``, ``scope.json``, ``.lock``,
    a table folder in ``db/`` or a folder in ``staging/``) leads outside the workspace folder: a workspace from elsewhere could
    otherwise make embedscope read, write or overwrite files elsewhere on this machine (a table elsewhere gets
    the new version, the lock file is created or opened there)."""
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


def vectors_table(space: str) -> str:
    return f"vectors__{space}"


def neighbors_table(space: str) -> str:
    return f"neighbors__{space}"


def layout_table(space: str, method: str) -> str:
    return f"layout__{space}__{method}"


class ScopeCore:
    """The workspace's storage, items, spaces, embedding and neighbours; :class:`embedscope.workspace.Scope` adds
    the analyses (mixins in ``_scope_*.py``). Open one with :func:`embedscope.open` or :func:`embedscope.create`.

    Parameters
    ----------
    path
        The workspace directory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_contained(self.path)
        self.manifest = Manifest.load(self.path)
        import lancedb

        self._db = lancedb.connect(str(self.path / "db"))
        if self.manifest.records:
            names = set(self._table_names())
            for key, rec in self.manifest.records.items():
                if not all(_SPACE_RE.match(part) for part in key.split("__")):
                    raise ManifestError(f"names table {key!r}, which is not a name embedscope gives a table (each "
                                        "part letters, digits, '-', '.', '_', at most 64 characters); restore the "
                                        "manifest from a backup, or delete the workspace and ingest again",
                                        file=self.path / "scope.json", column=f"records.{key}")
                if rec.table not in names:
                    raise ManifestError(f"the manifest names table {rec.table!r}, which the database does not hold; "
                                        "restore the manifest from a backup, or delete the workspace and ingest "
                                        "again", file=self.path / "scope.json", column=f"records.{key}")
        self._cache: dict[tuple[str, int | None], Any] = {}
        self._embedders: dict[str, Embedder] = {}

    # ---------------------------------------------------------------------------------------- open
    @classmethod
    def create(cls, path: str | Path, *, exist_ok: bool = False) -> Self:
        """Create an empty workspace at ``path`` (or open it if it exists and ``exist_ok``)."""
        p = Path(path)
        if (p / "scope.json").exists():
            if exist_ok:
                return cls(p)
            raise WorkspaceError(f"{p} already exists")
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise WorkspaceError(f"{p} exists and is not an empty directory or an embedscope workspace")
        # Built beside its place and renamed into it, so a killed create leaves no half-made workspace (a
        # directory without a manifest, which a rerun would refuse); only a '.name.creating-*' folder at worst.
        # The directory is private to its owner (mode 0700, from mkdtemp): it holds the user's texts.
        import tempfile

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
        """A second handle on this workspace, for work on another thread while this one goes on answering (the
        server's heavy jobs): its own manifest and connection, starting with the tables this one has already read
        (shared, not copied: they are never changed in place). Its writes take the workspace's lock as every
        writer's do; this handle sees them after :meth:`reload`."""
        other = type(self)(self.path)
        other._cache = dict(self._cache)
        return other

    def __repr__(self) -> str:
        return f"Scope({str(self.path)!r}, spaces={self.spaces()})"

    # ------------------------------------------------------------------------------------- storage
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the workspace's write lock; reload the manifest so concurrent writers do not clobber.

        A read-only workspace or a full disk is raised as a :class:`~embedscope.errors.StorageError` naming the
        workspace and what to do; on any failure the temporaries the write left are removed."""
        try:
            fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # never through a link
        except OSError as exc:
            raise storage_error(exc, self.path, workspace=self.path) or exc from None
        try:
            wslock.acquire(fd, self.path)  # says which process it waits for, if another holds the lock
        except BaseException:
            os.close(fd)
            raise
        try:
            self.manifest = Manifest.load(self.path)
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
            wslock.release(fd)
            os.close(fd)

    def _write(self, record: Record, table: pa.Table) -> None:
        """Commit ``table`` as ``record.table`` and record it in the manifest (caller holds the lock)."""
        self._record(record, self._commit(record.table, table), table.num_rows)

    def _commit(self, name: str, data: pa.Table | pa.RecordBatchReader) -> int:
        """Write ``data`` as the new content of table ``name`` (one Lance commit; a reader is streamed, and an
        error raised while reading it commits nothing, and is raised as itself, not as the Arrow error that
        carries it out of Lance); returns the new table version. Not yet recorded."""
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
        if name in self._table_names():
            try:
                tbl = self._db.open_table(name)
            except Exception:
                self._db.drop_table(name)
        if tbl is None:
            tbl = self._db.create_table(name, data=data)
        else:
            tbl.add(data, mode="overwrite")
        return int(tbl.version)

    def _record(self, record: Record, version: int, rows: int) -> None:
        """Record a committed table version in the manifest and save it (caller holds the lock)."""
        name = record.table
        record.table_version = version
        record.rows = rows
        record.created = now()
        record.versions = library_versions()
        self.manifest.records[name] = record
        self.manifest.save(self.path)

    def _drop(self, name: str) -> None:
        self.manifest.records.pop(name, None)
        self.manifest.save(self.path)
        if name in self._table_names():
            self._db.drop_table(name)

    def _table_names(self) -> list[str]:
        res = self._db.list_tables()
        names = getattr(res, "tables", res)
        return list(names)

    def _read(self, name: str) -> pa.Table:
        """The table as recorded in the manifest (its recorded version)."""
        rec = self.manifest.records.get(name)
        if rec is None:
            raise WorkspaceError(f"{self.path}: no table {name!r}")
        key = (name, rec.table_version)
        hit = self._cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        data = self._scan(name, None)
        self._cache = {k: v for k, v in self._cache.items() if k[0] != name}
        self._cache[key] = data
        return data

    def _read_columns(self, name: str, columns: list[str]) -> pa.Table:
        """Some columns of a table at its recorded version, in row order (not cached; the whole table is
        read only if it is already cached)."""
        rec = self.manifest.records.get(name)
        if rec is None:
            raise WorkspaceError(f"{self.path}: no table {name!r}")
        hit = self._cache.get((name, rec.table_version))
        if hit is not None:
            return hit.select(columns)  # type: ignore[no-any-return]
        return self._scan(name, columns)

    def _scan(self, name: str, columns: list[str] | None) -> pa.Table:
        """Read a table (or some of its columns) at the version the manifest records."""
        tbl = self._open_version(name)
        try:
            if columns is None:
                return tbl.to_arrow()
            try:  # pylance reads only the wanted columns' pages (0.4 s for 1M ids against 1.9 s via a query)
                return tbl.to_lance().to_table(columns=columns)
            except ImportError:
                return tbl.search().select(columns).limit(None).to_arrow()
        except Exception as exc:
            raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None

    def reload(self) -> None:
        """Re-read the manifest (after another process wrote to the workspace)."""
        self.manifest = Manifest.load(self.path)

    # --------------------------------------------------------------------------------------- items
    def has_items(self) -> bool:
        return ITEMS in self.manifest.records

    def items(self) -> pa.Table:
        """All items: ``id``, ``text`` (if any), metadata columns."""
        if not self.has_items():
            raise WorkspaceError(f"{self.path} holds no items yet: embedscope ingest {self.path} FILE")
        return self._read(ITEMS)

    def ids(self) -> list[str]:
        """All item ids, in items order."""
        return self.items().column("id").to_pylist() if self.has_items() else []

    def ingest(self, source: str | Path | pd.DataFrame, *, text: str | None = None,
               id: str | None = None) -> IngestReport:
        """Add or update items from a file (CSV, TSV, Parquet, JSONL, Arrow) or a DataFrame.

        New ids are added; rows whose id exists replace the old values (columns absent from the new input
        keep their old values). Spaces embedded from changed texts become stale.

        Parameters
        ----------
        source
            File path or DataFrame.
        text, id
            Text and id columns (see :func:`embedscope.io.items.read_items`).
        """
        from .io.items_stream import open_items

        stream = open_items(source, text=text, id=id)
        with self._writing():
            return self._ingest_stream(stream)

    def _ingest_stream(self, stream: Any) -> IngestReport:
        """Store an :class:`embedscope.io.items_stream.ItemsStream` (caller holds the lock).

        Into a workspace without items the batches go straight into the items table (one Lance commit; a bad
        row raises before it commits, so nothing is stored); into one with items they are upserted by id in
        memory (:meth:`_upsert_items`)."""
        if self.has_items():
            rep = self._upsert_items(stream.read_all(), stream.source)
        else:
            from .io.streams import column_batches, read_column

            counted = {"rows": 0}

            def batches() -> Iterator[pa.RecordBatch]:
                for b in stream.batches():
                    counted["rows"] += b.num_rows
                    yield b

            version = self._commit(ITEMS, pa.RecordBatchReader.from_batches(stream.schema, batches()))
            tbl = self._db.open_table(ITEMS)
            tbl.checkout(version)
            # the fingerprint of the stored (id, text), read back a batch of texts at a time
            ids = read_column(tbl, "id").combine_chunks()
            fp = items_fingerprint_batches(ids, lambda: column_batches(tbl, "text")) \
                if "text" in stream.schema.names else None
            if fp is None:
                cols = {c: read_column(tbl, c) for c in ("id", "text") if c in stream.schema.names}
                fp = items_fingerprint(pa.table(cols))
            rec = Record(table=ITEMS, kind="items", params={"source": stream.source}, fingerprint=fp)
            self._record(rec, version, counted["rows"])
            rep = IngestReport(stream.source, counted["rows"], 0, 0, counted["rows"])
        rep.text_column, rep.id_column = stream.text_column, stream.id_column
        return rep

    def _upsert_items(self, new: pa.Table, source: str) -> IngestReport:
        if not self.has_items():
            merged, added, updated, unchanged = new, new.num_rows, 0, 0
        else:
            old = self._read(ITEMS)
            merged, added, updated, unchanged = merge_items(old, new)
            if added == 0 and updated == 0 and set(new.column_names) <= set(old.column_names):
                return IngestReport(source, 0, 0, unchanged, old.num_rows)
        rec = Record(table=ITEMS, kind="items", params={"source": source},
                     fingerprint=items_fingerprint(merged))
        self._write(rec, merged)
        return IngestReport(source, added, updated, unchanged, merged.num_rows)

    # --------------------------------------------------------------------------------------- spaces
    def spaces(self) -> list[str]:
        """Names of the stored spaces."""
        return sorted(r.table.removeprefix("vectors__") for r in self.manifest.records.values()
                      if r.kind == "space")

    def default_space(self) -> str:
        """The only space, or ``minilm`` if present, else the first; raises if there is none."""
        names = self.spaces()
        if not names:
            raise WorkspaceError(f"{self.path} has no embedding space yet: embedscope embed {self.path}")
        return "minilm" if "minilm" in names else names[0]

    def resolve_space(self, space: str | None) -> str:
        """``space`` if it exists; with ``None``, the only space (several spaces need a choice)."""
        names = self.spaces()
        if space is None:
            if len(names) > 1:
                raise InputError(f"this workspace has several spaces ({', '.join(names)}); choose one with --space")
            return self.default_space()
        if space not in names:
            raise InputError(f"no space {space!r} in {self.path}; spaces: {', '.join(names) or 'none'}")
        return space

    def space_info(self, space: str) -> SpaceInfo:
        """Kind, model, dimension, size and layouts of a space."""
        rec = self.manifest.records.get(vectors_table(self.resolve_space(space)))
        assert rec is not None
        layouts = sorted(r.params.get("method", "") for r in self.manifest.records.values()
                         if r.kind == "layout" and r.params.get("space") == space)
        return SpaceInfo(space, rec.params.get("source", "vectors"), rec.params.get("model"),
                         int(rec.params.get("dim", 0)), rec.rows, layouts, self._space_stale(rec))

    def _space_stale(self, rec: Record) -> bool:
        if rec.params.get("source") != "embedded":
            return False
        items = self.manifest.records.get(ITEMS)
        return items is None or rec.inputs.get(ITEMS) != items.fingerprint

    def point_ids(self, space: str | None = None) -> list[str]:
        """Ids of the space's points, in point order (read without the vectors unless they are loaded)."""
        name = vectors_table(self.resolve_space(space))
        version = self.manifest.records[name].table_version
        arrays = self._cache.get((name + "#arrays", version))
        if arrays is not None:
            return list(arrays[0])
        key = (name + "#ids", version)
        ids = self._cache.get(key)
        if ids is None:
            ids = self._read_columns(name, ["id"]).column("id").to_pylist()
            self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]}
            self._cache[key] = ids
        return list(ids)

    def vectors(self, space: str | None = None) -> tuple[list[str], np.ndarray]:
        """Ids (point order) and vectors of a space.

        Returns
        -------
        ids : list of str
            Length ``n``.
        vectors : numpy.ndarray
            float32, shape ``(n, d)``, read-only (zero-copy from Arrow).
        """
        ids, x, _ = self._space_arrays(self.resolve_space(space))
        return list(ids), x

    def _open_version(self, name: str) -> Any:
        """The LanceDB table ``name`` checked out at the version the manifest records."""
        rec = self.manifest.records[name]
        try:
            tbl = self._db.open_table(name)
        except Exception as exc:
            raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None
        if rec.table_version is not None and tbl.version != rec.table_version:
            try:
                tbl.checkout(rec.table_version)
            except ValueError as exc:
                raise ManifestError(
                    f"the manifest records version {rec.table_version} of table {name!r}, which the database "
                    f"does not hold ({exc}); restore the manifest from a backup, or delete the workspace and "
                    "ingest again", file=self.path / "scope.json", column=f"records.{name}.table_version",
                ) from None
        return tbl

    def _space_arrays(self, space: str) -> tuple[list[str], np.ndarray, dict[str, int]]:
        name = vectors_table(space)
        rec = self.manifest.records[name]
        key = (name + "#arrays", rec.table_version)
        hit = self._cache.get(key)
        if hit is None:
            from .io.streams import read_column, read_matrix

            # one float32 array filled page by page (the Arrow table is not kept: it was a second copy)
            tbl = self._open_version(name)
            try:
                x = read_matrix(tbl, tbl.count_rows(), int(tbl.schema.field("vector").type.list_size))
                ids = read_column(tbl, "id").to_pylist()
            except Exception as exc:
                raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None
            hit = (ids, x, {s: i for i, s in enumerate(ids)})
            self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]}
            self._cache[key] = hit
        return hit  # type: ignore[no-any-return]

    def items_for(self, space: str | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """Items aligned to the space's point order (``id``, ``text`` if any, metadata).

        ``columns``: only ``id`` and these columns (read without the others, e.g. without the texts).
        """
        space = self.resolve_space(space)
        rec = self.manifest.records[vectors_table(space)]
        items_rec = self.manifest.records.get(ITEMS)
        wanted = None if columns is None else tuple(columns)
        key = (f"items_for#{space}#{wanted}",
               hash((rec.table_version, items_rec.table_version if items_rec else None)))
        hit = self._cache.get(key)
        if hit is None:
            ids = self.point_ids(space)
            if wanted is None:
                items = self.items()
            else:
                if not self.has_items():
                    raise WorkspaceError(f"{self.path} holds no items yet: embedscope ingest {self.path} FILE")
                items = self._read_columns(ITEMS, ["id", *[c for c in wanted if c != "id"]])
            have = items.column("id").combine_chunks()
            want = pa.array(ids, have.type)
            if have.equals(want):  # the usual case: items stored in point order (0.02 s vs 1.7 s at 1M)
                hit = items
            else:
                import pyarrow.compute as pc

                take = pc.index_in(want, value_set=have)
                if take.null_count:
                    raise WorkspaceError(f"{take.null_count} point(s) of space {space!r} have no item; "
                                         f"re-ingest the items or the vectors")
                hit = items.take(take)
            self._cache = {k: v for k, v in self._cache.items()
                           if not (isinstance(k[0], str) and k[0] == key[0])}
            self._cache[key] = hit
        return hit  # type: ignore[no-any-return]

    def item_columns(self) -> list[str]:
        """Names of the items' columns (``id``, ``text`` if any, metadata), without reading the table."""
        if not self.has_items():
            return []
        return list(self._open_version(ITEMS).schema.names)

    def add_vectors(self, space: str, ids: Sequence[str], vectors: np.ndarray, *, source: str = "<array>"
                    ) -> IngestReport:
        """Store user vectors as (or into) ``space``, upserting by id; new ids are added to the items.

        Parameters
        ----------
        space
            Space name (created if missing).
        ids
            Length ``n``, strings.
        vectors
            Shape ``(n, d)``; must be finite with no all-zero rows (see :func:`embedscope.io.vectors.read_vectors`).
        """
        _check_space(space)
        ids = [str(s) for s in ids]
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != len(ids):
            raise InputError(f"{source}: expected {len(ids)} vectors, got shape {x.shape}")
        with self._writing():
            name = vectors_table(space)
            rec = self.manifest.records.get(name)
            if rec is not None and rec.params.get("source") == "embedded":
                raise InputError(f"space {space!r} was embedded with {rec.params.get('model')!r}; "
                                 "bring vectors into a new --space")
            added = updated = unchanged = 0
            if rec is not None:
                old_ids, old_x, old_pos = self._space_arrays(space)
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
            self._upsert_items(pa.table({"id": pa.array(ids, pa.string())}), source)
            if added or updated or rec is None:
                self._write_space(space, ids_out, x_out, {"source": "vectors", "file": source})
        return IngestReport(source, added, updated, unchanged, len(ids_out), space=space)

    def ingest_vectors(self, source: str | Path, space: str, *, ids: str | Path | None = None,
                       id: str | None = None, vector: str | None = None) -> IngestReport:
        """Bring your own vectors from ``.npy`` (+ ``ids`` file), ``.json`` ``{id: [floats]}``, Parquet/Arrow.

        A new space is streamed from the file into its table in batches (see :meth:`add_vector_stream`).
        """
        from .io.streams import open_vectors

        _check_space(space)
        return self.add_vector_stream(space, open_vectors(source, ids=ids, id=id, vector=vector))

    def add_vector_stream(self, space: str, stream: Any) -> IngestReport:
        """Store a :class:`embedscope.io.streams.VectorStream` as ``space``, upserting by id.

        Into a new space the vectors go from the file to the table a batch at a time (``.npy`` memory-mapped,
        Parquet a record batch at a time), each batch checked as it passes; a bad vector raises
        :class:`~embedscope.errors.InputError` before anything is committed. The peak is about one batch plus
        Lance's write buffers, not a copy of the vectors. An existing space is merged in memory
        (:meth:`add_vectors`). The file's other scalar columns (``stream.metadata``) are upserted into the
        items as metadata.
        """
        from .io.streams import record_batches

        _check_space(space)
        name = vectors_table(space)
        with self._writing():
            if name not in self.manifest.records:
                reader, fingerprint, dim = record_batches(stream)
                version = self._commit(name, reader)
                fp = fingerprint()
                self._upsert_items(self._stream_items(stream), stream.source)
                rec = Record(table=name, kind="space", params={"source": "vectors", "file": stream.source,
                                                               "dim": dim}, fingerprint=fp)
                self._record(rec, version, stream.n)
                return IngestReport(stream.source, stream.n, 0, 0, stream.n, space=space)
        rep = self.add_vectors(space, stream.ids, stream.read_all(), source=stream.source)
        if getattr(stream, "metadata", None) is not None:
            with self._writing():
                self._upsert_items(self._stream_items(stream), stream.source)
        return rep

    @staticmethod
    def _stream_items(stream: Any) -> pa.Table:
        """``id`` and the stream's metadata columns, as items."""
        table = pa.table({"id": pa.array(stream.ids, pa.string())})
        meta = getattr(stream, "metadata", None)
        if meta is not None:
            for c in meta.column_names:
                table = table.append_column(c, meta.column(c))
        return table

    def _write_space(self, space: str, ids: Sequence[str], x: np.ndarray, params: dict[str, Any],
                     inputs: dict[str, str] | None = None) -> None:
        from .io.streams import BATCH_ROWS

        x = np.ascontiguousarray(x, dtype=np.float32)
        vec = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])  # zero-copy views of x
        table = pa.table({"id": pa.array(list(ids), pa.string()), "vector": vec})
        id_arr = table.column("id")
        rec = Record(table=vectors_table(space), kind="space", params={**params, "dim": int(x.shape[1])},
                     inputs=inputs or {}, fingerprint=fingerprint_arrays(id_arr, x))
        # written in slices, so Lance writes bounded pages (read back a page at a time, see _space_arrays)
        reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=BATCH_ROWS))
        self._record(rec, self._commit(rec.table, reader), table.num_rows)

    # ---------------------------------------------------------------------------------------- embed
    def embed(
        self,
        space: str | None = None,
        model: str = "local",
        *,
        batch_size: int | None = None,
        device: str | None = None,
        dimensions: int | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
        engine: str = "local",
        address: str | None = None,
        concurrency: int | None = None,
        backend: str | None = None,
    ) -> EmbedReport | DryRun:
        """Embed every item's text into ``space`` with ``model``; cached, batched and resumable.

        Parameters
        ----------
        space
            Space name; default: named after the model (``minilm`` for the default model).
        model
            ``local``, ``local:PATH``, ``openai:MODEL`` or ``tfidf:DIM``.
        batch_size, device, dimensions
            Passed to the embedder.
        dry_run
            Count items, tokens and cost; embed nothing.
        progress
            Called with (stage, done, total).
        engine
            ``local`` (this process) or ``ray`` (:mod:`embedscope.engines.ray`: an actor pool on a Ray cluster,
            same vectors; needs ``embedscope[ray]``).
        address, concurrency
            With ``engine="ray"``: the cluster (``None``: a local runtime on 127.0.0.1) and how many actors.
        backend
            Local models: ``torch``, ``onnx`` or ``onnx-int8``. ``None``: the backend an existing space of this
            model recorded (``torch`` if it recorded none), else the default
            (:func:`embedscope.embedders.local.default_backend`). Another backend than the space's re-embeds the
            whole space (its vectors are cached under another key), so a space never mixes backends.

        Returns
        -------
        EmbedReport or DryRun
        """
        if engine not in ("local", "ray"):
            raise InputError(f"unknown engine {engine!r}; use local or ray")
        items = self.items()
        if "text" not in items.column_names:
            raise InputError(f"{self.path} has no texts to embed (it holds vectors only)")
        emb = get_embedder(model, batch_size=batch_size, device=device, dimensions=dimensions, backend=backend)
        space = _check_space(space or emb.default_space)
        text_col = items.column("text")
        mask = text_col.is_valid().to_numpy(zero_copy_only=False)
        ids = [s for s, m in zip(items.column("id").to_pylist(), mask, strict=True) if m]
        texts = [t for t in text_col.to_pylist() if t is not None]
        if not texts:
            raise InputError("no item has a text to embed")
        name = vectors_table(space)
        rec = self.manifest.records.get(name)
        if rec is not None and rec.params.get("model") not in (None, model):
            raise InputError(f"space {space!r} holds vectors from {rec.params.get('model')!r}; "
                             f"choose another --space for {model!r}")
        if rec is not None and rec.params.get("source") == "vectors":
            raise InputError(f"space {space!r} holds vectors you brought; choose another --space to embed into")
        recorded = _recorded_backend(rec.params) if rec is not None and rec.params.get("source") == "embedded" else None
        if backend is None and recorded is not None and getattr(emb, "backend", recorded) != recorded:
            emb = get_embedder(model, batch_size=batch_size, device=device, dimensions=dimensions, backend=recorded)
        if emb.needs_fit:
            emb.fit(texts)
        if dry_run:
            from .embedders.run import text_hash

            cache = LanceCache(self, emb.key)
            uniq = list(dict.fromkeys(texts))
            found = cache.lookup([text_hash(t) for t in uniq])
            todo = [t for t in uniq if text_hash(t) not in found]
            dr = emb.dry_run(todo)
            dr.notes.append(f"{len(texts)} texts, {len(uniq)} distinct, {len(found)} already cached")
            return dr
        with self._writing():
            cache = LanceCache(self, emb.key)
            cb = (lambda d, t: progress("embed", d, t)) if progress else None
            if engine == "ray":
                from .engines.ray.embed import embed_texts_ray

                if emb.needs_fit:
                    raise InputError(f"--model {model} is fitted on the whole corpus in one process; "
                                     "embed it without --engine ray")
                opts = {"batch_size": batch_size, "device": device, "dimensions": dimensions,
                        "backend": getattr(emb, "backend", None)}
                vecs, stats = embed_texts_ray(
                    texts, model, opts, cache, str(self.path / "staging" / f"ray-{cache.name}.lance"),
                    batch_size=batch_size or emb.batch_size, concurrency=concurrency, address=address,
                    on_batch=cb)
            else:
                vecs, stats = embed_texts(texts, emb, cache, batch_size=batch_size, on_batch=cb)
            model_file = None
            if emb.needs_fit and hasattr(emb, "save"):
                # one file per fit, named in the space's record: a kill between saving it and recording the new
                # vectors leaves the old vectors with their own (old) model, never with the new one
                import hashlib

                model_file = f"{space}__fit-{hashlib.blake2b(emb.key.encode(), digest_size=8).hexdigest()}.npz"
                emb.save(self.path / "models" / model_file)
            items_fp = self.manifest.records[ITEMS].fingerprint
            params = {"source": "embedded", "model": model, **emb.spec(),
                      **({"model_file": model_file} if model_file else {})}
            self._write_space(space, ids, vecs, params, {ITEMS: items_fp})
            if model_file:  # earlier fits of this space (and their pickles, if an older version wrote them)
                for old in (*(self.path / "models").glob(f"{space}__fit-*.pkl"),  # are no longer recorded
                            *(self.path / "models").glob(f"{space}__fit-*.npz")):
                    if old.name != model_file:
                        old.unlink(missing_ok=True)
                (self.path / "models" / f"{space}.pkl").unlink(missing_ok=True)
            cache.compact()
        self._embedders[space] = emb
        return EmbedReport(space, model, int(vecs.shape[1]), stats, len(mask) - len(ids),
                           getattr(emb, "backend", None))

    def embedder(self, space: str | None = None) -> Embedder:
        """The embedder that made ``space`` (to embed queries into it)."""
        space = self.resolve_space(space)
        if space in self._embedders:
            return self._embedders[space]
        rec = self.manifest.records[vectors_table(space)]
        if rec.params.get("source") == "translated":  # queries go through the target space's model
            if rec.params.get("query_space") in self.spaces():
                return self.embedder(str(rec.params["query_space"]))
            raise InputError(f"space {space!r} was translated from {rec.params.get('from')!r} by a translator whose "
                             "target space has no model in this workspace; search it by item id or a vector")
        if rec.params.get("source") == "compressed" and rec.params.get("codec_file") and \
                rec.params.get("from") in self.spaces():
            return self._compressed_embedder(space, rec)
        if rec.params.get("source") != "embedded":
            raise InputError(f"space {space!r} holds vectors you brought, with no model to embed a query; "
                             "search it by item id instead")
        self._check_recorded_model(rec)
        emb = get_embedder(str(rec.params["model"]), dimensions=rec.params.get("dimensions"),
                           backend=_recorded_backend(rec.params))
        recorded_key = rec.params.get("key")
        if str(rec.params["model"]).startswith("openai:") and isinstance(recorded_key, str) and \
                recorded_key.startswith("openai:") and recorded_key != emb.key:
            # the endpoint comes from this machine's OPENAI_BASE_URL only, never from the workspace; a space
            # embedded through another endpoint is not queried through this one (other vectors, maybe a model
            # of the same name that is not the same model)
            raise InputError(f"space {space!r} was embedded through another endpoint ({recorded_key}); queries "
                             f"go to this machine's {emb.key}; set OPENAI_BASE_URL to that endpoint if you trust "
                             "it, or search the space by item id")
        if emb.needs_fit:
            path = recorded_file(self.path, rec.params.get("model_file") or f"{space}.pkl", table=rec.table,
                                 key="model_file")
            again = f"embedscope embed {self.path} --model {rec.params['model']} --space {space}"
            if is_legacy(path.name):  # written by an earlier version as a pickle: never opened
                raise WorkspaceError(f"the fitted model of space {space!r} is a pickle from an earlier embedscope "
                                     f"({path}), which is never opened (it could run code); embed the space "
                                     f"again: {again}")
            if not path.exists():
                raise WorkspaceError(f"the fitted model of space {space!r} is missing ({path}); embed it again: "
                                     f"{again}")
            emb.load(path)  # type: ignore[attr-defined]
        self._embedders[space] = emb
        return emb

    def _check_recorded_model(self, rec: Record) -> None:
        """Refuse a ``local:PATH`` model that the manifest places inside the workspace: a workspace from
        elsewhere must not bring the model that embeds your queries (a relative path resolves against the
        current directory, as ``embed`` resolved it)."""
        kind, _, arg = str(rec.params.get("model", "")).partition(":")
        if kind != "local" or not arg:
            return
        where = Path(arg).expanduser().resolve()
        if where.is_relative_to(self.path.resolve()):
            raise ManifestError(f"names local model {arg!r}, which lies inside this workspace; a workspace "
                                "never brings its own model: embed the space again with a model you trust",
                                file=self.path / "scope.json", column=f"records.{rec.table}.params.model")

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray:
        """One text embedded with the space's own model; float32, shape ``(d,)``."""
        if not text or not text.strip():
            raise InputError("the query text is empty")
        return self.embedder(space).embed_queries([text])[0]

    # ------------------------------------------------------------------------------------ neighbours
    def knn(self, space: str | None = None, k: int = DEFAULT_K, *, exact: bool | None = None,
            progress: Progress | None = None, engine: str = "local", address: str | None = None) -> KNN:
        """The stored cosine kNN graph of a space (built and stored on first need).

        Parameters
        ----------
        space
            Space name (default: the only one).
        k
            Neighbours per item wanted (the graph is built with at least ``DEFAULT_K``).
        exact
            ``None`` (default): exact up to :data:`embedscope.search.ann.ANN_ABOVE` items, approximate (HNSW,
            needs ``embedscope[ann]``) above, and a stored graph of either kind is reused. ``True``: an exact
            graph (a stored approximate one is rebuilt). ``False``: approximate whatever the size (a stored
            exact graph is reused: it is at least as good).
        engine, address
            ``ray``: build the graph as Ray tasks on the cluster at ``address`` (``None``: a local runtime on
            127.0.0.1): an exact graph over query shards (:func:`embedscope.engines.ray.knn.knn_graph_ray`; the
            same graph), or an approximate one from one HNSW index per shard of the items, merged
            (:func:`embedscope.engines.ray.knn.ann_graph_ray`; finished shards are staged in the workspace, so a
            killed build reruns only the missing ones).

        Returns
        -------
        KNN
            ``indices``/``scores`` of shape ``(n, min(k, n - 1))`` in point order. How it was made is in
            :meth:`graph_info`: approximate graphs record their recall@10 against exact search, measured on
            1,000 sampled items when they are built.
        """
        from .search import ann as _nb

        if engine not in ("local", "ray"):
            raise InputError(f"unknown engine {engine!r}; use local or ray")
        space = self.resolve_space(space)
        name = neighbors_table(space)
        vrec = self.manifest.records[vectors_table(space)]
        rec = self.manifest.records.get(name)
        if rec is None or rec.inputs.get(vectors_table(space)) != vrec.fingerprint or \
                int(rec.params.get("k", 0)) < min(k, vrec.rows - 1) or \
                (exact is True and rec.params.get("exact") is False):
            with self._writing():
                _, x, _ = self._space_arrays(space)
                kk = max(k, DEFAULT_K)
                cb = (lambda d, t: progress("neighbors", d, t)) if progress else None
                approx = (not exact) if exact is not None else len(x) > _nb.ANN_ABOVE
                params: dict[str, Any] = {"metric": "cosine", "space": space, "exact": not approx}
                if approx:
                    import time

                    t0 = time.perf_counter()
                    if engine == "ray":
                        from .engines.ray.knn import ann_graph_ray

                        graph = ann_graph_ray(x, kk, address=address, progress=cb, key=vrec.fingerprint,
                                              staging=self.path / "staging" / f"knn-{space}")
                        params["engine"] = "ray"
                    else:
                        graph = _nb.ann_graph(x, kk, progress=cb)
                    params["build_s"] = round(time.perf_counter() - t0, 2)
                    recall, scan_s = _nb.graph_recall(x, graph, 10)
                    params.update({"method": _nb.ANN_METHOD, "recall@10": round(recall, 4),
                                   "recall_sample": min(_nb.RECALL_SAMPLE, len(x)),
                                   "exact_estimate_s": round(scan_s * len(x) / max(1, min(_nb.RECALL_SAMPLE,
                                                                                          len(x))), 1)})
                elif engine == "ray":
                    from .engines.ray.knn import knn_graph_ray

                    graph = knn_graph_ray(x, kk, address=address, progress=cb)
                    params["method"] = "exact"
                else:
                    graph = knn_graph(x, kk, "cosine", progress=cb)
                    params["method"] = "exact"
                ids = self._space_arrays(space)[0]
                g = graph.k
                table = pa.table({
                    "id": pa.array(ids, pa.string()),
                    "nbr": pa.FixedSizeListArray.from_arrays(pa.array(graph.indices.reshape(-1)), max(g, 1))
                    if g else pa.array([[]] * len(ids), pa.list_(pa.int32())),
                    "sim": pa.FixedSizeListArray.from_arrays(pa.array(graph.scores.reshape(-1)), max(g, 1))
                    if g else pa.array([[]] * len(ids), pa.list_(pa.float32())),
                })
                rec = Record(table=name, kind="neighbors", params={"k": g, **params},
                             inputs={vectors_table(space): vrec.fingerprint},
                             # exact graphs of the same vectors agree on their common prefix, so a graph
                             # grown to a larger k does not make the layouts built on it stale
                             fingerprint=fingerprint_arrays(vrec.fingerprint, "cosine-ann" if approx else
                                                            "cosine-exact"))
                self._write(rec, table)
            return KNN(graph.indices[:, :k], graph.scores[:, :k], "cosine")
        # decoded once per table version: the server asks for one row's neighbours per click, and copying a
        # million-row graph out of Arrow each time cost ~100 ms and as many MB
        key = (name + "#arrays", rec.table_version)
        hit = self._cache.get(key)
        if hit is None:
            t = self._read(name)
            g = int(rec.params["k"])
            n = t.num_rows
            if g == 0:
                hit = (np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float32))
            else:
                hit = (t.column("nbr").combine_chunks().values.to_numpy().reshape(n, g),
                       t.column("sim").combine_chunks().values.to_numpy().reshape(n, g))
            self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]}
            self._cache[key] = hit
        idx, sim = hit
        return KNN(idx[:, :k], sim[:, :k], "cosine")

    def graph_info(self, space: str | None = None) -> dict[str, Any] | None:
        """How the stored kNN graph of a space was made, or ``None`` if there is none (or it is stale).

        ``{"exact": bool, "k": int, "method": str}``, and for approximate graphs ``"recall@10"`` (against exact
        search, measured on ``"recall_sample"`` sampled items when it was built), ``"build_s"`` and, built on
        Ray, ``"engine": "ray"``.
        """
        space = self.resolve_space(space)
        rec = self.manifest.records.get(neighbors_table(space))
        vrec = self.manifest.records[vectors_table(space)]
        if rec is None or rec.inputs.get(vectors_table(space)) != vrec.fingerprint:
            return None
        out: dict[str, Any] = {"exact": rec.params.get("exact", True) is not False, "k": int(rec.params.get("k", 0)),
                               "method": rec.params.get("method", "exact")}
        for key in ("recall@10", "recall_sample", "build_s", "engine"):
            if key in rec.params:
                out[key] = rec.params[key]
        return out

    def neighbors(
        self,
        item: str | None = None,
        *,
        query: str | None = None,
        vector: np.ndarray | None = None,
        k: int = 10,
        metric: str = "cosine",
        space: str | None = None,
        exact: bool = False,
    ) -> Neighbors:
        """The ``k`` nearest items, in the original space, to an item, a text or a vector.

        Parameters
        ----------
        item
            An item id (the item itself is left out of the answer).
        query
            A text, embedded with the space's own model.
        vector
            A vector of the space's dimension, shape ``(d,)``.
        k
            How many, 1..n.
        metric
            ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
        space
            Space name (default: the only one).
        exact
            For an item: scan every vector even when the stored kNN graph is approximate. By default an item's
            cosine neighbours come from the stored graph (``Neighbors.graph`` then says how it was made and,
            for an approximate one, its measured recall@10).
        """
        try:
            check_metric(metric)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        if sum(v is not None for v in (item, query, vector)) != 1:
            raise InputError("give exactly one of an item id, --query TEXT or a vector")
        space = self.resolve_space(space)
        ids, x, pos = self._space_arrays(space)
        if item is not None:
            row = pos.get(str(item))
            if row is None:
                raise InputError(f"no item with id {item!r} in space {space!r}")
            n = len(ids)
            if n < 2:
                raise InputError(f"too few items: an item's neighbours need at least 2 items ({self.path} has {n} "
                                 f"in space {space!r}); add items with embedscope ingest")
            graph_rec = self.manifest.records.get(neighbors_table(space))
            if metric == "cosine" and (n <= GRAPH_ON_DEMAND_MAX or graph_rec is not None) and \
                    not (exact and graph_rec is not None and graph_rec.params.get("exact") is False):
                if k <= DEFAULT_K or (graph_rec is not None and int(graph_rec.params.get("k", 0)) >= k):
                    g = self.knn(space, min(k, DEFAULT_K) if graph_rec is None else k)
                    kk = min(k, g.k)
                    r = g.indices[row, :kk].astype(np.int64)
                    return Neighbors([ids[i] for i in r], r, g.scores[row, :kk].copy(), metric,
                                     graph=self.graph_info(space))
            res = search(x, x[row: row + 1], k + 1, metric)
            r_all = res.indices[0].astype(np.int64)
            keep = r_all != row
            r, s = r_all[keep][:k], res.scores[0][keep][:k]
            return Neighbors([ids[i] for i in r], r, s, metric)
        if query is not None:
            vector = self.embed_query(query, space)
        assert vector is not None
        q = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != x.shape[1]:
            raise InputError(f"the vector has {q.shape[1]} dimensions, space {space!r} has {x.shape[1]}")
        if not np.isfinite(q).all():
            raise InputError("the query vector has non-finite values")
        res = search(x, q, k, metric)
        r = res.indices[0].astype(np.int64)
        return Neighbors([ids[i] for i in r], r, res.scores[0], metric)

    def arithmetic(self, plus: Sequence[str], minus: Sequence[str] = (), *, k: int = 10,
                   space: str | None = None) -> Neighbors:
        """Vector arithmetic on items: nearest (cosine) to ``sum(plus) - sum(minus)`` of unit vectors.

        The items used in the query are left out of the answer, as in word-analogy evaluations
        (``king - man + woman`` -> ``queen``).
        """
        space = self.resolve_space(space)
        ids, x, pos = self._space_arrays(space)
        missing = [t for t in (*plus, *minus) if t not in pos]
        if missing:
            raise InputError(f"no item with id {missing[0]!r} in space {space!r}")
        if not plus:
            raise InputError("give at least one item to add")
        from .search.exact import normalize

        xn = normalize(x[[pos[t] for t in (*plus, *minus)]])
        q = xn[: len(plus)].sum(0) - xn[len(plus):].sum(0)
        used = {pos[t] for t in (*plus, *minus)}
        res = search(x, q[None, :], k + len(used), "cosine")
        keep = [j for j, r in enumerate(res.indices[0]) if int(r) not in used][:k]
        rows = res.indices[0][keep].astype(np.int64)
        return Neighbors([ids[i] for i in rows], rows, res.scores[0][keep], "cosine")

    # ---------------------------------------------------------------------------------------- shared
    def _save_model(self, stem: str, kind: str, arrays: dict[str, np.ndarray], header: dict[str, Any]) -> str:
        """Write fitted state into ``models/`` as data (:func:`embedscope.io.modelfiles.save_state`: arrays and
        JSON, atomically; never a pickle); returns its file name. A pickle an earlier version wrote under the
        same name is removed (nothing records it any more)."""
        name = save_state(self.path / "models" / f"{stem}.npz", kind, arrays, header)
        (self.path / "models" / f"{stem}.pkl").unlink(missing_ok=True)
        return name

    def _stale(self, rec: Record) -> bool:
        for table, fp in rec.inputs.items():
            cur = self.manifest.records.get(table)
            if cur is None or cur.fingerprint != fp:
                return True
        return False

    def _compressed_embedder(self, space: str, rec: Record) -> Embedder:
        """Queries of a compressed copy: the source space's model, then the codec's query map."""
        from .analyses import compress as _c
        from .embedders.derived import MappedEmbedder

        path = recorded_file(self.path, rec.params["codec_file"], table=rec.table, key="codec_file")
        if is_legacy(path.name):
            # a pickle from an earlier version is never opened; the codec is refitted on the source vectors
            # (deterministic, so the same codec when those vectors have not changed since)
            if self._stale(rec):
                raise WorkspaceError(f"the codec of space {space!r} is a pickle from an earlier embedscope ({path}), "
                                     f"never opened, and {rec.params['from']!r} changed since; store the copy "
                                     f"again: embedscope compress {self.path} --space {rec.params['from']} "
                                     f"--store {rec.params['codec']} --as NEW")
            print(f"note: {path.name} is a pickle from an earlier embedscope and is not opened; the "
                  f"{rec.params['codec']} codec is refitted from space {rec.params['from']!r}", file=sys.stderr)
            try:
                _, codec = _c.compressed_copy(np.asarray(self._space_arrays(str(rec.params["from"]))[1]),
                                              str(rec.params["codec"]))
            except ValueError as exc:
                raise WorkspaceError(f"space {space!r}: {exc}") from None
        else:
            arrays, header = load_state(path, "codec")
            try:
                codec = _c.codec_from_state(arrays, header)
            except ValueError as exc:
                raise WorkspaceError(f"{path}: a damaged codec ({exc}); store the compressed copy again") from None
        emb = MappedEmbedder(self.embedder(str(rec.params["from"])), lambda q: _c.query_transform(codec, q),
                             str(rec.params["codec"]))
        self._embedders[space] = emb
        return emb

    # ----------------------------------------------------------------------------------------- info
    def info(self) -> dict[str, Any]:
        """Spaces, counts, dimensions, layouts, stale results and library versions (JSON-ready)."""
        items = self.manifest.records.get(ITEMS)
        spaces = []
        for s in self.spaces():
            si = self.space_info(s)
            spaces.append({"name": s, "kind": si.kind, "model": si.model, "dim": si.dim, "count": si.count,
                           "layouts": si.layouts, "stale": si.stale,
                           "knn": self.manifest.records.get(neighbors_table(s), Record("", "")).params or None})
        stale = [name for name, r in self.manifest.records.items() if self._stale(r) or
                 (r.kind == "space" and self._space_stale(r))]
        return {
            "path": str(self.path), "items": items.rows if items else 0,
            "columns": [c for c in self.items().column_names] if items else [],
            "spaces": spaces, "stale": sorted(stale),
            "versions": {**library_versions(), "python": sys.version.split()[0]},
        }

# ------------------------------------------------------------------------------------------ helpers
def copy_workspace(src: str | Path, dst: str | Path) -> None:
    """Copy a workspace directory (for backups and tests)."""
    shutil.copytree(src, dst)
