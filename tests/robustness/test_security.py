"""The server is nobody else's: loopback by default, a token on every request when asked for, bounded requests,
paths confined to the workspace, errors that do not leak the request.

Two levels: the real ``embedscope serve`` in a subprocess (the refusal to bind beyond loopback without a token,
the token over real HTTP) and the app in-process (cookies, limits, CORS, websockets, the error log).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

import embedscope
from embedscope.server import create_app
from embedscope.server.guard import MAX_BODY_BYTES, cookie_name
from tests.helpers import DATA, client_for

SPACE = "minilm"
TOKEN = "s3cret-T0ken"
BAD = DATA / "bad"


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


@contextlib.contextmanager
def serving(command: list[str], port: int) -> Iterator[str]:
    """Run ``command`` (an ``embedscope serve`` listening on ``port``) until the block ends; yields its base URL."""
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[str]:
    """``embedscope serve WS --token T`` on a free loopback port; yields its base URL."""
    port = _free_port()
    with serving(_cli("serve", str(workspace), "--port", str(port), "--token", TOKEN, "--allow-host", "mybox.lan"),
                 port) as base:
        yield base


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
    return client_for(scope, token=TOKEN, static_dir=static, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(scope: embedscope.Scope) -> TestClient:
    return client_for(scope, raise_server_exceptions=False)


def test_page_and_assets_need_the_token_then_load_with_the_cookie(scope: embedscope.Scope, static: Path) -> None:
    c = client_for(scope, token=TOKEN, static_dir=static, follow_redirects=False)
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
    c = client_for(scope, token=TOKEN, cors=[allowed])
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

    r = client.post("/api/translate", params={"from": SPACE, "to": SPACE}, content=chunks(),
                    headers={"Content-Type": "application/json"})  # a type the body check lets through
    assert r.status_code in (400, 413)  # the route may answer before reading the body
    assert client.post(url, headers={"Content-Length": "banana"}).status_code == 400


def test_unexpected_errors_are_a_generic_500_and_the_log_keeps_the_text_out(
        scope: embedscope.Scope, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    secret = "my private diary entry"

    def boom(text: str, space: str | None = None) -> None:
        raise RuntimeError(f"could not embed {text!r}")

    c = client_for(scope, raise_server_exceptions=False)
    monkeypatch.setattr(scope, "embed_query", boom)
    with caplog.at_level(logging.ERROR, logger="embedscope.server"):
        r = c.get(f"/api/spaces/{SPACE}/search", params={"q": secret})
    assert r.status_code == 500 and secret not in r.text
    assert r.json()["detail"].startswith("internal error")
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "RuntimeError" in logged and "/api/spaces/{space}/search" in logged
    assert secret not in logged and secret not in caplog.text


# ------------------------------------------------------------------------- Host, Origin, content types
@pytest.mark.parametrize("host", ["rebound.example", "rebound.example:8765", "attacker.test.", "10.1.2.3:8765"])
def test_a_foreign_host_header_is_refused(client: TestClient, host: str) -> None:
    # Attack: DNS rebinding. A page at http://rebound.example:8765 points its name at 127.0.0.1 after loading;
    # its script is then same-origin with the local server and would read every item, unless the server refuses
    # requests whose Host names none of its own names.
    for path in ("/api/info", f"/api/spaces/{SPACE}/items/0", "/", "/openapi.json"):
        r = client.get(path, headers={"Host": host})
        assert r.status_code == 400, (path, host, r.status_code)
        assert "not a name of this server" in r.json()["detail"] and "127.0.0.1" in r.json()["detail"]
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws", headers={"Host": host}):
        pass
    assert denied.value.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST", "[::1]:8765", "127.0.0.2",
                                  "app.localhost:8765", "0.0.0.0:8765", "testserver"])
def test_the_servers_own_names_pass(client: TestClient, host: str) -> None:
    # The other side of DNS rebinding: loopback names, the printed URL of a 0.0.0.0 bind and the address the
    # connection came in on ("testserver" in process) still work.
    assert client.get("/api/info", headers={"Host": host}).status_code == 200


def test_host_names_allowed_when_serving(scope: embedscope.Scope) -> None:
    # DNS rebinding: a LAN name is refused unless it is the --host value or allowed by name ("*": any).
    assert client_for(scope).get("/api/info", headers={"Host": "mybox.lan"}).status_code == 400
    assert client_for(scope, host="mybox.lan").get("/api/info", headers={"Host": "mybox.lan:1"}
                                                              ).status_code == 200
    named = client_for(scope, allowed_hosts=["Notebook.Example"])
    assert named.get("/api/info", headers={"Host": "notebook.example"}).status_code == 200
    assert named.get("/api/info", headers={"Host": "other.example"}).status_code == 400
    assert client_for(scope, allowed_hosts=["*"]).get("/api/info", headers={"Host": "x.y"}
                                                                  ).status_code == 200


def test_foreign_host_over_real_http_is_refused(server: str) -> None:
    # DNS rebinding against the real `embedscope serve`: the TCP connection reaches 127.0.0.1, the Host names
    # the attacker's domain.
    port = httpx.URL(server).port
    r = httpx.get(f"{server}/api/info", headers={"Host": f"rebound.example:{port}",
                                                  "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400 and "not a name of this server" in r.json()["detail"]
    assert httpx.get(f"http://localhost:{port}/api/info", headers={"Authorization": f"Bearer {TOKEN}"}
                     ).status_code == 200
    # a name the user allowed with `serve --allow-host` passes
    assert httpx.get(f"{server}/api/info", headers={"Host": f"mybox.lan:{port}", "Authorization": f"Bearer {TOKEN}"}
                     ).status_code == 200


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "http://testserver:8080"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
])
def test_cross_origin_state_changes_are_refused(small_scope: embedscope.Scope, headers: dict[str, str]) -> None:
    # Attack: cross-site request forgery. Any page the user visits can POST to http://127.0.0.1:8765 (the
    # browser sends it without asking when the request is CORS-simple); it must not overwrite stored results.
    c = client_for(small_scope, raise_server_exceptions=False)
    for path, params in ((f"/api/spaces/{SPACE}/compress", {"queries": 5}),
                         ("/api/compare", {"a": SPACE, "b": SPACE}),
                         (f"/api/spaces/{SPACE}/selection.csv", {})):
        r = c.post(path, params=params, headers=headers)
        assert r.status_code == 403, (path, headers, r.status_code, r.text[:200])
        assert r.json()["detail"].startswith("cross-origin request refused") and "--cors" in r.json()["detail"]
    assert c.put(f"/api/spaces/{SPACE}/compress", headers=headers).status_code == 403
    assert small_scope.compression(SPACE) is None  # nothing was stored
    assert c.get("/api/info", headers=headers).status_code == 200  # reads stay open (the browser keeps them)


def test_cross_origin_websockets_are_refused(client: TestClient) -> None:
    # Cross-site WebSocket hijacking: a websocket handshake is not subject to CORS, so the Origin is checked.
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect(
            "/ws", headers={"Origin": "https://evil.example"}):
        pass
    assert denied.value.status_code == 403


def test_the_pages_own_posts_and_cors_origins_pass(small_scope: embedscope.Scope) -> None:
    # Cross-site request forgery, the other side: the page's own POST (same Origin, Sec-Fetch-Site: same-origin),
    # a client that sends no Origin (curl, scripts) and an origin allowed with --cors are answered.
    rows = np.array([1, 0], "<u4").tobytes()
    octet = {"Content-Type": "application/octet-stream"}
    url = f"/api/spaces/{SPACE}/selection.csv"
    c = client_for(small_scope)
    for headers in ({"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
                    {"Origin": "http://TESTSERVER:80/"}, {}):
        assert c.post(url, content=rows, headers={**headers, **octet}).status_code == 200, headers
    allowed = "https://notebook.example"
    trusted = client_for(small_scope, cors=[allowed])
    r = trusted.post(url, content=rows, headers={"Origin": allowed, "Sec-Fetch-Site": "cross-site", **octet})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == allowed
    pre = trusted.options(url, headers={"Origin": allowed, "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/plain;charset=UTF-8",
                                          "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_cors_simple_bodies_are_refused(small_scope: embedscope.Scope, content_type: str | None) -> None:
    # Attack: a CORS-simple POST (text/plain, a form, or a body without a type) is sent cross-site without a
    # preflight, even by a page whose Origin a proxy stripped; only JSON and binary bodies, which need the
    # preflight this server does not grant, are taken.
    c = client_for(small_scope, raise_server_exceptions=False)
    headers = {"Content-Type": content_type} if content_type else {}
    r = c.post(f"/api/spaces/{SPACE}/compress", params={"queries": 5}, content=b'{"x": 1}', headers=headers)
    assert r.status_code == 415, r.text[:200]
    assert "application/json" in r.json()["detail"]
    assert small_scope.compression(SPACE) is None
    rows = np.array([1], "<u4").tobytes()
    assert c.post(f"/api/spaces/{SPACE}/selection.csv", content=rows, headers=headers).status_code == 415


# ---------------------------------------------------------------------------------------------- cookies
@pytest.mark.parametrize("other", ['theme="dark blue"', "session=a b c", 'weird=a"b', "list=a,b", "flag",
                                   "x=[1]; y={2}", "=novalue", 'q="unterminated'])
def test_token_cookie_survives_other_apps_odd_cookies(guarded: TestClient, other: str) -> None:
    # Cookies: another app on localhost (cookies ignore ports) sets a cookie http.cookies cannot parse; the whole
    # header used to be dropped, and the page answered 401 forever.
    mine = f"{cookie_name(TOKEN)}={TOKEN}"
    for header in (f"{other}; {mine}", f"{mine}; {other}", f'{other};{cookie_name(TOKEN)}="{TOKEN}"'):
        assert guarded.get("/api/info", headers={"Cookie": header}).status_code == 200, header
    assert guarded.get("/api/info", headers={"Cookie": f"{other}; {cookie_name(TOKEN)}=wrong"}).status_code == 401


# ------------------------------------------------------------------------------------- response bounds
def test_a_1_mib_selection_is_refused_not_amplified(small_scope: embedscope.Scope) -> None:
    # Response bounds: 1 MiB of one row repeated (262,144 rows) made a 695 MB CSV and took the server from 0.8 to
    # 2.7 GB; a selection now holds at most as many rows as the space has points.
    c = client_for(small_scope, raise_server_exceptions=False)
    body = np.zeros(MAX_BODY_BYTES // 4, "<u4").tobytes()
    r = c.post(f"/api/spaces/{SPACE}/selection.csv", content=body,
               headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and len(r.content) < 1000
    assert "262144 rows but space 'minilm' has 60 points: send each row once" in r.json()["detail"]
    every = np.arange(60, dtype="<u4")[::-1].tobytes()  # the whole space, in any order, still passes
    r = c.post(f"/api/spaces/{SPACE}/selection.csv", content=every,
               headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200 and r.text.count("\n") >= 61


def test_the_selection_csv_is_streamed_in_blocks(scope: embedscope.Scope) -> None:
    # Response bounds: the CSV is written a block of rows at a time (header once), never whole in memory.
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from embedscope.server.routes.selection import csv_blocks

    table = scope.items_for(SPACE)
    rows = np.array([5, 0, 59, 5, 7], np.int64)
    blocks = list(csv_blocks(table, rows, block=2))
    assert len(blocks) == 3 and blocks[0].startswith(b'"id"') and not blocks[1].startswith(b'"id"')
    whole = pa.BufferOutputStream()
    pacsv.write_csv(table.take(pa.array(rows)), whole)
    assert b"".join(blocks) == whole.getvalue().to_pybytes()


# ------------------------------------------------------------------------------------------------- lock
def test_a_lookup_is_answered_while_a_compress_job_runs(small_scope: embedscope.Scope,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Lock: one slow request stalled all. POST compress held the lock every lookup takes (an item lookup waited
    # 9.8 s, behind translate 16.5 s). The job is held mid-way here (an event, not a timer) and a lookup of a
    # cold cache is sent: it must be answered before the job is let go.
    import threading

    import embedscope.analyses.compress as compress

    real = compress.evaluate
    inside, release = threading.Event(), threading.Event()

    def held(*args: object, **kwargs: object) -> object:
        inside.set()
        release.wait(300)
        return real(*args, **kwargs)

    monkeypatch.setattr(compress, "evaluate", held)
    c = client_for(small_scope, raise_server_exceptions=False)
    order: list[tuple[str, int]] = []
    answered = threading.Event()

    def job() -> None:
        order.append(("job", c.post(f"/api/spaces/{SPACE}/compress", params={"queries": 5}).status_code))

    def lookup() -> None:
        order.append(("lookup", c.get(f"/api/spaces/{SPACE}/items/3").status_code))
        answered.set()

    worker = threading.Thread(target=job)
    worker.start()
    try:
        assert inside.wait(120), "the compress job never started"
        looker = threading.Thread(target=lookup, daemon=True)
        looker.start()
        answered_while_held = answered.wait(60)  # a guard: with the old lock the lookup waits for the job
    finally:
        release.set()
        worker.join()
    looker.join()
    assert answered_while_held and order == [("lookup", 200), ("job", 200)], order
    stored = c.get(f"/api/spaces/{SPACE}/compress").json()["result"]  # the job's result is published
    assert stored is not None and stored["queries"] == 5


# ------------------------------------------------------------------------------------- errors that are 4xx
FILTERED = [f"/api/spaces/{SPACE}/filter", f"/api/spaces/{SPACE}/items/0/neighbors", f"/api/spaces/{SPACE}/search"]


@pytest.mark.parametrize("spec", [(BAD / "filter_deep.json").read_text().strip(), '{"topic": ' + "[" * 900,
                                  '{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}'])
def test_deeply_nested_filters_are_400(client: TestClient, spec: str) -> None:
    # A filter of 1,000 nested brackets made the JSON parser recurse past Python's limit: RecursionError, a 500.
    for path in FILTERED:
        r = client.get(path, params={"filter": spec, "q": "sport", "mode": "keyword"})
        assert r.status_code == 400, (path, r.status_code, r.text[:200])
        assert "levels of brackets" in r.json()["detail"]


def test_a_deeply_nested_qrels_line_names_its_row(tmp_path: Path) -> None:
    # The same class in another parser: a qrels JSONL line nested a thousand deep is a clear input error.
    from embedscope.errors import InputError
    from embedscope.io.qrels import read_qrels

    f = tmp_path / "deep.jsonl"
    f.write_text('{"query": "q", "id": "a", "score": 1}\n' + "[" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2.*nests too deeply"):
        read_qrels(f)


def _read_only_write(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes under ``workspace`` fail with EROFS, as on a read-only mount (chmod does not stop root)."""
    import errno

    real = os.open

    def refuse(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path).startswith(str(workspace)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)


def test_a_read_only_workspace_answers_409_and_reads_go_on(small_scope: embedscope.Scope,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A read-only workspace (a mount, a colleague's files) gave 500 on every POST. Simulated here: the write
    # raises OSError(EROFS) where the workspace's write lock is opened (the real mount is the next test).
    small_scope.add_vectors("lsa", [str(i) for i in small_scope.point_ids(SPACE)],
                            np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32))
    c = client_for(small_scope, raise_server_exceptions=False)
    _read_only_write(small_scope.path, monkeypatch)
    for path, params in ((f"/api/spaces/{SPACE}/compress", {"queries": 5}),
                         ("/api/compare", {"a": SPACE, "b": "lsa"})):
        r = c.post(path, params=params)
        assert r.status_code == 409, (path, r.status_code, r.text[:300])
        detail = r.json()["detail"]
        assert detail.startswith(f"read-only workspace {small_scope.path}: results cannot be stored"), detail
    assert c.get("/api/info").status_code == 200
    assert c.get(f"/api/spaces/{SPACE}/items/3").status_code == 200
    assert c.get(f"/api/spaces/{SPACE}/items/3/neighbors").status_code == 200
    assert c.get(f"/api/spaces/{SPACE}/compress").json()["result"] is None


def test_a_read_only_mount_answers_409_over_real_http(workspace: Path, tmp_path: Path) -> None:
    # The same on a real read-only bind mount, in a user and mount namespace of its own (no privileges needed
    # where the kernel allows unprivileged user namespaces; skipped where it does not).
    import shutil as sh

    ws = tmp_path / "ro.scope"
    sh.copytree(workspace, ws)
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount --bind {ws} {ws} && mount -o remount,ro,bind "
                            f"{ws} {ws} && ! touch {ws}/probe"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.strip()[:200]}")
    port = _free_port()
    script = (f"mount --bind {ws} {ws} && mount -o remount,ro,bind {ws} {ws} && exec "
              + " ".join(_cli("serve", str(ws), "--port", str(port))))
    with serving(["unshare", "-rm", "sh", "-c", script], port) as base:
        r = httpx.post(f"{base}/api/spaces/{SPACE}/compress", params={"queries": 5}, timeout=120)
        assert r.status_code == 409, r.text[:300]
        assert r.json()["detail"].startswith(f"read-only workspace {ws}: results cannot be stored"), r.text[:300]
        assert httpx.get(f"{base}/api/spaces/{SPACE}/items/3").status_code == 200
    assert not (ws / "probe").exists()


# ---------------------------------------------------------------------------------------------- offline
def test_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    # Offline-first (and privacy): /docs was Swagger UI from a CDN, blank offline and announced to a third party
    # each time it was opened. Now a page of the server's own, with no script and no outside URL.
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script" not in r.text and not re.search(r"""(src|href)=["']?(https?:)?//""", r.text)
    assert 'href="openapi.json"' in r.text and "/api/spaces/{space}/items/{row}/neighbors" in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert client.get("/docs/oauth2-redirect").status_code == 404


# -------------------------------------------------------------------------------------------- browser
@pytest.mark.browser
def test_page_opened_with_the_token_draws_and_drops_it_from_the_address_bar(workspace: Path) -> None:
    """The printed ``?token=`` URL in a real browser: the redirect sets the cookie, every fetch of the page then
    passes (same-origin credentials), and the map is drawn; a browser without the token gets 401."""
    import threading

    import uvicorn

    from embedscope.server.app import STATIC_DIR
    from tests.web.pagekit import VIEWPORT, chromium, wait_ready

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
