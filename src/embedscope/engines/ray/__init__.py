"""The Ray backend: the heavy steps of a workspace run on a Ray cluster, with Lance datasets as the exchange.

Embedding (:func:`embed_texts_ray`) is a Ray Data pipeline over the texts still to embed: ``map_batches``
with an actor pool, one embedder loaded once per actor (:class:`EmbedActor`). Each actor appends every batch
it finishes to its own *staging* Lance dataset (one atomic Lance commit per batch, no two writers on one
dataset). The driver then streams the vectors from those datasets, a few thousand at a time, into the result
and the workspace's embedding cache, and deletes them. The space itself is written once, at the end, by the
caller: a job killed at any point leaves it as it was, and a rerun finds the batches already staged (or in
the cache) and embeds only the rest.

The exact kNN graph (:func:`knn_graph_ray`) splits the queries into shards, one Ray task each, every task
scanning its shard against all vectors (put once in the object store); the shards' answers are concatenated
into the graph :func:`embedscope.search.exact.knn_graph` gives in one process. The approximate graph
(:func:`ann_graph_ray`, chosen above :data:`embedscope.search.ann.ANN_ABOVE` items) builds one HNSW index per
shard of the items, searches every item in each, and merges the exactly rescored lists; finished shards are
staged in the workspace (:class:`ShardStage`) so a killed build reruns only the missing ones, and a task whose
worker dies is retried.

UMAP layouts (:func:`umap_layout_ray`) are fitted on a sample in the driver, as the single-process path does
above 100,000 items; every ``transform`` batch of the other items is then one Ray task, the fitted model put
once in the object store. The layout is the single-process one (umap-learn seeds every ``transform`` call).

``address=None`` starts a Ray runtime in this process bound to 127.0.0.1 (2 CPUs, a 500 MB object store);
otherwise ``address`` is that of a running cluster (``ray start --head``). On a cluster of several machines
the staging dataset must be somewhere every node sees: a shared directory or object storage (``s3://...``).

Ray is optional: ``pip install 'embedscope[ray]'``.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa

from .embedding import EmbedStats, VectorCache, text_hash
from .errors import InputError, MissingDependencyError
from .search.exact import BLOCK_BYTES, KNN, search
from .storage import atomic_path

#: CPUs and object store of the Ray runtime started when no ``address`` is given.
LOCAL_CPUS = 2
LOCAL_OBJECT_STORE_BYTES = 500 * 2**20


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as e:
        if getattr(e, "name", None) not in (None, "ray", "ray.data"):
            raise  # Ray is there but one of its own imports failed: show that, not "install Ray"
        raise MissingDependencyError("--engine ray", "ray", "ray[data]") from None
    try:
        import lance  # noqa: F401  (the staging datasets)
    except ImportError:
        raise MissingDependencyError("--engine ray", "ray", "pylance") from None
    return ray


class _DropLine(logging.Filter):
    """Drops log records whose message holds a given text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


@contextmanager
def ray_runtime(address: str | None = None) -> Iterator[Any]:
    """Connect to Ray for the duration of a step, and disconnect if this call connected.

    Parameters
    ----------
    address
        ``None``: reuse the runtime this process already has, else start one bound to 127.0.0.1 with
        :data:`LOCAL_CPUS` CPUs and a :data:`LOCAL_OBJECT_STORE_BYTES` object store. Else the address of a
        running cluster (``HOST:PORT`` or ``ray://HOST:PORT``; ``auto`` for the one ``ray start`` made here).

    Yields
    ------
    module
        The ``ray`` module.
    """
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": logging.WARNING, "configure_logging": True}
    if address is None:
        kwargs.update(address="local", num_cpus=LOCAL_CPUS, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                      _node_ip_address="127.0.0.1")
        # Ray turns 127.0.0.1 into the machine's routable address unless it thinks it is on a laptop, where a
        # one-node "cluster" stays on loopback; ask for that behaviour (this process and the ones it starts)
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        try:
            from ray._private import ray_constants

            ray_constants.ENABLE_RAY_CLUSTER = False
        except (ImportError, AttributeError):  # pragma: no cover - a Ray without this switch
            pass
    else:
        kwargs["address"] = address
    # the CLI runs commands in a worker thread (embedscope.interrupt), where Ray cannot set its SIGTERM handler and
    # says so: no news (a terminated driver's local runtime ends with it, its processes share its fate)
    quiet = _DropLine("current thread is not the main thread")
    logging.getLogger("ray._private.worker").addFilter(quiet)
    try:
        with warnings.catch_warnings():  # lance/lancedb warn about the raylet forked off this process
            warnings.simplefilter("ignore")
            ray.init(**kwargs)
    except ConnectionError as e:
        raise InputError(f"cannot reach the Ray cluster at {address!r}: {e}") from None
    finally:
        logging.getLogger("ray._private.worker").removeFilter(quiet)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield ray
    finally:
        ray.shutdown()


# ------------------------------------------------------------------------------------------- embedding
_SCHEMA_META = b"embedscope.staging"


def _append(uri: str, table: pa.Table, tries: int = 20) -> None:
    """Append ``table`` to the Lance dataset at ``uri`` (created by the first writer), retrying on conflicts."""
    import lance

    for attempt in range(tries):
        try:
            mode = "append" if _exists(uri) else "create"
            lance.write_dataset(table, uri, mode=mode)
            return
        except Exception:  # a concurrent create or commit won; the next try appends after it
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _exists(uri: str) -> bool:
    import lance

    try:
        lance.dataset(uri)
        return True
    except (ValueError, FileNotFoundError, OSError):
        return False


class EmbedActor:
    """One embedder per Ray actor, loaded once; each call embeds a batch and appends it to the actor's own
    staging dataset.

    Parameters
    ----------
    model
        The ``--model`` value (:func:`embedscope.embedders.get_embedder`).
    options
        ``batch_size``, ``device``, ``dimensions`` for the embedder.
    uri
        The staging directory (local path or object-storage URI seen by every node); the actor writes
        ``{uri}/actor-{random}.lance``, a dataset no other actor appends to (so commits never conflict).
    """

    def __init__(self, model: str, options: dict[str, Any], uri: str) -> None:
        import uuid

        from .embedders import get_embedder

        self.embedder = get_embedder(model, **options)
        self.uri = f"{uri.rstrip('/')}/actor-{uuid.uuid4().hex[:16]}.lance"
        if "torch" in sys.modules or model.partition(":")[0] == "local":
            try:  # one thread per CPU Ray gave this actor, not one per core of the machine
                import torch

                _ = self.embedder.model  # type: ignore[attr-defined]
                torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
            except (ImportError, AttributeError):
                pass

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Embed one batch.

        Parameters
        ----------
        batch
            ``{"hash": (b,) str, "text": (b,) str}``.

        Returns
        -------
        dict
            ``{"hash": (b,) str, "truncated": (b,) bool}``; the vectors, float32 ``(b, d)``, went to the
            staging dataset.
        """
        texts = [str(t) for t in batch["text"]]
        hashes = [str(h) for h in batch["hash"]]
        x = np.ascontiguousarray(self.embedder.embed(texts), dtype=np.float32)
        window = self.embedder.max_tokens
        counts, _ = self.embedder.count_tokens(texts) if window is not None else ([0] * len(texts), False)
        table = pa.table({"hash": pa.array(hashes, pa.string()),
                          "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])})
        _append(self.uri, table)
        return {"hash": np.asarray(hashes, dtype=object),
                "truncated": np.asarray([window is not None and c > window for c in counts], dtype=bool)}


def _staged_datasets(uri: str) -> list[str]:
    """The staging datasets under ``uri``: one per actor (``actor-*.lance``), and ``uri`` itself if it is one
    (the single shared dataset of earlier versions, left by a killed run)."""
    import pyarrow.fs as pafs

    out = [uri] if _exists(uri) else []
    fs, path = pafs.FileSystem.from_uri(uri if "://" in uri else os.path.abspath(uri))
    scheme = uri.split("://", 1)[0] + "://" if "://" in uri else ""
    for info in fs.get_file_info(pafs.FileSelector(path, allow_not_found=True)):
        if info.type == pafs.FileType.Directory and info.base_name.startswith("actor-") and \
                info.base_name.endswith(".lance") and _exists(scheme + info.path):
            out.append(scheme + info.path)
    return sorted(out)


def staged_batches(uri: str, rows: int = 8192) -> Iterator[tuple[list[str], np.ndarray]]:
    """Stream the vectors staged under ``uri``, ``rows`` at a time: (hashes, float32 ``(b, d)``) per batch.

    A retried batch may have been appended twice: the same hash then comes again with the same vector.
    """
    import lance

    for ds_uri in _staged_datasets(uri):
        for rb in lance.dataset(ds_uri).to_batches(columns=["hash", "vector"], batch_size=rows):
            if rb.num_rows == 0:
                continue
            col = rb.column(1)
            x = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, col.type.list_size)  # flatten: honours a slice
            yield rb.column(0).to_pylist(), x


def read_staging(uri: str) -> dict[str, np.ndarray]:
    """The vectors staged under ``uri``: content hash -> float32 ``(d,)`` (empty if there are none).

    Holds them all in memory: for inspection and tests; :func:`embed_texts_ray` streams instead.
    """
    out: dict[str, np.ndarray] = {}
    for hashes, x in staged_batches(uri):
        for h, v in zip(hashes, x, strict=True):
            out.setdefault(h, v)
    return out


def drop_staging(uri: str) -> None:
    """Delete a staging directory or dataset (local or object storage)."""
    import pyarrow.fs as pafs

    fs, path = pafs.FileSystem.from_uri(uri if "://" in uri else os.path.abspath(uri))
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_dir(path)
    parent = os.path.dirname(path)
    if "://" not in uri and os.path.isdir(parent) and not os.listdir(parent):
        os.rmdir(parent)  # the workspace's staging/ directory, now empty


class _Assembly:
    """The ``(n, d)`` result of :func:`embed_texts_ray`, filled in place as vectors arrive (one copy)."""

    def __init__(self, first: dict[str, int]) -> None:
        self.first = first
        self.done: set[str] = set()
        self.x: np.ndarray | None = None

    def put(self, hashes: Sequence[str], x: np.ndarray) -> list[int]:
        """Fill the rows of ``hashes`` not yet filled (first occurrence of each); their positions in the batch."""
        keep = []
        for j, h in enumerate(hashes):
            if h in self.first and h not in self.done:
                self.done.add(h)
                keep.append(j)
        if keep:
            if self.x is None:
                self.x = np.empty((len(self.first), x.shape[1]), np.float32)
            rows = np.fromiter((self.first[hashes[j]] for j in keep), np.int64, len(keep))
            self.x[rows] = x[keep]
        return keep


def _absorb(staging: str, asm: _Assembly, cache: VectorCache) -> int:
    """Stream the staged vectors into the result and the cache (one commit per batch), then drop the staging;
    the number of new vectors."""
    got = 0
    for hashes, x in staged_batches(staging):
        keep = asm.put(hashes, x)
        if keep:
            cache.store([hashes[j] for j in keep], x[keep])
            got += len(keep)
    drop_staging(staging)
    return got


def embed_texts_ray(
    texts: Sequence[str],
    model: str,
    options: dict[str, Any],
    cache: VectorCache,
    staging: str,
    *,
    batch_size: int,
    concurrency: int | None = None,
    address: str | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """Embed ``texts`` on Ray; same contract as :func:`embedscope.embedding.embed_texts`.

    Texts found in ``cache`` or in the staging datasets (from an earlier, killed run) are not embedded again.
    The rest are cut into the batches the single-process path would use (sorted by length, ``batch_size``
    each) and embedded by ``concurrency`` actors, each appending its batches to its own staging dataset under
    ``staging``. The driver then streams the staged vectors, a few thousand at a time, into the result and
    into ``cache`` (one commit per batch, as the single-process path commits), and deletes ``staging``.
    Memory: the result (``n x d`` float32), what ``cache`` held already, and one batch.

    Parameters
    ----------
    texts
        ``n`` texts (duplicates are embedded once).
    model, options
        The ``--model`` value and embedder options each actor builds its embedder from.
    cache
        The workspace's embedding cache (read before, written as the staged batches are taken in).
    staging
        URI of the staging directory; it must be reachable from every Ray node.
    batch_size
        Texts per batch (one ``map_batches`` call, one Lance commit).
    concurrency
        Actors (each one model, one CPU); default: the cluster's CPUs.
    address
        See :func:`ray_runtime`.
    on_batch
        Called with (texts done, texts to do) as batches finish.

    Returns
    -------
    vectors : numpy.ndarray
        float32, shape ``(n, d)``, row ``i`` for ``texts[i]``.
    stats : EmbedStats
        ``cached`` counts texts found in the cache or the staging datasets.
    """
    hashes = [text_hash(t) for t in texts]
    first: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first.setdefault(h, i)
    if not texts:
        drop_staging(staging)
        return np.zeros((0, 0), np.float32), EmbedStats(0, 0, 0, 0, 0, 0)
    uniq = list(first)
    asm = _Assembly({h: j for j, h in enumerate(uniq)})
    found = cache.lookup(uniq)
    keys = list(found)
    for lo in range(0, len(keys), 8192):
        asm.put(keys[lo:lo + 8192], np.stack([found[h] for h in keys[lo:lo + 8192]]))
    del found, keys
    _absorb(staging, asm, cache)  # batches a killed run staged
    todo = sorted((h for h in uniq if h not in asm.done), key=lambda h: (len(texts[first[h]]), first[h]))
    bs = max(1, batch_size)
    truncated = 0
    batches = 0
    if on_batch:
        on_batch(0, len(todo))
    if todo:
        with ray_runtime(address) as ray:
            n_actors = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
            # one block per batch, so each actor call gets exactly the batch the single-process path embeds
            tbl = pa.table({"hash": pa.array(todo, pa.string()),
                            "text": pa.array([texts[first[h]] for h in todo], pa.string())})
            blocks = [tbl.slice(s, bs) for s in range(0, len(todo), bs)]
            ds = ray.data.from_arrow(blocks).map_batches(
                EmbedActor, fn_constructor_kwargs={"model": model, "options": options, "uri": staging},
                batch_size=bs, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=n_actors), num_cpus=1)
            done = 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    done += len(out["hash"])
                    truncated += int(np.sum(out["truncated"]))
                    batches += 1
                    if on_batch:
                        on_batch(done, len(todo))
        _absorb(staging, asm, cache)
        missing = len(uniq) - len(asm.done)
        if missing:
            raise RuntimeError(f"the Ray job finished but {missing} of {len(todo)} texts are not in {staging}")
    assert asm.x is not None
    # one row per text: rows of distinct texts in order, duplicates repeated
    rows = np.fromiter((asm.first[h] for h in hashes), np.int64, len(hashes))
    out_x = asm.x if len(uniq) == len(hashes) else asm.x[rows]
    return out_x, EmbedStats(len(texts), len(first), len(first) - len(todo), len(todo), batches, truncated)


# --------------------------------------------------------------------------------------------- kNN graph
def _knn_shard(x: np.ndarray, start: int, stop: int, k: int, block_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine neighbours of rows ``start:stop`` of ``x`` (n, d) among all rows.

    Returns ``(indices, scores)``, int32 and float32 of shape ``(stop - start, k)``, best first, ties by index,
    a row never its own neighbour: what :func:`embedscope.search.exact.knn_graph` gives for those rows, computed
    the same way (each block's queries normalised, scores scaled by ``1/|x|``).
    """
    from .search.exact import normalize, topk_smallest

    n = x.shape[0]
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms == 0] = 1.0
    inv_norm = (1.0 / norms).astype(np.float32)
    m = stop - start
    out_i = np.zeros((m, k), np.int32)
    out_s = np.zeros((m, k), np.float32)
    rows = max(1, min(n, block_bytes // (4 * n)))
    for a in range(start, stop, rows):
        b = min(stop, a + rows)
        key = normalize(x[a:b]) @ x.T  # (b - a, n), higher is closer
        key *= inv_norm[None, :]
        np.negative(key, out=key)
        key[np.arange(b - a), np.arange(a, b)] = np.inf
        cand = topk_smallest(key, k)
        out_i[a - start:b - start] = cand
        out_s[a - start:b - start] = -np.take_along_axis(key, cand, axis=1)
    return out_i, out_s


def knn_graph_ray(
    vectors: np.ndarray,
    k: int = 50,
    *,
    shards: int | None = None,
    address: str | None = None,
    block_bytes: int = BLOCK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """The exact cosine kNN graph, its query rows split into shards scanned by Ray tasks.

    The vectors go into the object store once; task ``j`` finds the neighbours of shard ``j``'s
    rows among all of them in blocks of ``block_bytes`` of scores; the shards are concatenated in row order.
    Shards are whole blocks of the single-process scan, so the scores are the same to the bit and near-ties
    fall the same way.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    k
        Neighbours per item (capped at ``n - 1``).
    shards
        Query shards (tasks); default four per CPU of the cluster.
    address
        See :func:`ray_runtime`.
    progress
        Called with (rows done, n) as shards finish.

    Returns
    -------
    KNN
        Cosine, shape ``(n, min(k, n - 1))``: the graph :func:`embedscope.search.exact.knn_graph` gives.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = int(max(0, min(k, n - 1)))
    if k == 0:
        return search(x, x, k, "cosine", exclude_self=True)
    with ray_runtime(address) as ray:
        n_shards = shards or 4 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        # shards made of whole blocks of the single-process scan, so every block multiplies the same rows and
        # the scores, hence the order of near-ties, are the same to the bit
        rows = max(1, min(n, block_bytes // (4 * n)))
        blocks = -(-n // rows)
        n_shards = max(1, min(n_shards, blocks))
        bounds = np.minimum(np.linspace(0, blocks, n_shards + 1).astype(int) * rows, n)
        task = ray.remote(num_cpus=1)(_knn_shard)
        ref = ray.put(x)
        pending = {task.remote(ref, int(a), int(b), k, block_bytes): (int(a), int(b))
                   for a, b in itertools.pairwise(bounds) if b > a}
        out_i = np.zeros((n, k), np.int32)
        out_s = np.zeros((n, k), np.float32)
        done = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            a, b = pending.pop(ready[0])
            out_i[a:b], out_s[a:b] = ray.get(ready[0])
            done += b - a
            if progress:
                progress(done, n)
    return KNN(out_i, out_s, "cosine")


# ------------------------------------------------------------------------------------ staged shards
class ShardStage:
    """Finished shards of a Ray step, staged as one ``.npz`` file each so a killed job reruns only the rest.

    The directory holds ``job.json`` (what the shards belong to: the input fingerprint and the parameters)
    and ``shard-{j}.npz`` per finished shard, each written to a temporary name and renamed (atomic on one
    file system): a kill leaves whole shards or none. A directory left by a different job is emptied first.
    Written by the driver, so it only has to be reachable from the driver.

    Parameters
    ----------
    path
        The directory (``WS/staging/...``); ``None``: nothing is staged (no resume).
    job
        JSON-able description of the job; shards staged under another description are discarded.
    """

    def __init__(self, path: str | os.PathLike[str] | None, job: dict[str, Any]) -> None:
        import json
        import shutil

        self.path = None if path is None else os.fspath(path)
        if self.path is None:
            return
        meta = os.path.join(self.path, "job.json")
        text = json.dumps(job, sort_keys=True)
        try:
            with open(meta) as f:
                same = f.read() == text
        except OSError:
            same = False
        if not same:
            shutil.rmtree(self.path, ignore_errors=True)
            os.makedirs(self.path)
            with atomic_path(meta) as tmp, open(tmp, "w") as f:
                f.write(text)

    def _file(self, j: int) -> str:
        assert self.path is not None
        return os.path.join(self.path, f"shard-{j}.npz")

    def done(self) -> set[int]:
        """Shards already staged."""
        if self.path is None:
            return set()
        return {int(f[6:-4]) for f in os.listdir(self.path) if f.startswith("shard-") and f.endswith(".npz")}

    def save(self, j: int, **arrays: np.ndarray) -> None:
        """Stage shard ``j``'s arrays (atomic rename)."""
        if self.path is None:
            return
        with atomic_path(self._file(j)) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    def load(self, j: int) -> dict[str, np.ndarray]:
        """Shard ``j``'s staged arrays."""
        with np.load(self._file(j), allow_pickle=False) as z:
            return {name: z[name] for name in z.files}

    def drop(self) -> None:
        """Delete the staged shards (the step's result is stored)."""
        import shutil

        if self.path is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        parent = os.path.dirname(self.path)
        if os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)


def _gather(ray: Any, stage: ShardStage, shards: int, submit: Callable[[int], Any],
            use: Callable[[int, dict[str, np.ndarray]], None], progress: Callable[[int, int], None] | None,
            window: int) -> None:
    """Hand every shard's arrays to ``use``: the staged ones first, then those of the tasks ``submit(j)``
    starts for the missing shards (at most ``window`` in flight), each staged as it arrives."""
    staged = stage.done() & set(range(shards))
    done = 0
    for j in sorted(staged):
        use(j, stage.load(j))
        done += 1
        if progress:
            progress(done, shards)
    todo = [j for j in range(shards) if j not in staged]
    pending: dict[Any, int] = {}
    while todo or pending:
        while todo and len(pending) < window:
            j = todo.pop(0)
            pending[submit(j)] = j
        ready, _ = ray.wait(list(pending), num_returns=1)
        j = pending.pop(ready[0])
        res = ray.get(ready[0])
        stage.save(j, **res)
        use(j, res)
        del res
        done += 1
        if progress:
            progress(done, shards)


# ------------------------------------------------------------------------------ approximate kNN graph
#: Query rows searched per call inside a shard task (bounds the task's memory: the candidates' vectors,
#: ``ANN_CHUNK * k * d`` float32, 150 MB at k = 50, d = 384).
ANN_CHUNK = 2_000


def _ann_shard(x: np.ndarray, lo: int, hi: int, k: int, hnsw: dict[str, int], threads: int,
               ) -> dict[str, np.ndarray]:
    """Rows ``lo:hi`` of ``x`` (n, d) indexed in an HNSW index, every row of ``x`` searched in it.

    Returns
    -------
    dict
        ``indices`` int32 and ``scores`` float32, shape ``(n, k)``: each item's ``k`` nearest among the
        shard's items (itself excluded), exact float32 cosine, best first; ``-inf`` scores where the index
        gave fewer.
    """
    from .search.ann import hnsw_index, hnsw_search
    from .search.exact import row_norms

    index = hnsw_index(x[lo:hi], np.arange(lo, hi), threads=threads, connectivity=hnsw["connectivity"],
                       expansion_add=hnsw["expansion_add"], expansion_search=hnsw["expansion_search"])
    norms = row_norms(x)
    n = x.shape[0]
    out_i = np.empty((n, k), np.int32)
    out_s = np.empty((n, k), np.float32)
    for a in range(0, n, ANN_CHUNK):
        b = min(n, a + ANN_CHUNK)
        out_i[a:b], out_s[a:b], _ = hnsw_search(index, x, norms, a, b, k, threads=threads)
    return {"indices": out_i, "scores": out_s}


def merge_topk(a_i: np.ndarray, a_s: np.ndarray, b_i: np.ndarray, b_s: np.ndarray, rows: int = 50_000,
               ) -> None:
    """Merge the top-k lists ``b`` into ``a`` in place: per row, the ``k`` best of both by (score desc, index).

    ``a_i``/``b_i`` int32 and ``a_s``/``b_s`` float32 of shape ``(n, k)`` (higher scores closer; the two hold
    disjoint candidates). The order is total, so merging shards in any order gives the same lists.
    """
    n, k = a_i.shape
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        idx = np.concatenate([a_i[lo:hi], b_i[lo:hi]], axis=1)
        sc = np.concatenate([a_s[lo:hi], b_s[lo:hi]], axis=1)
        o = np.lexsort((idx, -sc), axis=1)[:, :k]
        a_i[lo:hi] = np.take_along_axis(idx, o, axis=1)
        a_s[lo:hi] = np.take_along_axis(sc, o, axis=1)


def ann_graph_ray(
    vectors: np.ndarray,
    k: int = 50,
    *,
    shards: int | None = None,
    address: str | None = None,
    staging: str | os.PathLike[str] | None = None,
    key: str = "",
    connectivity: int = 16,
    expansion_add: int = 128,
    expansion_search: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> KNN:
    """An approximate cosine kNN graph: one HNSW index per shard of the items, built by a Ray task, merged.

    Task ``j`` indexes shard ``j``'s items (:func:`embedscope.search.ann.hnsw_index`, the index
    :func:`embedscope.search.ann.ann_graph` builds over all items) and searches *every* item in it, rescoring
    the candidates as exact float32 cosine similarities (:func:`embedscope.search.ann.hnsw_search`). The driver
    merges the shards' lists into one top-``k`` per item (:func:`merge_topk`); items left with fewer than
    ``k`` candidates get an exact search. Each shard's lists are staged in ``staging`` as they arrive, so a
    killed job reruns only the shards missing there. Measure the result with
    :func:`embedscope.search.ann.graph_recall`.

    Cost: building is about that of one index over all items; searching is ``shards`` times that of one
    index (every item visits every shard's index), spread over the cluster.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``; put once in the object store.
    k
        Neighbours per item (capped at ``n - 1``).
    shards
        Index shards (tasks); default the cluster's CPUs, at most ``n // (k + 1)`` (a shard holds at least
        ``k + 1`` items).
    address
        See :func:`ray_runtime`.
    staging, key
        Directory for finished shards (``None``: no resume) and a fingerprint of ``vectors`` naming the job.
    connectivity, expansion_add, expansion_search
        HNSW's M, efConstruction and efSearch (raised to ``k + 1``), as in :func:`~embedscope.search.ann.ann_graph`.
    progress
        Called with (shards done, shards).

    Returns
    -------
    KNN
        Shape ``(n, min(k, n - 1))``; an item is never its own neighbour.
    """
    from .search.exact import fill_exact

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = int(max(0, min(k, n - 1)))
    if k == 0:
        return KNN(np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float32), "cosine")
    hnsw = {"connectivity": connectivity, "expansion_add": expansion_add,
            "expansion_search": max(expansion_search, k + 1)}
    with ray_runtime(address) as ray:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        n_shards = max(1, min(shards or cpus, n // (k + 1)))
        bounds = np.linspace(0, n, n_shards + 1).astype(int)
        stage = ShardStage(staging, {"step": "ann", "key": key, "n": n, "k": k, "shards": n_shards, **hnsw})
        out_i = np.zeros((n, k), np.int32)
        out_s = np.full((n, k), -np.inf, np.float32)
        task = ray.remote(num_cpus=1, max_retries=3)(_ann_shard)
        ref: list[Any] = []

        def submit(j: int) -> Any:
            if not ref:
                ref.append(ray.put(x))
            return task.remote(ref[0], int(bounds[j]), int(bounds[j + 1]), k, hnsw, 1)

        def use(j: int, res: dict[str, np.ndarray]) -> None:
            merge_topk(out_i, out_s, res["indices"], res["scores"])

        _gather(ray, stage, n_shards, submit, use, progress, window=n_shards)
        ref.clear()
    short = np.flatnonzero(~np.isfinite(out_s).all(axis=1))
    if len(short):
        fill_exact(x, short, out_i, out_s)
    stage.drop()
    return KNN(out_i, out_s, "cosine")


# ------------------------------------------------------------------------------------------- layouts
def _place_shard(model: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Items ``x`` (m, d) placed into a fitted UMAP layout: ``{"coords": float32 (m, 2)}``."""
    from .projection.umap import numba_cache, place

    numba_cache()  # the compiled kernels of an earlier run, shared with the driver
    return {"coords": place(model, x)}


def umap_layout_ray(
    vectors: np.ndarray,
    *,
    seed: int = 42,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    sample: int | None = None,
    address: str | None = None,
    staging: str | os.PathLike[str] | None = None,
    key: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """UMAP fitted on a sample in the driver, every other item placed by ``transform`` in Ray tasks.

    The fit is :func:`embedscope.projection.umap.fit_sample`; each of its transform batches is one task
    (:func:`embedscope.projection.umap.place`), the fitted model put once in the object store and each batch's
    vectors shipped with its task. umap-learn seeds every ``transform`` call, so the layout is the one the
    single-process path gives with the same seed and sample. Finished batches are staged (:class:`ShardStage`)
    and a killed job reruns only the others (after fitting again: the fit is deterministic for a seed).

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    seed, n_neighbors, min_dist
        As :func:`embedscope.projection.umap.umap_layout`.
    sample
        Items in the fit; default as the single-process path (``SAMPLE_SIZE`` above ``SAMPLE_FIT_MIN`` items).
        With no sample (or one as large as ``n``) there is nothing to place and the layout is fitted on all
        items in this process.
    address
        See :func:`ray_runtime`.
    staging, key
        Directory for finished batches (``None``: no resume) and a fingerprint of ``vectors``.
    progress
        Called with (items laid out, n).

    Returns
    -------
    embedscope.projection.layout.LayoutResult
        With ``params["engine"] = "ray"`` and ``params["shards"]`` when Ray placed items.
    """
    from .projection.layout import LayoutResult
    from .projection.umap import SAMPLE_FIT_MIN, SAMPLE_SIZE, fit_sample, numba_cache, umap_layout

    _ray()  # a missing extra is reported whatever the size
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    if sample is None and n > SAMPLE_FIT_MIN:
        sample = SAMPLE_SIZE
    if sample is None or sample >= n or n < 5:
        res = umap_layout(x, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist, sample=sample, progress=progress)
        res.params["engine"] = "local (fitted on every item: nothing to place)"
        return res
    numba_cache()
    if progress:
        progress(0, n)
    model, fit_rows, fit_coords, batches, params = fit_sample(x, seed=seed, n_neighbors=n_neighbors,
                                                              min_dist=min_dist, sample=sample)
    out = np.empty((n, 2), np.float32)
    out[fit_rows] = fit_coords
    laid = [sample]
    if progress:
        progress(laid[0], n)
    stage = ShardStage(staging, {"step": "umap", "key": key, "n": n, "seed": seed, "n_neighbors": n_neighbors,
                                 "min_dist": min_dist, "sample": sample, "batches": len(batches)})
    with ray_runtime(address) as ray:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=3)(_place_shard)
        model_ref: list[Any] = []

        def submit(j: int) -> Any:
            if not model_ref:
                model_ref.append(ray.put(model))
            return task.remote(model_ref[0], x[batches[j]])

        def use(j: int, res: dict[str, np.ndarray]) -> None:
            out[batches[j]] = res["coords"]
            laid[0] += len(batches[j])
            if progress:
                progress(laid[0], n)

        # at most two batches per CPU in flight: each carries its rows' vectors through the object store
        _gather(ray, stage, len(batches), submit, use, None, window=2 * cpus)
        model_ref.clear()
    if not np.isfinite(out).all():
        raise FloatingPointError("UMAP produced non-finite coordinates")
    stage.drop()
    params.update({"engine": "ray", "shards": len(batches)})
    return LayoutResult(out, "umap", params, extra={"fit_rows": fit_rows}, model=model)
