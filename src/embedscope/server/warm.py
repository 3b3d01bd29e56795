"""Prepare what the page asks for on its first paint, before the server answers anyone; then, in the
background, what the first semantic query needs.

Opened on a million points, the page's first requests made the server read the items, the ids, the layout and
a colour column from Lance (about 4 s here, on top of the ~3 s the browser needs to draw). ``embedscope
serve`` calls :func:`warm_first_paint` before it starts listening, so the URL it prints opens a map whose data
is already in memory: the default space's column list and clusters, its default layout and the default colour
column, each built into the same cached Arrow bytes the routes send. The choices mirror the page's own
(``web/src/app.ts``: ``openSpace`` and ``defaultColor``); a wrong guess costs only the work, never an error.

The first query of a space paid for reading its vectors (1.5 GB at a million points), quantising them to the int8
codes of its scan and loading the query model: 4.7 s at 1M on a quiet machine, tens of seconds on a busy one.
:func:`start_warm_queries` does that work in a background thread (at a lower CPU priority, so the first paint
keeps the cores) a few seconds after the first map is ready (``WARM_QUERIES_DELAY``), with the same cached
objects the query routes use; a query that arrives while it runs waits for the part it needs (the state's lock)
instead of doing it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import numpy as np

from ..errors import EmbedscopeError
from ..search.scan import score_histogram
from .queries import space_queries
from .routes.clusters import get_clusters, labels_blob
from .routes.columns import column_blob, list_columns
from .routes.info import build_info
from .routes.layouts import kdorder_blob, layout_blob
from .state import ExplorerState

#: Layouts above this many points get their spatial index order from the server (``WORKER_ABOVE`` in
#: web/src/data/spatial.ts); smaller ones are indexed in the page.
SPATIAL_ABOVE = 50_000
#: Column names the page colours by first (``PREFERRED`` in web/src/app.ts).
PREFERRED = re.compile(r"^(label|labels|category|categories|class|topic|cluster|group|genre|type|source|lang|"
                       r"language)$", re.IGNORECASE)


def warm_first_paint(state: ExplorerState, log: Callable[[str], None] | None = None) -> dict[str, float]:
    """Build and cache the data of the page's first paint; returns seconds per step.

    Parameters
    ----------
    state
        The app's state (``app.state.explorer``).
    log
        Called with one line per step (e.g. the CLI's stderr).

    Steps that fail (a layout stored wrong, a column that cannot be a colour) are skipped: the request that
    needs them later answers with the same clear error it would have given anyway.
    """
    times: dict[str, float] = {}

    def step(name: str, run: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        try:
            run()
        except EmbedscopeError:
            return
        times[name] = time.perf_counter() - t0
        if log is not None:
            log(f"  {name}: {times[name]:.2f} s")

    t0 = time.perf_counter()
    info = build_info(state)
    if info.default_space is None:
        return times
    space = next(s for s in info.spaces if s.name == info.default_space)
    base = f"api/spaces/{_enc(space.name)}"
    preload = ["api/info", f"{base}/columns"]
    columns = list_columns(space.name, state)
    times["spaces and columns"] = time.perf_counter() - t0
    if log is not None:
        log(f"  spaces and columns: {times['spaces and columns']:.2f} s")
    if space.has_clusters:
        step("clusters", lambda: (get_clusters(space.name, 0, 1000, state), labels_blob(state, space.name)))
        preload.append(f"{base}/clusters?limit=10000")
    methods = [layout.method for layout in space.layouts]
    if methods:
        # the page's default: the first plane layout (layouts come by rank), else the first
        method = next((layout.method for layout in space.layouts if layout.surface == "plane"), methods[0])
        step(f"{method} layout", lambda: layout_blob(state, space.name, method))
        preload.append(f"{base}/layouts/{_enc(method)}")
    categorical = [c for c in columns if c.kind == "categorical" and c.n_unique > 1]
    colour = next((c for c in categorical if PREFERRED.match(c.name)), categorical[0] if categorical else None)
    if colour is not None:
        step(f"colours ({colour.name})", lambda: column_blob(state, space.name, colour.name))
        preload.append(f"{base}/columns/{_enc(colour.name)}")
    if methods and space.count > SPATIAL_ABOVE:  # asked for right after the first frame
        step("spatial index", lambda: kdorder_blob(state, space.name, method))
    state.preload = tuple(preload)
    return times


def warm_queries(state: ExplorerState, space: str | None = None) -> dict[str, float]:
    """Build the default space's (or ``space``'s) query scan and load its query model; returns seconds per step.

    The scan (its vectors, their int8 codes above 200,000 items and the compiled kernels) is the one
    :func:`~embedscope.server.queries.space_queries` caches for the routes; the model is loaded by embedding one
    text through the Scope, which keeps it. A space without a query model (vectors brought as they are) gets
    its scan only. Nothing is answered or kept as a query result.
    """
    times: dict[str, float] = {}
    if space is None:
        space = build_info(state).default_space
        if space is None:
            return times
    t0 = time.perf_counter()
    queries = space_queries(state, space)
    times["vectors and scan"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        with state.lock:  # the Scope and its model cache are not thread-safe
            vector = np.asarray(state.scope.embed_query("warm up", space), dtype=np.float32)
    except EmbedscopeError:  # no model for this space: its queries are vectors or item ids
        return times
    times["query model"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores, spans = queries.scan.scores_spans(vector[None, :])  # the kernels a search runs, loaded once
    queries.scan.top(vector, 10, scores[0])
    score_histogram(scores[0], 50, span=(float(spans[0, 0]), float(spans[0, 1])))
    times["kernels"] = time.perf_counter() - t0
    return times


#: Seconds ``serve`` waits before preparing queries: the page's first paint goes first (started at once, the
#: warm-up slowed the first frame at 1M points from 2.3 s to 2.9-3.3 s; a query asked before it starts prepares
#: the scan itself, as without the warm-up).
WARM_QUERIES_DELAY = 4.0


def start_warm_queries(state: ExplorerState, log: Callable[[str], None] | None = None, *,
                       delay: float = WARM_QUERIES_DELAY) -> threading.Thread:
    """Run :func:`warm_queries` in a daemon thread at a lower CPU priority (Linux: this thread only), after
    ``delay`` seconds; ``log`` gets one line when it is done (or why it stopped)."""

    def run() -> None:
        time.sleep(max(0.0, delay))
        with contextlib.suppress(OSError, AttributeError):  # a nicer thread: the first paint goes first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        t0 = time.perf_counter()
        try:
            steps = warm_queries(state)
        except Exception as exc:
            if log is not None:
                log(f"could not prepare queries in advance ({type(exc).__name__}: {exc})")
            return
        if log is not None and steps:
            detail = ", ".join(f"{name} {sec:.1f} s" for name, sec in steps.items())
            log(f"ready for queries in {time.perf_counter() - t0:.1f} s ({detail})")

    thread = threading.Thread(target=run, name="embedscope-warm-queries", daemon=True)
    thread.start()
    return thread


def warm_routes(app: Any, token: str | None = None) -> int:
    """Send one GET of the page through ``app`` in process, before it listens; returns its status.

    FastAPI builds a route's context the first time a request is matched against it; the page's request, matched
    after every API route, paid for all of them (0.1-0.3 s on this machine) on the first paint after ``serve``.
    """
    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))

    asyncio.run(app(scope, receive, send))
    return status[0] if status else 0


def _enc(part: str) -> str:
    """``part`` as the page's ``encodeURIComponent`` writes it (a preload is used only if its URL is the same)."""
    return quote(part, safe="!'()*")
