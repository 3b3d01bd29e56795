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

Modules: :mod:`.runtime`, :mod:`.staging`, :mod:`.embed`, :mod:`.knn`, :mod:`.umap`.
"""
