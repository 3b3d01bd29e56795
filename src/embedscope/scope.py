"""The :class:`Scope`: an embedscope workspace (see :mod:`embedscope.workspace` for its tables and manifest).

Its storage is :class:`embedscope.store.workspace.Workspace` (``scope.store``); the steps it runs are functions
in :mod:`embedscope.pipeline` (items, embed, graph, layouts, clusters), which its methods call; the heavy steps
run on an engine chosen by name (:func:`embedscope.engines.get_engine`); the analyses are functions in
:mod:`embedscope.ops` that take a scope. Every method past lifecycle, spaces and info is a one-line delegation.
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

from .analyses.clusters import Clustering
from .analyses.distributions import DimensionStats, LabelSeparation
from .analyses.similarity import Histogram, MetricOverlap
from .embedders import DryRun, Embedder
from .errors import InputError, WorkspaceError
from .ops import compare as ops_compare
from .ops import compress as ops_compress
from .ops import contexts as ops_contexts
from .ops import health as ops_health
from .ops import probe as ops_probe
from .ops import report as ops_report
from .ops import similarity as ops_similarity
from .ops import train as ops_train
from .ops import translate as ops_translate
from .ops import words as ops_words
from .pipeline import clusters as clusters_step
from .pipeline import embed as embed_step
from .pipeline import graph as graph_step
from .pipeline import images as images_step
from .pipeline import items as items_step
from .pipeline import layouts as layouts_step
from .results import EmbedReport, ImageIngestReport, IngestReport, Layout, Neighbors, Progress, SpaceInfo
from .search.exact import KNN
from .search.graph import DEFAULT_K, GRAPH_ON_DEMAND_MAX
from .store.manifest import Manifest, Record, library_versions
from .store.tables import IMAGES, ITEMS, neighbors_table, vectors_table
from .store.workspace import Workspace

__all__ = ["DEFAULT_K", "GRAPH_ON_DEMAND_MAX", "Progress", "Scope", "copy_workspace"]


class Scope:
    """An embedscope workspace. Open one with :func:`embedscope.open` or :func:`embedscope.create`.

    Lifecycle, spaces and info are here; items, embedding, neighbours, layouts and clusters are the steps of
    :mod:`embedscope.pipeline` (each method names its function); health, similarity, the report,
    comparison of spaces, compression and translators are functions of :mod:`embedscope.ops` that take a scope
    (each method names its function).

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

    # ------------------------------------------------------------------------------ images (pipeline)
    def ingest_images(self, source: str | Path, *, image_column: str | None = None, id_column: str | None = None,
                      text_column: str | None = None, image_root: str | Path | None = None, strict: bool = False,
                      progress: Progress | None = None) -> ImageIngestReport:
        """Add or update image items from a folder (recursive; ids: relative paths) or a table whose
        ``image_column`` holds paths relative to the table's folder (or ``image_root``); thumbnails stored in the
        ``images`` table.

        Bad files are skipped and listed in the report (``strict``: an ``InputError`` at the first one); a rerun
        does not decode unchanged files. Runs :func:`embedscope.pipeline.images.ingest_images`.
        """
        return images_step.ingest_images(self, source, image_column=image_column, id_column=id_column,
                                         text_column=text_column, image_root=image_root, strict=strict,
                                         progress=progress)

    def has_images(self) -> bool:
        """Whether the workspace holds images (:func:`embedscope.pipeline.images.has_images`)."""
        return images_step.has_images(self)

    def image_files(self) -> tuple[list[str], list[str], list[str]]:
        """Items that have an image, in item order: ids, absolute source paths, sha256 content hashes
        (:func:`embedscope.pipeline.images.image_files`)."""
        return images_step.image_files(self)

    def thumbnails(self, ids: list[str]) -> dict[str, bytes]:
        """WebP thumbnails (longest side 128 px) of the ``ids`` that have one
        (:func:`embedscope.pipeline.images.thumbnails`)."""
        return images_step.thumbnails(self, ids)

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
        model: str | None = None,
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
            ``local``, ``local:PATH``, ``openai:MODEL``, ``tfidf:DIM``, ``e5``, ``image`` (the bundled image model),
            ``clip:PATH``, ``avg:word2vec`` or ``avg:glove``; ``None``: ``image`` for a workspace of images without
            texts, else ``local``.
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

    def forget_embedder(self, space: str) -> None:
        """Drop the cached query embedder of ``space`` (its vectors were replaced; the next query reads the
        space's record again)."""
        self.query_embedders.pop(space, None)

    def embedder(self, space: str | None = None) -> Embedder:
        """The embedder that made ``space`` (to embed queries into it) (:func:`embedscope.pipeline.embed.embedder`)."""
        return embed_step.embedder(self, space)

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray:
        """One text embedded with the space's own model; float32, shape ``(d,)``.

        Runs :func:`embedscope.pipeline.embed.embed_query`.
        """
        return embed_step.embed_query(self, text, space)

    def query_route(self, space: str | None = None) -> dict[str, Any]:
        """How a text query of ``space`` is embedded: ``{"route": "model" | "translator", "space", "model",
        "via", ...}`` with a translator's held-out ``recall_at_10`` and the mean-vector ``baseline_recall_at_10``
        (:func:`embedscope.pipeline.embed.query_route`)."""
        return embed_step.query_route(self, space)

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
            "images": (self.store.record(IMAGES) or Record("", "")).rows,
            "columns": [c for c in self.items().column_names] if items else [],
            "spaces": spaces, "stale": sorted(stale),
            "versions": {**library_versions(), "python": sys.version.split()[0]},
        }

    # ------------------------------------------------------------------------------ analysis (ops)

    def health(self, space: str | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
        """Every space-health check (see :mod:`embedscope.analyses.diagnostics`) as JSON-ready dicts
        (:func:`embedscope.ops.health.health`)."""
        return ops_health.health(self, space, seed=seed)

    def rank(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
             k: int = 10, metric: str = "cosine", least: bool = False, space: str | None = None) -> Neighbors:
        """The ``k`` most (or, with ``least``, least) similar items to an item, a text or a vector.

        An exact scan of the space (see :func:`embedscope.analyses.similarity.rank`); the queried item is left out.
        Scores: cosine similarity, dot product, euclidean or manhattan distance
        (:func:`embedscope.ops.similarity.rank`).
        """
        return ops_similarity.rank(self, item, query=query, vector=vector, k=k, metric=metric, least=least, space=space)

    def closer(self, a: str, b: str, c: str, *, metric: str = "cosine", space: str | None = None) -> dict[str, Any]:
        """Which of items ``b`` and ``c`` is closer to item ``a``; JSON-ready (:func:`embedscope.ops.similarity.closer`).

        Returns
        -------
        dict
            ``{"space", "a", "b", "c", "metric", "closer": id | null (a tie), "score_b", "score_c",
            "rank_b", "rank_c", "n"}``: ranks are 1-based among all items seen from ``a``.
        """
        return ops_similarity.closer(self, a, b, c, metric=metric, space=space)

    def similarity_histogram(self, item: str | None = None, *, query: str | None = None,
                             vector: np.ndarray | None = None, metric: str = "cosine", bins: int = 50,
                             space: str | None = None) -> Histogram:
        """Histogram of one query's scores against every item (the item itself left out); a
        :class:`embedscope.analyses.similarity.Histogram` (``.to_json()`` for JSON)
        (:func:`embedscope.ops.similarity.similarity_histogram`)."""
        return ops_similarity.similarity_histogram(self, item, query=query, vector=vector, metric=metric, bins=bins,
                                                   space=space)

    def pair_histogram(self, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                       sample: int | None = None, seed: int = 0) -> Histogram:
        """Histogram of pair similarities: every pair up to 2,000 items, else ``sample`` (default 200,000)
        uniformly random pairs with ``seed``; a :class:`embedscope.analyses.similarity.Histogram` stating which
        (:func:`embedscope.ops.similarity.pair_histogram`)."""
        return ops_similarity.pair_histogram(self, space, metric=metric, bins=bins, sample=sample, seed=seed)

    def label_columns(self, space: str | None = None, *, max_labels: int = 50) -> list[str]:
        """Metadata columns that look categorical: text or boolean, 2..``max_labels`` distinct values, and
        at least one value shared by two items (:func:`embedscope.ops.similarity.label_columns`)."""
        return ops_similarity.label_columns(self, space, max_labels=max_labels)

    def label_separation(self, label: str, space: str | None = None, *, metric: str = "cosine", bins: int = 50,
                         sample: int | None = None, seed: int = 0) -> LabelSeparation:
        """Same-label against different-label pair similarities and their ROC AUC, for the metadata column
        ``label`` (items without a label left out); a :class:`embedscope.analyses.distributions.LabelSeparation`
        (:func:`embedscope.ops.similarity.label_separation`)."""
        return ops_similarity.label_separation(self, label, space, metric=metric, bins=bins, sample=sample, seed=seed)

    def metric_overlap(self, item: str | None = None, *, query: str | None = None, vector: np.ndarray | None = None,
                       k: int = 10, space: str | None = None) -> MetricOverlap:
        """The top-``k`` under cosine, dot, euclidean and manhattan for one query, with their overlap and
        which must agree; a :class:`embedscope.analyses.similarity.MetricOverlap` (``.to_json(ids)``)
        (:func:`embedscope.ops.similarity.metric_overlap`)."""
        return ops_similarity.metric_overlap(self, item, query=query, vector=vector, k=k, space=space)

    def dimension_stats(self, space: str | None = None) -> DimensionStats:
        """Mean, spread, min and max of each dimension; a :class:`embedscope.analyses.distributions.DimensionStats`
        (:func:`embedscope.ops.similarity.dimension_stats`)."""
        return ops_similarity.dimension_stats(self, space)

    def report(self, path: str | Path, *, spaces: Sequence[str] | None = None, png_dir: str | Path | None = None,
               seed: int = 0, item: str | None = None) -> Path:
        """Write the static, self-contained HTML report of the given spaces (default: all) to ``path``; with
        ``png_dir``, the same figures also as PNG files there. ``item``: the example item of the query
        histogram, rankings and vector chart (default: each space's top hub) (:func:`embedscope.ops.report.report`)."""
        return ops_report.report(self, path, spaces=spaces, png_dir=png_dir, seed=seed, item=item)

    # ------------------------------------------------------------------------------ compare (ops)

    def compare(self, a: str, b: str, *, k: int = 10, label: str | None = None, qrels: str | Path | None = None,
                top: int = 10, seed: int = 0) -> dict[str, Any]:
        """Compare two spaces on the items they share (see :mod:`embedscope.analyses.compare`); JSON-ready, stored
        as ``compare__{a}__{b}`` and reused until either space changes (:func:`embedscope.ops.compare.compare`).

        Parameters
        ----------
        a, b
            Space names (any dimensions: they share ids, not coordinates).
        k
            Neighbourhood size for agreement and retrieval.
        label
            A metadata column for same-label retrieval (precision, recall, nDCG at k), or ``None``.
        qrels
            A file of query / relevant-item judgements (see :mod:`embedscope.io.qrels`), or ``None``.
        top
            How many "changed most" items to list with both neighbour lists.
        seed
            Seed of the random pairs and of the bootstrap.

        Returns
        -------
        dict
            ``{"spaces": [a, b], "k", "items", "dims", "jaccard_mean", "jaccard_median", "jaccard_histogram",
            "chance_jaccard", "cka", "spearman", "spearman_pairs", "similarity": {"edges", "a", "b"},
            "calibration": {"percentiles", "a", "b"}, "retrieval": {...} | None, "qrels": {...} | None,
            "changed_most": [{"id", "jaccard", "neighbors_a", "neighbors_b"}], "verdict": str}``.
        """
        return ops_compare.compare(self, a, b, k=k, label=label, qrels=qrels, top=top, seed=seed)

    def comparison(self, a: str, b: str) -> tuple[list[str], np.ndarray, dict[str, Any]] | None:
        """The stored comparison of ``a`` and ``b``: ids, per-item Jaccard@k (float32, ``(n,)``) and the result.

        ``None`` when it was never computed or either space changed since (:func:`embedscope.ops.compare.comparison`).
        """
        return ops_compare.comparison(self, a, b)

    def probe(self, label: str, spaces: Sequence[str] | None = None, *, folds: int = 5, seed: int = 0,
              ids: Sequence[str] | None = None) -> dict[str, Any]:
        """What each space knows about the metadata column ``label``: cross-validated logistic-regression and
        k-NN accuracy and macro-F1 with bootstrap intervals, the shuffled-label control, per-class figures and the
        most confident mistakes (ridge R² for a numeric column); ``ids`` restricts to those items
        (:func:`embedscope.ops.probe.probe`). Returns ``{"label", "items", "spaces": {name: result}}``."""
        return ops_probe.probe(self, label, spaces, folds=folds, seed=seed, ids=ids)

    def retrieval(self, spaces: Sequence[str], *, k: int = 10, label: str | None = None,
                  qrels: str | Path | None = None, bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
        """Retrieval quality of two or more spaces on the items they share: which model wins on this data
        (:func:`embedscope.ops.compare.retrieval`).

        Parameters
        ----------
        spaces
            Two or more space names.
        label
            Same-label retrieval: every item with at least one other item of its label is a query.
        qrels
            Query / relevant-item judgements (:mod:`embedscope.io.qrels`): a query that is an item id is that item
            (left out of its own results); any other query is a text embedded with each space's own model.

        Returns
        -------
        dict
            ``{"spaces", "k", "label": {...} | None, "qrels": {...} | None}``; each part is ``{"queries",
            "rows": [{"metric", "values": {space: mean}, "best", "runner_up", "difference", "ci95", "winner"}]}``
            (``winner`` is ``None`` when the 95% interval of the best-minus-runner-up difference holds 0).
        """
        return ops_compare.retrieval(self, spaces, k=k, label=label, qrels=qrels, bootstrap=bootstrap, seed=seed)

    # ------------------------------------------------------------------------------ compress (ops)

    def compress(self, space: str | None = None, codecs: Sequence[str] | None = None, *, queries: int = 1000,
                 seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """The compression table of a space (see :mod:`embedscope.analyses.compress`), stored and reused; JSON-ready
        (:func:`embedscope.ops.compress.compress`).

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
        return ops_compress.compress(self, space, codecs, queries=queries, seed=seed, progress=progress)

    def compression(self, space: str | None = None) -> dict[str, Any] | None:
        """The stored compression table of a space (as :meth:`compress` returns it, plus ``stale``: the vectors
        changed since), or ``None`` when it was never measured (:func:`embedscope.ops.compress.compression`)."""
        return ops_compress.compression(self, space)

    def compress_space(self, space: str | None, codec: str, as_name: str) -> SpaceInfo:
        """Store a compressed copy of ``space`` as the new space ``as_name``: the decoded vectors of ``codec``
        (what a search of the compressed index sees), flagged ``source: compressed`` with the codec's bytes per
        vector and, when the compression table has it, its recall (:func:`embedscope.ops.compress.compress_space`).
        """
        return ops_compress.compress_space(self, space, codec, as_name)

    def export_compressed(self, space: str | None, codec: str, path: str | Path) -> dict[str, Any]:
        """Write the compact codes of ``space`` under ``codec`` with the ids and codec parameters to one
        ``.npz`` (see :func:`embedscope.analyses.compress.export_codes`); returns its metadata
        (:func:`embedscope.ops.compress.export_compressed`)."""
        return ops_compress.export_compressed(self, space, codec, path)

    # ------------------------------------------------------------------------------ translate (ops)

    def translate_pairs(self, a: str, b: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Items embedded in both spaces: ids (in ``a``'s point order) and their vectors ``(n, d_a)``, ``(n, d_b)``
        (:func:`embedscope.ops.translate.translate_pairs`)."""
        return ops_translate.translate_pairs(self, a, b)

    def translate_eval(self, a: str, b: str, *, methods: Sequence[str] | None = None, curve: bool = True,
                       test_size: int | None = None, seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """Evaluate translators from space ``a`` to ``b`` on held-out shared items, with baselines and a
        learning curve (see :func:`embedscope.translate.evaluate`). Returns the ``translate eval`` JSON document
        (:func:`embedscope.ops.translate.translate_eval`)."""
        return ops_translate.translate_eval(self, a, b, methods=methods, curve=curve, test_size=test_size, seed=seed,
                                            progress=progress)

    def translation(self, a: str, b: str) -> dict[str, Any] | None:
        """The latest stored ``translate eval`` document from space ``a`` to ``b`` (plus ``stale``: either
        space changed since), or ``None`` (:func:`embedscope.ops.translate.translation`)."""
        return ops_translate.translation(self, a, b)

    def translate_fit(self, a: str, b: str, method: str = "auto", *, path: str | Path | None = None, seed: int = 0,
                      test_size: int | None = None, select: str = "mean_cosine", progress: Progress | None = None,
                      keep: bool = True) -> Any:
        """Fit a translator from space ``a`` to ``b`` on every shared item, after measuring it on held-out items
        (:func:`embedscope.ops.translate.translate_fit`).

        Parameters
        ----------
        method
            ``procrustes``, ``ridge``, ``lowrank``, ``mlp`` or ``auto`` (best held-out ``select`` figure).
        select
            What ``auto`` maximises: ``mean_cosine``, ``top1``, ``top10`` or ``recall@10``.
        path
            Where to save the translator file (``.npz`` format, any name), if given.
        keep
            Keep it in the workspace: text queries of ``b`` go through ``a``'s model and this map when ``b`` has
            no text model (:meth:`query_route`).

        Returns
        -------
        embedscope.translate.Translator
            With the held-out figures in ``meta["metrics"]`` and ``meta["evaluation"]``.
        """
        return ops_translate.translate_fit(self, a, b, method, path=path, seed=seed, test_size=test_size, select=select,
                                           progress=progress, keep=keep)

    def translate_apply(self, translator: Any, space: str, name: str, *, batch_size: int = 65_536,
                        progress: Progress | None = None) -> IngestReport:
        """Translate every vector of ``space`` into a new space ``name``, flagged as translated
        (:func:`embedscope.ops.translate.translate_apply`).

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
        return ops_translate.translate_apply(self, translator, space, name, batch_size=batch_size, progress=progress)

    # ---------------------------------------------------------------------------------- train (ops)

    def train(self, *, base: str = "local", label: str | None = None, pairs: str | Path | None = None,
              qrels: str | Path | None = None, space: str = "tuned", epochs: int = 1, batch_size: int = 32,
              lr: float = 2e-5, held_out: float = 0.2, seed: int = 0, checkpoint_every: int = 100,
              progress: Progress | None = None, on_step: Any = None) -> dict[str, Any]:
        """Fine-tune a local sentence model (``base``: ``local`` or ``local:PATH``) on the training part of a
        seeded split (by ``label``, or ``pairs``, or ``qrels``), embed every item into ``space`` and compare base
        and tuned on the held-out items (:func:`embedscope.ops.train.train`). Resumes a killed run; a rerun with
        the same inputs is a no-op (``skipped``).

        Returns
        -------
        dict
            ``{"space", "base", "base_space", "epochs", "steps", "loss", "loss_curve", "split", "held_out",
            "train_part", "warnings", "seconds", "skipped"}``; ``held_out`` / ``train_part``: ``{"items", "k",
            "jaccard", "precision": {"base", "tuned", "gain", "ci95", "queries"}, "probe"}``.
        """
        return ops_train.train(self, base=base, label=label, pairs=pairs, qrels=qrels, space=space, epochs=epochs,
                               batch_size=batch_size, lr=lr, held_out_share=held_out, seed=seed,
                               checkpoint_every=checkpoint_every, progress=progress, on_step=on_step)

    def held_out(self, space: str) -> list[str] | None:
        """The ids of a tuned space's held-out items (never trained on), or ``None`` when ``space`` is not a
        tuned space (:func:`embedscope.ops.train.held_out`)."""
        return ops_train.held_out(self, space)

    # ------------------------------------------------------------------------------- contexts (ops)
    def contexts(self, word: str, **options: Any) -> ops_contexts.ContextsReport:
        """The occurrences of ``word`` in this workspace's texts as a workspace of their own (default
        ``WS/contexts/<word>``): their contextual vectors at every layer of the bundled model (spaces
        ``layer_0``..``layer_L``), each with its graph, map and k-means clusters, and each layer's purity against
        ``label`` (:func:`embedscope.ops.contexts.contexts`: ``to``, ``label``, ``layer``, ``layers``,
        ``clusters``, ``window``, ``limit``, ``model``, ``seed``, ``progress``, ``log``)."""
        return ops_contexts.contexts(self, word, open_target=lambda p: type(self).create(p, exist_ok=True), **options)


# ------------------------------------------------------------------------------------------ helpers

    # ---------------------------------------------------------------------------------------- words
    def words(self, to: str | Path | None = None, *, spaces: Sequence[str] = ops_words.SPACES, **options: Any
              ) -> dict[str, Any]:
        """Build (or complete) the words workspace of this workspace's texts at ``to`` (default ``WS/words``):
        the vocabulary as items and the word spaces ``word2vec``, ``glove``, ``minilm``, each with its kNN graph
        and UMAP layout. ``options``: ``min_count``, ``max_words``, ``keep_stop_words``, ``cbow``, ``dim``,
        ``window``, ``epochs``, ``seed``, ``layout``, ``progress``, ``log``. Open the result with
        :func:`embedscope.open` (it is an ordinary workspace).

        Runs :func:`embedscope.ops.words.build_words`.
        """
        path = ops_words.target_path(self.path, to)
        return ops_words.build_words(self, lambda: type(self).create(path, exist_ok=True), spaces=spaces, **options)


def copy_workspace(src: str | Path, dst: str | Path) -> None:
    """Copy a workspace directory (for backups and tests)."""
    shutil.copytree(src, dst)
