"""The core of a workspace (see :mod:`embedscope.workspace` for the tables and the manifest): items, spaces,
embedding, neighbours and provenance, over the workspace's storage (:class:`embedscope.store.workspace.Workspace`,
``scope.store``). The analyses live in mixins (``_scope_analysis``, ``_scope_compress``, ``_scope_layouts``,
``_scope_translate``) that :class:`embedscope.workspace.Scope` combines."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import pyarrow as pa

from .embedders import DryRun, Embedder, get_embedder
from .embedders.run import embed_texts
from .errors import InputError, ManifestError, WorkspaceError
from .io.modelfiles import is_legacy, load_state, recorded_file
from .results import EmbedReport, IngestReport, Neighbors, SpaceInfo
from .search.exact import KNN, check_metric, knn_graph
from .search.scan import QueryScan, scan_for_scope
from .store.manifest import Manifest, Record, fingerprint_arrays, library_versions
from .store.tables import ITEMS, check_space_name, graph_arrays, graph_table, neighbors_table, vectors_table
from .store.workspace import Workspace

DEFAULT_K = 50
#: Above this many points, a single item's neighbours come from a scan instead of building the graph.
GRAPH_ON_DEMAND_MAX = 50_000

Progress = Callable[[str, int, int], None]

def _recorded_backend(params: dict[str, Any]) -> str | None:
    """The backend that embedded a space of a local model (``torch`` for spaces recorded before backends
    existed), ``None`` for other models."""
    if str(params.get("model", "")).partition(":")[0] != "local":
        return None
    return str(params.get("backend") or "torch")




class ScopeCore:
    """The workspace's items, spaces, embedding and neighbours; :class:`embedscope.workspace.Scope` adds
    the analyses (mixins in ``_scope_*.py``). Open one with :func:`embedscope.open` or :func:`embedscope.create`.

    Parameters
    ----------
    path
        The workspace directory (or its opened :class:`~embedscope.store.workspace.Workspace`).
    """

    def __init__(self, path: str | Path | Workspace) -> None:
        self.store = path if isinstance(path, Workspace) else Workspace(path)
        self.path = self.store.path
        self._embedders: dict[str, Embedder] = {}

    @property
    def manifest(self) -> Manifest:
        """The workspace's manifest as last read (read only; the store writes it)."""
        return self.store.manifest

    # ---------------------------------------------------------------------------------------- open
    @classmethod
    def create(cls, path: str | Path, *, exist_ok: bool = False) -> Self:
        """Create an empty workspace at ``path`` (or open it if it exists and ``exist_ok``)."""
        return cls(Workspace.create(path, exist_ok=exist_ok))

    @classmethod
    def open(cls, path: str | Path) -> Self:
        """Open an existing workspace."""
        return cls(Workspace.open(path))

    def fork(self) -> Self:
        """A second handle on this workspace, for work on another thread while this one goes on answering (the
        server's heavy jobs): its own manifest and connection, starting with the tables this one has already read
        (shared, not copied: they are never changed in place). Its writes take the workspace's lock as every
        writer's do; this handle sees them after :meth:`reload`."""
        return type(self)(self.store.fork())

    def __repr__(self) -> str:
        return f"Scope({str(self.path)!r}, spaces={self.spaces()})"

    def reload(self) -> None:
        """Re-read the manifest (after another process wrote to the workspace)."""
        self.store.reload()

    # --------------------------------------------------------------------------------------- items
    def has_items(self) -> bool:
        """Whether the workspace holds items."""
        return self.store.has_items()

    def items(self) -> pa.Table:
        """All items: ``id``, ``text`` (if any), metadata columns."""
        return self.store.items()

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

        return self.ingest_items(open_items(source, text=text, id=id))

    def ingest_items(self, stream: Any) -> IngestReport:
        """Store an :class:`embedscope.io.items_stream.ItemsStream` (a file already opened and checked by
        :func:`embedscope.io.items_stream.open_items`), as :meth:`ingest` does: the CLI opens the file before it
        creates the workspace, so a bad file leaves no workspace behind."""
        with self.store.writing():
            return self._ingest_stream(stream)

    def _ingest_stream(self, stream: Any) -> IngestReport:
        """Store an :class:`embedscope.io.items_stream.ItemsStream` (caller holds the lock).

        Into a workspace without items the batches go straight into the items table (one Lance commit; a bad
        row raises before it commits, so nothing is stored); into one with items they are upserted by id in
        memory (:meth:`_upsert_items`)."""
        if self.has_items():
            rep = self._upsert_items(stream.read_all(), stream.source)
        else:
            rows = self.store.create_items(pa.RecordBatchReader.from_batches(stream.schema, stream.batches()),
                                           stream.source)
            rep = IngestReport(stream.source, rows, 0, 0, rows)
        rep.text_column, rep.id_column = stream.text_column, stream.id_column
        return rep

    def _upsert_items(self, new: pa.Table, source: str) -> IngestReport:
        added, updated, unchanged, rows = self.store.upsert_items(new, source)
        return IngestReport(source, added, updated, unchanged, rows)

    # --------------------------------------------------------------------------------------- spaces
    def spaces(self) -> list[str]:
        """Names of the stored spaces."""
        return sorted(r.table.removeprefix("vectors__") for r in self.store.records()
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
        rec = self.store.record(vectors_table(self.resolve_space(space)))
        assert rec is not None
        layouts = sorted(r.params.get("method", "") for r in self.store.records()
                         if r.kind == "layout" and r.params.get("space") == space)
        return SpaceInfo(space, rec.params.get("source", "vectors"), rec.params.get("model"),
                         int(rec.params.get("dim", 0)), rec.rows, layouts, self.store.space_is_stale(rec))

    def point_ids(self, space: str | None = None) -> list[str]:
        """Ids of the space's points, in point order (read without the vectors unless they are loaded)."""
        return self.store.point_ids(self.resolve_space(space))

    def vectors(self, space: str | None = None) -> tuple[list[str], np.ndarray]:
        """Ids (point order) and vectors of a space.

        Returns
        -------
        ids : list of str
            Length ``n``.
        vectors : numpy.ndarray
            float32, shape ``(n, d)``, read-only (zero-copy from Arrow).
        """
        ids, x, _ = self.store.arrays(self.resolve_space(space))
        return list(ids), x

    def items_for(self, space: str | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """Items aligned to the space's point order (``id``, ``text`` if any, metadata).

        ``columns``: only ``id`` and these columns (read without the others, e.g. without the texts).
        """
        return self.store.items_for(self.resolve_space(space), columns)

    def item_columns(self) -> list[str]:
        """Names of the items' columns (``id``, ``text`` if any, metadata), without reading the table."""
        return self.store.item_columns()

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
        check_space_name(space)
        ids = [str(s) for s in ids]
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != len(ids):
            raise InputError(f"{source}: expected {len(ids)} vectors, got shape {x.shape}")
        with self.store.writing():
            name = vectors_table(space)
            rec = self.store.record(name)
            if rec is not None and rec.params.get("source") == "embedded":
                raise InputError(f"space {space!r} was embedded with {rec.params.get('model')!r}; "
                                 "bring vectors into a new --space")
            added = updated = unchanged = 0
            if rec is not None:
                old_ids, old_x, old_pos = self.store.arrays(space)
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
                self.store.write_space(space, ids_out, x_out, {"source": "vectors", "file": source})
        return IngestReport(source, added, updated, unchanged, len(ids_out), space=space)

    def ingest_vectors(self, source: str | Path, space: str, *, ids: str | Path | None = None,
                       id: str | None = None, vector: str | None = None) -> IngestReport:
        """Bring your own vectors from ``.npy`` (+ ``ids`` file), ``.json`` ``{id: [floats]}``, Parquet/Arrow.

        A new space is streamed from the file into its table in batches (see :meth:`add_vector_stream`).
        """
        from .io.streams import open_vectors

        check_space_name(space)
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

        check_space_name(space)
        name = vectors_table(space)
        with self.store.writing():
            if self.store.record(name) is None:
                reader, fingerprint, dim = record_batches(stream)
                version = self.store.commit(name, reader)
                fp = fingerprint()
                self._upsert_items(self._stream_items(stream), stream.source)
                rec = Record(table=name, kind="space", params={"source": "vectors", "file": stream.source,
                                                               "dim": dim}, fingerprint=fp)
                self.store.record_version(rec, version, stream.n)
                return IngestReport(stream.source, stream.n, 0, 0, stream.n, space=space)
        rep = self.add_vectors(space, stream.ids, stream.read_all(), source=stream.source)
        if getattr(stream, "metadata", None) is not None:
            with self.store.writing():
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
        space = check_space_name(space or emb.default_space)
        text_col = items.column("text")
        mask = text_col.is_valid().to_numpy(zero_copy_only=False)
        ids = [s for s, m in zip(items.column("id").to_pylist(), mask, strict=True) if m]
        texts = [t for t in text_col.to_pylist() if t is not None]
        if not texts:
            raise InputError("no item has a text to embed")
        name = vectors_table(space)
        rec = self.store.record(name)
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

            cache = self.store.lance_cache(emb.key)
            uniq = list(dict.fromkeys(texts))
            found = cache.lookup([text_hash(t) for t in uniq])
            todo = [t for t in uniq if text_hash(t) not in found]
            dr = emb.dry_run(todo)
            dr.notes.append(f"{len(texts)} texts, {len(uniq)} distinct, {len(found)} already cached")
            return dr
        with self.store.writing():
            cache = self.store.lance_cache(emb.key)
            cb = (lambda d, t: progress("embed", d, t)) if progress else None
            if engine == "ray":
                from .engines.ray.embed import embed_texts_ray

                if emb.needs_fit:
                    raise InputError(f"--model {model} is fitted on the whole corpus in one process; "
                                     "embed it without --engine ray")
                opts = {"batch_size": batch_size, "device": device, "dimensions": dimensions,
                        "backend": getattr(emb, "backend", None)}
                vecs, stats = embed_texts_ray(
                    texts, model, opts, cache, str(self.store.staging_path(f"ray-{cache.name}.lance")),
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
                emb.save(self.store.model_path(model_file))
            items_fp = self.store.require(ITEMS).fingerprint
            params = {"source": "embedded", "model": model, **emb.spec(),
                      **({"model_file": model_file} if model_file else {})}
            self.store.write_space(space, ids, vecs, params, {ITEMS: items_fp})
            if model_file:  # earlier fits of this space (and their pickles, if an older version wrote them)
                for old in (*(self.path / "models").glob(f"{space}__fit-*.pkl"),  # are no longer recorded
                            *(self.path / "models").glob(f"{space}__fit-*.npz")):
                    if old.name != model_file:
                        old.unlink(missing_ok=True)
                self.store.model_path(f"{space}.pkl").unlink(missing_ok=True)
            cache.compact()
        self._embedders[space] = emb
        return EmbedReport(space, model, int(vecs.shape[1]), stats, len(mask) - len(ids),
                           getattr(emb, "backend", None))

    def embedder(self, space: str | None = None) -> Embedder:
        """The embedder that made ``space`` (to embed queries into it)."""
        space = self.resolve_space(space)
        if space in self._embedders:
            return self._embedders[space]
        rec = self.store.require(vectors_table(space))
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

    def forget_embedder(self, space: str) -> None:
        """Drop the cached query embedder of ``space`` (its vectors were replaced; the next query reads the
        space's record again)."""
        self._embedders.pop(space, None)

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
        vrec = self.store.require(vectors_table(space))
        rec = self.store.record(name)
        if rec is None or rec.inputs.get(vectors_table(space)) != vrec.fingerprint or \
                int(rec.params.get("k", 0)) < min(k, vrec.rows - 1) or \
                (exact is True and rec.params.get("exact") is False):
            with self.store.writing():
                _, x, _ = self.store.arrays(space)
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
                                              staging=self.store.staging_path(f"knn-{space}"))
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
                table = graph_table(self.store.arrays(space).ids, graph.indices, graph.scores)
                g = graph.k
                rec = Record(table=name, kind="neighbors", params={"k": g, **params},
                             inputs={vectors_table(space): vrec.fingerprint},
                             # exact graphs of the same vectors agree on their common prefix, so a graph
                             # grown to a larger k does not make the layouts built on it stale
                             fingerprint=fingerprint_arrays(vrec.fingerprint, "cosine-ann" if approx else
                                                            "cosine-exact"))
                self.store.write(rec, table)
            return KNN(graph.indices[:, :k], graph.scores[:, :k], "cosine")
        # decoded once per table version: the server asks for one row's neighbours per click, and copying a
        # million-row graph out of Arrow each time cost ~100 ms and as many MB
        graph_rec = rec
        hit = self.store.memo(name + "#arrays", rec.table_version,
                              lambda: graph_arrays(self.store.read(name), int(graph_rec.params["k"])))
        idx, sim = hit
        return KNN(idx[:, :k], sim[:, :k], "cosine")

    def graph_info(self, space: str | None = None) -> dict[str, Any] | None:
        """How the stored kNN graph of a space was made, or ``None`` if there is none (or it is stale).

        ``{"exact": bool, "k": int, "method": str}``, and for approximate graphs ``"recall@10"`` (against exact
        search, measured on ``"recall_sample"`` sampled items when it was built), ``"build_s"`` and, built on
        Ray, ``"engine": "ray"``.
        """
        space = self.resolve_space(space)
        rec = self.store.record(neighbors_table(space))
        vrec = self.store.require(vectors_table(space))
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
        ids, x, pos = self.store.arrays(space)
        if item is not None:
            row = pos.get(str(item))
            if row is None:
                raise InputError(f"no item with id {item!r} in space {space!r}")
            n = len(ids)
            if n < 2:
                raise InputError(f"too few items: an item's neighbours need at least 2 items ({self.path} has {n} "
                                 f"in space {space!r}); add items with embedscope ingest")
            graph_rec = self.store.record(neighbors_table(space))
            if metric == "cosine" and (n <= GRAPH_ON_DEMAND_MAX or graph_rec is not None) and \
                    not (exact and graph_rec is not None and graph_rec.params.get("exact") is False):
                if k <= DEFAULT_K or (graph_rec is not None and int(graph_rec.params.get("k", 0)) >= k):
                    g = self.knn(space, min(k, DEFAULT_K) if graph_rec is None else k)
                    kk = min(k, g.k)
                    r = g.indices[row, :kk].astype(np.int64)
                    return Neighbors([ids[i] for i in r], r, g.scores[row, :kk].copy(), metric,
                                     graph=self.graph_info(space))
            r, s = self._query_scan(space, metric).top(x[row], k, metric=metric, exclude=[row])
            return Neighbors([ids[i] for i in r], r, s, metric)
        if query is not None:
            vector = self.embed_query(query, space)
        assert vector is not None
        q = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != x.shape[1]:
            raise InputError(f"the vector has {q.shape[1]} dimensions, space {space!r} has {x.shape[1]}")
        if not np.isfinite(q).all():
            raise InputError("the query vector has non-finite values")
        r, s = self._query_scan(space, metric).top(q[0], k, metric=metric)
        return Neighbors([ids[i] for i in r], r, s, metric)

    def arithmetic(self, plus: Sequence[str], minus: Sequence[str] = (), *, k: int = 10,
                   space: str | None = None) -> Neighbors:
        """Vector arithmetic on items: nearest (cosine) to ``sum(plus) - sum(minus)`` of unit vectors.

        The items used in the query are left out of the answer, as in word-analogy evaluations
        (``king - man + woman`` -> ``queen``).
        """
        space = self.resolve_space(space)
        ids, x, pos = self.store.arrays(space)
        missing = [t for t in (*plus, *minus) if t not in pos]
        if missing:
            raise InputError(f"no item with id {missing[0]!r} in space {space!r}")
        if not plus:
            raise InputError("give at least one item to add")
        from .search.exact import normalize

        xn = normalize(x[[pos[t] for t in (*plus, *minus)]])
        q = xn[: len(plus)].sum(0) - xn[len(plus):].sum(0)
        used = sorted({pos[t] for t in (*plus, *minus)})
        rows, scores = self._query_scan(space).top(q, k, metric="cosine", exclude=used)
        return Neighbors([ids[i] for i in rows], rows, scores, "cosine")

    def _query_scan(self, space: str, metric: str = "cosine") -> QueryScan:
        """The space's query scan (:func:`embedscope.search.scan.scan_for_scope`: float32 for a first, one-off query;
        int8 codes with exact rescoring from the second cosine query of a space above 200,000 items), kept per
        table version."""
        name = vectors_table(space)
        _, x, _ = self.store.arrays(space)
        # one slot per table version holding the last scan (a slot, not the scan: the scan is replaced when it
        # gains its int8 codes; a forked handle shares the slot, and a scan is never changed once made)
        slot: dict[str, QueryScan] = self.store.memo(name + "#scan", self.store.require(name).table_version, dict)
        scan = scan_for_scope(slot.get("scan"), x, metric)
        slot["scan"] = scan
        return scan

    # ---------------------------------------------------------------------------------------- shared
    def _compressed_embedder(self, space: str, rec: Record) -> Embedder:
        """Queries of a compressed copy: the source space's model, then the codec's query map."""
        from .analyses import compress as _c
        from .embedders.derived import MappedEmbedder

        path = recorded_file(self.path, rec.params["codec_file"], table=rec.table, key="codec_file")
        if is_legacy(path.name):
            # a pickle from an earlier version is never opened; the codec is refitted on the source vectors
            # (deterministic, so the same codec when those vectors have not changed since)
            if self.store.is_stale(rec):
                raise WorkspaceError(f"the codec of space {space!r} is a pickle from an earlier embedscope ({path}), "
                                     f"never opened, and {rec.params['from']!r} changed since; store the copy "
                                     f"again: embedscope compress {self.path} --space {rec.params['from']} "
                                     f"--store {rec.params['codec']} --as NEW")
            print(f"note: {path.name} is a pickle from an earlier embedscope and is not opened; the "
                  f"{rec.params['codec']} codec is refitted from space {rec.params['from']!r}", file=sys.stderr)
            try:
                _, codec = _c.compressed_copy(np.asarray(self.store.arrays(str(rec.params["from"])).x),
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
        items = self.store.record(ITEMS)
        spaces = []
        for s in self.spaces():
            si = self.space_info(s)
            spaces.append({"name": s, "kind": si.kind, "model": si.model, "dim": si.dim, "count": si.count,
                           "layouts": si.layouts, "stale": si.stale,
                           "knn": (self.store.record(neighbors_table(s)) or Record("", "")).params or None})
        stale = [r.table for r in self.store.records() if self.store.is_stale(r) or
                 (r.kind == "space" and self.store.space_is_stale(r))]
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
