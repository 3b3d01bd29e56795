"""Prepare what the page asks for on its first paint, before the server answers anyone.

Opened on a million points, the page's first requests made the server read the items, the ids, the layout and
a colour column from Lance (about 4 s here, on top of the ~3 s the browser needs to draw). ``embedscope
serve`` calls :func:`warm_first_paint` before it starts listening, so the URL it prints opens a map whose data
is already in memory: the default space's column list and clusters, its default layout and the default colour
column, each built into the same cached Arrow bytes the routes send. The choices mirror the page's own
(``web/src/app.ts``: ``openSpace`` and ``defaultColor``); a wrong guess costs only the work, never an error.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ..errors import EmbedscopeError
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
