"""The :class:`Scope`: an embedscope workspace (see :mod:`embedscope.workspace` for its tables and manifest).

Its storage is :class:`embedscope.store.workspace.Workspace` (``scope.store``); the steps it runs are functions
in :mod:`embedscope.pipeline` (items, embed, graph, layouts, clusters), which its methods call; the heavy steps
run on an engine chosen by name (:func:`embedscope.engines.get_engine`). The analyses still come from mixins
(``_scope_analysis``, ``_scope_compare``, ``_scope_compress``, ``_scope_translate``).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import pyarrow as pa

from ._scope_analysis import AnalysisMixin
from ._scope_compare import CompareMixin
from ._scope_compress import CompressMixin
from ._scope_translate import TranslateMixin
from .analyses.clusters import Clustering
from .embedders import DryRun, Embedder
from .errors import InputError, WorkspaceError
from .pipeline import clusters as clusters_step
from .pipeline import embed as embed_step
from .pipeline import graph as graph_step
from .pipeline import items as items_step
from .pipeline import layouts as layouts_step
from .pipeline.base import Progress
from .results import EmbedReport, IngestReport, Layout, Neighbors, SpaceInfo
from .search.exact import KNN
from .search.graph import DEFAULT_K, GRAPH_ON_DEMAND_MAX
from .store.manifest import Manifest, Record, library_versions
from .store.tables import ITEMS, neighbors_table, vectors_table
from .store.workspace import Workspace

__all__ = ["DEFAULT_K", "GRAPH_ON_DEMAND_MAX", "Progress", "Scope", "copy_workspace"]


class Scope(AnalysisMixin, CompareMixin, CompressMixin, TranslateMixin):
    """An embedscope workspace. Open one with :func:`embedscope.open` or :func:`embedscope.create`.

    Lifecycle, spaces and info are here; items, embedding, neighbours, layouts and clusters are the steps of
    :mod:`embedscope.pipeline` (each method names its function); health, similarity and the report
    (``_scope_analysis``), comparison of spaces (``_scope_compare``), compression (``_scope_compress``) and
    translators (``_scope_translate``) come from mixins.

    Parameters
    ----------
    path
        The workspace directory (or its opened :class:`~embedscope.store.workspace.Workspace`).
    """

    def __init__(self, path: str | Path | Workspace) -> None:
        self.store = path if isinstance(path, Workspace) else Workspace(path)
        self.path = self.store.path
        #: Embedders loaded for query embedding, by space.
        self.query_embedders: dict[str, Embedder] = {}

    @property
    def _embedders(self) -> dict[str, Embedder]:
        """:attr:`query_embedders` (the name the analysis mixins use)."""
        return self.query_embedders

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

    def has_items(self) -> bool:
        """Whether the workspace holds items."""
        return self.store.has_items()

    def items(self) -> pa.Table:
        """All items: ``id``, ``text`` (if any), metadata columns."""
        return self.store.items()

    def ids(self) -> list[str]:
        """All item ids, in items order."""
        return self.items().column("id").to_pylist() if self.has_items() else []

    # ------------------------------------------------------------------------------- items (pipeline)
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

        Runs :func:`embedscope.pipeline.items.ingest`.
        """
        return items_step.ingest(self, source, text=text, id=id)

    def ingest_items(self, stream: Any) -> IngestReport:
        """Store an :class:`embedscope.io.items_stream.ItemsStream` (a file already opened and checked by
        :func:`embedscope.io.items_stream.open_items`), as :meth:`ingest` does: the CLI opens the file before it
        creates the workspace, so a bad file leaves no workspace behind.

        Runs :func:`embedscope.pipeline.items.ingest_items`.
        """
        return items_step.ingest_items(self, stream)

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

        Runs :func:`embedscope.pipeline.items.add_vectors`.
        """
        return items_step.add_vectors(self, space, ids, vectors, source=source)

    def ingest_vectors(self, source: str | Path, space: str, *, ids: str | Path | None = None,
                       id: str | None = None, vector: str | None = None) -> IngestReport:
        """Bring your own vectors from ``.npy`` (+ ``ids`` file), ``.json`` ``{id: [floats]}``, Parquet/Arrow.

        A new space is streamed from the file into its table in batches (see :func:`add_vector_stream`).

        Runs :func:`embedscope.pipeline.items.ingest_vectors`.
        """
        return items_step.ingest_vectors(self, source, space, ids=ids, id=id, vector=vector)

    def add_vector_stream(self, space: str, stream: Any) -> IngestReport:
        """Store a :class:`embedscope.io.streams.VectorStream` as ``space``, upserting by id.

        Into a new space the vectors go from the file to the table a batch at a time (``.npy`` memory-mapped,
        Parquet a record batch at a time), each batch checked as it passes; a bad vector raises
        :class:`~embedscope.errors.InputError` before anything is committed. The peak is about one batch plus
        Lance's write buffers, not a copy of the vectors. An existing space is merged in memory
        (:meth:`add_vectors`). The file's other scalar columns (``stream.metadata``) are upserted into the
        items as metadata.

        Runs :func:`embedscope.pipeline.items.add_vector_stream`.
        """
        return items_step.add_vector_stream(self, space, stream)

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

    # ----------------------------------------------------------------------------------------- embed
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

        Runs :func:`embedscope.pipeline.embed.embed`.
        """
        return embed_step.embed(self, space, model, batch_size=batch_size, device=device, dimensions=dimensions,
                                dry_run=dry_run, progress=progress, engine=engine, address=address,
                                concurrency=concurrency, backend=backend)

    def embedder(self, space: str | None = None) -> Embedder:
        """The embedder that made ``space`` (to embed queries into it) (:func:`embedscope.pipeline.embed.embedder`)."""
        return embed_step.embedder(self, space)

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray:
        """One text embedded with the space's own model; float32, shape ``(d,)``.

        Runs :func:`embedscope.pipeline.embed.embed_query`.
        """
        return embed_step.embed_query(self, text, space)

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

        Runs :func:`embedscope.pipeline.graph.knn`.
        """
        return graph_step.knn(self, space, k, exact=exact, progress=progress, engine=engine, address=address)

    def graph_info(self, space: str | None = None) -> dict[str, Any] | None:
        """How the stored kNN graph of a space was made, or ``None`` if there is none (or it is stale).

        ``{"exact": bool, "k": int, "method": str}``, and for approximate graphs ``"recall@10"`` (against exact
        search, measured on ``"recall_sample"`` sampled items when it was built), ``"build_s"`` and, built on
        Ray, ``"engine": "ray"``.

        Runs :func:`embedscope.pipeline.graph.graph_info`.
        """
        return graph_step.graph_info(self, space)

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

        Runs :func:`embedscope.pipeline.graph.neighbors`.
        """
        return graph_step.neighbors(self, item, query=query, vector=vector, k=k, metric=metric, space=space,
                                    exact=exact)

    def arithmetic(self, plus: Sequence[str], minus: Sequence[str] = (), *, k: int = 10,
                   space: str | None = None) -> Neighbors:
        """Vector arithmetic on items: nearest (cosine) to ``sum(plus) - sum(minus)`` of unit vectors.

        The items used in the query are left out of the answer, as in word-analogy evaluations
        (``king - man + woman`` -> ``queen``).

        Runs :func:`embedscope.pipeline.graph.arithmetic`.
        """
        return graph_step.arithmetic(self, plus, minus, k=k, space=space)

    # ------------------------------------------------------------------------------ layouts, clusters
    def project(self, space: str | None = None, method: str = "umap", *, seed: int = 42, k: int = 15,
                progress: Progress | None = None, engine: str = "local", address: str | None = None,
                **params: Any) -> Layout:
        """Compute (or reuse) a layout of a space, measure its honesty, and store both.

        Parameters
        ----------
        space
            Space name.
        method
            A registered layout method (:func:`embedscope.projection.method_names`): ``umap`` (default),
            ``pca``, ``tsne``, ``sphere``, or one added with :func:`embedscope.projection.register`.
        seed
            Random seed (the layout is reproducible).
        k
            Neighbourhood size of the honesty metrics (trustworthiness, continuity, kNN recall).
        engine, address
            ``ray`` (UMAP only): fit on a sample in this process, place every other item with ``transform``
            in Ray tasks on the cluster at ``address`` (``None``: a local runtime on 127.0.0.1); the same
            layout as the single-process path (:func:`embedscope.engines.ray.umap.umap_layout_ray`). Only spaces
            fitted on a sample (above 100,000 items, or ``sample=``) have anything to place.
        **params
            Method parameters (e.g. ``n_neighbors``, ``min_dist``, ``perplexity``), recorded with the layout.

        Returns
        -------
        Layout
            With ``quality`` (global figures) and ``per_item`` honesty arrays.

        Runs :func:`embedscope.pipeline.layouts.project`.
        """
        return layouts_step.project(self, space, method, seed=seed, k=k, progress=progress, engine=engine,
                                    address=address, **params)

    def layouts(self, space: str | None = None) -> list[str]:
        """Stored layout methods of a space (:func:`embedscope.pipeline.layouts.layouts`)."""
        return layouts_step.layouts(self, space)

    def layout(self, space: str | None, method: str) -> Layout:
        """A stored layout, in the space's point order (:func:`embedscope.pipeline.layouts.layout`)."""
        return layouts_step.layout(self, space, method)

    def quality(self, space: str | None = None) -> list[dict[str, Any]]:
        """Honesty figures of every stored layout of a space (JSON-ready, one dict per layout).

        Runs :func:`embedscope.pipeline.layouts.quality`.
        """
        return layouts_step.quality(self, space)

    def cluster(self, space: str | None = None, method: str = "hdbscan", *, n_clusters: int | None = None,
                min_cluster_size: int | None = None, seed: int = 0) -> Clustering:
        """Cluster a space (HDBSCAN on its UMAP map, or k-means) and label clusters by class-based TF-IDF.

        The UMAP layout is computed first if missing. Stored as ``clusters__{space}``; rerunning with the
        same inputs and parameters returns the stored result.

        Runs :func:`embedscope.pipeline.clusters.cluster`.
        """
        return clusters_step.cluster(self, space, method, n_clusters=n_clusters, min_cluster_size=min_cluster_size,
                                     seed=seed)

    def clusters(self, space: str | None = None) -> Clustering | None:
        """The stored clustering of a space (labels in point order), or ``None``.

        Runs :func:`embedscope.pipeline.clusters.clusters`.
        """
        return clusters_step.clusters(self, space)

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
