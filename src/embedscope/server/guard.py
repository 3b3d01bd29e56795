"""What stands between the network and the routes: the token check, request limits and the last-resort error
handler. Plain ASGI middleware, so they cover every request the app answers: the API, the page and its
``/assets``, ``/docs``, ``/openapi.json`` and websockets alike.

- :class:`TokenGuard`: with a token set, a request passes only with ``Authorization: Bearer TOKEN``, the
  token's cookie, or ``?token=TOKEN`` (which sets the cookie, as Jupyter does; the page's own URL then drops
  the token with a redirect). Anything else is 401 (websockets: refused before the handshake).
- :class:`RequestLimits`: bodies over ``max_body`` bytes are 413, URLs over ``max_url`` characters 414, both
  before any route runs.
- :class:`ErrorShield`: an exception no handler claimed becomes a generic 500; the log gets its type, the
  route and where it was raised, never its message or the request's parameters (they may hold the user's
  texts, queries or the token).
- :class:`HostGuard`: a ``Host`` header that names none of the server's own names is 400, so a page that
  rebinds its own DNS name to 127.0.0.1 (DNS rebinding) cannot read the workspace through the victim's browser.
- :class:`SameOriginGuard`: a state-changing request (any method but GET, HEAD, OPTIONS) or a websocket
  handshake from another origin (``Origin``, ``Sec-Fetch-Site``) is 403 (cross-site request forgery), and a body
  with a content type a cross-site page may send without asking (``text/plain``, a form, or none) is 415: only
  ``application/json`` and ``application/octet-stream`` bodies, which a browser sends cross-origin only after a
  CORS preflight this server does not grant. As Jupyter does.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import secrets
import traceback
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

log = logging.getLogger("embedscope.server")

Scope = dict[str, Any]
Receive = Any
Send = Any
ASGIApp = Any

#: Bodies above this are refused (the API takes parameters in the URL; no route needs a body this big).
MAX_BODY_BYTES = 1 << 20
#: URLs (path and query string) above this are refused: room for the longest query text a route takes (2,000
#: characters, up to 12 URL bytes each once percent-encoded) and the rest of the URL.
MAX_URL_CHARS = 32_768


def cookie_name(token: str) -> str:
    """The token's cookie: named after a hash of the token, so servers with other tokens on the same host (cookies
    ignore ports) do not overwrite each other's."""
    return "embedscope_token_" + hashlib.blake2b(token.encode(), digest_size=4).hexdigest()


def cookie_values(header: str | None, name: str) -> list[str]:
    """The values of every cookie called ``name`` in a ``Cookie`` header, read tolerantly: split on ``;``, then on
    the first ``=``, so another local app's cookie with a space, a comma or a quote in its value (which
    :class:`http.cookies.SimpleCookie` refuses, dropping the whole header) does not hide ours."""
    out = []
    for part in (header or "").split(";"):
        key, eq, value = part.partition("=")
        if eq and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            out.append(value)
    return out


async def _send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def _deny(scope: Scope, send: Send, status: int, detail: str,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Refuse a request (``{"detail": ...}`` with ``status``) or a websocket handshake (the same answer where the
    server can send one, else a close before the handshake)."""
    if scope["type"] == "http":
        await _send_json(send, status, detail, headers)
    elif "websocket.http.response" in (scope.get("extensions") or {}):
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), *(headers or [])]})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class TokenGuard:
    """Every request needs the token (see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.expected = token.encode()
        self.cookie = cookie_name(token)

    def _ok(self, value: str | None) -> bool:
        return value is not None and secrets.compare_digest(value.encode(), self.expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        auth = _header(scope, b"authorization") or ""
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        cookies = cookie_values(_header(scope, b"cookie"), self.cookie)
        if self._ok(bearer) or any(self._ok(value) for value in cookies):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(bytes(scope.get("query_string", b"")).decode("latin-1"), keep_blank_values=True)
        if any(k == "token" and self._ok(v) for k, v in query):
            await self._with_cookie(scope, receive, send, [(k, v) for k, v in query if k != "token"])
            return
        await self._refuse(scope, send)

    async def _with_cookie(self, scope: Scope, receive: Receive, send: Send, rest: list[tuple[str, str]]) -> None:
        cookie = (f"{self.cookie}={self.token}; HttpOnly; SameSite=Strict; Path=/").encode()
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"] == "/":
            # The page: set the cookie and drop the token from the address bar (and so from history and
            # screenshots); the redirect is relative, so the page also works behind a path prefix.
            location = "./" + (f"?{urlencode(rest)}" if rest else "")
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode()), (b"set-cookie", cookie),
                                    (b"cache-control", b"no-store"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie if scope["type"] == "http" else send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        detail = "missing or wrong token: open the URL printed by `embedscope serve`, or send Authorization: Bearer"
        await _deny(scope, send, 401, detail, [(b"www-authenticate", b"Bearer")])


class _BodyTooLarge(Exception):
    pass


class RequestLimits:
    """413 for a body over ``max_body`` bytes (declared or streamed), 414 for a URL over ``max_url`` characters."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_url: int = MAX_URL_CHARS) -> None:
        self.app = app
        self.max_body = max_body
        self.max_url = max_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string", b"")) > self.max_url:
            await _send_json(send, 414, f"the URL is longer than {self.max_url} characters")
            return
        declared = _header(scope, b"content-length")
        try:
            too_big = declared is not None and int(declared) > self.max_body
        except ValueError:
            await _send_json(send, 400, "Content-Length is not a number")
            return
        if too_big:
            await _send_json(send, 413, f"the request body is larger than {self.max_body} bytes")
            return
        seen = 0
        started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_json(send, 413, f"the request body is larger than {self.max_body} bytes")


class ErrorShield:
    """The outermost layer: an unexpected exception is logged (type, route, place; no message, no parameters)
    and answered with a generic 500 instead of a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] in ("http.response.start", "websocket.accept")
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the last resort
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f"{frame.filename}:{frame.lineno} in {frame.name}" if frame else "?"
            log.error("unexpected %s on %s %s at %s", type(exc).__name__, scope.get("method", "WS"), route, where)
            if not started and scope["type"] == "http":
                await _send_json(send, 500, "internal error; the server log has its type and place")


#: Names that always mean this machine: browsers resolve ``localhost`` and ``*.localhost`` to loopback themselves
#: (no DNS answer an attacker controls), and loopback or unspecified IP literals are no DNS names at all.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: Methods that change nothing (everything else may, so needs the page's own origin).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Body types a cross-site page cannot send without a CORS preflight (which this server grants only to --cors).
BODY_TYPES = ("application/json", "application/octet-stream")


def split_host(value: str) -> tuple[str, int | None]:
    """``(name, port)`` of a ``Host`` header or an origin's host part: lower case, no brackets around IPv6, no
    trailing dot; ``port`` is ``None`` when absent or not a number."""
    value = value.strip().lower()
    port: int | None = None
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif value.count(":") == 1:
        name, _, tail = value.partition(":")
        port = int(tail) if tail.isdigit() else None
    else:
        name = value  # a bare name, or a bare IPv6 address
    return name.rstrip("."), port


def _is_local_ip(name: str) -> bool:
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


class HostGuard:
    """400 for a ``Host`` header naming none of the server's names (see the module docstring).

    Allowed: ``localhost`` and ``*.localhost``, loopback IPs (``127.0.0.1``, ``[::1]``), ``0.0.0.0`` and ``[::]``
    (the URL printed for such a bind), the address the connection came in on (the bound address), and ``hosts``
    (the ``--host`` name and any others the user allows; ``*`` allows every name, as behind a proxy that checks
    them itself). A request without a ``Host`` header (HTTP/1.0, no browser) passes.
    """

    def __init__(self, app: ASGIApp, hosts: Iterable[str] = ()) -> None:
        self.app = app
        names = [str(h) for h in hosts]
        self.any = "*" in names
        self.names = {split_host(h)[0] for h in (*LOOPBACK_NAMES, *names) if h != "*"}

    def allows(self, host: str, server: Any = None) -> bool:
        """Whether ``Host: host`` names this server (``server``: the ASGI ``(address, port)`` it was reached at)."""
        name, _ = split_host(host)
        if self.any or name in self.names or name.endswith(".localhost") or _is_local_ip(name):
            return True
        return bool(server) and name == split_host(str(server[0]))[0]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = _header(scope, b"host")
            if host is not None and not self.allows(host, scope.get("server")):
                shown = host[:100]
                detail = (f"Host {shown!r} is not a name of this server (refused: a page could rebind its own DNS "
                          "name to this machine and read the workspace); open the address `embedscope serve` "
                          "printed, e.g. http://127.0.0.1:PORT/, or allow the name when serving")
                await _deny(scope, send, 400, detail)
                return
        await self.app(scope, receive, send)


class SameOriginGuard:
    """403 for a state-changing request or a websocket from another origin, 415 for a body of a type a page may
    send cross-site without a preflight (see the module docstring); ``trusted``: origins allowed with ``--cors``."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = {o.strip().rstrip("/").lower() for o in trusted}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket" or (kind == "http" and scope["method"] not in SAFE_METHODS):
            refusal = self._cross_origin(scope)
            if refusal is not None:
                await _deny(scope, send, 403, refusal)
                return
            if kind == "http" and _has_body(scope):
                media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
                if media not in BODY_TYPES:
                    await _send_json(send, 415, f"a {scope['method']} body must be sent as Content-Type: "
                                                "application/json (or application/octet-stream for binary rows), "
                                                f"not {media or 'no type'!r}")
                    return
        await self.app(scope, receive, send)

    def _cross_origin(self, scope: Scope) -> str | None:
        """Why the request comes from another site (a detail), or ``None`` when it is the page's own."""
        origin = _header(scope, b"origin")
        if origin is not None and origin.strip().rstrip("/").lower() in self.trusted:
            return None
        advice = ("state-changing requests are taken only from the explorer's own page (or an origin allowed "
                  "with --cors); call the API without a browser, e.g. curl with Authorization: Bearer TOKEN")
        if origin is not None and not _same_origin(origin, _header(scope, b"host"), scope.get("scheme", "http")):
            return f"cross-origin request refused: Origin {origin[:100]!r} is not this server's; {advice}"
        site = (_header(scope, b"sec-fetch-site") or "").strip().lower()
        if site in ("cross-site", "same-site"):
            return f"cross-origin request refused (Sec-Fetch-Site: {site}); {advice}"
        return None


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _same_origin(origin: str, host: str | None, scheme: str) -> bool:
    """Whether ``Origin: origin`` is this server as reached with ``Host: host`` (names and ports compared, default
    ports filled in; ``null`` and anything unparsable are not)."""
    if host is None:
        return False
    try:
        parts = urlsplit(origin.strip())
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    name, port = split_host(host)
    mine = port if port is not None else _DEFAULT_PORTS.get(scheme, 80)
    theirs = origin_port if origin_port is not None else _DEFAULT_PORTS[parts.scheme]
    return parts.hostname.rstrip(".").lower() == name and theirs == mine


def _has_body(scope: Scope) -> bool:
    """Whether the request declares a body (a non-zero ``Content-Length`` or a ``Transfer-Encoding``)."""
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() != "0"
    return _header(scope, b"transfer-encoding") is not None
