"""Embedding on Ray: an actor pool, one embedder per actor, batches staged and streamed into the result."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ...embedders.run import EmbedStats, VectorCache, text_hash
from .runtime import ray_runtime
from .staging import append_table, drop_staging, staged_batches


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

        from ...embedders import get_embedder

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
        append_table(self.uri, table)
        return {"hash": np.asarray(hashes, dtype=object),
                "truncated": np.asarray([window is not None and c > window for c in counts], dtype=bool)}


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
    hashes: Sequence[str] | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """Embed ``texts`` on Ray; same contract as :func:`embedscope.embedders.run.embed_texts`.

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
    hashes
        Cache key of each text (image models: ``"image:" + sha256``, the texts being image paths every node
        reads); default :func:`~embedscope.embedders.run.text_hash`.

    Returns
    -------
    vectors : numpy.ndarray
        float32, shape ``(n, d)``, row ``i`` for ``texts[i]``.
    stats : EmbedStats
        ``cached`` counts texts found in the cache or the staging datasets.
    """
    if hashes is None:
        hashes = [text_hash(t) for t in texts]
    elif len(hashes) != len(texts):
        raise ValueError(f"{len(hashes)} hashes for {len(texts)} texts")
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
