"""The globe (the sphere layout on a ball, three.js) and colour by map honesty, in headless Chromium.

A real server over a real workspace: the 60-item MiniLM workspace with sphere and PCA layouts computed here
(the sphere takes ~20-40 s the first time: numba compiles the layout kernels). ``window.__embedscope``
maps rows to globe pixels (``globePointToScreen``: null on the far side) and turns the ball (``rotateGlobe``).
Screenshots go to test-results/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.web.pagekit import VIEWPORT, drawn_with, screenshot, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPACE = "minilm"
ACTIVE = [255, 209, 102]  # web/src/data/colors.ts ACTIVE: the selected item and its neighbours
BACKGROUND = [14, 17, 23]  # #0e1117


@pytest.fixture(scope="module")
def workspace(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("globe") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    scope = embedscope.open(dst)
    scope.project(SPACE, "sphere")
    scope.project(SPACE, "pca")
    return dst


@pytest.fixture(scope="module")
def scope(workspace: Path) -> embedscope.Scope:
    return embedscope.open(workspace)


def _open(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    wait_ready(pg)
    return context, pg, errors


@pytest.fixture()
def page(browser, server_url: str):
    """The page switched to the globe with the Globe button."""
    context, pg, errors = _open(browser, server_url)
    pg.locator("#view-globe").click()
    pg.wait_for_function("__embedscope.view === 'globe' && __embedscope.layout === 'sphere' && __embedscope.ready")
    pg.wait_for_timeout(100)
    yield pg
    context.close()
    assert not errors, f"errors in the page: {errors}"


# -------------------------------------------------------------------------------------------- helpers
def globe_origin(pg) -> tuple[float, float]:
    box = pg.locator("#globe canvas").bounding_box()
    return box["x"], box["y"]


def positions(pg, n: int = 60) -> dict[int, tuple[float, float] | None]:
    got = pg.evaluate(f"[...Array({n}).keys()].map(r => __embedscope.globePointToScreen(r))")
    return {r: (tuple(p) if p else None) for r, p in enumerate(got)}


def visible(pg, n: int = 60) -> list[int]:
    return [r for r, p in positions(pg, n).items() if p is not None]


def colours(pg, rows: list[int]) -> dict[int, list[int]]:
    return {r: pg.evaluate(f"__embedscope.colorOf({r})") for r in rows}


def drawn_on_globe(img: np.ndarray, pg, rows: list[int], rgb_of: dict[int, list[int]], *, radius: int = 1,
                   tol: int = 24) -> float:
    """Fraction of ``rows`` whose colour is found within ``radius`` px of their globe position."""
    ox, oy = globe_origin(pg)
    pos = positions(pg)
    hits = 0
    for row in rows:
        p = pos[row]
        assert p is not None, f"row {row} is on the far side"
        cx, cy = round(ox + p[0]), round(oy + p[1])
        patch = img[max(cy - radius, 0): cy + radius + 1, max(cx - radius, 0): cx + radius + 1]
        hits += int(np.abs(patch - np.array(rgb_of[row])).sum(axis=-1).min() <= tol)
    return hits / len(rows)


def loneliest(pg, rows: list[int]) -> int:
    """Of ``rows``, the one farthest on screen from every other near-side point (the mouse lands on it alone)."""
    pos = {r: p for r, p in positions(pg).items() if p is not None}
    pts = np.array([pos[r] for r in pos])
    keys = list(pos)
    best, best_d = rows[0], -1.0
    for r in rows:
        d = np.linalg.norm(pts - np.array(pos[r]), axis=1)
        d[keys.index(r)] = np.inf
        if d.min() > best_d:
            best, best_d = r, float(d.min())
    return best


def central(pg, rows: list[int]) -> int:
    """Of ``rows``, the one nearest the centre of the globe canvas (far from the horizon)."""
    box = pg.locator("#globe canvas").bounding_box()
    pos = positions(pg)
    centre = np.array([box["width"] / 2, box["height"] / 2])
    return min(rows, key=lambda r: float(np.linalg.norm(np.array(pos[r]) - centre)))


# ---------------------------------------------------------------------------------------------- tests
def test_globe_draws_every_near_side_point_in_its_colour(page, scope: embedscope.Scope) -> None:
    hook = page.evaluate("({count: __embedscope.count, layout: __embedscope.layout, view: __embedscope.view,"
                         " colorBy: __embedscope.colorBy})")
    assert hook == {"count": 60, "layout": "sphere", "view": "globe", "colorBy": "topic"}
    assert "view=globe" in page.url
    near = visible(page)
    far = [r for r in range(60) if r not in near]
    assert 10 <= len(near) < 60, near  # a ball: some points face us, the others are behind it
    # The globe colours each point as the map does: one colour a topic, the legend's.
    topics = scope.items_for(SPACE).column("topic").to_pylist()
    rgb = colours(page, list(range(60)))
    for topic in set(topics):
        assert len({tuple(rgb[r]) for r, t in enumerate(topics) if t == topic}) == 1
        swatch = page.locator(f'#legend li[data-label="{topic}"] .swatch').evaluate(
            "el => getComputedStyle(el).backgroundColor")
        row = topics.index(topic)
        assert swatch == "rgb({}, {}, {})".format(*rgb[row])
    img = screenshot(page, "globe-by-topic")
    assert drawn_on_globe(img, page, near, rgb) >= 0.8
    # Far-side points are not where their colour would be: the ball hides or dims them.
    if far:
        assert page.evaluate(f"__embedscope.globePointToScreen({far[0]})") is None
    # The ball itself is drawn (lighter than the page) and the corners are the page background.
    box = page.locator("#globe canvas").bounding_box()
    cx, cy = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
    patch = img[cy - 40: cy + 40, cx - 40: cx + 40].reshape(-1, 3)
    assert np.median(patch.sum(axis=1)) > sum(BACKGROUND) + 10
    assert img[round(box["y"]) + 5, round(box["x"]) + 5].tolist() == BACKGROUND


def test_dragging_turns_the_globe(page) -> None:
    row = central(page, visible(page))
    before = page.evaluate(f"__embedscope.globePointToScreen({row})")
    ox, oy = globe_origin(page)
    box = page.locator("#globe canvas").bounding_box()
    start = (ox + box["width"] / 2 + 40, oy + box["height"] / 2 + 60)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 60, start[1] + 10, steps=6)
    page.mouse.move(start[0] + 120, start[1] + 20, steps=6)
    page.mouse.up()
    page.wait_for_timeout(100)
    after = page.evaluate(f"__embedscope.globePointToScreen({row})")
    assert after is not None
    assert after[0] - before[0] > 40, (before, after)  # dragged right: the surface moved right
    assert page.evaluate("__embedscope.selected") is None  # a drag is not a click
    screenshot(page, "globe-dragged")
    # Seen from the equator (the drag and the first view may look from above, where a polar cap stays in sight all
    # the way round), turning half way round brings the far side to the front: no point is on both sides.
    page.evaluate("__embedscope.rotateGlobe(0, -180)")  # latitude stops at -90
    page.evaluate("__embedscope.rotateGlobe(0, 90)")
    near = set(visible(page))
    page.evaluate("__embedscope.rotateGlobe(180, 0)")
    turned = set(visible(page))
    assert near and len(turned) >= 2 and not turned & near, (near, turned)
    # The wheel zooms in: points move apart.
    a, b = sorted(turned)[:2]
    pa, pb = (np.array(page.evaluate(f"__embedscope.globePointToScreen({r})")) for r in (a, b))
    page.mouse.move(ox + box["width"] / 2, oy + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(150)
    qa, qb = (page.evaluate(f"__embedscope.globePointToScreen({r})") for r in (a, b))
    if qa is not None and qb is not None:
        assert np.linalg.norm(np.array(qa) - np.array(qb)) > np.linalg.norm(pa - pb)


def test_hover_shows_the_text_and_click_shows_the_neighbours(page, scope: embedscope.Scope) -> None:
    ids = scope.point_ids(SPACE)
    texts = scope.items_for(SPACE).column("text").to_pylist()
    row = loneliest(page, visible(page))
    ox, oy = globe_origin(page)
    x, y = page.evaluate(f"__embedscope.globePointToScreen({row})")
    page.mouse.move(ox + x - 25, oy + y - 25)
    page.mouse.move(ox + x, oy + y, steps=4)
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    page.wait_for_function(f"document.querySelector('#tooltip').dataset.row === '{row}'")
    assert texts[row] in tooltip.inner_text() and ids[row] in tooltip.inner_text()
    screenshot(page, "globe-hover")

    page.mouse.click(ox + x, oy + y)
    page.wait_for_function(f"__embedscope.selected === {row} && __embedscope.neighbors.length === 10")
    page.locator("#neighbors li").nth(9).wait_for()
    want = scope.neighbors(ids[row], k=10, space=SPACE)
    assert page.locator("#neighbors li").evaluate_all("els => els.map(e => e.dataset.id)") == want.ids
    assert page.evaluate("__embedscope.neighbors") == want.rows.tolist()
    assert page.locator("#item-text").inner_text() == texts[row]
    assert "row=" in page.url and "view=globe" in page.url
    page.wait_for_timeout(300)  # the globe narrows for the panel; let it redraw
    img = screenshot(page, "globe-selected")
    # The item and its near-side neighbours are drawn in the highlight colour, the others dimmed.
    lit = [r for r in [row, *want.rows.tolist()] if page.evaluate(f"__embedscope.globePointToScreen({r})")]
    assert row in lit
    rgb = colours(page, lit)
    assert all(v == ACTIVE for v in rgb.values())
    assert drawn_on_globe(img, page, lit, rgb) >= 0.8
    others = [r for r in visible(page) if r not in lit]
    if others:
        dim = colours(page, others)
        assert all(v != ACTIVE for v in dim.values())
        assert drawn_on_globe(img, page, others, dim) >= 0.8

    # Escape lets go of the selection.
    page.keyboard.press("Escape")
    page.wait_for_function("__embedscope.selected === null")
    assert page.locator("#panel").is_hidden()


def test_colour_by_honesty_on_the_globe(page, scope: embedscope.Scope) -> None:
    options = page.locator("#color-select option").evaluate_all("els => els.map(e => e.textContent)")
    assert "map honesty: kNN recall" in options and "map honesty: trustworthiness" in options
    quality = {q["method"]: q for q in scope.quality(SPACE)}["sphere"]
    header = page.locator("#honesty")
    assert header.inner_text() == f"T@15 {quality['trustworthiness']:.2f} · recall {quality['knn_recall']:.2f}"
    assert "trustworthiness" in header.get_attribute("title") and "kNN recall" in header.get_attribute("title")

    page.select_option("#color-select", label="map honesty: kNN recall")
    page.wait_for_function("__embedscope.colorBy === '@honesty/knn_recall' && __embedscope.ready")
    legend = page.locator("#legend")
    assert legend.locator(".ramp").is_visible()
    assert "share of an item's 15 true neighbours that are also its 15 map neighbours" in legend.inner_text().lower()
    assert "knn recall@15" in legend.inner_text().lower()
    recall = scope.layout(SPACE, "sphere").per_item["knn_recall"]
    near = visible(page)
    low = min(near, key=lambda r: recall[r])
    high = max(near, key=lambda r: recall[r])
    assert recall[high] - recall[low] >= 0.2
    rgb = colours(page, near)
    assert rgb[low] != rgb[high]
    luma = {r: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] for r, c in rgb.items()}
    assert luma[high] > luma[low]  # viridis: dark purple (0) to bright yellow (1)
    img = screenshot(page, "globe-by-recall")
    assert drawn_on_globe(img, page, near, rgb) >= 0.8
    assert drawn_on_globe(img, page, [low], rgb) == 1 and drawn_on_globe(img, page, [high], rgb) == 1


def test_layout_select_and_map_switch(page) -> None:
    layouts = page.locator("#layout-select option").evaluate_all("els => els.map(e => e.value)")
    assert sorted(layouts) == ["pca", "sphere", "umap"]
    # Another layout in the select goes back to the map ...
    page.select_option("#layout-select", "umap")
    page.wait_for_function("__embedscope.layout === 'umap' && __embedscope.view === 'map' && __embedscope.ready")
    assert page.locator("#globe").is_hidden() and "view=globe" not in page.url
    # ... the Globe button brings back the sphere, and Map shows the sphere flat (longitude, latitude).
    page.locator("#view-globe").click()
    page.wait_for_function("__embedscope.layout === 'sphere' && __embedscope.view === 'globe' && __embedscope.ready")
    page.locator("#view-map").click()
    page.wait_for_function("__embedscope.view === 'map' && __embedscope.ready")
    assert page.evaluate("__embedscope.layout") == "sphere"
    rgb = colours(page, list(range(60)))
    img = screenshot(page, "map-of-sphere")
    assert drawn_with(img, page, list(range(60)), rgb) >= 0.8


def test_url_restores_the_globe_with_a_selection(browser, server_url: str) -> None:
    context, pg, errors = _open(browser, server_url + "#space=minilm&layout=sphere&color=topic&row=7&view=globe")
    pg.wait_for_function("__embedscope.view === 'globe' && __embedscope.selected === 7"
                         " && __embedscope.neighbors.length === 10")
    # The selected item is turned to the front.
    assert pg.evaluate("__embedscope.globePointToScreen(7)") is not None
    context.close()
    assert not errors
