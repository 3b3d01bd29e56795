"""Semantic queries of one space: one scan per query text, shared by every request that asks for it.

A search in the browser sends two requests for the same text at once: ``/search`` (the ranked hits and the
histogram) and ``/search/scores`` (every item's score, to light the map up). Both go through the space's
:class:`SpaceQueries`, so the space is scanned once per text:

- the :class:`~embedscope.server.batcher.QueryBatcher` embeds the text and scans it, together with the other
  queries pending at the time;
- a second request for a text being scanned waits for that scan (an in-flight :class:`~concurrent.futures.Future`
  per text) instead of queueing another one;
- the last :data:`RECENT` answers are kept (4 bytes a point each: 3.2 MB at 200,000 points), so the request that
  comes second, another ``k`` or a filter over the same text, scans nothing.

One :class:`SpaceQueries` per (workspace version, space), from the explorer state's cache: a new workspace
version starts afresh (a new scan of the new vectors). The ranked hits are :meth:`embedscope.search.scan.QueryScan.top`
of the scores, the kernel ``Scope.neighbors`` and the CLI use too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

import numpy as np

from ..search.scan import QueryScan
from .batcher import QueryBatcher, Scored
from .protocol import ScopeAPI

#: Scored queries kept per space (by text).
RECENT = 4

T = TypeVar("T")


class QueryState(Protocol):
    """What the queries of a space use of the explorer state."""

    @property
    def scope(self) -> ScopeAPI:
        """The Scope (not thread-safe: called under :attr:`lock`)."""

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Held while the Scope is called."""

    def cached(self, key: tuple, compute: Callable[[], T]) -> T: ...


class SpaceQueries:
    """The semantic queries of one space at one workspace version.

    Parameters
    ----------
    batcher
        The space's batcher (its :attr:`~embedscope.server.batcher.QueryBatcher.scan` is the space's scan).
    recent
        Scored queries kept.
    """

    def __init__(self, batcher: QueryBatcher, recent: int = RECENT) -> None:
        self.batcher = batcher
        self.scan: QueryScan = batcher.scan
        self.recent = recent
        self._lock = threading.Lock()
        self._running: dict[str, Future[Scored]] = {}
        self._kept: OrderedDict[str, Scored] = OrderedDict()

    def scored(self, text: str) -> Scored:
        """The query's embedding, its cosine similarity to every item and their min and max: kept, being
        scanned for another request (then awaited), or embedded and scanned now."""
        with self._lock:
            hit = self._kept.get(text)
            if hit is not None:
                self._kept.move_to_end(text)
                return hit
            running = self._running.get(text)
            mine = running is None
            if running is None:
                running = self._running[text] = Future()
        if not mine:
            return running.result()
        try:
            found = self.batcher.scored(text)
        except BaseException as exc:  # every waiting request gets the error; the next one asks again
            with self._lock:
                del self._running[text]
            running.set_exception(exc)
            raise
        with self._lock:
            self._kept[text] = found
            while len(self._kept) > self.recent:
                self._kept.popitem(last=False)
            del self._running[text]
        running.set_result(found)
        return found

    def top(self, found: Scored, k: int, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows of a scored query (among ``keep``), best first, with exact cosine similarities
        (:meth:`embedscope.search.scan.QueryScan.top`)."""
        return self.scan.top(found.vector, k, found.scores, keep=keep)


def space_scan(state: QueryState, space: str) -> QueryScan:
    """The space's query scan (one per workspace version): exact float32, or int8 codes with exact rescoring of
    the hits above 200,000 items."""

    def build() -> QueryScan:
        with state.lock:
            _, x = state.scope.vectors(space)
        return QueryScan(x)

    return state.cached(("scan", space), build)


def space_queries(state: QueryState, space: str) -> SpaceQueries:
    """The space's :class:`SpaceQueries` (one per workspace version)."""

    def build() -> SpaceQueries:
        scan = space_scan(state, space)

        def embed(texts: list[str]) -> np.ndarray:
            with state.lock:  # the Scope (and its model cache) is not thread-safe
                return np.stack([np.asarray(state.scope.embed_query(t, space), dtype=np.float32) for t in texts])

        return SpaceQueries(QueryBatcher(embed, scan))

    return state.cached(("queries", space), build)
