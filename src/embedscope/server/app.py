"""The app factory of the web explorer: ``create_app(scope)`` returns a FastAPI app (no module-level app).

Routes (one router per resource, see :mod:`embedscope.server.routes`):

- ``GET /`` the page, ``/assets/*`` its scripts and styles (built from ``web/`` into ``static/``); ``/docs``
  the API's reference (a page of its own, nothing from a CDN) and ``/openapi.json`` its schema;
- ``GET /api/info``, ``/api/spaces/{space}/columns[/{name}]``, ``/api/spaces/{space}/layouts/{method}``,
  ``/api/spaces/{space}/layouts/{method}/xyz``, ``/api/spaces/{space}/layouts/{method}/honesty``,
  ``/api/spaces/{space}/clusters[/labels]``, ``/api/spaces/{space}/items/{row}[/neighbors]``, ``/api/probe``.

Per-point arrays are Arrow IPC streams; everything else is JSON. User mistakes are 4xx with
``{"detail": ...}``, never 500.
"""

from __future__ import annotations

import errno
import html
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from ..errors import DiskFullError, EmbedscopeError, InputError, ReadOnlyError, WorkspaceError
from .docs import add_docs
from .guard import ErrorShield, HostGuard, RequestLimits, SameOriginGuard, TokenGuard
from .protocol import ScopeAPI
from .routes import ROUTERS
from .state import ExplorerState

#: ``errno`` values of a write refused because the workspace is read-only (to this process).
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
#: Where ``npm run build`` (in ``web/``) puts the front end.
STATIC_DIR = Path(__file__).parent / "static"



class ErrorOut(BaseModel):
    """What every 4xx (but 422, FastAPI's own shape) and the rare 500 carry: one line saying what went wrong."""

    detail: str


#: The error answers every API route may give, declared so the OpenAPI schema (and the fuzzing) knows them.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input (e.g. an empty query, a free-text column as colours)."},
    401: {"model": ErrorOut, "description": "Missing or wrong token (only when served with --token)."},
    403: {"model": ErrorOut, "description": "A state-changing request from another origin."},
    404: {"model": ErrorOut, "description": "No such space, layout, column, row or stored result."},
    409: {"model": ErrorOut, "description": "A result cannot be stored: the workspace is read-only."},
    507: {"model": ErrorOut, "description": "A result cannot be stored: the disk is full."},
    413: {"model": ErrorOut, "description": "Request body over 1 MiB."},
    414: {"model": ErrorOut, "description": "URL over 32 kB."},
}

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>embedscope</title>
<body style="font:16px system-ui;margin:3em;background:#0f1115;color:#e6e8ee">
<h1>embedscope</h1><p>The web front end is not built. From a source checkout run:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre><p>The API is up: <a style="color:#7aa2ff"
href="/api/info">/api/info</a>, <a style="color:#7aa2ff" href="/docs">/docs</a>.</p></body>"""


def create_app(scope: ScopeAPI | None, *, token: str | None = None, static_dir: Path | None = None,
               cors: Sequence[str] = (), host: str | None = None, allowed_hosts: Sequence[str] = ()) -> FastAPI:
    """Build the explorer app over an open :class:`~embedscope.workspace.Scope`.

    Parameters
    ----------
    scope
        The workspace to serve (``None``: an app built for its OpenAPI schema only; every lookup is a 404).
    token
        If given, every request needs it (the page, its assets, ``/docs`` and ``/openapi.json`` too):
        ``Authorization: Bearer TOKEN``, ``?token=TOKEN`` (which sets a cookie so the page's own requests
        pass) or that cookie; anything else is 401. Required when binding beyond 127.0.0.1.
    static_dir
        The built front end (default: the package's ``static/``).
    cors
        Origins allowed to call the API from another site (none by default: no CORS headers at all); they may
        also send state-changing requests.
    host
        The address or name the server is bound to (``--host``): requests naming it in ``Host`` are answered.
    allowed_hosts
        Further names clients may reach the server by (e.g. a LAN name; ``"*"``: any). Besides these, ``host``
        and the address a connection comes in on, only ``localhost`` and loopback addresses are answered (DNS
        rebinding, see :class:`.guard.HostGuard`).

    Every app refuses bodies over 1 MiB (413) and URLs over 32 kB (414), a ``Host`` that is not one of its
    names (400), a state-changing request or websocket from another origin (403), a body that is neither
    ``application/json`` nor ``application/octet-stream`` (415), and answers an unexpected error with a generic
    500 whose log line names its type and place but not the request (see :mod:`.guard`).
    """
    # /docs is a page of our own (no Swagger UI from a CDN: this tool works offline); see .docs
    app = FastAPI(title="embedscope", version=_version(), docs_url=None, redoc_url=None)
    app.state.explorer = ExplorerState(scope)
    _add_error_handlers(app)
    # Added inside out: the shield wraps the Host check, then CORS (so preflights need no token), the token
    # check, the size limits and, innermost, the origin and body-type check (after the limits: 413 comes first).
    app.add_middleware(SameOriginGuard, trusted=tuple(cors))
    app.add_middleware(RequestLimits)
    if token:
        app.add_middleware(TokenGuard, token=token)
    if cors:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["ETag"])
    app.add_middleware(HostGuard, hosts=(*([host] if host else []), *allowed_hosts))
    app.add_middleware(ErrorShield)
    for router in ROUTERS:
        app.include_router(router, responses=ERRORS)
    add_docs(app)
    _mount_static(app, static_dir or STATIC_DIR)
    return app


def _version() -> str:
    try:
        return metadata.version("embedscope")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def _bad_input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=400)

    @app.exception_handler(ReadOnlyError)
    async def _read_only_workspace(_: Request, exc: ReadOnlyError) -> JSONResponse:
        return JSONResponse({"detail": f"{exc}; everything stored can still be viewed"}, status_code=409)

    @app.exception_handler(DiskFullError)
    async def _disk_full(_: Request, exc: DiskFullError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=507)

    @app.exception_handler(WorkspaceError)
    async def _missing(_: Request, exc: WorkspaceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(EmbedscopeError)
    async def _other(_: Request, exc: EmbedscopeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(OSError)
    async def _read_only(_: Request, exc: OSError) -> JSONResponse:
        """A write the file system refused (a read-only mount, a workspace of another user): 409, reads go on.
        Any other OSError is the shield's generic 500."""
        if exc.errno not in READ_ONLY_ERRNOS:
            raise exc
        where = f" ({exc.filename}: {exc.strerror})" if exc.filename else f" ({exc.strerror})"
        return JSONResponse({"detail": f"read-only workspace: results cannot be stored{where}; everything stored "
                                       "can still be viewed. To compute new results, copy the workspace somewhere "
                                       "writable and serve the copy"}, status_code=409)


def _with_preloads(page: str, paths: Sequence[str]) -> str:
    """``page`` with a ``<link rel="preload" as="fetch">`` per path before ``</head>``: the browser fetches the
    first map's data while it loads and starts the app (``crossorigin="anonymous"`` is how the app's own
    same-origin ``fetch`` asks, so the answers are reused, not fetched twice)."""
    links = "".join(f'    <link rel="preload" as="fetch" crossorigin="anonymous" href="{html.escape(p)}">\n'
                    for p in paths)
    head = page.find("</head>")
    return page if head < 0 else page[:head] + links + page[head:]


def _mount_static(app: FastAPI, static: Path) -> None:
    index = static / "index.html"
    assets = static / "assets"

    @app.get("/", include_in_schema=False, response_model=None)
    def _index(request: Request) -> Response:
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        preload = request.app.state.explorer.preload
        if not preload:
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_with_preloads(index.read_text(encoding="utf-8"), preload),
                            headers={"Cache-Control": "no-cache"})

    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")
