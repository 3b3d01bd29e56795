"""What the browser tests share: Chromium, a served workspace, and reading the drawn page.

Needs Debian's chromium at /usr/bin/chromium (``make chromium``); Playwright drives it (no browser download).
The page exposes ``window.__embedscope`` (see web/src/hook.ts) to map rows to canvas pixels and colours.
The fixtures built on these (``browser``, ``workspace``, ``server_url``, ``page``) are in tests/web/conftest.py.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.server import create_app
from embedscope.server.app import STATIC_DIR

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
#: Where test screenshots go (kept for humans to look at), at the top of the repository.
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(workspace: Path) -> Iterator[str]:
    """``embedscope``'s app over ``workspace`` served by uvicorn in a thread on a free 127.0.0.1 port."""
    import uvicorn

    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail("front end not built: cd web && npm ci && npm run build")
    port = free_port()
    config = uvicorn.Config(create_app(embedscope.open(workspace)), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's chromium driven by Playwright (skips the test when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium (or make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


def wait_ready(pg) -> None:
    pg.wait_for_function("window.__embedscope && window.__embedscope.ready", timeout=30_000)


def screenshot(pg, name: str) -> np.ndarray:
    """The page as an RGB array (also saved to test-results/ for people to look at)."""
    from PIL import Image

    png = pg.screenshot()
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / f"{name}.png").write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def canvas_origin(pg) -> tuple[float, float]:
    box = pg.locator("#map canvas.map-canvas").bounding_box()
    return box["x"], box["y"]


def drawn_with(img: np.ndarray, pg, rows: list[int], rgb_of: dict[int, list[int]], *, radius: int = 2,
               tol: int = 30) -> float:
    """Fraction of ``rows`` whose expected colour is found within ``radius`` px of their screen position."""
    ox, oy = canvas_origin(pg)
    hits = 0
    for row in rows:
        x, y = pg.evaluate(f"__embedscope.pointToScreen({row})")
        cx, cy = round(ox + x), round(oy + y)
        patch = img[max(cy - radius, 0): cy + radius + 1, max(cx - radius, 0): cx + radius + 1]
        dist = np.abs(patch - np.array(rgb_of[row])).sum(axis=-1)
        hits += int(dist.min() <= tol)
    return hits / len(rows)


def loneliest_row(page, n: int) -> int:
    """The row farthest (on screen) from any other point, so the mouse lands on it alone."""
    pts = np.array([page.evaluate(f"__embedscope.pointToScreen({r})") for r in range(n)])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(axis=1)))


def open_sheet(pg, sheet: str) -> None:
    """Click the header button of ``sheet`` (``compress``, ``health``, ...), through the header's "More" menu when
    the row has no room for it (views/toolbar.ts: at 1280 px the sheets' buttons are in the menu)."""
    button = pg.locator(f"#{sheet}-open")
    if not button.is_visible() and pg.locator("#menu-open").is_visible():
        pg.click("#menu-open")
    button.click()
