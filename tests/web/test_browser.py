"""The real page from the real server in headless Chromium: what is drawn, hovered and clicked.

Needs Debian's chromium at /usr/bin/chromium (``make chromium``); fixtures in conftest.py, helpers in pagekit.py.
The page exposes ``window.__embedscope`` (see web/src/hook.ts) to map rows to canvas pixels and colours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.web.pagekit import SHOTS, VIEWPORT, canvas_origin, drawn_with, loneliest_row, open_sheet, screenshot, wait_ready

pytestmark = pytest.mark.browser

SPACE = "minilm"


def test_every_point_is_drawn_in_its_category_colour(page, workspace: Path) -> None:
    hook = page.evaluate("({count: __embedscope.count, space: __embedscope.space, layout: __embedscope.layout,"
                         " colorBy: __embedscope.colorBy})")
    assert hook == {"count": 60, "space": SPACE, "layout": "umap", "colorBy": "topic"}
    # No clusters stored: no "clusters" colour, no labels toggle, no labels.
    assert page.evaluate("[__embedscope.clusters, __embedscope.labels]") == [0, False]
    assert "@cluster" not in page.locator("#color-select option").evaluate_all("els => els.map(e => e.value)")
    assert page.locator("#labels-field").is_hidden()
    assert page.locator("#cluster-labels .cluster-label").count() == 0
    scope = embedscope.open(workspace)
    topics = scope.items_for(SPACE).column("topic").to_pylist()
    rgb = {row: page.evaluate(f"__embedscope.colorOf({row})") for row in range(60)}
    by_topic: dict[str, set[tuple[int, ...]]] = {}
    for row, topic in enumerate(topics):
        by_topic.setdefault(topic, set()).add(tuple(rgb[row]))
    # One colour a category, a different one for each category, shown in the legend.
    assert all(len(colours) == 1 for colours in by_topic.values())
    assert len({next(iter(c)) for c in by_topic.values()}) == 3
    for topic, colours in by_topic.items():
        swatch = page.locator(f'#legend li[data-label="{topic}"] .swatch').evaluate(
            "el => getComputedStyle(el).backgroundColor")
        assert swatch == "rgb({}, {}, {})".format(*next(iter(colours)))
    img = screenshot(page, "map-by-topic")
    for topic in by_topic:
        rows = [r for r, t in enumerate(topics) if t == topic]
        assert drawn_with(img, page, rows, rgb) >= 0.8, topic
    # And the background is not painted in any category colour far from the points.
    assert img[70, 640].tolist() != list(next(iter(by_topic["sport"])))


def test_hover_shows_the_text_and_click_shows_the_neighbours(page, workspace: Path) -> None:
    scope = embedscope.open(workspace)
    ids = scope.point_ids(SPACE)
    texts = scope.items_for(SPACE).column("text").to_pylist()
    row = loneliest_row(page, 60)
    ox, oy = canvas_origin(page)
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    page.mouse.move(ox + x - 30, oy + y - 30)
    page.mouse.move(ox + x, oy + y, steps=5)
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    assert texts[row] in tooltip.inner_text() and ids[row] in tooltip.inner_text()
    screenshot(page, "hover")

    page.mouse.click(ox + x, oy + y)
    page.wait_for_function(f"__embedscope.selected === {row} && __embedscope.neighbors.length === 10")
    page.locator("#neighbors li").nth(9).wait_for()
    want = scope.neighbors(ids[row], k=10, space=SPACE)
    shown = page.locator("#neighbors li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert shown == want.ids
    assert page.evaluate("__embedscope.neighbors") == want.rows.tolist()
    assert page.locator("#item-text").inner_text() == texts[row]
    page.wait_for_timeout(300)  # the map narrows for the panel; let it redraw
    img = screenshot(page, "selected")
    rgb = {r: page.evaluate(f"__embedscope.colorOf({r})") for r in [row, *want.rows.tolist()]}
    assert len({tuple(v) for v in rgb.values()}) == 1  # all in the highlight colour
    assert drawn_with(img, page, list(rgb), rgb) >= 0.8

    # Clicking a neighbour selects it; changing k asks again.
    page.locator("#neighbors li").nth(2).click()
    third = int(want.rows[2])
    page.wait_for_function(f"__embedscope.selected === {third} && __embedscope.neighbors.length === 10")
    page.locator("#item-text").filter(has_text=texts[third]).wait_for()
    page.fill("#k-input", "5")
    page.press("#k-input", "Enter")
    page.wait_for_function("__embedscope.neighbors.length === 5")
    assert page.locator("#neighbors li").count() == 5

    page.keyboard.press("Escape")
    page.wait_for_function("__embedscope.selected === null")
    assert page.locator("#panel").is_hidden()


def test_colour_by_a_numeric_column(page, workspace: Path) -> None:
    page.select_option("#color-select", "length")
    page.wait_for_function("__embedscope.colorBy === 'length' && __embedscope.ready")
    assert page.locator("#legend .ramp").is_visible()
    lengths = embedscope.open(workspace).items_for(SPACE).column("length").to_pylist()
    rgb = {row: page.evaluate(f"__embedscope.colorOf({row})") for row in range(60)}
    shortest, longest = int(np.argmin(lengths)), int(np.argmax(lengths))
    assert rgb[shortest] != rgb[longest]
    assert rgb[shortest][2] > rgb[shortest][1]  # viridis starts purple ...
    assert rgb[longest][1] > rgb[longest][2]  # ... and ends yellow
    img = screenshot(page, "map-by-length")
    assert drawn_with(img, page, list(range(60)), rgb) >= 0.8
    assert "color=length" in page.url


def test_colour_by_map_honesty(page, workspace: Path) -> None:
    scope = embedscope.open(workspace)
    (quality,) = scope.quality(SPACE)
    header = page.locator("#honesty")
    assert header.inner_text() == f"T@15 {quality['trustworthiness']:.2f} · recall {quality['knn_recall']:.2f}"
    assert "share of an item's 15 nearest neighbours" in header.get_attribute("title")
    page.select_option("#color-select", label="map honesty: kNN recall")
    page.wait_for_function("__embedscope.colorBy === '@honesty/knn_recall' && __embedscope.ready")
    legend = page.locator("#legend")
    assert legend.locator(".ramp").is_visible()
    assert legend.locator(".ramp-ends").inner_text().split() == ["0", "1"]
    assert ("Share of an item's 15 true neighbours that are also its 15 map neighbours"
            in legend.inner_text())
    recall = scope.layout(SPACE, "umap").per_item["knn_recall"]
    low, high = int(np.argmin(recall)), int(np.argmax(recall))
    rgb = {row: page.evaluate(f"__embedscope.colorOf({row})") for row in range(60)}
    assert rgb[low] != rgb[high]
    img = screenshot(page, "map-by-recall")
    assert drawn_with(img, page, list(range(60)), rgb) >= 0.8
    assert drawn_with(img, page, [low], rgb) == 1 and drawn_with(img, page, [high], rgb) == 1
    assert "color=%40honesty%2Fknn_recall" in page.url
    # Trustworthiness too; the URL brings the choice back.
    page.select_option("#color-select", label="map honesty: trustworthiness")
    page.wait_for_function("__embedscope.colorBy === '@honesty/trustworthiness' && __embedscope.ready")
    assert "trustworthiness@15" in legend.inner_text().lower()
    page.reload()
    wait_ready(page)
    assert page.evaluate("__embedscope.colorBy") == "@honesty/trustworthiness"


def test_url_restores_the_view(browser, server_url: str) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.goto(server_url + "#space=minilm&layout=umap&color=&row=7")
    wait_ready(pg)
    pg.wait_for_function("__embedscope.selected === 7 && __embedscope.neighbors.length === 10")
    assert pg.evaluate("__embedscope.colorBy") is None
    assert pg.locator("#legend").is_hidden()
    context.close()


def test_compression_sheet_measures_and_charts(page) -> None:
    open_sheet(page, "compress")
    page.wait_for_selector("#compress-view, #compress-measure")  # a loading note comes first
    if page.locator("#compress-measure").count():
        page.click("#compress-measure")
    page.wait_for_selector("#compress-view", timeout=120_000)
    codecs = page.eval_on_selector_all("#compress-view tbody tr", "rows => rows.map(r => r.dataset.codec)")
    assert {"float16", "int8", "binary", "binary+rescore"} <= set(codecs)
    dots = page.eval_on_selector_all("#compress-view circle", "c => c.map(e => e.dataset.codec)")
    assert sorted(dots) == sorted(codecs)
    assert page.locator("#compress-view tr.frontier-row").count() >= 1
    screenshot(page, "compress-sheet")
    page.keyboard.press("Escape")
    assert page.locator("#sheet").is_hidden()


def test_health_sheet_shows_checks_and_pair_histogram(page) -> None:
    open_sheet(page, "health")
    page.wait_for_selector("#sheet:not([hidden])")
    page.wait_for_selector("#health-view", timeout=120_000)
    assert page.locator("#health-dims rect.dim").count() == 384  # one bar a dimension of MiniLM
    checks = page.eval_on_selector_all("#health-view tbody tr[data-check]", "rows => rows.map(r => r.dataset.check)")
    assert checks == ["normalised", "distance_concentration", "hubness", "anisotropy", "rogue_dimensions",
                      "intrinsic_dimension", "duplicates", "outliers"]
    titles = page.eval_on_selector_all("#health-view tbody tr[data-check] td:first-child",
                                       "c => c.map(e => e.textContent.slice(2))")  # after the "✓ " or "! " mark
    assert titles == ["unit length", "distance concentration", "hubness", "anisotropy", "rogue dimensions",
                      "intrinsic dimension", "duplicates", "outliers"], "the titles the server sends"
    verdicts = page.eval_on_selector_all("#health-view tr.verdict-row td", "c => c.map(e => e.textContent)")
    assert len(verdicts) == 8 and all(len(v) > 5 for v in verdicts)
    counts = page.eval_on_selector_all("#health-hist rect.hist-bar", "r => r.map(e => Number(e.dataset.count))")
    assert len(counts) == 40 and sum(counts) == 60 * 59 // 2, "60 items: every pair, one bar per bin"
    heights = page.eval_on_selector_all("#health-hist rect.hist-bar", "r => r.map(e => e.getBBox().height)")
    assert max(heights) > 50, "the tallest bar is drawn"
    series = page.eval_on_selector_all("#health-labels polyline", "p => p.map(e => e.dataset.series)")
    assert series == ["same label", "different label"]
    assert "ROC AUC" in page.inner_text("#health-view")
    screenshot(page, "health-sheet")
    page.keyboard.press("Escape")
    assert page.locator("#sheet").is_hidden()


def test_a_late_sheet_never_fills_another(page) -> None:
    """Health still computing when Compress opens: its answer once landed under Compress's title (issue 24 item 9).
    The health answer is held back 1.5 s; the sheet keeps showing Compression, with a loading note first."""
    import time

    def slow(route) -> None:
        time.sleep(1.5)
        route.continue_()

    page.route("**/api/spaces/*/health*", slow)
    open_sheet(page, "health")
    page.wait_for_selector("#health-loading")
    open_sheet(page, "compress")
    page.wait_for_selector("#compress-view, #compress-measure")
    page.wait_for_timeout(2500)  # the held-back health answer has arrived by now
    assert (page.text_content("#sheet-title") or "").startswith("Compression")
    assert page.locator("#health-view").count() == 0 and page.locator("#health-loading").count() == 0
    page.unroute("**/api/spaces/*/health*")


def test_report_opens_with_every_figure_rendered(browser, workspace: Path, tmp_path: Path) -> None:
    scope = embedscope.open(workspace)
    out = scope.report(tmp_path / "report.html", png_dir=tmp_path / "png")
    context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
    try:
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(out.as_uri())
        pg.wait_for_load_state("load")
        pg.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
        widths = pg.eval_on_selector_all("img", "imgs => imgs.map(i => [i.dataset.figure, i.naturalWidth, i.naturalHeight])")
        assert len(widths) >= 6 and len(list((tmp_path / "png").glob("*.png"))) == len(widths)
        assert all(w > 0 and h > 0 for _, w, h in widths), widths
        assert pg.locator("table").count() >= 4 and "distance_concentration" in pg.inner_text("body")
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / "report.png"), full_page=True)
        assert not errors
    finally:
        context.close()


def test_search_by_meaning_lights_the_map_and_lists_hits(page) -> None:
    page.fill("#search", "a football game and its goals")
    page.press("#search", "Enter")
    page.wait_for_function("window.__embedscope.search && window.__embedscope.colorBy === '@query'", timeout=60_000)
    hook = page.evaluate("window.__embedscope.search")
    assert hook["mode"] == "semantic" and hook["total"] == 60 and len(hook["rows"]) == 50
    hits = page.locator("#search-hits li")
    assert hits.count() == 50
    topics = page.evaluate("""async () => {
        const rows = window.__embedscope.search.rows.slice(0, 5);
        const out = [];
        for (const r of rows) out.push((await (await fetch(`api/spaces/minilm/items/${r}`)).json()).metadata.topic);
        return out;
    }""")
    assert topics == ["sport"] * 5
    assert page.locator("#search-view svg rect.hbar.on").count() >= 1
    assert "similarity to" in page.locator("#legend").inner_text().lower()
    # the best hit is drawn brighter (viridis top) than the worst item
    best = page.evaluate("window.__embedscope.colorOf(window.__embedscope.search.rows[0])")
    assert sum(best) > 400
    screenshot(page, "search-semantic")
    hits.first.click()
    page.wait_for_function("window.__embedscope.selected !== null")
    assert page.evaluate("window.__embedscope.selected") == hook["rows"][0]
    page.select_option("#search-mode", "keyword")
    page.fill("#search", "sauce")
    page.press("#search", "Enter")
    page.wait_for_function("window.__embedscope.search && window.__embedscope.search.mode === 'keyword'")
    assert page.evaluate("window.__embedscope.search.total") == 4
    page.fill("#search", "")
    page.press("#search", "Enter")
    page.wait_for_function("window.__embedscope.search === null && window.__embedscope.colorBy !== '@query'")


def test_neighbours_far_on_the_map_are_flagged(page, workspace: Path) -> None:
    scope = embedscope.open(workspace)
    layout = scope.layout(SPACE, "umap")
    xy = layout.coords.astype(np.float64)
    ids = scope.point_ids(SPACE)
    k = 10  # the panel's default k (web/src/views/panel.ts)

    def far_rows(row: int) -> list[int]:
        nbrs = scope.neighbors(ids[row], k=k, space=SPACE)
        d = ((xy - xy[row]) ** 2).sum(axis=1)
        d[row] = np.inf
        return [int(r) for r in nbrs.rows if (d < d[r]).sum() > max(50, 5 * k)]

    counts = [len(far_rows(r)) for r in range(len(ids))]
    row = int(np.argmax(counts))
    page.evaluate(f"window.__embedscope.select({row})")
    page.wait_for_function("window.__embedscope.neighbors.length > 0")
    got = sorted(page.evaluate("window.__embedscope.farNeighbors"))
    assert got == sorted(far_rows(row))
    assert page.locator("#panel li.far").count() == len(got)
    if got:
        assert "far away on the map" in page.locator("#panel").inner_text()


def test_keyboard_only_search_select_and_close(page) -> None:
    page.focus("#search")
    page.keyboard.type("rockets and planets")
    page.keyboard.press("Enter")
    page.wait_for_function("window.__embedscope.search && window.__embedscope.colorBy === '@query'", timeout=60_000)
    rows = page.evaluate("window.__embedscope.search.rows")
    page.keyboard.press("ArrowDown")  # into the results
    assert page.evaluate("document.activeElement.dataset.row") == str(rows[0])
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.row") == str(rows[1])
    page.keyboard.press("Enter")  # open the second hit
    page.wait_for_function("window.__embedscope.neighbors.length > 0")
    assert page.evaluate("window.__embedscope.selected") == rows[1]
    page.keyboard.press("Escape")
    page.wait_for_function("window.__embedscope.selected === null")
