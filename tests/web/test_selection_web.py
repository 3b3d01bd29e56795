"""Selecting many points with the lasso, per-category counts, the page's exports (selection CSV, map PNG) and
the link that restores view, selection and search."""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.helpers import client_for


@pytest.fixture(scope="module")
def ws(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("sel") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    return dst


def test_selection_csv_endpoint(ws: Path) -> None:
    scope = embedscope.open(ws)
    client = client_for(scope, raise_server_exceptions=False)
    rows = np.array([5, 0, 59, 5], dtype="<u4")
    r = client.post("/api/spaces/minilm/selection.csv", params={"layout": "umap"}, content=rows.tobytes(),
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    got = list(csv.DictReader(io.StringIO(r.text)))
    ids = scope.point_ids("minilm")
    lay = scope.layout("minilm", "umap")
    assert [g["id"] for g in got] == [ids[i] for i in rows]
    assert {"text", "topic", "umap_x", "umap_y"} <= set(got[0])
    assert float(got[0]["umap_x"]) == pytest.approx(float(lay.coords[5, 0]), abs=1e-5)
    for bad in (b"", b"\x01\x02\x03", np.array([60], "<u4").tobytes()):
        r = client.post("/api/spaces/minilm/selection.csv", content=bad,
                        headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 400, r.text
    r = client.post("/api/spaces/minilm/selection.csv", params={"layout": "tsne"}, content=rows.tobytes(),
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 404


def _wait(page) -> None:
    page.wait_for_function("window.__embedscope && window.__embedscope.ready", timeout=30_000)


@pytest.mark.browser
def test_lasso_counts_exports_and_link(ws: Path, tmp_path: Path) -> None:
    from tests.web.pagekit import chromium, open_sheet, screenshot, serving

    scope = embedscope.open(ws)
    ids = scope.point_ids("minilm")
    topic = dict(zip(scope.items_for("minilm").column("id").to_pylist(),
                     scope.items_for("minilm").column("topic").to_pylist(), strict=True))
    with serving(ws) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1,
                                      accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        _wait(page)
        box = page.locator("#map canvas").bounding_box()
        pts = np.array([page.evaluate(f"__embedscope.pointToScreen({r})") for r in range(60)])
        # a lasso (shift + drag) around the left half of the points
        cx = float(np.median(pts[:, 0]))
        x0, x1 = pts[:, 0].min() - 15, cx
        y0, y1 = pts[:, 1].min() - 15, pts[:, 1].max() + 15
        inside = sorted(int(r) for r in np.flatnonzero((pts[:, 0] > x0) & (pts[:, 0] < x1)))
        assert 5 <= len(inside) < 60
        page.keyboard.down("Shift")
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 1)):
            page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
        page.mouse.up()
        page.keyboard.up("Shift")
        page.wait_for_selector("#selection-view")
        _wait(page)
        assert sorted(page.evaluate("__embedscope.selection")) == inside
        want = Counter(topic[ids[r]] for r in inside)
        got = {row.get_attribute("data-label"): int(row.locator("td").nth(1).inner_text().replace(",", ""))
               for row in page.locator("#selection-counts tbody tr").all()}
        assert got == dict(want)
        screenshot(page, "selection-lasso")

        with page.expect_download() as dl:
            page.click("#selection-csv")
        rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
        assert sorted(r["id"] for r in rows) == sorted(ids[r] for r in inside)
        assert {"text", "topic", "umap_x", "umap_y"} <= set(rows[0])

        # zoom a little so the link has a camera to restore, then export the PNG and take the link
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(600)
        open_sheet(page, "export")
        page.wait_for_selector("#export-view")
        with page.expect_download() as dl:
            page.click("#export-png")
        png = Path(dl.value.path()).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
        link = page.input_value("#export-link")
        assert "sel=" in link and "cam=" in link
        camera = page.evaluate("__embedscope.camera")

        again = context.new_page()
        again.goto(link)
        _wait(again)
        again.wait_for_selector("#selection-view")
        assert sorted(again.evaluate("__embedscope.selection")) == inside
        assert again.evaluate("__embedscope.camera") == pytest.approx(camera, rel=1e-3, abs=1e-4)

        # a search goes into the link too, and comes back with it
        page.keyboard.press("Escape")
        page.fill("#search", "rocket launch")
        page.press("#search", "Enter")
        page.wait_for_function("window.__embedscope.search !== null && window.__embedscope.ready")
        hits = page.evaluate("__embedscope.search.rows")
        link = page.url
        assert "q=rocket+launch" in link or "q=rocket%20launch" in link
        third = context.new_page()
        third.goto(link)
        _wait(third)
        third.wait_for_function("window.__embedscope.search !== null")
        assert third.evaluate("__embedscope.search.rows") == hits
        context.close()
        assert not errors, errors
