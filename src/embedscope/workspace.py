"""The workspace: one directory with a LanceDB database and the ``scope.json`` manifest.

Tables (LanceDB, Lance format; each write is one atomic commit):

=============================  ===============================================================
``items``                      ``id`` (string), ``text`` (string, null for vectors-only items), metadata
``vectors__{space}``           ``id``, ``vector`` (fixed-size list of float32)
``neighbors__{space}``         ``id``, ``nbr`` (fixed-size list of int32: rows of the space), ``sim``
``layout__{space}__{method}``  ``id``, ``x``, ``y`` (float32)
``cache__{model hash}``        ``hash`` (of the text), ``vector``: finished embedding batches
=============================  ===============================================================

The manifest records, for each table, the Lance version that belongs to the current state. Tables are read
at that version, so a process killed between a table commit and the manifest update leaves the previous,
consistent state: the newer table version is simply ignored and overwritten by the rerun.

"Point order" of a space is the row order of its ``vectors__{space}`` table; layouts and neighbour graphs
use the same order.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import ingest as _ingest
from ._cache import LanceCache
from ._upsert import items_fingerprint, merge_items
from .clusters import Clustering
from .embedders import DryRun, Embedder, get_embedder
from .embedding import embed_texts
from .errors import InputError, WorkspaceError
from .manifest import Manifest, Record, fingerprint_arrays, library_versions, now
from .neighbors import KNN, check_metric, knn_graph, search
from .results import EmbedReport, IngestReport, Layout, Neighbors, SpaceInfo

ITEMS = "items"
DEFAULT_K = 50
#: Above this many points, a single item's neighbours come from a scan instead of building the graph.
GRAPH_ON_DEMAND_MAX = 50_000
_SPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

Progress = Callable[[str, int, int], None]


def _check_space(name: str) -> str:
    if not _SPACE_RE.match(name) or "__" in name:
        raise InputError(
            f"invalid space name {name!r}: use letters, digits, '-', '.', '_' (not '__'), at most 64 characters"
        )
    return name


def vectors_table(space: str) -> str:
    return f"vectors__{space}"


def neighbors_table(space: str) -> str:
    return f"neighbors__{space}"


def layout_table(space: str, method: str) -> str:
    return f"layout__{space}__{method}"


class Scope:
    """An embedscope workspace. Open one with :func:`embedscope.open` or :func:`embedscope.create`.

    Parameters
    ----------
    path
        The workspace directory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.manifest = Manifest.load(self.path)
        import lancedb

        self._db = lancedb.connect(str(self.path / "db"))
        self._cache: dict[tuple[str, int | None], Any] = {}
        self._embedders: dict[str, Embedder] = {}

    # ---------------------------------------------------------------------------------------- open
    @classmethod
    def create(cls, path: str | Path, *, exist_ok: bool = False) -> Scope:
        """Create an empty workspace at ``path`` (or open it if it exists and ``exist_ok``)."""
        p = Path(path)
        if (p / "scope.json").exists():
            if exist_ok:
                return cls(p)
            raise WorkspaceError(f"{p} already exists")
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise WorkspaceError(f"{p} exists and is not an empty directory or an embedscope workspace")
        p.mkdir(parents=True, exist_ok=True)
        (p / "db").mkdir(exist_ok=True)
        Manifest(created=now()).save(p)
        return cls(p)

    @classmethod
    def open(cls, path: str | Path) -> Scope:
        """Open an existing workspace."""
        p = Path(path)
        if not p.is_dir():
            raise InputError(f"no workspace at {p} (create one with: embedscope ingest {p} FILE)")
        return cls(p)

    def __repr__(self) -> str:
        return f"Scope({str(self.path)!r}, spaces={self.spaces()})"

    # ------------------------------------------------------------------------------------- storage
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the workspace's write lock; reload the manifest so concurrent writers do not clobber."""
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.manifest = Manifest.load(self.path)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write(self, record: Record, table: pa.Table) -> None:
        """Commit ``table`` as ``record.table`` and record it in the manifest (caller holds the lock)."""
        name = record.table
        tbl = None
        if name in self._table_names():
            try:
                tbl = self._db.open_table(name)
            except Exception:
                self._db.drop_table(name)
        if tbl is None:
            tbl = self._db.create_table(name, data=table)
        else:
            tbl.add(table, mode="overwrite")
        record.table_version = int(tbl.version)
        record.rows = table.num_rows
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
        try:
            tbl = self._db.open_table(name)
            if rec.table_version is not None and tbl.version != rec.table_version:
                tbl.checkout(rec.table_version)
            data = tbl.to_arrow()
        except Exception as exc:
            raise WorkspaceError(f"{self.path}: cannot read table {name!r}: {exc}") from None
        self._cache = {k: v for k, v in self._cache.items() if k[0] != name}
        self._cache[key] = data
        return data

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
            Text and id columns (see :func:`embedscope.ingest.read_items`).
        """
        inp = _ingest.read_items(source, text=text, id=id)
        with self._writing():
            rep = self._upsert_items(inp.table, inp.source)
        rep.text_column, rep.id_column = inp.text_column, inp.id_column
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
        """Ids of the space's points, in point order."""
        return list(self._space_arrays(self.resolve_space(space))[0])

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

    def _space_arrays(self, space: str) -> tuple[list[str], np.ndarray, dict[str, int]]:
        name = vectors_table(space)
        rec = self.manifest.records[name]
        key = (name + "#arrays", rec.table_version)
        hit = self._cache.get(key)
        if hit is None:
            t = self._read(name)
            col = t.column("vector").combine_chunks()
            dim = col.type.list_size
            x = col.values.to_numpy(zero_copy_only=False).reshape(-1, dim)
            ids = t.column("id").to_pylist()
            hit = (ids, x, {s: i for i, s in enumerate(ids)})
            self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]}
            self._cache[key] = hit
        return hit  # type: ignore[no-any-return]

    def items_for(self, space: str | None = None) -> pa.Table:
        """Items aligned to the space's point order (``id``, ``text`` if any, metadata)."""
        space = self.resolve_space(space)
        rec = self.manifest.records[vectors_table(space)]
        items_rec = self.manifest.records.get(ITEMS)
        key = (f"items_for#{space}", hash((rec.table_version, items_rec.table_version if items_rec else None)))
        hit = self._cache.get(key)
        if hit is None:
            ids = self._space_arrays(space)[0]
            items = self.items()
            pos = {s: i for i, s in enumerate(items.column("id").to_pylist())}
            take = pa.array([pos[s] for s in ids], pa.int64())
            hit = items.take(take)
            self._cache[key] = hit
        return hit  # type: ignore[no-any-return]

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
            Shape ``(n, d)``; must be finite with no all-zero rows (see :func:`embedscope.ingest.read_vectors`).
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
        """Bring your own vectors from ``.npy`` (+ ``ids`` file), ``.json`` ``{id: [floats]}``, Parquet/Arrow."""
        _check_space(space)
        inp = _ingest.read_vectors(source, ids=ids, id=id, vector=vector)
        return self.add_vectors(space, inp.ids, inp.vectors, source=inp.source)

    def _write_space(self, space: str, ids: Sequence[str], x: np.ndarray, params: dict[str, Any],
                     inputs: dict[str, str] | None = None) -> None:
        x = np.ascontiguousarray(x, dtype=np.float32)
        vec = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])
        table = pa.table({"id": pa.array(list(ids), pa.string()), "vector": vec})
        id_arr = table.column("id")
        rec = Record(table=vectors_table(space), kind="space", params={**params, "dim": int(x.shape[1])},
                     inputs=inputs or {}, fingerprint=fingerprint_arrays(id_arr, x))
        self._write(rec, table)

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

        Returns
        -------
        EmbedReport or DryRun
        """
        items = self.items()
        if "text" not in items.column_names:
            raise InputError(f"{self.path} has no texts to embed (it holds vectors only)")
        emb = get_embedder(model, batch_size=batch_size, device=device, dimensions=dimensions)
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
        if emb.needs_fit:
            emb.fit(texts)
        if dry_run:
            from .embedding import text_hash

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
            vecs, stats = embed_texts(texts, emb, cache, batch_size=batch_size, on_batch=cb)
            if emb.needs_fit and hasattr(emb, "save"):
                emb.save(self.path / "models" / f"{space}.pkl")
            items_fp = self.manifest.records[ITEMS].fingerprint
            params = {"source": "embedded", "model": model, **emb.spec()}
            self._write_space(space, ids, vecs, params, {ITEMS: items_fp})
            cache.compact()
        self._embedders[space] = emb
        return EmbedReport(space, model, int(vecs.shape[1]), stats, len(mask) - len(ids))

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
        emb = get_embedder(str(rec.params["model"]), dimensions=rec.params.get("dimensions"))
        if emb.needs_fit:
            path = self.path / "models" / f"{space}.pkl"
            if not path.exists():
                raise WorkspaceError(f"the fitted model of space {space!r} is missing ({path}); embed it again")
            emb.load(path)  # type: ignore[attr-defined]
        self._embedders[space] = emb
        return emb

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray:
        """One text embedded with the space's own model; float32, shape ``(d,)``."""
        if not text or not text.strip():
            raise InputError("the query text is empty")
        return self.embedder(space).embed_queries([text])[0]

    # ------------------------------------------------------------------------------------ neighbours
    def knn(self, space: str | None = None, k: int = DEFAULT_K, *, progress: Progress | None = None) -> KNN:
        """The stored cosine kNN graph of a space (built and stored on first need).

        Returns
        -------
        KNN
            ``indices``/``scores`` of shape ``(n, min(k, n - 1))`` in point order.
        """
        space = self.resolve_space(space)
        name = neighbors_table(space)
        vrec = self.manifest.records[vectors_table(space)]
        rec = self.manifest.records.get(name)
        if rec is None or rec.inputs.get(vectors_table(space)) != vrec.fingerprint or \
                int(rec.params.get("k", 0)) < min(k, vrec.rows - 1):
            with self._writing():
                _, x, _ = self._space_arrays(space)
                kk = max(k, DEFAULT_K)
                cb = (lambda d, t: progress("neighbors", d, t)) if progress else None
                graph = knn_graph(x, kk, "cosine", progress=cb)
                ids = self._space_arrays(space)[0]
                g = graph.k
                table = pa.table({
                    "id": pa.array(ids, pa.string()),
                    "nbr": pa.FixedSizeListArray.from_arrays(pa.array(graph.indices.reshape(-1)), max(g, 1))
                    if g else pa.array([[]] * len(ids), pa.list_(pa.int32())),
                    "sim": pa.FixedSizeListArray.from_arrays(pa.array(graph.scores.reshape(-1)), max(g, 1))
                    if g else pa.array([[]] * len(ids), pa.list_(pa.float32())),
                })
                rec = Record(table=name, kind="neighbors", params={"k": g, "metric": "cosine", "space": space},
                             inputs={vectors_table(space): vrec.fingerprint},
                             # exact graphs of the same vectors agree on their common prefix, so a graph
                             # grown to a larger k does not make the layouts built on it stale
                             fingerprint=fingerprint_arrays(vrec.fingerprint, "cosine-exact"))
                self._write(rec, table)
            return KNN(graph.indices[:, :k], graph.scores[:, :k], "cosine")
        t = self._read(name)
        g = int(rec.params["k"])
        n = t.num_rows
        if g == 0:
            return KNN(np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float32), "cosine")
        idx = t.column("nbr").combine_chunks().values.to_numpy().reshape(n, g)
        sim = t.column("sim").combine_chunks().values.to_numpy().reshape(n, g)
        return KNN(idx[:, :k], sim[:, :k], "cosine")

    def neighbors(
        self,
        item: str | None = None,
        *,
        query: str | None = None,
        vector: np.ndarray | None = None,
        k: int = 10,
        metric: str = "cosine",
        space: str | None = None,
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
            if metric == "cosine" and (n <= GRAPH_ON_DEMAND_MAX or neighbors_table(space) in self.manifest.records):
                graph_rec = self.manifest.records.get(neighbors_table(space))
                if k <= DEFAULT_K or (graph_rec is not None and int(graph_rec.params.get("k", 0)) >= k):
                    g = self.knn(space, min(k, DEFAULT_K) if graph_rec is None else k)
                    kk = min(k, g.k)
                    r = g.indices[row, :kk].astype(np.int64)
                    return Neighbors([ids[i] for i in r], r, g.scores[row, :kk].copy(), metric)
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
        from .neighbors import normalize

        xn = normalize(x[[pos[t] for t in (*plus, *minus)]])
        q = xn[: len(plus)].sum(0) - xn[len(plus):].sum(0)
        used = {pos[t] for t in (*plus, *minus)}
        res = search(x, q[None, :], k + len(used), "cosine")
        keep = [j for j, r in enumerate(res.indices[0]) if int(r) not in used][:k]
        rows = res.indices[0][keep].astype(np.int64)
        return Neighbors([ids[i] for i in rows], rows, res.scores[0][keep], "cosine")

    def health(self, space: str | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
        """Every space-health check (see :mod:`embedscope.diagnostics`) as JSON-ready dicts."""
        from .diagnostics import health

        space = self.resolve_space(space)
        ids, x, _ = self._space_arrays(space)
        graph = self.knn(space) if len(ids) <= GRAPH_ON_DEMAND_MAX or \
            neighbors_table(space) in self.manifest.records else None
        if graph is None:
            raise InputError(f"space {space!r} has {len(ids)} items; build its kNN graph first "
                             f"(embedscope neighbors computes it) to check its health")
        return [c.to_json() for c in health(np.asarray(x), ids, graph, seed=seed)]

    def compare(self, a: str, b: str, *, k: int = 10, label: str | None = None, top: int = 10) -> dict[str, Any]:
        """Compare two spaces on the items they share (see :mod:`embedscope.compare`); JSON-ready.

        Parameters
        ----------
        a, b
            Space names (any dimensions).
        k
            Neighbourhood size for agreement and retrieval.
        label
            A metadata column for same-label retrieval (default: none).
        top
            How many "changed most" items to list with both neighbour lists.
        """
        from .compare import compare as _compare

        a, b = self.resolve_space(a), self.resolve_space(b)
        ids_a, xa, pos_a = self._space_arrays(a)
        ids_b, xb, pos_b = self._space_arrays(b)
        shared = [i for i in ids_a if i in pos_b]
        if len(shared) < 3:
            raise InputError(f"spaces {a!r} and {b!r} share {len(shared)} items; comparing needs at least 3")
        ra = np.array([pos_a[i] for i in shared])
        rb = np.array([pos_b[i] for i in shared])
        xa_s, xb_s = np.asarray(xa)[ra], np.asarray(xb)[rb]
        if len(shared) == len(ids_a) == len(ids_b) and (ra == rb).all():
            ga, gb = self.knn(a, max(k, 1)), self.knn(b, max(k, 1))
        else:  # different item sets: neighbours among the shared items only
            ga, gb = knn_graph(xa_s, k), knn_graph(xb_s, k)
        labels = None
        if label is not None:
            items = self.items_for(a)
            if label not in items.column_names:
                raise InputError(f"no column {label!r}; columns: {', '.join(items.column_names)}")
            col = items.column(label).to_pylist()
            labels = np.array([str(col[pos_a[i]]) for i in shared], dtype=object)
        res = _compare(xa_s, xb_s, ga, gb, k=k, labels=labels)
        order = np.argsort(res.jaccard, kind="stable")[:top]
        changed = [{"id": shared[i], "jaccard": float(res.jaccard[i]),
                    "neighbors_a": [shared[j] for j in ga.indices[i, :res.k]],
                    "neighbors_b": [shared[j] for j in gb.indices[i, :res.k]]} for i in order]
        hist, _ = np.histogram(res.jaccard, bins=10, range=(0.0, 1.0))
        return {"spaces": [a, b], "k": res.k, "items": len(shared), "jaccard_mean": float(res.jaccard.mean()),
                "jaccard_median": float(np.median(res.jaccard)), "jaccard_histogram": hist.tolist(),
                "cka": res.cka, "spearman": res.spearman, "spearman_pairs": res.pairs,
                "dims": [int(xa.shape[1]), int(xb.shape[1])], "retrieval": res.retrieval, "changed_most": changed}

    # ----------------------------------------------------------------------------------- similarity
    def _query_rows(self, space: str, item: str | None, query: str | None, vector: np.ndarray | None
                    ) -> tuple[np.ndarray, list[int]]:
        """The query vector (shape ``(d,)``) of an item, a text or a vector, and the rows to leave out."""
        if sum(v is not None for v in (item, query, vector)) != 1:
            raise InputError("give exactly one of an item id, --query TEXT or a vector")
        _ids, x, pos = self._space_arrays(space)
        if item is not None:
            row = pos.get(str(item))
            if row is None:
                raise InputError(f"no item with id {item!r} in space {space!r}")
            return np.asarray(x[row], dtype=np.float32), [row]
        if query is not None:
            vector = self.embed_query(query, space)
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape[0] != x.shape[1]:
            raise InputError(f"the vector has {q.shape[0]} dimensions, space {space!r} has {x.shape[1]}")
        if not np.isfinite(q).all():
            raise InputError("the query vector has non-finite values")
        return q, []

    @staticmethod
    def _metric(metric: str) -> str:
        try:
            return check_metric(metric)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def rank(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
             k: int = 10, metric: str = "cosine", least: bool = False, space: str | None = None) -> Neighbors:
        """The ``k`` most (or, with ``least``, least) similar items to an item, a text or a vector.

        An exact scan of the space (see :func:`embedscope.similarity.rank`); the queried item is left out.
        Scores: cosine similarity, dot product, euclidean or manhattan distance.
        """
        from .similarity import rank as _rank

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        q, exclude = self._query_rows(space, item, query, vector)
        ids, x, _ = self._space_arrays(space)
        r = _rank(np.asarray(x), q, k, metric, least=least, exclude=exclude)
        return Neighbors([ids[i] for i in r.rows], r.rows, r.scores, metric)

    def closer(self, a: str, b: str, c: str, *, metric: str = "cosine", space: str | None = None) -> dict[str, Any]:
        """Which of items ``b`` and ``c`` is closer to item ``a``; JSON-ready.

        Returns
        -------
        dict
            ``{"space", "a", "b", "c", "metric", "closer": id | null (a tie), "score_b", "score_c",
            "rank_b", "rank_c", "n"}``: ranks are 1-based among all items seen from ``a``.
        """
        from .similarity import closer as _closer

        space = self.resolve_space(space)
        metric = self._metric(metric)
        _ids, x, pos = self._space_arrays(space)
        rows = []
        for name in (a, b, c):
            if str(name) not in pos:
                raise InputError(f"no item with id {name!r} in space {space!r}")
            rows.append(pos[str(name)])
        if len({rows[0], rows[1], rows[2]}) < 3:
            raise InputError("closer needs three different items: A, then B and C to compare")
        res = _closer(np.asarray(x), rows[0], rows[1], rows[2], metric)
        who = {"b": b, "c": c}.get(res.closer)
        return {"space": space, "a": a, "b": b, "c": c, **res.to_json(), "closer": who}

    def similarity_histogram(self, item: str | None = None, *, query: str | None = None,
                             vector: np.ndarray | None = None, metric: str = "cosine", bins: int = 50,
                             space: str | None = None) -> Any:
        """Histogram of one query's scores against every item (the item itself left out); a
        :class:`embedscope.similarity.Histogram` (``.to_json()`` for JSON)."""
        from .similarity import query_histogram

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if bins < 1:
            raise InputError(f"bins must be at least 1, got {bins}")
        q, exclude = self._query_rows(space, item, query, vector)
        _ids, x, _ = self._space_arrays(space)
        if len(x) - len(exclude) < 1:
            raise InputError(f"space {space!r} has no other items")
        return query_histogram(np.asarray(x), q, metric, bins=bins, exclude=exclude)

    def pair_histogram(self, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                       sample: int | None = None, seed: int = 0) -> Any:
        """Histogram of pair similarities: every pair up to 2,000 items, else ``sample`` (default 200,000)
        uniformly random pairs with ``seed``; a :class:`embedscope.similarity.Histogram` stating which."""
        from .similarity import SAMPLE_PAIRS
        from .similarity import pair_histogram as _ph

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if bins < 1:
            raise InputError(f"bins must be at least 1, got {bins}")
        if sample is not None and sample < 1:
            raise InputError(f"the pair sample must be at least 1, got {sample}")
        _ids, x, _ = self._space_arrays(space)
        if len(x) < 2:
            raise InputError(f"space {space!r} has {len(x)} item(s); pair similarities need at least 2")
        return _ph(np.asarray(x), metric, bins=bins, sample=sample or SAMPLE_PAIRS, seed=seed)

    def label_columns(self, space: str | None = None, *, max_labels: int = 50) -> list[str]:
        """Metadata columns that look categorical: text or boolean, 2..``max_labels`` distinct values, and
        at least one value shared by two items."""
        import pyarrow.compute as pc

        space = self.resolve_space(space)
        if not self.has_items():
            return []
        t = self.items_for(space)
        out = []
        for name in t.column_names:
            if name in ("id", "text"):
                continue
            col = t.column(name)
            typ = col.type
            if pa.types.is_dictionary(typ):
                typ = typ.value_type
            if not (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_boolean(typ)):
                continue
            distinct = pc.count_distinct(col).as_py()
            if 2 <= distinct <= max_labels and distinct < t.num_rows - col.null_count:
                out.append(name)
        return out

    def label_separation(self, label: str, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                         sample: int | None = None, seed: int = 0) -> Any:
        """Same-label against different-label pair similarities and their ROC AUC, for the metadata column
        ``label`` (items without a label left out); a :class:`embedscope.similarity.LabelSeparation`."""
        from .similarity import SAMPLE_PAIRS
        from .similarity import label_separation as _ls

        space = self.resolve_space(space)
        metric = self._metric(metric)
        if not self.has_items():
            raise InputError("this workspace has no item metadata, so no label column")
        items = self.items_for(space)
        cols = [c for c in items.column_names if c != "id"]
        if label not in cols:
            raise InputError(f"no column {label!r}; " + (f"columns: {', '.join(cols)}" if cols else "the items have no "
                                                         "metadata columns"))
        _ids, x, _ = self._space_arrays(space)
        try:
            return _ls(np.asarray(x), items.column(label).to_pylist(), metric, bins=bins,
                       sample=sample or SAMPLE_PAIRS, seed=seed)
        except ValueError as exc:
            raise InputError(f"column {label!r}: {exc}") from None

    def metric_overlap(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
                       k: int = 10, space: str | None = None) -> Any:
        """The top-``k`` under cosine, dot, euclidean and manhattan for one query, with their overlap and
        which must agree; a :class:`embedscope.similarity.MetricOverlap` (``.to_json(ids)``)."""
        from .similarity import metric_overlap as _mo

        space = self.resolve_space(space)
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        q, exclude = self._query_rows(space, item, query, vector)
        _ids, x, _ = self._space_arrays(space)
        return _mo(np.asarray(x), q, k, exclude=exclude)

    def dimension_stats(self, space: str | None = None) -> Any:
        """Mean, spread, min and max of each dimension; a :class:`embedscope.similarity.DimensionStats`."""
        from .similarity import dimension_stats as _ds

        _ids, x, _ = self._space_arrays(self.resolve_space(space))
        return _ds(x)

    def report(self, path: str | Path, *, spaces: Sequence[str] | None = None, png_dir: str | Path | None = None,
               seed: int = 0, item: str | None = None) -> Path:
        """Write the static, self-contained HTML report of the given spaces (default: all) to ``path``; with
        ``png_dir``, the same figures also as PNG files there. ``item``: the example item of the query
        histogram, rankings and vector chart (default: each space's top hub). See :mod:`embedscope.report`."""
        from .report import write_report

        names = [self.resolve_space(s) for s in spaces] if spaces else self.spaces()
        if not names:
            raise WorkspaceError(f"{self.path} has no embedding space yet: embedscope embed {self.path}")
        if item is not None:
            for s in names:
                if str(item) not in self._space_arrays(s)[2]:
                    raise InputError(f"no item with id {item!r} in space {s!r}")
        if not Path(path).resolve().parent.is_dir():
            raise InputError(f"cannot write {path}: its directory does not exist")
        return write_report(self, path, spaces=names, png_dir=png_dir, seed=seed, item=item)

    # ------------------------------------------------------------------------------------ compress
    def compress(self, space: str | None = None, codecs: Sequence[str] | None = None, *, queries: int = 1000,
                 seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """The compression table of a space (see :mod:`embedscope.compress`), stored and reused; JSON-ready.

        Parameters
        ----------
        space
            Space name.
        codecs
            Codec names (``float16``, ``int8``, ``binary``, ``binary+rescore``, ``truncate-D``, ``pca-D``...);
            default: every kind at a half, a quarter and an eighth of the dimension.
        queries
            Held-out queries (at most a fifth of the items).
        seed
            Seed of the query split.

        Returns
        -------
        dict
            ``{"space", "dim", "items", "queries", "rows": [{"codec", "bytes_per_vector", "recall@1",
            "recall@10", "recall@100", "query_ms", "build_s", ...}], "frontier": [codec names]}``.
        """
        from . import compress as _c

        space = self.resolve_space(space)
        _ids, x, _ = self._space_arrays(space)
        names = list(codecs) if codecs else _c.default_codecs(int(x.shape[1]))
        for name in names:
            try:
                _c.codec_from_name(name)
            except ValueError as exc:
                raise InputError(str(exc)) from None
        name = f"compress__{space}"
        want = {"codecs": names, "queries": int(queries), "seed": int(seed)}
        rec = self.manifest.records.get(name)
        if rec is not None and not self._stale(rec) and rec.params == want:
            return dict(rec.metrics["result"])
        try:
            ev = _c.evaluate(np.asarray(x), names, queries=queries, seed=seed, progress=progress)
        except ValueError as exc:
            raise InputError(f"space {space!r}: {exc}") from None
        rows = [r.row() for r in ev.rows]
        result = {"space": space, "dim": ev.dim, "items": ev.n_items, "queries": ev.n_queries,
                  "rows": rows, "frontier": _c.frontier(ev.rows)}
        vrec = self.manifest.records[vectors_table(space)]
        with self._writing():
            table = pa.Table.from_pylist([{k: r[k] for k in ("codec", "bytes_per_vector", "recall@1", "recall@10",
                                                             "recall@100", "query_ms", "build_s")} for r in rows])
            self._write(Record(table=name, kind="compress", params=want, inputs={vectors_table(space): vrec.fingerprint},
                               fingerprint=fingerprint_arrays(table.column("recall@10").to_numpy()),
                               metrics={"result": result}), table)
        return result

    def compression(self, space: str | None = None) -> dict[str, Any] | None:
        """The stored compression table of a space (as :meth:`compress` returns it, plus ``stale``: the vectors
        changed since), or ``None`` when it was never measured."""
        space = self.resolve_space(space)
        rec = self.manifest.records.get(f"compress__{space}")
        if rec is None:
            return None
        return {**rec.metrics["result"], "stale": self._stale(rec), "params": dict(rec.params)}

    def compress_space(self, space: str | None, codec: str, as_name: str) -> SpaceInfo:
        """Store a compressed copy of ``space`` as the new space ``as_name``: the decoded vectors of ``codec``
        (what a search of the compressed index sees), flagged ``source: compressed`` with the codec's bytes per
        vector and, when the compression table has it, its recall.
        """
        from . import compress as _c

        space = self.resolve_space(space)
        _check_space(as_name)
        if as_name in self.spaces():
            raise InputError(f"space {as_name!r} exists; choose another --as name")
        if codec.startswith("binary+rescore"):
            raise InputError("a stored copy cannot rescore (that needs the full vectors); store 'binary'")
        ids, x, _ = self._space_arrays(space)
        try:
            decoded, fitted = _c.compressed_copy(np.asarray(x), codec)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        vrec = self.manifest.records[vectors_table(space)]
        params: dict[str, Any] = {"source": "compressed", "from": space, "codec": codec,
                                  "bytes_per_vector": fitted.bytes_per_vector(),
                                  "codec_file": self._save_model(f"{as_name}__codec", fitted)}
        table = self.manifest.records.get(f"compress__{space}")
        if table is not None and not self._stale(table):
            row = next((r for r in table.metrics["result"]["rows"] if r["codec"] == codec), None)
            if row is not None:
                params["evaluation"] = {k: row[k] for k in ("recall@1", "recall@10", "recall@100")}
        with self._writing():
            self._write_space(as_name, ids, decoded, params, inputs={vectors_table(space): vrec.fingerprint})
        return self.space_info(as_name)

    def _compressed_embedder(self, space: str, rec: Record) -> Embedder:
        """Queries of a compressed copy: the source space's model, then the codec's query map."""
        import pickle

        from . import compress as _c
        from .embedders.derived import MappedEmbedder

        with (self.path / "models" / str(rec.params["codec_file"])).open("rb") as fh:
            codec = pickle.load(fh)
        emb = MappedEmbedder(self.embedder(str(rec.params["from"])), lambda q: _c.query_transform(codec, q),
                             str(rec.params["codec"]))
        self._embedders[space] = emb
        return emb

    def export_compressed(self, space: str | None, codec: str, path: str | Path) -> dict[str, Any]:
        """Write the compact codes of ``space`` under ``codec`` with the ids and codec parameters to one
        ``.npz`` (see :func:`embedscope.compress.export_codes`); returns its metadata."""
        from . import compress as _c

        space = self.resolve_space(space)
        ids, x, _ = self._space_arrays(space)
        try:
            _c.codec_from_name(codec)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        tmp = Path(f"{path}.tmp")
        meta = _c.export_codes(str(tmp), ids, np.asarray(x), codec)
        tmp.replace(path)
        return {**meta, "space": space, "path": str(path)}

    # ------------------------------------------------------------------------------------- layouts
    def project(self, space: str | None = None, method: str = "umap", *, seed: int = 42, k: int = 15,
                progress: Progress | None = None, **params: Any) -> Layout:
        """Compute (or reuse) a layout of a space, measure its honesty, and store both.

        Parameters
        ----------
        space
            Space name.
        method
            ``umap`` (default), ``pca``, ``tsne`` or ``sphere``.
        seed
            Random seed (the layout is reproducible).
        k
            Neighbourhood size of the honesty metrics (trustworthiness, continuity, kNN recall).
        **params
            Method parameters (e.g. ``n_neighbors``, ``min_dist``, ``perplexity``), recorded with the layout.

        Returns
        -------
        Layout
            With ``quality`` (global figures) and ``per_item`` honesty arrays.
        """
        from .projection import project as _project
        from .projection.layout import METHODS
        from .projection.quality import layout_quality

        if method not in METHODS:
            raise InputError(f"unknown --method {method!r}; use one of {', '.join(METHODS)}")
        space = self.resolve_space(space)
        name = layout_table(space, method)
        vrec = self.manifest.records[vectors_table(space)]
        want = {"method": method, "space": space, "seed": seed, "k": k, **params}
        rec = self.manifest.records.get(name)
        if rec is not None and not self._stale(rec) and rec.params.get("request") == want:
            return self.layout(space, method)
        if rec is not None and rec.params.get("request") == want and rec.params.get("model_file"):
            placed = self._place_new_items(space, method, rec, k=k, progress=progress)
            if placed is not None:
                return placed
        n = vrec.rows
        graph_k = max(DEFAULT_K, min(n - 1, 3 * int(params.get("perplexity", 30)))) if method == "tsne" else DEFAULT_K
        from .projection.umap import SAMPLE_FIT_MIN

        graph_rec = self.manifest.records.get(neighbors_table(space))
        if method == "umap" and n > SAMPLE_FIT_MIN and (graph_rec is None or self._stale(graph_rec)):
            knn = None  # UMAP fits a sample with its own index; honesty is measured on a sample of items
        else:
            knn = self.knn(space, graph_k, progress=progress)
        with self._writing():
            ids, x, _ = self._space_arrays(space)
            extra_args: dict[str, Any] = {}
            if method == "sphere":
                flat_rec = self.manifest.records.get(layout_table(space, "umap"))
                if flat_rec is not None and not self._stale(flat_rec) and flat_rec.params.get("seed") == seed:
                    extra_args["flat"] = self.layout(space, "umap").coords
            if progress:
                progress(method, 0, n)
            step = (lambda d, t: progress(method, d, t)) if progress else None
            res = _project(x, method, knn=knn, seed=seed, progress=step, **params, **extra_args)
            if progress:
                progress(method, n, n)
            if res.model is not None:
                res.params["model_file"] = self._save_model(f"{space}__{method}", res.model)
                res.params["rows_fingerprint"] = fingerprint_arrays(pa.array(ids, pa.string()), x)
            qcoords = res.extra.get("xyz", res.coords)
            cb = (lambda d, t: progress("honesty", d, t)) if progress else None
            q = layout_quality(x, qcoords, k=k, high_knn=knn, seed=seed, progress=cb)
            cols: dict[str, Any] = {"id": pa.array(ids, pa.string()), "x": pa.array(res.coords[:, 0]),
                                    "y": pa.array(res.coords[:, 1])}
            if "xyz" in res.extra:
                cols["lon"], cols["lat"] = cols.pop("x"), cols.pop("y")
                for i, c in enumerate("xyz"):
                    cols[c] = pa.array(res.extra["xyz"][:, i])
            if "z" in res.extra:
                cols["z"] = pa.array(res.extra["z"])
            self._write_layout(space, method, ids, res.coords, cols, q, {"request": want, **res.params}, res.metrics)
        return self.layout(space, method)

    def _write_layout(self, space: str, method: str, ids: list[str], coords: np.ndarray, cols: dict[str, Any],
                      q: Any, params: dict[str, Any], metrics: dict[str, Any]) -> None:
        for key, arr in q.per_item.items():
            cols[f"q_{key}"] = pa.array(arr.astype(np.float32))
        inputs = {vectors_table(space): self.manifest.records[vectors_table(space)].fingerprint}
        graph = self.manifest.records.get(neighbors_table(space))
        if graph is not None and not self._stale(graph):
            inputs[neighbors_table(space)] = graph.fingerprint
        rec = Record(table=layout_table(space, method), kind="layout",
                     params={"method": method, "space": space, **params},
                     inputs=inputs, fingerprint=fingerprint_arrays(coords),
                     metrics={**metrics, "quality": q.summary()})
        self._write(rec, pa.table(cols))

    def _save_model(self, stem: str, model: Any) -> str:
        """Pickle a fitted model into ``models/`` atomically; returns its file name."""
        import pickle

        folder = self.path / "models"
        folder.mkdir(exist_ok=True)
        path = folder / f"{stem}.pkl"
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        return path.name

    def _place_new_items(self, space: str, method: str, rec: Record, *, k: int,
                         progress: Progress | None) -> Layout | None:
        """Place items added since a sampled UMAP fit, keeping every existing coordinate; ``None`` if the
        old items changed (then the caller refits)."""
        import pickle

        from .projection.quality import layout_quality
        from .projection.umap import place

        old = self.layout(space, method)
        ids, x, pos = self._space_arrays(space)
        if any(i not in pos for i in old.ids):
            return None
        old_rows = np.array([pos[i] for i in old.ids], np.int64)
        if fingerprint_arrays(pa.array(old.ids, pa.string()), np.ascontiguousarray(x[old_rows])) != \
                rec.params.get("rows_fingerprint"):
            return None
        path = self.path / "models" / str(rec.params["model_file"])
        if not path.exists():
            return None
        model = pickle.loads(path.read_bytes())  # the workspace's own file: trusted
        old_set = set(old.ids)
        new_rows = np.array([r for r, i in enumerate(ids) if i not in old_set], np.int64)
        graph = self.manifest.records.get(neighbors_table(space))
        knn = self.knn(space) if graph is not None and not self._stale(graph) else None
        with self._writing():
            coords = np.empty((len(ids), 2), np.float32)
            coords[old_rows] = old.coords
            if len(new_rows):
                if progress:
                    progress("place", 0, len(new_rows))
                coords[new_rows] = place(model, x[new_rows])
                if progress:
                    progress("place", len(new_rows), len(new_rows))
            q = layout_quality(x, coords, k=k, high_knn=knn)
            cols: dict[str, Any] = {"id": pa.array(ids, pa.string()), "x": pa.array(coords[:, 0]),
                                    "y": pa.array(coords[:, 1])}
            params = {key: v for key, v in rec.params.items() if key not in ("method", "space")}
            params["rows_fingerprint"] = fingerprint_arrays(pa.array(ids, pa.string()), x)
            params["placed_later"] = int(params.get("placed_later", 0)) + len(new_rows)
            self._write_layout(space, method, ids, coords, cols, q, params, {})
        return self.layout(space, method)

    def layouts(self, space: str | None = None) -> list[str]:
        """Stored layout methods of a space."""
        return self.space_info(self.resolve_space(space)).layouts

    def layout(self, space: str | None, method: str) -> Layout:
        """A stored layout, in the space's point order."""
        space = self.resolve_space(space)
        name = layout_table(space, method)
        rec = self.manifest.records.get(name)
        if rec is None:
            raise WorkspaceError(f"space {space!r} has no {method} layout: embedscope project {self.path} "
                                 f"--space {space} --method {method}")
        t = self._read(name)
        cx, cy = ("lon", "lat") if "lon" in t.column_names else ("x", "y")
        coords = np.stack([t.column(cx).to_numpy(), t.column(cy).to_numpy()], axis=1).astype(np.float32)
        xyz = None
        if "z" in t.column_names:
            xyz = np.stack([t.column(c).to_numpy() for c in ("x", "y", "z")] if "lon" in t.column_names
                           else [coords[:, 0], coords[:, 1], t.column("z").to_numpy()], axis=1).astype(np.float32)
        per_item = {c[2:]: t.column(c).to_numpy() for c in t.column_names if c.startswith("q_")}
        return Layout(space, method, t.column("id").to_pylist(), coords, dict(rec.params), dict(rec.metrics),
                      self._stale(rec), xyz, dict(rec.metrics.get("quality", {})), per_item)

    def quality(self, space: str | None = None) -> list[dict[str, Any]]:
        """Honesty figures of every stored layout of a space (JSON-ready, one dict per layout)."""
        space = self.resolve_space(space)
        out = []
        for method in self.layouts(space):
            lay = self.layout(space, method)
            q = lay.quality
            out.append({"method": method, "k": q.get("k"), "trustworthiness": q.get("trustworthiness"),
                        "continuity": q.get("continuity"), "knn_recall": q.get("knn_recall"),
                        "rank_correlation": q.get("rank_correlation"), "sampled": q.get("sampled"),
                        "n": len(lay.ids), "stale": lay.stale,
                        "params": {k: v for k, v in lay.params.items() if k != "request"},
                        **({"comparison": lay.metrics["comparison"]} if "comparison" in lay.metrics else {}),
                        **({"explained_variance_ratio": lay.metrics["explained_variance_ratio"]}
                           if "explained_variance_ratio" in lay.metrics else {})})
        return out

    def cluster(self, space: str | None = None, method: str = "hdbscan", *, n_clusters: int | None = None,
                min_cluster_size: int | None = None, seed: int = 0) -> Clustering:
        """Cluster a space (HDBSCAN on its UMAP map, or k-means) and label clusters by class-based TF-IDF.

        The UMAP layout is computed first if missing. Stored as ``clusters__{space}``; rerunning with the
        same inputs and parameters returns the stored result.
        """
        from .clusters import METHODS, cluster

        if method not in METHODS:
            raise InputError(f"unknown clustering --method {method!r}; use one of {', '.join(METHODS)}")
        space = self.resolve_space(space)
        name = f"clusters__{space}"
        want = {"method": method, "n_clusters": n_clusters, "min_cluster_size": min_cluster_size, "seed": seed}
        rec = self.manifest.records.get(name)
        if rec is not None and not self._stale(rec) and rec.params.get("request") == want:
            return self.clusters(space)  # type: ignore[return-value]
        lay = self.project(space, "umap")
        with self._writing():
            ids, x, _ = self._space_arrays(space)
            items = self.items_for(space)
            texts = items.column("text").to_pylist() if "text" in items.column_names else None
            if texts is not None:
                texts = [t or "" for t in texts]
            res = cluster(x, texts, reduced=lay.coords, method=method, n_clusters=n_clusters,
                          min_cluster_size=min_cluster_size, seed=seed)
            table = pa.table({"id": pa.array(ids, pa.string()), "cluster": pa.array(res.labels, pa.int32())})
            inputs = {vectors_table(space): self.manifest.records[vectors_table(space)].fingerprint,
                      layout_table(space, "umap"): self.manifest.records[layout_table(space, "umap")].fingerprint}
            self._write(Record(table=name, kind="clusters", params={"space": space, "request": want, **res.params},
                               inputs=inputs, fingerprint=fingerprint_arrays(res.labels),
                               metrics={"clusters": res.clusters}), table)
        return res

    def clusters(self, space: str | None = None) -> Clustering | None:
        """The stored clustering of a space (labels in point order), or ``None``."""
        from .clusters import Clustering

        space = self.resolve_space(space)
        rec = self.manifest.records.get(f"clusters__{space}")
        if rec is None:
            return None
        t = self._read(rec.table)
        params = {k: v for k, v in rec.params.items() if k != "request"}
        return Clustering(t.column("cluster").to_numpy().astype(np.int32), list(rec.metrics.get("clusters", [])),
                          params)

    def _stale(self, rec: Record) -> bool:
        for table, fp in rec.inputs.items():
            cur = self.manifest.records.get(table)
            if cur is None or cur.fingerprint != fp:
                return True
        return False

    # ------------------------------------------------------------------------------------ translate
    def translate_pairs(self, a: str, b: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Items embedded in both spaces: ids (in ``a``'s point order) and their vectors ``(n, d_a)``, ``(n, d_b)``."""
        from .translate import MIN_PAIRS

        a, b = self.resolve_space(a), self.resolve_space(b)
        if a == b:
            raise InputError(f"--from and --to both name space {a!r}; translate between two different spaces")
        ids_a, xa, _ = self._space_arrays(a)
        _, xb, pos_b = self._space_arrays(b)
        shared = [i for i in ids_a if i in pos_b]
        if len(shared) < MIN_PAIRS:
            raise InputError(f"spaces {a!r} and {b!r} share {len(shared)} item id(s); a translator needs at least "
                             f"{MIN_PAIRS} items present in both (better 1,000): embed the same items in both spaces")
        ra = np.fromiter((i for i, s in enumerate(ids_a) if s in pos_b), np.int64, len(shared))
        rb = np.fromiter((pos_b[s] for s in shared), np.int64, len(shared))
        return shared, np.asarray(xa)[ra], np.asarray(xb)[rb]

    def translate_eval(self, a: str, b: str, *, methods: Sequence[str] | None = None, curve: bool = True,
                       test_size: int | None = None, seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """Evaluate translators from space ``a`` to ``b`` on held-out shared items, with baselines and a
        learning curve (see :func:`embedscope.translate.evaluate`). Returns the ``translate eval`` JSON document."""
        from .translate import evaluate

        a, b = self.resolve_space(a), self.resolve_space(b)
        _, xa, xb = self.translate_pairs(a, b)
        ev = evaluate(xa, xb, list(methods) if methods else None, curve=curve, test_size=test_size, seed=seed,
                      progress=progress, names=(a, b))
        doc = ev.to_json(a, b)
        # keep the latest evaluation of this pair of spaces (the explorer's Translate sheet shows it)
        table = pa.Table.from_pylist([{"method": str(m["method"]), "mean_cosine": float(m["mean_cosine"]),
                                       "top1": float(m["top1"]), "top10": float(m["top10"])} for m in doc["methods"]])
        inputs = {vectors_table(s): self.manifest.records[vectors_table(s)].fingerprint for s in (a, b)}
        with self._writing():
            self._write(Record(table=f"translate__{a}__{b}", kind="translate-eval",
                               params={"from": a, "to": b, "methods": list(methods) if methods else None,
                                       "test_size": test_size, "seed": seed},
                               inputs=inputs, fingerprint=fingerprint_arrays(table.column("mean_cosine").to_numpy()),
                               metrics={"result": doc}), table)
        return doc

    def translation(self, a: str, b: str) -> dict[str, Any] | None:
        """The latest stored ``translate eval`` document from space ``a`` to ``b`` (plus ``stale``: either
        space changed since), or ``None``."""
        a, b = self.resolve_space(a), self.resolve_space(b)
        rec = self.manifest.records.get(f"translate__{a}__{b}")
        if rec is None:
            return None
        return {**rec.metrics["result"], "stale": self._stale(rec)}

    def translate_fit(self, a: str, b: str, method: str = "auto", *, path: str | Path | None = None, seed: int = 0,
                      test_size: int | None = None, select: str = "mean_cosine", progress: Progress | None = None) -> Any:
        """Fit a translator from space ``a`` to ``b`` on every shared item, after measuring it on held-out items.

        Parameters
        ----------
        method
            ``procrustes``, ``ridge``, ``lowrank``, ``mlp`` or ``auto`` (best held-out ``select`` figure).
        select
            What ``auto`` maximises: ``mean_cosine``, ``top1``, ``top10`` or ``recall@10``.
        path
            Where to save the translator file (``.npz`` format, any name), if given.

        Returns
        -------
        embedscope.translate.Translator
            With the held-out figures in ``meta["metrics"]`` and ``meta["evaluation"]``.
        """
        from .translate import fit

        a, b = self.resolve_space(a), self.resolve_space(b)
        _, xa, xb = self.translate_pairs(a, b)
        models = {k: self.manifest.records[vectors_table(s)].params.get("model") for k, s in
                  (("source_model", a), ("target_model", b))}
        tl, _ = fit(xa, xb, method, seed=seed, test_size=test_size, select=select, progress=progress, names=(a, b),
                    meta=models)
        if path is not None:
            tl.save(path)
            tl.meta["file"] = str(path)
        return tl

    def translate_apply(self, translator: Any, space: str, name: str, *, batch_size: int = 65_536,
                        progress: Progress | None = None) -> IngestReport:
        """Translate every vector of ``space`` into a new space ``name``, flagged as translated.

        Parameters
        ----------
        translator
            A :class:`~embedscope.translate.Translator` or the path of a translator file.
        space
            The source space (its dimension must be the translator's source dimension).
        name
            The new space. An existing space is replaced only if it was itself translated.
        batch_size
            Vectors per batch.

        The new space records ``source: "translated"``, the method, the translator file and its held-out
        figures; if the translator's target space is in this workspace, text queries on the new space are
        embedded with that space's model.
        """
        from .translate import Translator

        file = None
        if not isinstance(translator, Translator):
            file = str(translator)
            translator = Translator.load(translator)
        space = self.resolve_space(space)
        _check_space(name)
        if name == space:
            raise InputError(f"--as {name!r} is the source space; choose a new space name")
        old = self.manifest.records.get(vectors_table(name))
        if old is not None and old.params.get("source") != "translated":
            raise InputError(f"space {name!r} already exists ({old.params.get('source')}); choose another --as name")
        ids, x, _ = self._space_arrays(space)
        if x.shape[1] != translator.src_dim:
            raise InputError(f"space {space!r} has {x.shape[1]} dimensions but the translator maps "
                             f"{translator.src_dim}-dimensional vectors", file=file)
        cb = (lambda d, t: progress("translate", d, t)) if progress else None
        if progress:
            progress("translate", 0, len(ids))
        out = translator.transform(x, batch_size=batch_size, progress=cb)
        target = translator.meta.get("target")
        trec = self.manifest.records.get(vectors_table(str(target))) if target else None
        query_space = target if trec is not None and trec.params.get("source") == "embedded" and \
            int(trec.params.get("dim", 0)) == translator.tgt_dim else None
        params = {"source": "translated", "model": f"translated:{translator.method}", "method": translator.method,
                  "from": space, "to": target, "query_space": query_space, "translator": file,
                  "n_train": translator.meta.get("n_train"), "metrics": translator.meta.get("metrics")}
        with self._writing():
            src_fp = self.manifest.records[vectors_table(space)].fingerprint
            self._write_space(name, ids, out, params, {vectors_table(space): src_fp})
        self._embedders.pop(name, None)
        return IngestReport(file or "<translator>", len(ids), 0, 0, len(ids), space=name)

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
