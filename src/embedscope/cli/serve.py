"""``embedscope serve`` and ``demo``: the explorer over HTTP, and the refusal to bind beyond loopback without a
token."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InputError
from .common import WS, err, open_scope, progress

HOST = Annotated[str, typer.Option("--host", help="Address to bind (127.0.0.1 by default; any other needs --token).")]
PORT = Annotated[int, typer.Option("--port", min=1, max=65535)]
TOKEN = Annotated[str | None, typer.Option(
    "--token", help="Require this token on every request ('auto' generates one): Authorization: Bearer TOKEN, "
                    "or open the printed URL once (?token=, which sets a cookie).")]
CORS = Annotated[list[str] | None, typer.Option(
    "--cors", help="Let pages from this origin (e.g. https://example.org) call the API; repeatable. None by default.")]
ALLOW_HOST = Annotated[list[str] | None, typer.Option(
    "--allow-host", help="Also answer requests whose Host header is NAME (e.g. a LAN name; '*' for any, behind a "
                         "proxy that checks it); repeatable. Other names than localhost, loopback addresses and "
                         "--host are refused (400), so a web page cannot rebind its own DNS name to this server.")]


def serve(ws: WS, host: HOST = "127.0.0.1", port: PORT = 8765, token: TOKEN = None, cors: CORS = None,
          allow_host: ALLOW_HOST = None) -> None:
    """Serve the explorer for WS at http://HOST:PORT (blocks until Ctrl-C).

    Only the page's own origin may change stored results (POST from another site: 403), and only JSON or
    binary bodies are taken (415); a Host header other than this server's names is refused (400)."""
    token = _check_bind(host, token)
    _serve(open_scope(ws), host, port, token, cors or [], allow_host or [])


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_bind(host: str, token: str | None) -> str | None:
    """The token to require (``auto``: a new random one); refuses a bind beyond loopback without one."""
    import secrets

    if token == "auto":
        token = secrets.token_urlsafe(24)
    if token is not None and not token.strip():
        raise InputError("--token is empty; give a token or --token auto")
    if not _is_loopback(host) and not token:
        raise InputError(f"--host {host} would let anyone on the network read this workspace; refusing to start. "
                         "Add --token T (or --token auto to generate one), or bind 127.0.0.1")
    return token


def _warm(app_: Any, token: str | None) -> None:
    """Read what the page's first paint needs before listening (seconds at a million points; see
    :mod:`embedscope.server.warm`). A failure here is not fatal: the request that needs it reports it."""
    import time

    from ..server.warm import warm_first_paint, warm_routes

    t0 = time.perf_counter()
    try:
        steps = warm_first_paint(app_.state.explorer)
        warm_routes(app_, token)
    except Exception as exc:  # the page's own request will say what is wrong
        err.print(f"embedscope: could not prepare the map in advance ({type(exc).__name__}); serving anyway")
        return
    took = time.perf_counter() - t0
    if took >= 1.0:
        detail = ", ".join(f"{name} {sec:.1f} s" for name, sec in steps.items())
        err.print(f"embedscope: prepared the first map in {took:.1f} s ({detail})", highlight=False)


def _serve(scope: Any, host: str, port: int, token: str | None, cors: list[str] | None = None,
           allow_host: list[str] | None = None) -> None:
    import uvicorn
    from rich.markup import escape

    from ..server import create_app

    token = _check_bind(host, token)
    app_ = create_app(scope, token=token, cors=cors or (), host=host, allowed_hosts=allow_host or ())
    _warm(app_, token)
    from ..server.warm import start_warm_queries

    start_warm_queries(app_.state.explorer, lambda line: err.print(f"embedscope: {line}", highlight=False))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    err.print(f"embedscope: serving {escape(str(scope.path))} at [bold]{escape(url)}[/] (Ctrl-C to stop)",
              highlight=False)
    # Room in h11's request-line buffer for the longest valid URL (the app answers 414 above 32 kB).
    try:
        uvicorn.run(app_, host=host, port=port, log_level="warning", h11_max_incomplete_event_size=64 * 1024)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it stopped on: stopping is how serving ends
        pass


def demo(
    ws: Annotated[Path, typer.Argument(help="Where to build the sample workspace.")] = Path("embedscope-demo.scope"),
    n: Annotated[int, typer.Option("--n", min=30, max=31_102, help="Verses to embed (all: 31102); with --images, "
                                   "images (all: 1906).")] = 5000,
    host: HOST = "127.0.0.1",
    port: PORT = 8765,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve when built.")] = True,
    token: TOKEN = None,
    images: Annotated[bool, typer.Option(
        "--images", help="The image sample instead (Noto Emoji: an image space, a space of their names, a translator "
                         "names -> images for search by words); default WS embedscope-images.scope.")] = False,
) -> None:
    """Build the sample workspace (King James Bible verses, MiniLM, UMAP, clusters, globe) if missing, then serve it."""
    from ..ops.demo import build_demo, build_image_demo
    from ..workspace import Scope

    if serve_:
        token = _check_bind(host, token)
    from ..interrupt import run_interruptible

    if images and ws == Path("embedscope-demo.scope"):
        ws = Path("embedscope-images.scope")
    if images:
        from ..io.sample_images import emoji_root

        emoji_root()  # not installed: say so before a workspace is made
    scope = Scope.create(ws, exist_ok=True)
    with progress() as cb:  # built in a worker thread, so Ctrl-C stops it at once (see embedscope.interrupt)
        if images:
            run_interruptible(lambda: build_image_demo(scope, n=n if n < 1906 else None, progress=cb,
                                                       log=err.print))
        else:
            run_interruptible(lambda: build_demo(scope, n=n, progress=cb, log=err.print))
    if serve_:
        _serve(scope, host, port, token)
