"""The compare view and its endpoints: two spaces' maps side by side, coloured by neighbour agreement,
selection and hover linked between them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import embedscope
from tests.helpers import client_for


@pytest.fixture(scope="module")
def two_maps(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 60-item workspace (MiniLM, UMAP) with a second space (TF-IDF + SVD, 24 dims) that has a PCA map."""
    dst = tmp_path_factory.mktemp("cmp") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    scope = embedscope.open(dst)
    scope.embed("lsa", "tfidf:24")
    scope.project("lsa", "pca")
    return dst


def _arrow(body: bytes) -> pa.Table:
    return pa.ipc.open_stream(io.BytesIO(body)).read_all()


def test_compare_endpoints(two_maps: Path, tmp_path: Path) -> None:
    scope = embedscope.open(shutil.copytree(two_maps, tmp_path / "w.scope"))
    client = client_for(scope, raise_server_exceptions=False)
    q = {"a": "minilm", "b": "lsa"}
    r = client.get("/api/compare", params=q)
    assert r.status_code == 200 and r.json()["result"] is None
    pts = _arrow(client.get("/api/compare/points", params={**q, "side": "a"}).content)
    assert pts.num_rows == 60 and np.isnan(pts.column("jaccard").to_numpy()).all()
    r = client.post("/api/compare", params={**q, "k": 5, "label": "topic"})
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["spaces"] == ["minilm", "lsa"] and res["k"] == 5 and res["retrieval"]["column"] == "topic"
    ids_a, ids_b = scope.point_ids("minilm"), scope.point_ids("lsa")
    for c in res["changed_most"]:
        assert ids_a[c["row_a"]] == c["id"] == ids_b[c["row_b"]]
    assert client.get("/api/compare", params=q).json()["result"]["cka"] == res["cka"]
    for side, ids, other in (("a", ids_a, ids_b), ("b", ids_b, ids_a)):
        r = client.get("/api/compare/points", params={**q, "side": side})
        assert r.headers["content-type"].startswith("application/vnd.apache.arrow.stream")
        t = _arrow(r.content)
        jac, rows = t.column("jaccard").to_numpy(), t.column("other").to_numpy()
        assert np.isfinite(jac).all() and ((0 <= jac) & (jac <= 1)).all()
        assert [other[j] for j in rows] == ids
        again = client.get("/api/compare/points", params={**q, "side": side},
                           headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
    stored = scope.comparison("minilm", "lsa")
    assert stored is not None and float(stored[1].mean()) == pytest.approx(res["jaccard_mean"])
    assert client.get("/api/compare", params={"a": "minilm", "b": "minilm"}).status_code == 400
    assert client.get("/api/compare", params={"a": "minilm", "b": "nope"}).status_code == 404
    assert client.post("/api/compare", params={**q, "label": "nope"}).status_code == 404
    assert client.post("/api/compare", params={**q, "k": 100000}).status_code == 422
    assert client.get("/api/compare/points", params={**q, "side": "c"}).status_code == 422


@pytest.mark.browser
def test_compare_view_links_the_two_maps(two_maps: Path) -> None:
    from tests.web.pagekit import chromium, open_sheet, screenshot, serving, wait_ready

    with serving(two_maps) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 860}, device_scale_factor=1)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        wait_ready(page)
        assert page.locator("#compare-open").count() == 1
        open_sheet(page, "compare")
        page.wait_for_function("window.__embedscope.compare && window.__embedscope.compare.ready")
        assert page.locator("#compare-none").is_visible()  # not compared yet: the view says how to
        page.select_option("#compare-label", "topic")
        page.click("#compare-run")
        page.wait_for_selector("#compare-verdict", timeout=120_000)
        page.wait_for_function("window.__embedscope.compare.ready")
        assert page.locator("#compare-stats").is_visible()
        assert page.locator("#compare-changed li").count() == 10
        metrics = page.eval_on_selector_all(".compare-side tbody tr[data-metric]",
                                            "rows => rows.map(r => r.dataset.metric)")
        assert "precision@10" in metrics
        assert page.evaluate("__embedscope.compare.count(0)") == page.evaluate("__embedscope.compare.count(1)") == 60

        # click a point on the left map: the same item is selected on the right map, with its neighbours
        box = page.locator("#compare-map-a canvas").bounding_box()
        pts = np.array([page.evaluate(f"__embedscope.compare.pointToScreen(0, {r})") for r in range(60)])
        d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        row = int(np.argmax(d.min(axis=1)))  # the loneliest point, so the mouse lands on it alone
        x, y = pts[row]
        page.mouse.move(box["x"] + x - 20, box["y"] + y - 20)
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        page.wait_for_function("window.__embedscope.compare.linkedHover !== null")
        scope = embedscope.open(two_maps)
        ids_a, ids_b = scope.point_ids("minilm"), scope.point_ids("lsa")
        assert ids_b[page.evaluate("__embedscope.compare.linkedHover")] == ids_a[row]
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_selector("#compare-nbrs-b li")
        sel = page.evaluate("__embedscope.compare.selected")
        assert sel[0] == row and ids_b[sel[1]] == ids_a[row]
        nbrs = page.evaluate("__embedscope.compare.neighbors")
        assert len(nbrs[0]) == len(nbrs[1]) == 10
        assert nbrs[0] == scope.neighbors(ids_a[row], k=10, space="minilm").rows.tolist()
        assert nbrs[1] == scope.neighbors(ids_a[row], k=10, space="lsa").rows.tolist()
        shared = len({ids_a[i] for i in nbrs[0]} & {ids_b[i] for i in nbrs[1]})
        assert page.locator("#compare-nbrs-a li.shared").count() == shared
        screenshot(page, "compare-view")

        # the changed-most list selects its item on both maps; Escape closes the view
        first = page.locator("#compare-changed li").first
        item_id = first.get_attribute("data-id")
        first.click()
        page.wait_for_function(f"window.__embedscope.compare.selected && window.__embedscope.compare.selected[0] === "
                               f"{ids_a.index(item_id)}")
        page.keyboard.press("Escape")
        assert page.locator("#compare").is_hidden()
        context.close()
        assert not errors, errors
