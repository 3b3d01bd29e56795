"""The server is nobody else's: loopback by default, a token on every request when asked for, bounded requests,
paths confined to the workspace, errors that do not leak the request.

Two levels: the real ``embedscope serve`` in a subprocess (the refusal to bind beyond loopback without a token,
the token over real HTTP) and the app in-process (cookies, limits, CORS, websockets, the error log).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

import embedscope
from embedscope.server import create_app
from embedscope.server.guard import MAX_BODY_BYTES, cookie_name

SPACE = "minilm"
TOKEN = "s3cret-T0ken"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "embedscope", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"}


@pytest.fixture(scope="module")
def workspace(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("security") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    return dst


@pytest.fixture(scope="module")
def scope(workspace: Path) -> embedscope.Scope:
    return embedscope.open(workspace)


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in front end (the real one may not be built): a page and one asset."""
    d = tmp_path_factory.mktemp("static")
    (d / "assets").mkdir()
    (d / "index.html").write_text('<!doctype html><script src="./assets/app.js"></script>', encoding="utf-8")
    (d / "assets" / "app.js").write_text("console.log('embedscope')", encoding="utf-8")
    return d


# ------------------------------------------------------------------------------------ the real server
@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_serve_beyond_loopback_without_token_refuses_to_start(workspace: Path, host: str) -> None:
    port = _free_port()
    proc = subprocess.run(_cli("serve", str(workspace), "--host", host, "--port", str(port)), env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert f"--host {host}" in proc.stderr and "--token" in proc.stderr and "refusing to start" in proc.stderr
    assert "serving" not in proc.stderr and "Traceback" not in proc.stderr
    assert not _listening(port)


def test_demo_beyond_loopback_without_token_refuses_before_building(tmp_path: Path) -> None:
    ws = tmp_path / "demo.scope"
    proc = subprocess.run(_cli("demo", str(ws), "--host", "0.0.0.0", "--n", "30"), env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--token" in proc.stderr, proc.stderr
    assert not ws.exists()


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[str]:
    """``embedscope serve WS --token T`` on a free loopback port; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen(_cli("serve", str(workspace), "--port", str(port), "--token", TOKEN), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            if proc.poll() is not None:
                pytest.fail(f"embedscope serve exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
            if time.monotonic() > deadline:
                pytest.fail("embedscope serve did not start within 120 s")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("path", ["/", "/assets/index.js", "/api/info", "/openapi.json", "/docs",
                                  f"/api/spaces/{SPACE}/layouts/umap", f"/api/spaces/{SPACE}/items/0/neighbors",
                                  "/no/such/path"])
def test_without_the_token_every_request_is_401(server: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Cookie": f"{cookie_name(TOKEN)}=wrong"}, {"Cookie": f"embedscope_token={TOKEN}"}):
        r = httpx.get(server + path, headers=headers, params={"token": "nope"} if not headers else None)
        assert r.status_code == 401, (path, headers, r.status_code)
        assert r.json()["detail"].startswith("missing or wrong token")
        assert TOKEN not in r.text and "set-cookie" not in r.headers


def test_bearer_token_works(server: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    info = httpx.get(f"{server}/api/info", headers=auth)
    assert info.status_code == 200 and info.json()["spaces"][0]["name"] == SPACE
    assert httpx.get(f"{server}/openapi.json", headers=auth).json()["info"]["title"] == "embedscope"
    assert httpx.get(f"{server}/", headers=auth).status_code in (200, 503)  # 503: front end not built


def test_token_in_the_url_sets_a_cookie_that_then_suffices(server: str) -> None:
    with httpx.Client(base_url=server) as c:
        first = c.get("/", params={"token": TOKEN})
        # The page's URL drops the token (a relative redirect) once the cookie is set.
        assert first.status_code == 303 and first.headers["location"] == "./"
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{cookie_name(TOKEN)}={TOKEN};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/").status_code in (200, 503)
        assert c.get("/api/info").status_code == 200
        assert c.get(f"/api/spaces/{SPACE}/layouts/umap").status_code == 200
    assert httpx.get(f"{server}/api/info").status_code == 401  # a client without the cookie still is not let in


def _raw_status(base: str, target: str) -> int:
    """The status of ``GET target`` sent as raw bytes (HTTP clients refuse URLs this long themselves)."""
    url = httpx.URL(base)
    with socket.create_connection((url.host, url.port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                  "Connection: close\r\n\r\n".encode())
        head = s.recv(64).decode("latin-1")
    return int(head.split()[1])


def test_a_100_kb_query_over_real_http_is_4xx(server: str) -> None:
    status = _raw_status(server, f"/api/spaces/{SPACE}/search?q={'x' * 100_000}")
    assert 400 <= status < 500, status


def test_the_longest_valid_query_passes_over_real_http(server: str) -> None:
    """2,000 four-byte characters: 24 kB once percent-encoded, past uvicorn's default 16 kB request line."""
    r = httpx.get(f"{server}/api/spaces/{SPACE}/search", params={"q": "\U0001F600" * 2000, "mode": "keyword"},
                  headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["total"] == 0


@pytest.mark.parametrize(("path", "params"), [
    (f"/api/spaces/{SPACE}/items/0/neighbors", {"k": 100_000}),
    (f"/api/spaces/{SPACE}/search", {"q": "x" * 30_000}),
    (f"/api/spaces/{SPACE}/search", {"q": "x" * 3000}),
    (f"/api/spaces/{SPACE}/clusters", {"limit": 10**9}),
    (f"/api/spaces/{SPACE}/items/99999999999999999999999", {}),
    ("/api/spaces/../../etc/items/0", {}),
    ("/api/spaces/..%2F..%2Fetc%2Fpasswd/layouts/umap", {}),
    (f"/api/spaces/{SPACE}/layouts/..%2F..%2F..%2Fscope.json", {}),
    (f"/api/spaces/{SPACE}/columns/..%2F..%2Fetc%2Fpasswd", {}),
])
def test_limits_over_real_http_are_4xx(server: str, path: str, params: dict) -> None:
    r = httpx.get(server + path, params=params, headers={"Authorization": f"Bearer {TOKEN}"})
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])


def test_huge_body_over_real_http_is_413(server: str) -> None:
    r = httpx.post(f"{server}/api/spaces/{SPACE}/compress", content=b"x" * (MAX_BODY_BYTES + 1),
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 413


# ----------------------------------------------------------------------------------------- in-process
@pytest.fixture(scope="module")
def guarded(scope: embedscope.Scope, static: Path) -> TestClient:
    return TestClient(create_app(scope, token=TOKEN, static_dir=static), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(scope: embedscope.Scope) -> TestClient:
    return TestClient(create_app(scope), raise_server_exceptions=False)


def test_page_and_assets_need_the_token_then_load_with_the_cookie(scope: embedscope.Scope, static: Path) -> None:
    c = TestClient(create_app(scope, token=TOKEN, static_dir=static), follow_redirects=False)
    for path in ("/", "/assets/app.js", "/docs", "/openapi.json"):
        assert c.get(path).status_code == 401, path
    r = c.get("/", params={"token": TOKEN, "space": SPACE})
    assert r.status_code == 303 and r.headers["location"] == f"./?space={SPACE}"
    page = c.get("/")
    assert page.status_code == 200 and "./assets/app.js" in page.text
    assert c.get("/assets/app.js").text == "console.log('embedscope')"
    assert c.get("/api/info").status_code == 200


def test_token_in_an_api_url_passes_and_sets_the_cookie(guarded: TestClient) -> None:
    c = TestClient(guarded.app)
    r = c.get("/api/info", params={"token": TOKEN})
    assert r.status_code == 200 and cookie_name(TOKEN) in r.headers["set-cookie"]
    assert c.get("/api/info").status_code == 200


def test_servers_with_other_tokens_use_other_cookies() -> None:
    assert cookie_name("a") != cookie_name("b") and cookie_name("a") == cookie_name("a")


def test_websockets_need_the_token(guarded: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied, guarded.websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 401


def test_no_cors_unless_asked(client: TestClient, scope: embedscope.Scope) -> None:
    origin = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/info", headers=origin).headers
    pre = client.options("/api/info", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers
    allowed = "https://notebook.example"
    c = TestClient(create_app(scope, token=TOKEN, cors=[allowed]))
    pre = c.options("/api/info", headers={"Origin": allowed, "Access-Control-Request-Method": "GET",
                                          "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == allowed
    r = c.get("/api/info", headers={"Origin": allowed, "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == allowed
    assert c.get("/api/info", headers={"Origin": allowed}).status_code == 401
    other = c.get("/api/info", headers={"Origin": "https://evil.example", "Authorization": f"Bearer {TOKEN}"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(("method", "path", "params", "status"), [
    ("GET", f"/api/spaces/{SPACE}/items/0/neighbors", {"k": 100_000}, 422),
    ("GET", f"/api/spaces/{SPACE}/items/0/neighbors", {"k": -5}, 422),
    ("GET", f"/api/spaces/{SPACE}/search", {"q": "x" * 40_000}, 414),
    ("GET", f"/api/spaces/{SPACE}/search", {"q": "\U0001F600" * 2000, "mode": "keyword"}, 200),
    ("GET", f"/api/spaces/{SPACE}/search", {"q": "x" * 2001}, 422),
    ("GET", f"/api/spaces/{SPACE}/search", {"q": ""}, 422),
    ("GET", f"/api/spaces/{SPACE}/search", {"q": "   "}, 400),
    ("GET", f"/api/spaces/{SPACE}/search", {"q": "sport", "k": 100_000}, 422),
    ("GET", f"/api/spaces/{SPACE}/clusters", {"limit": 10**9}, 422),
    ("GET", f"/api/spaces/{SPACE}/health", {"pairs": 10**9}, 422),
    ("POST", f"/api/spaces/{SPACE}/compress", {"queries": 10**9}, 422),
    ("GET", "/api/translate", {"from": "x" * 300, "to": SPACE}, 422),
    ("GET", "/api/spaces/../../etc/items/0", {}, 404),
    ("GET", "/api/spaces/..%2F..%2Fetc/items/0", {}, 404),
    ("GET", "/api/spaces/..%2F..%2Fetc/compress", {}, 404),
    ("GET", "/api/spaces/..%2F..%2Fetc/health", {}, 404),
    ("GET", f"/api/spaces/{SPACE}/layouts/..%2F..%2Fscope.json", {}, 404),
    ("GET", f"/api/spaces/{SPACE}/layouts/umap%00", {}, 404),
    ("GET", f"/api/spaces/{SPACE}/columns/..%2F..%2Fetc%2Fpasswd", {}, 404),
    ("GET", "/assets/..%2F..%2Fapp.py", {}, 404),
    ("GET", f"/api/spaces/{SPACE}/items/99999999999999999999999", {}, 404),
])
def test_limits_and_paths_are_4xx_never_500(client: TestClient, method: str, path: str, params: dict,
                                           status: int) -> None:
    r = client.request(method, path, params=params)
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    assert status == 200 or "detail" in r.json()


def test_bodies_over_the_limit_are_413(client: TestClient) -> None:
    url = f"/api/spaces/{SPACE}/compress"
    assert client.post(url, content=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    r = client.post("/api/translate", params={"from": SPACE, "to": SPACE}, content=chunks())
    assert r.status_code in (400, 413)  # the route may answer before reading the body
    assert client.post(url, headers={"Content-Length": "banana"}).status_code == 400


def test_unexpected_errors_are_a_generic_500_and_the_log_keeps_the_text_out(
        scope: embedscope.Scope, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    secret = "my private diary entry"

    def boom(text: str, space: str | None = None) -> None:
        raise RuntimeError(f"could not embed {text!r}")

    c = TestClient(create_app(scope), raise_server_exceptions=False)
    monkeypatch.setattr(scope, "embed_query", boom)
    with caplog.at_level(logging.ERROR, logger="embedscope.server"):
        r = c.get(f"/api/spaces/{SPACE}/search", params={"q": secret})
    assert r.status_code == 500 and secret not in r.text
    assert r.json()["detail"].startswith("internal error")
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "RuntimeError" in logged and "/api/spaces/{space}/search" in logged
    assert secret not in logged and secret not in caplog.text


# -------------------------------------------------------------------------------------------- browser
@pytest.mark.browser
def test_page_opened_with_the_token_draws_and_drops_it_from_the_address_bar(workspace: Path) -> None:
    """The printed ``?token=`` URL in a real browser: the redirect sets the cookie, every fetch of the page then
    passes (same-origin credentials), and the map is drawn; a browser without the token gets 401."""
    import threading

    import uvicorn

    from embedscope.server.app import STATIC_DIR
    from tests.test_browser import VIEWPORT, chromium, wait_ready

    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail("front end not built: cd web && npm ci && npm run build")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(embedscope.open(workspace), token=TOKEN), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}/"
    try:
        with chromium() as browser:
            ctx = browser.new_context(viewport=VIEWPORT)
            pg = ctx.new_page()
            errors: list[str] = []
            refused: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
            pg.goto(f"{base}?token={TOKEN}")
            wait_ready(pg)
            assert pg.evaluate("window.__embedscope.ready")
            assert TOKEN not in pg.url and pg.url.split("#")[0] == base
            assert not errors and not refused, (errors, refused)
            assert pg.evaluate("document.cookie") == ""  # HttpOnly: scripts on the page cannot read the token
            ctx.close()
            stranger = browser.new_context(viewport=VIEWPORT)
            response = stranger.new_page().goto(base)
            assert response is not None and response.status == 401
            stranger.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
