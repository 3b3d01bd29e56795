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
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import traceback
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

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


async def _send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


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
        cookies = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie") or "")
        except CookieError:  # a malformed Cookie header is no cookie
            cookies = SimpleCookie()
        morsel = cookies.get(self.cookie)
        if self._ok(bearer) or self._ok(morsel.value if morsel is not None else None):
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
        if scope["type"] == "http":
            await _send_json(send, 401, detail, [(b"www-authenticate", b"Bearer")])
        elif "websocket.http.response" in (scope.get("extensions") or {}):
            body = json.dumps({"detail": detail}).encode()
            await send({"type": "websocket.http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})


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
