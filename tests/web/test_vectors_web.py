"""Vectors you can look at, in a real browser over real word2vec vectors (1,000 words, 300-d): the selected item's
strip, "Compare with…" and its product strip, which is closer, and the analogy box, at desktop and phone widths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import WORD2VEC_1000, word2vec_scope
from tests.web.pagekit import open_sheet, screenshot, wait_ready

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("w2v-web") / "words.scope"
    word2vec_scope(path, layout="umap")
    return path


@pytest.fixture(scope="module")
def words(workspace: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    import embedscope

    ids = embedscope.open(workspace).point_ids("word2vec")
    table = json.loads(WORD2VEC_1000.read_text())
    return ids, {w: np.asarray(v, np.float32).astype(np.float64) for w, v in table.items()}


@pytest.fixture(scope="module")
def phone_page(browser, server_url: str) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server_url)
    wait_ready(pg)
    yield pg
    context.close()
    assert not errors, f"errors in the page: {errors}"


def _select(page, row: int) -> None:
    page.evaluate("row => window.__embedscope.select(row)", row)
    page.wait_for_selector("#vec-a[data-dims]")


def _canvas_colours(page, selector: str) -> np.ndarray:
    """The distinct colours drawn on a canvas (its own pixels, read in the page)."""
    px = page.eval_on_selector(selector, "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    rgb = np.asarray(px).reshape(-1, 4)[:, :3]
    return np.unique(rgb, axis=0)


def test_strip_compare_and_product(page, words) -> None:
    ids, vec = words
    king, queen = ids.index("king"), ids.index("queen")
    _select(page, king)
    assert page.get_attribute("#vec-a", "data-dims") == "300"
    colours = _canvas_colours(page, "#vec-a")
    assert len(colours) > 50  # one shade a value, not a blank box
    assert (colours[:, 2] > colours[:, 0] + 60).any() and (colours[:, 0] > colours[:, 2] + 60).any()  # both signs
    # hover a cell: the readout names its dimension and value
    box = page.locator("#vec-a").bounding_box()
    cols = int(page.get_attribute("#vec-a", "data-cols"))
    cell = box["width"] / cols
    page.mouse.move(box["x"] + cell * 5.5, box["y"] + 15)  # row 1 (10 px rows), column 5
    dim = cols + 5
    page.wait_for_selector(f".vec-readout[data-dim='{dim}']")
    text = page.inner_text(".vec-readout[data-dim]")
    assert text.startswith(f"dim {dim}: ") and float(text.split(": ")[1]) == pytest.approx(vec["king"][dim], abs=5e-4)

    page.fill("#compare-input", "queen")
    page.click("#compare-go")
    page.wait_for_selector("#vec-pair")
    assert page.get_attribute("#vec-pair", "data-b") == str(queen)
    assert page.get_attribute("#vec-product", "data-dims") == "300"
    a, b = vec["king"], vec["queen"]
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert float(page.get_attribute("#vec-cosine", "data-value")) == pytest.approx(cosine, abs=1e-9)
    assert float(page.get_attribute("#vec-dot", "data-value")) == pytest.approx(float(a @ b), abs=1e-9)
    assert page.get_attribute("#vec-rank", "data-exact") == "true"
    assert "of 499,500 pairs" in page.inner_text("#vec-rank") and "exact" in page.inner_text("#vec-rank")
    top = [int(d) for d in page.eval_on_selector_all("#vec-top tbody tr", "rows => rows.map(r => r.dataset.dim)")]
    assert top[:5] == [int(i) for i in np.argsort(-np.abs(a * b), kind="stable")[:5]]
    page.locator("#vec-section").scroll_into_view_if_needed()
    screenshot(page, "vectors-compare-desktop")

    # "Pick on map", then a neighbour in the list: that neighbour becomes B, the selection stays on king
    page.click("#compare-pick")
    page.wait_for_selector("#neighbors li[data-row]")
    nbr = page.locator("#neighbors li[data-row]").nth(1)
    nbr_row = int(nbr.get_attribute("data-row"))
    nbr.click()
    page.wait_for_selector(f"#vec-pair[data-b='{nbr_row}']")
    assert page.evaluate("window.__embedscope.selected") == king
    # a point on the map in pick mode
    page.click("#compare-pick")
    far = ids.index("water")
    x, y = page.evaluate("r => window.__embedscope.pointToScreen(r)", far)
    box = page.locator("#map canvas.map-canvas").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#vec-pair[data-b]")
    page.wait_for_function("r => document.querySelector('#vec-pair')?.dataset.b !== String(r)", arg=nbr_row)
    assert int(page.get_attribute("#vec-pair", "data-b")) != king  # the point clicked (water, or one drawn on it)
    assert page.evaluate("window.__embedscope.selected") == king
    # a new selection empties the comparison
    _select(page, queen)
    assert page.locator("#vec-pair").count() == 0


def test_closer_and_analogy_sheets(page, words) -> None:
    ids, _ = words
    _select(page, ids.index("king"))
    open_sheet(page, "closer")
    page.wait_for_selector("#closer-form")
    assert page.input_value("#closer-a") == "king"  # from the selection
    page.fill("#closer-b", "queen")
    page.fill("#closer-c", "food")  # "apple" is not among the 1,000 words
    page.click("#closer-go")
    page.wait_for_selector("#closer-verdict")
    assert page.get_attribute("#closer-verdict", "data-closer") == "queen"
    closers = page.eval_on_selector_all("#closer-view tbody tr", "rows => rows.map(r => [r.dataset.metric, r.dataset.closer])")
    assert closers == [["cosine", "b"], ["dot", "b"], ["euclidean", "b"], ["manhattan", "b"]]
    screenshot(page, "vectors-closer-desktop")

    page.fill("#closer-c", "zzznotaword")
    page.click("#closer-go")
    page.wait_for_selector("#closer-error")
    assert "zzznotaword" in page.inner_text("#closer-error")

    open_sheet(page, "analogy")
    page.wait_for_selector("#analogy-form")
    page.fill("#analogy-a", "king")
    page.fill("#analogy-minus", "man")
    page.fill("#analogy-b", "woman")
    page.click("#analogy-go")
    page.wait_for_selector("#analogy-results li")
    got = page.eval_on_selector_all("#analogy-results li", "items => items.map(li => li.dataset.id)")
    assert "queen" in got[:3] and not {"king", "man", "woman"} & set(got)
    screenshot(page, "vectors-analogy-desktop")
    page.click("#analogy-results li[data-id='queen']")
    page.wait_for_function("r => window.__embedscope.selected === r", arg=ids.index("queen"))
    page.wait_for_selector("#vec-a[data-dims]")


def test_phone_width(phone_page, words) -> None:
    page = phone_page
    ids, _ = words
    _select(page, ids.index("king"))
    page.fill("#compare-input", "queen")
    page.click("#compare-go")
    page.wait_for_selector("#vec-pair")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    strip = page.locator("#vec-pair-a").bounding_box()
    assert strip["x"] >= 0 and strip["x"] + strip["width"] <= PHONE["width"]
    page.locator("#vec-product").scroll_into_view_if_needed()
    screenshot(page, "vectors-compare-phone")
    open_sheet(page, "closer")
    page.wait_for_selector("#closer-form")
    page.fill("#closer-b", "queen")
    page.fill("#closer-c", "food")
    page.click("#closer-go")
    page.wait_for_selector("#closer-verdict")
    screenshot(page, "vectors-closer-phone")
