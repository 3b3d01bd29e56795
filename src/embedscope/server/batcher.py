"""Concurrent semantic queries of one space, answered together.

Under load many users' queries arrive at once, and each costs an embedding call and a scan of every item.
Answered one at a time they queue (a closed loop of 32 users measured ~27 waiting on queries, see
docs/BENCHMARKS.md, "Load on the server"). :class:`QueryBatcher` has one worker thread per space take every
query pending (up to ``max_batch``), embed the new texts (each on its own, so a query's vector never depends
on the others) and score all of them in one pass over the vectors
(:meth:`embedscope.scan.QueryScan.scores_spans`), then hand each request its own scores and their min and max
(for the histogram); queries that arrive meanwhile form the next batch. A lone query is not delayed (no timer);
request threads just wait.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..scan import QueryScan

#: Queries answered together at most.
MAX_BATCH = 32
#: Query embeddings kept per space (by text).
CACHE = 256
#: Threads of the scan: half the cores, the rest left to the requests. On 2 cores a parallel scan stalled
#: whenever one of its threads was descheduled for a request: one thread answered more queries a second with
#: lookups 2-4x faster (bench/load.py at 1M, docs/BENCHMARKS.md).
SCAN_THREADS = max(1, (os.cpu_count() or 2) // 2)


class Scored(NamedTuple):
    """One query's answer: its embedding, its cosine similarity to every item and their min and max."""

    #: float32 ``(d,)``.
    vector: np.ndarray
    #: float32 ``(n,)``.
    scores: np.ndarray
    #: ``scores.min(), scores.max()`` (``inf, -inf`` for an empty space).
    span: tuple[float, float]


_Result = tuple[np.ndarray, np.ndarray | None, tuple[float, float] | None]


class QueryBatcher:
    """Embed and score the queries of one space in batches.

    Parameters
    ----------
    embed
        Texts -> float32 ``(b, d)`` query embeddings with the space's model (called by one thread at a time).
    scan
        The space's :class:`~embedscope.scan.QueryScan`.
    max_batch
        Queries answered together at most.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], scan: QueryScan, max_batch: int = MAX_BATCH):
        self._embed = embed
        self.scan = scan
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: list[tuple[str, bool, Future[_Result]]] = []
        self._worker: threading.Thread | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        #: Batches answered and queries in them (for tests and benchmarks).
        self.batches = 0
        self.queries = 0

    def vector(self, text: str) -> np.ndarray:
        """float32 ``(d,)``: the query's embedding (batched with concurrent ones when not cached)."""
        return self._submit(text, scores=False)[0]

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's embedding ``(d,)`` and its cosine similarity to every item ``(n,)``, float32."""
        found = self.scored(text)
        return found.vector, found.scores

    def scored(self, text: str) -> Scored:
        """:meth:`scores` and the scores' min and max."""
        vec, scores, span = self._submit(text, scores=True)
        assert scores is not None and span is not None
        return Scored(vec, scores, span)

    def _submit(self, text: str, *, scores: bool) -> _Result:
        with self._lock:
            hit = self._vectors.get(text)
            if hit is not None and not scores:
                self._vectors.move_to_end(text)
                return hit, None, None
            future: Future[_Result] = Future()
            self._pending.append((text, scores, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="embedscope-queries", daemon=True)
                self._worker.start()
            self._wake.notify()
        return future.result()

    def _run(self) -> None:
        """The worker: answer the pending queries a batch at a time, for ever (a daemon thread)."""
        while True:
            with self._lock:
                while not self._pending:
                    self._wake.wait()
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            try:
                results = self._answer([(text, want) for text, want, _ in batch])
            except BaseException as exc:  # every waiting request gets the error, none hangs
                for _, _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, _, future), result in zip(batch, results, strict=True):
                future.set_result(result)

    def _answer(self, batch: list[tuple[str, bool]]) -> list[_Result]:
        texts = list(dict.fromkeys(text for text, _ in batch))
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        new = [t for t in texts if t not in known]
        if new:
            # one text per model call: a query's vector must not depend on what else was asked at the same
            # time (an int8 ONNX model quantises activations per batch, and padding can move the last digits);
            # the scan, most of the cost at scale, is still shared
            vecs = np.concatenate([np.asarray(self._embed([t]), dtype=np.float32).reshape(1, -1) for t in new])
            dim = self.scan.vectors.shape[1]
            if vecs.ndim != 2 or vecs.shape[1] != dim:
                raise InputError(f"the query embeds to {vecs.shape[-1]} dimensions but the space has {dim}")
            with self._lock:
                for t, v in zip(new, vecs, strict=True):
                    known[t] = v
                    self._vectors[t] = v
                while len(self._vectors) > CACHE:
                    self._vectors.popitem(last=False)
        scored = list(dict.fromkeys(text for text, want in batch if want))
        table: dict[str, tuple[np.ndarray, tuple[float, float]]] = {}
        if scored:
            all_scores, spans = self.scan.scores_spans(np.stack([known[t] for t in scored]), threads=SCAN_THREADS)
            table = {t: (all_scores[i], (float(spans[i, 0]), float(spans[i, 1]))) for i, t in enumerate(scored)}
        self.batches += 1
        self.queries += len(batch)
        return [(known[text], *table[text]) if want else (known[text], None, None) for text, want in batch]
