"""The Ray backend: the heavy steps of a workspace run on a Ray cluster, with Lance datasets as the exchange.

Embedding (:func:`.embed.embed_texts_ray`) is a Ray Data pipeline over the texts still to embed: ``map_batches``
with an actor pool, one embedder loaded once per actor (:class:`.embed.EmbedActor`). Each actor appends every batch
it finishes to its own *staging* Lance dataset (one atomic Lance commit per batch, no two writers on one
dataset). The driver then streams the vectors from those datasets, a few thousand at a time, into the result
and the workspace's embedding cache, and deletes them. The space itself is written once, at the end, by the
caller: a job killed at any point leaves it as it was, and a rerun finds the batches already staged (or in
the cache) and embeds only the rest.

The exact kNN graph (:func:`.knn.knn_graph_ray`) splits the queries into shards, one Ray task each, every task
scanning its shard against all vectors (put once in the object store); the shards' answers are concatenated
into the graph :func:`embedscope.search.exact.knn_graph` gives in one process. The approximate graph
(:func:`.knn.ann_graph_ray`, chosen above :data:`embedscope.search.ann.ANN_ABOVE` items) builds one HNSW index per
shard of the items, searches every item in each, and merges the exactly rescored lists; finished shards are
staged in the workspace (:class:`.staging.ShardStage`) so a killed build reruns only the missing ones, and a task whose
worker dies is retried.

UMAP layouts (:func:`.umap.umap_layout_ray`) are fitted on a sample in the driver, as the single-process path does
above 100,000 items; every ``transform`` batch of the other items is then one Ray task, the fitted model put
once in the object store. The layout is the single-process one (umap-learn seeds every ``transform`` call).

``address=None`` starts a Ray runtime in this process bound to 127.0.0.1 (2 CPUs, a 500 MB object store);
otherwise ``address`` is that of a running cluster (``ray start --head``). On a cluster of several machines
the staging dataset must be somewhere every node sees: a shared directory or object storage (``s3://...``).

Ray is optional: ``pip install 'embedscope[ray]'``.

Modules: :mod:`.runtime`, :mod:`.staging`, :mod:`.embed`, :mod:`.knn`, :mod:`.umap`; :class:`RayEngine` is the
:class:`embedscope.engines.base.Engine` over them. Nothing here imports Ray until a step runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...embedders import Embedder
from ...embedders.run import EmbedStats, VectorCache
from ...errors import InputError
from ...projection.base import LayoutResult
from ...search.exact import KNN
from ..base import Engine, Step


class RayEngine(Engine):
    """The heavy steps as Ray tasks and actors on the cluster at ``address`` (``None``: a local runtime on
    127.0.0.1).

    Parameters
    ----------
    address
        A running cluster's address (``ray start --head``), or ``None``.
    """

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def embed_texts(self, texts: Sequence[str], embedder: Embedder, cache: VectorCache, *, model: str,
                    options: dict[str, Any], staging: Path, batch_size: int | None = None,
                    concurrency: int | None = None, on_batch: Step | None = None,
                    hashes: Sequence[str] | None = None) -> tuple[np.ndarray, EmbedStats]:
        """:func:`.embed.embed_texts_ray`: an actor pool, each actor loading the model from ``model`` and
        ``options``; a model fitted on the corpus (``embedder.needs_fit``) is refused."""
        from .embed import embed_texts_ray

        if embedder.needs_fit:
            raise InputError(f"--model {model} is fitted on the whole corpus in one process; "
                             "embed it without --engine ray")
        return embed_texts_ray(texts, model, options, cache, str(staging),
                               batch_size=batch_size or embedder.batch_size, concurrency=concurrency,
                               address=self.address, on_batch=on_batch, hashes=hashes)

    def knn_graph(self, x: np.ndarray, k: int, *, progress: Step | None = None) -> KNN:
        """:func:`.knn.knn_graph_ray`: query shards scanned by Ray tasks (the single-process graph)."""
        from .knn import knn_graph_ray

        return knn_graph_ray(x, k, address=self.address, progress=progress)

    def ann_graph(self, x: np.ndarray, k: int, *, key: str, staging: Path, progress: Step | None = None) -> KNN:
        """:func:`.knn.ann_graph_ray`: one HNSW index per shard, merged; finished shards staged."""
        from .knn import ann_graph_ray

        return ann_graph_ray(x, k, address=self.address, progress=progress, key=key, staging=staging)

    def layout(self, x: np.ndarray, method: str, *, knn: KNN | None, seed: int, key: str, staging: Path,
               progress: Step | None = None, extra: dict[str, Any] | None = None, **params: Any) -> LayoutResult:
        """:func:`.umap.umap_layout_ray` (the only method whose ``engines`` trait names ``ray``)."""
        from .umap import umap_layout_ray

        res: LayoutResult = umap_layout_ray(x, seed=seed, address=self.address, progress=progress, key=key,
                                            staging=staging, **params)
        return res

