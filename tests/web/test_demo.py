"""`embedscope demo` end to end: build the sample workspace, serve it with the real command, check the page.

This is what `make demo` runs (with fewer verses so the test stays short): the map must show every sample
item in its category's colour where the stored layout puts it, hovering shows the text, and clicking shows
the same neighbours as `embedscope neighbors`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import embedscope
from tests.web.pagekit import (
    CHROMIUM,
    VIEWPORT,
    canvas_origin,
    drawn_with,
    free_port,
    loneliest_row,
    screenshot,
    wait_ready,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
N = 600


def _cli(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "embedscope", *args], capture_output=True, text=True, check=True)
    return out.stdout


def test_demo_serves_every_sample_item(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (make chromium)")
    ws = tmp_path / "demo.scope"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "embedscope", "demo", str(ws), "--n", str(N), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 900
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.time() < deadline, "demo did not serve in time"
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        info = json.loads(_cli("info", str(ws), "--json"))
        assert info["items"] == N and info["spaces"][0]["name"] == "minilm"
        assert info["spaces"][0]["layouts"] == ["sphere", "umap"]

        from playwright.sync_api import sync_playwright

        scope = embedscope.open(ws)
        ids = scope.point_ids("minilm")
        items = scope.items_for("minilm")
        divisions = items.column("division").to_pylist()
        texts = items.column("text").to_pylist()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            wait_ready(page)
            hook = page.evaluate("({count: __embedscope.count, colorBy: __embedscope.colorBy})")
            assert hook == {"count": N, "colorBy": "division"}, hook
            rgb = {r: page.evaluate(f"__embedscope.colorOf({r})") for r in range(N)}
            colours: dict[str, set[tuple[int, ...]]] = {}
            for r, d in enumerate(divisions):
                colours.setdefault(d, set()).add(tuple(rgb[r]))
            assert len(colours) == 10 and all(len(c) == 1 for c in colours.values())
            assert len({next(iter(c)) for c in colours.values()}) == 10, "ten divisions, ten colours"
            img = screenshot(page, "demo-map")
            for d in colours:
                rows = [r for r, x in enumerate(divisions) if x == d]
                assert drawn_with(img, page, rows, rgb, radius=3) >= 0.7, d

            row = loneliest_row(page, N)
            ox, oy = canvas_origin(page)
            x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
            page.mouse.move(ox + x - 20, oy + y - 20)
            page.mouse.move(ox + x, oy + y, steps=4)
            page.locator("#tooltip").wait_for(state="visible")
            assert texts[row][:60] in page.locator("#tooltip").inner_text()
            page.mouse.click(ox + x, oy + y)
            page.wait_for_function(f"__embedscope.selected === {row} && __embedscope.neighbors.length === 10")
            page.locator("#neighbors li").nth(9).wait_for()
            shown = page.locator("#neighbors li").evaluate_all("els => els.map(e => e.dataset.id)")
            cli = json.loads(_cli("neighbors", str(ws), ids[row], "--json"))
            assert shown == [d["id"] for d in cli]
            screenshot(page, "demo-selected")
            browser.close()
            assert not errors, errors
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
