"""The compare view of a base space and its tuned space: opened as a pair, only the held-out items drawn on both
maps (a toggle, on by default), and both spaces' probes of the training label on those items, the same figures
``Scope.probe`` gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.helpers import topic_frame
from tests.tunedkit import add_tuned

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tuned_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 items (3 topics), MiniLM with a UMAP map, and a tuned space written to the train contract (30 held
    out, stratified by topic) with its own UMAP map."""
    path = tmp_path_factory.mktemp("tuned") / "t.scope"
    scope = embedscope.create(path)
    scope.ingest(topic_frame(5))
    scope.embed("minilm", "local")
    scope.project("minilm", "umap")
    add_tuned(scope)
    scope.project("tuned", "umap")
    return path


def _drawn(img: np.ndarray, origin: tuple[float, float], pts: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Whether something other than the background is drawn at each point's screen position (3x3 px)."""
    out = []
    for x, y in pts:
        cx, cy = round(origin[0] + x), round(origin[1] + y)
        patch = img[cy - 1: cy + 2, cx - 1: cx + 2].reshape(-1, 3)
        out.append(np.abs(patch - background).sum(axis=-1).max() > 40)
    return np.array(out)


def _lone(pts: np.ndarray, rows: np.ndarray, others: np.ndarray, gap: float = 8.0) -> np.ndarray:
    """Those of ``rows`` at least ``gap`` px from every row of ``others`` on screen."""
    d = np.linalg.norm(pts[rows][:, None] - pts[others][None], axis=-1)
    return rows[d.min(axis=1) >= gap]


def test_compare_shows_base_vs_tuned_on_the_held_out_items(tuned_pair: Path, tmp_path: Path) -> None:
    from tests.web.pagekit import chromium, open_sheet, screenshot, serving, wait_ready

    ws = shutil.copytree(tuned_pair, tmp_path / "t.scope")
    scope = embedscope.open(ws)
    held_ids = set(scope.held_out("tuned") or [])
    assert len(held_ids) == 30
    ids = [scope.point_ids("minilm"), scope.point_ids("tuned")]
    held = [np.array([i for i, s in enumerate(side) if s in held_ids]) for side in ids]
    train = [np.array([i for i, s in enumerate(side) if s not in held_ids]) for side in ids]
    want = scope.probe("topic", ["minilm", "tuned"], ids=sorted(held_ids))
    want_all = scope.probe("topic", ["minilm", "tuned"])

    with serving(ws) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        wait_ready(page)
        labels = page.eval_on_selector_all("#space-select option", "os => os.map(o => o.textContent)")
        assert "tuned (tuned from minilm)" in labels
        open_sheet(page, "compare")
        page.wait_for_function("window.__embedscope.compare && window.__embedscope.compare.ready "
                               "&& window.__embedscope.compare.probeDone", timeout=120_000)
        hook = "window.__embedscope.compare"
        assert page.evaluate(f"{hook}.spaces") == ["minilm", "tuned"]  # the pair, base on the left
        assert page.evaluate(f"{hook}.heldOut") is True and page.locator("#compare-heldout").is_checked()
        assert page.evaluate(f"{hook}.shown") == [30, 30]
        assert page.input_value("#compare-label") == "topic"  # the label the split was stratified by
        legend = page.text_content("#compare-legend")  # not compared yet: the maps coloured by that label
        assert all(t in legend for t in ("sport", "cooking", "space"))

        # the probe panel: both spaces' figures on the held-out items, as Scope.probe measures them
        probe = page.evaluate(f"{hook}.probe")
        assert probe["label"] == "topic" and probe["heldOut"] is True
        for j, space in enumerate(("minilm", "tuned")):
            doc = want["spaces"][space]
            assert doc["n"] == 30
            assert probe["rows"]["logreg accuracy"][j] == pytest.approx(doc["logreg"]["accuracy"])
            assert probe["rows"]["kNN macro-F1"][j] == pytest.approx(doc["knn"]["macro_f1"])
            assert probe["rows"]["control (shuffled)"][j] == pytest.approx(doc["control"])
        cells = page.eval_on_selector_all("#compare-probe-table tr[data-metric='logreg accuracy'] td.num",
                                          "tds => tds.map(t => t.textContent)")
        lo, hi = want["spaces"]["tuned"]["logreg"]["accuracy_ci95"]
        assert cells[1] == f"{want['spaces']['tuned']['logreg']['accuracy']:.3f} [{lo:.3f}, {hi:.3f}]"
        assert "30 held-out items" in page.text_content("#compare-probe-note")

        # on both maps the held-out items are drawn, the training items are not
        img = screenshot(page, "compare-tuned-1280")
        for side, name in ((0, "a"), (1, "b")):
            box = page.locator(f"#compare-map-{name} canvas").first.bounding_box()
            origin = (box["x"], box["y"])
            n = len(ids[side])
            pts = np.array([page.evaluate(f"{hook}.pointToScreen({side}, {r})") for r in range(n)])
            crop = img[int(box["y"]): int(box["y"] + box["height"]), int(box["x"]): int(box["x"] + box["width"])]
            background = np.median(crop.reshape(-1, 3), axis=0)
            assert _drawn(img, origin, pts[held[side]], background).all()
            lone = _lone(pts, train[side], held[side])
            assert len(lone) >= 10 and not _drawn(img, origin, pts[lone], background).any()

        # toggled off: every item on both maps, the probe on every item
        page.click("#compare-heldout")
        page.wait_for_function(f"{hook}.ready && {hook}.probeDone && {hook}.probe && !{hook}.probe.heldOut",
                               timeout=120_000)
        assert page.evaluate(f"{hook}.shown") == [150, 150]
        rows = page.evaluate(f"{hook}.probe.rows")
        assert rows["logreg accuracy"][1] == pytest.approx(want_all["spaces"]["tuned"]["logreg"]["accuracy"])
        img = screenshot(page, "compare-tuned-all-1280")
        box = page.locator("#compare-map-a canvas").first.bounding_box()
        pts = np.array([page.evaluate(f"{hook}.pointToScreen(0, {r})") for r in range(150)])
        crop = img[int(box["y"]): int(box["y"] + box["height"]), int(box["x"]): int(box["x"] + box["width"])]
        lone = _lone(pts, train[0], held[0])
        assert _drawn(img, (box["x"], box["y"]), pts[lone], np.median(crop.reshape(-1, 3), axis=0)).all()
        context.close()

        # a phone: the maps stacked above the figures, the toggle and the probe still there
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        wait_ready(page)
        page.evaluate("document.querySelector('#compare-open').click()")
        page.wait_for_function(f"{hook} && {hook}.ready && {hook}.probeDone && {hook}.probe", timeout=120_000)
        a = page.locator("#compare-map-a").bounding_box()
        b = page.locator("#compare-map-b").bounding_box()
        assert a["width"] > 300 and b["y"] >= a["y"] + a["height"] - 1  # stacked, full width
        assert page.locator("#compare-heldout").is_visible()
        screenshot(page, "compare-tuned-390")
        page.locator("#compare-probe").scroll_into_view_if_needed()
        screenshot(page, "compare-tuned-390-probe")
        context.close()
    assert not errors, errors
