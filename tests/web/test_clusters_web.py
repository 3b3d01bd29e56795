"""Clusters in the explorer, in headless Chromium: colour by cluster, the legend, and keyword labels on the map.

The 60-item MiniLM workspace (3 topics) clustered by k-means into 3 clusters. Labels are DOM text over the map
canvas; their centres must be the median screen position of their members (``__embedscope.pointToScreen``),
also after the map is panned and zoomed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.web.pagekit import canvas_origin, drawn_with, screenshot, serving, wait_ready

pytestmark = pytest.mark.browser

SPACE = "minilm"
N = 60


@pytest.fixture(scope="module")
def clustered(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("clusters-web") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    scope = embedscope.open(dst)
    scope.project(SPACE, "pca")  # a second layout to switch to
    scope.cluster(SPACE, "kmeans", n_clusters=3)
    return dst


@pytest.fixture(scope="module")
def clustering(clustered: Path):
    found = embedscope.open(clustered).clusters(SPACE)
    assert found is not None and len(found.clusters) == 3
    return found


@pytest.fixture(scope="module")
def server_url(clustered: Path) -> Iterator[str]:
    with serving(clustered) as url:
        yield url


def members(clustering) -> dict[int, list[int]]:
    return {int(c["id"]): np.flatnonzero(clustering.labels == c["id"]).tolist() for c in clustering.clusters}


def label_centres(pg) -> dict[int, tuple[float, float]]:
    """Centres of the shown cluster labels, in CSS pixels relative to the map canvas."""
    ox, oy = canvas_origin(pg)
    found = pg.locator("#cluster-labels .cluster-label[data-shown=true]").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [Number(e.dataset.cluster), r.x + r.width / 2, r.y + r.height / 2]; })")
    return {int(c): (x - ox, y - oy) for c, x, y in found}


def member_medians(pg, groups: dict[int, list[int]]) -> dict[int, tuple[float, float]]:
    """Per cluster, the median screen position of its members (where its label belongs)."""
    pts = np.array(pg.evaluate(f"Array.from({{length: {N}}}, (_, r) => __embedscope.pointToScreen(r))"))
    return {c: (float(np.median(pts[rows, 0])), float(np.median(pts[rows, 1]))) for c, rows in groups.items()}


def assert_labels_at_centres(pg, groups: dict[int, list[int]], tol: float = 2.0) -> dict[int, tuple[float, float]]:
    """Every cluster whose centre is on the map shows its label there (and the others show none)."""
    shown = label_centres(pg)
    want = member_medians(pg, groups)
    box = pg.locator("#map canvas").bounding_box()
    on_map = {c for c, (x, y) in want.items() if 0 <= x <= box["width"] and 0 <= y <= box["height"]}
    assert set(shown) == on_map
    for c, (x, y) in want.items():
        if c not in on_map:
            continue
        assert abs(shown[c][0] - x) <= tol and abs(shown[c][1] - y) <= tol, (c, shown[c], (x, y))
    return shown


def next_frames(pg) -> None:
    pg.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def settle(pg) -> None:
    """Wait until the map stops moving (the same point position two frames running), then a frame more."""
    pg.wait_for_function("""() => { const s = JSON.stringify(__embedscope.pointToScreen(0));
        const same = window.__lastPosition === s; window.__lastPosition = s; return same; }""", polling="raf")
    next_frames(pg)


def drag(pg, start: tuple[float, float], by: tuple[float, float], steps: int = 6) -> None:
    """Drag with the mouse, a frame per step (the map's camera reads the mouse once a frame)."""
    pg.mouse.move(*start)
    pg.mouse.down()
    for i in range(1, steps + 1):
        pg.mouse.move(start[0] + by[0] * i / steps, start[1] + by[1] * i / steps)
        next_frames(pg)
    pg.mouse.up()


def test_colour_by_cluster_with_a_legend_of_labels(page, clustering) -> None:
    assert page.evaluate("__embedscope.clusters") == 3
    assert page.evaluate("__embedscope.colorBy") == "topic"  # a metadata column stays the default
    page.select_option("#color-select", "@cluster")
    page.wait_for_function("__embedscope.colorBy === '@cluster' && __embedscope.ready")
    groups = members(clustering)
    rgb = {row: page.evaluate(f"__embedscope.colorOf({row})") for row in range(N)}
    colours = {c: {tuple(rgb[r]) for r in rows} for c, rows in groups.items()}
    assert all(len(v) == 1 for v in colours.values())  # one colour a cluster ...
    assert len({next(iter(v)) for v in colours.values()}) == 3  # ... a different one each
    # The legend: each cluster's label with its size, in its colour; nothing unclustered (k-means).
    legend = page.locator("#legend")
    assert legend.locator(".legend-title").inner_text().lower() == "clusters (kmeans)"
    for c in clustering.clusters:
        row = legend.locator(f'li[data-key="{c["id"]}"]')
        assert row.get_attribute("data-label") == c["label"]
        assert row.locator(".count").inner_text() == str(c["size"])
        swatch = row.locator(".swatch").evaluate("el => getComputedStyle(el).backgroundColor")
        assert swatch == "rgb({}, {}, {})".format(*next(iter(colours[int(c["id"])])))
    assert legend.locator("li").count() == 3
    assert "unclustered" not in legend.inner_text()
    screenshot(page, "map-by-cluster")
    # The points, without the labels over them.
    page.locator("#labels-toggle").uncheck()
    page.wait_for_function("__embedscope.labels === false")
    img = screenshot(page, "map-by-cluster-no-labels")
    for c, rows in groups.items():
        assert drawn_with(img, page, rows, rgb) >= 0.8, c
    assert "color=%40cluster" in page.url
    page.locator("#labels-toggle").check()
    page.reload()
    wait_ready(page)
    assert page.evaluate("__embedscope.colorBy") == "@cluster"


def test_cluster_labels_sit_at_their_centres_and_follow_the_map(page, clustering) -> None:
    groups = members(clustering)
    assert page.evaluate("__embedscope.labels") is True
    assert page.locator("#labels-toggle").is_checked()
    texts = dict(page.locator("#cluster-labels .cluster-label").evaluate_all(
        "els => els.map(e => [Number(e.dataset.cluster), e.textContent])"))
    assert texts == {int(c["id"]): c["label"] for c in clustering.clusters}
    before = assert_labels_at_centres(page, groups)
    screenshot(page, "cluster-labels")

    # Labels are readable: light text on a dark halo.
    style = page.locator("#cluster-labels .cluster-label").first.evaluate(
        "el => { const s = getComputedStyle(el); return [s.color, s.textShadow, s.pointerEvents]; }")
    assert style[0] == "rgb(244, 246, 251)" and "rgb(14, 17, 23)" in style[1] and style[2] == "none"

    # Pan: drag the map from an empty spot; the labels move with the points.
    ox, oy = canvas_origin(page)
    box = page.locator("#map canvas").bounding_box()
    start = (ox + box["width"] - 300, oy + 40)
    assert page.evaluate(f"document.elementFromPoint({start[0]}, {start[1]}).tagName") == "CANVAS"
    drag(page, start, (150, -90))
    first = min(groups)
    page.wait_for_function(
        f"""() => {{ const el = document.querySelector('.cluster-label[data-cluster="{first}"]');
            return el && el.getBoundingClientRect().x + el.getBoundingClientRect().width / 2 - {ox}
              > {before[first][0] + 100}; }}""")
    settle(page)
    after = assert_labels_at_centres(page, groups)
    assert set(after) == set(groups)
    for c in groups:
        assert after[c][0] - before[c][0] == pytest.approx(150, abs=3)
        assert after[c][1] - before[c][1] == pytest.approx(-90, abs=3)
    screenshot(page, "cluster-labels-panned")

    # Zoom in with the wheel, on the middle of the clusters: still at their centres, farther apart.
    mid = np.mean(list(after.values()), axis=0)
    page.mouse.move(ox + mid[0], oy + mid[1])
    x0, y0 = page.evaluate("__embedscope.pointToScreen(0)")
    page.mouse.wheel(0, -200)
    page.wait_for_function(f"(([x, y]) => Math.hypot(x - {x0}, y - {y0}) > 5)(__embedscope.pointToScreen(0))")
    settle(page)
    zoomed = assert_labels_at_centres(page, groups)
    assert len(zoomed) >= 2
    spread = lambda p: max(np.hypot(a[0] - b[0], a[1] - b[1]) for a in p.values() for b in p.values())  # noqa: E731
    assert spread(zoomed) > spread({c: after[c] for c in zoomed}) * 1.1
    screenshot(page, "cluster-labels-zoomed")


def test_labels_do_not_block_the_points(page, clustering) -> None:
    groups = members(clustering)
    shown = label_centres(page)
    ox, oy = canvas_origin(page)
    for x, y in shown.values():
        tag = page.evaluate(f"document.elementFromPoint({ox + x}, {oy + y}).tagName")
        assert tag == "CANVAS"
    # Hover the member nearest its label's centre (under or next to the text): the tooltip shows it.
    c = min(groups)
    pts = {r: page.evaluate(f"__embedscope.pointToScreen({r})") for r in groups[c]}
    row = min(pts, key=lambda r: np.hypot(pts[r][0] - shown[c][0], pts[r][1] - shown[c][1]))
    x, y = pts[row]
    page.mouse.move(ox + x - 20, oy + y - 20)
    page.mouse.move(ox + x, oy + y, steps=4)
    page.locator("#tooltip").wait_for(state="visible")
    screenshot(page, "cluster-labels-hover")
    # And a click through a label selects a point.
    page.mouse.click(ox + x, oy + y)
    page.wait_for_function("__embedscope.selected !== null")


def test_labels_toggle(page, server_url: str) -> None:
    toggle = page.locator("#labels-toggle")
    assert page.locator("#labels-field").is_visible()
    toggle.uncheck()
    page.wait_for_function("__embedscope.labels === false")
    assert page.locator("#cluster-labels").is_hidden()
    assert "labels=0" in page.url
    page.reload()
    wait_ready(page)
    assert not toggle.is_checked() and page.locator("#cluster-labels").is_hidden()
    toggle.check()
    page.wait_for_function("__embedscope.labels === true")
    assert page.locator("#cluster-labels .cluster-label[data-shown=true]").count() == 3
    assert "labels=0" not in page.url


def test_labels_follow_a_layout_change(page, clustering) -> None:
    """Another layout (PCA): the centres are recomputed from its coordinates."""
    groups = members(clustering)
    umap = assert_labels_at_centres(page, groups)
    page.select_option("#layout-select", "pca")
    page.wait_for_function("__embedscope.layout === 'pca' && __embedscope.ready")
    pca = assert_labels_at_centres(page, groups)
    assert any(np.hypot(pca[c][0] - umap[c][0], pca[c][1] - umap[c][1]) > 20 for c in groups)
    screenshot(page, "cluster-labels-pca")


def test_a_filter_recounts_the_legend_and_drops_labels_of_emptied_clusters(browser, server_url: str, clustered: Path,
                                                                            clustering) -> None:
    """With a filter the legend counted every item and labels stayed over filtered-out clusters (issue 24 item 9)."""
    import json
    from urllib.parse import quote

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        spec = quote(json.dumps({"topic": ["sport"]}))
        page.goto(f"{server_url.rstrip('/')}/#space={SPACE}&layout=umap&color=%40cluster&filter={spec}")
        wait_ready(page)
        page.wait_for_function("__embedscope.colorBy === '@cluster' && __embedscope.ready")
        legend = page.locator("#legend")
        assert "20 filtered" in (legend.locator(".legend-title").text_content() or "")
        counts = [int(t.replace(",", "")) for t in legend.locator("li .count").all_inner_texts()]
        assert sum(counts) == 20, "only the 20 sport items are counted"
        ids = embedscope.open(clustered).point_ids(SPACE)
        sport = [r for r, i in enumerate(ids) if i.startswith("sport-")]
        sport_clusters = {int(c) for c in np.unique(np.asarray(clustering.labels)[sport])}
        shown = set(label_centres(page))
        assert shown and shown <= sport_clusters, (shown, sport_clusters)
        screenshot(page, "clusters-filtered")
    finally:
        page.close()
