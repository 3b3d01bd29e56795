"""Concurrent semantic queries of one space, answered together.

Under load many users' queries arrive at once, and each costs an embedding call and a scan of every item.
Answered one at a time they queue (a closed loop of 32 users measured ~27 waiting on queries, see
docs/BENCHMARKS.md, "Load on the server"). A request embeds its own text first, in its own thread (one text
a model call, so a query's vector never depends on the others; one call at a time; a text already being
embedded for another request is awaited, not embedded twice). :class:`QueryBatcher` then has one worker thread
per space take every embedded query pending (up to ``max_batch``) and score all of them in one pass over the
vectors (:meth:`embedscope.search.scan.QueryScan.scores_spans`), then hand each request its own scores and their min
and max (for the histogram). Queries embedded meanwhile form the next batch: the embedding of the next queries
runs while the worker scans (on 2 cores the worker embedding them itself between scans was ~35% of its time
under load). A lone query is not delayed (no timer); request threads just wait.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..search.scan import QueryScan

#: Queries answered together at most.
MAX_BATCH = 32
#: Query embeddings kept per space (by text).
CACHE = 256
#: Threads of the scan (every core; capped at numba's threads). With the requests embedding their own texts
#: and the worker only scanning, a scan on both of this machine's 2 cores gave queries p99 0.6 s where one
#: thread gave 1.1-1.3 s (lookups p99 126 vs 110-130 ms; bench/load.py at 1M, docs/BENCHMARKS.md). While the
#: worker also embedded the texts, one thread had been the better choice (lookups p99 89 vs 145 ms).
SCAN_THREADS = os.cpu_count() or 1


class Scored(NamedTuple):
    """One query's answer: its embedding, its cosine similarity to every item and their min and max."""

    #: float32 ``(d,)``.
    vector: np.ndarray
    #: float32 ``(n,)``.
    scores: np.ndarray
    #: ``scores.min(), scores.max()`` (``inf, -inf`` for an empty space).
    span: tuple[float, float]


class QueryBatcher:
    """Embed and score the queries of one space in batches.

    Parameters
    ----------
    embed
        Texts -> float32 ``(b, d)`` query embeddings with the space's model (called by one thread at a time).
    scan
        The space's :class:`~embedscope.search.scan.QueryScan`.
    max_batch
        Queries answered together at most.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], scan: QueryScan, max_batch: int = MAX_BATCH):
        self._embed = embed
        self.scan = scan
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._embed_lock = threading.Lock()
        self._pending: list[tuple[str, np.ndarray, Future[tuple[np.ndarray, tuple[float, float]]]]] = []
        self._worker: threading.Thread | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._embedding: dict[str, Future[np.ndarray]] = {}
        self._settled = False
        #: Batches scanned and queries in them (for tests and benchmarks).
        self.batches = 0
        self.queries = 0

    def vector(self, text: str) -> np.ndarray:
        """float32 ``(d,)``: the query's embedding, made in the calling thread (one model call at a time, one
        text a call) unless cached or being made for another request (then that one is awaited)."""
        with self._lock:
            hit = self._vectors.get(text)
            if hit is not None:
                self._vectors.move_to_end(text)
                return hit
            making = self._embedding.get(text)
            if making is None:
                making = self._embedding[text] = Future()
                mine = True
            else:
                mine = False
        if not mine:
            return making.result()
        try:
            # one text per model call: a query's vector must not depend on what else was asked at the same time
            # (an int8 ONNX model quantises activations per batch, and padding can move the last digits)
            with self._embed_lock:
                vec = np.asarray(self._embed([text]), dtype=np.float32)
            dim = self.scan.vectors.shape[1]
            if vec.ndim != 2 or vec.shape != (1, dim):
                raise InputError(f"the query embeds to {vec.shape[-1]} dimensions but the space has {dim}")
        except BaseException as exc:
            with self._lock:
                del self._embedding[text]
            making.set_exception(exc)
            raise
        if not self._settled:  # the model was loaded by this first call: keep its objects out of the collector
            self._settled = True
            gc.freeze()
        with self._lock:
            self._vectors[text] = vec[0]
            while len(self._vectors) > CACHE:
                self._vectors.popitem(last=False)
            del self._embedding[text]
        making.set_result(vec[0])
        return vec[0]

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's embedding ``(d,)`` and its cosine similarity to every item ``(n,)``, float32."""
        found = self.scored(text)
        return found.vector, found.scores

    def scored(self, text: str) -> Scored:
        """:meth:`scores` and the scores' min and max: the query embedded (:meth:`vector`), then scanned with
        the queries pending at the time."""
        vec = self.vector(text)
        future: Future[tuple[np.ndarray, tuple[float, float]]] = Future()
        with self._lock:
            self._pending.append((text, vec, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="embedscope-queries", daemon=True)
                self._worker.start()
            self._wake.notify()
        scores, span = future.result()
        return Scored(vec, scores, span)

    def _run(self) -> None:
        """The worker: scan the pending queries a batch at a time, for ever (a daemon thread)."""
        while True:
            with self._lock:
                while not self._pending:
                    self._wake.wait()
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            try:
                texts = list(dict.fromkeys(text for text, _, _ in batch))
                vectors = {text: vec for text, vec, _ in batch}
                scores, spans = self.scan.scores_spans(np.stack([vectors[t] for t in texts]), threads=SCAN_THREADS)
                row = {t: i for i, t in enumerate(texts)}
            except BaseException as exc:  # every waiting request gets the error, none hangs
                for _, _, future in batch:
                    future.set_exception(exc)
                continue
            self.batches += 1
            self.queries += len(batch)
            for text, _, future in batch:
                i = row[text]
                future.set_result((scores[i], (float(spans[i, 0]), float(spans[i, 1]))))
