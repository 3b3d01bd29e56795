"""The image sample (``embedscope demo --images``: Noto Emoji, the bundled image model, a name space and a kept
translator names -> images) in a real Chromium on REAL pictures (issue 19): a text query ranks pictures whose
names hold the word, hits show their thumbnails and say they went through the translator; hover, the item
panel and deep zoom show the pictures; the selected item and its neighbours stay visible over the pictures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.ops.demo import build_image_demo
from tests.web.pagekit import SHOTS, VIEWPORT, canvas_origin, loneliest_row, screenshot, serving, wait_ready

pytestmark = pytest.mark.browser

N = 200
#: The map's background (web/src/data/colors.ts BACKGROUND).
BACKGROUND = np.array([0x0E, 0x11, 0x17])
#: The selection's colour (web/src/data/colors.ts ACTIVE) on the tiles' border and the neighbour lines.
ACTIVE = np.array([0xFF, 0xD1, 0x66])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("emoji") / "emoji.scope"
    build_image_demo(embedscope.create(path), n=N, log=lambda _m: None)
    return path


@pytest.fixture(scope="module")
def server_url(workspace: Path) -> Iterator[str]:
    with serving(workspace) as url:
        yield url


@pytest.fixture()
def page(browser, server_url: str):
    ctx = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{server_url}#space=image")
    wait_ready(pg)
    yield pg
    ctx.close()
    assert not errors, f"errors in the page: {errors}"


def loaded(page, selector: str) -> None:
    page.wait_for_function("s => { const i = document.querySelector(s); return !!i && i.complete && i.naturalWidth > 0; }",
                           arg=selector, timeout=15_000)


def painted(img: np.ndarray, x: float, y: float, r: int) -> float:
    """Share of the pixels within ``r`` of (x, y) that are not the map's background."""
    return 1 - share_near(img, BACKGROUND, x, y, r, tol=12)


def all_loaded(page, selector: str, n: int) -> None:
    """The first ``n`` (> 0) pictures matching ``selector`` are there and decoded."""
    page.wait_for_function("([s, n]) => { const all = [...document.querySelectorAll(s)].slice(0, n); "
                           "return all.length === n && all.every(i => i.complete && i.naturalWidth > 0); }",
                           arg=[selector, n], timeout=15_000)
    assert n > 0


def share_near(img: np.ndarray, colour: np.ndarray, x: float, y: float, r: int, tol: int = 30) -> float:
    """Share of the pixels within ``r`` of (x, y) that have ``colour``."""
    patch = img[max(int(y) - r, 0): int(y) + r, max(int(x) - r, 0): int(x) + r]
    return float((np.abs(patch - colour).sum(axis=-1) <= tol).mean())


def test_a_text_query_ranks_pictures_by_their_names_through_the_translator(page, workspace: Path) -> None:
    texts = embedscope.open(workspace).items_for("image").column("text").to_pylist()
    base_rate = sum("flag" in t for t in texts) / len(texts)
    page.fill("#search", "flag")
    page.select_option("#search-mode", "semantic")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-route", timeout=60_000)
    wait_ready(page)
    hits = page.eval_on_selector_all("#search-hits li", "els => els.map(e => e.innerText)")
    top5 = sum("flag" in h.lower() for h in hits[:5])
    assert top5 >= 3 and top5 / 5 > 2 * base_rate, (top5, base_rate, hits[:5])
    all_loaded(page, "#search-hits li img.thumb", 5)
    line = page.inner_text("#search-route")
    assert line.startswith("Searched by words through a translator from minilm"), line
    assert "held-out recall@10 " in line and "for the mean-vector baseline" in line
    screenshot(page, "emoji-search-flag")


def test_hovering_a_point_shows_its_picture(page, workspace: Path) -> None:
    ids = embedscope.open(workspace).point_ids("image")
    row = loneliest_row(page, N)
    ox, oy = canvas_origin(page)
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    page.mouse.move(ox + x, oy + y)
    page.wait_for_function(f"document.querySelector('#tooltip').dataset.row === '{row}'", timeout=15_000)
    loaded(page, "#tooltip img.thumb")
    assert page.locator("#tooltip img.thumb").get_attribute("alt") == ids[row]
    width = embedscope.open(workspace).store.read("images").to_pandas().set_index("id").loc[ids[row], "thumb_width"]
    assert page.evaluate("document.querySelector('#tooltip img.thumb').naturalWidth") == width > 0


def test_the_item_panel_shows_the_picture(page, workspace: Path) -> None:
    page.evaluate("__embedscope.select(5)")
    wait_ready(page)
    loaded(page, "#item-thumb")
    assert page.evaluate("document.querySelector('#item-thumb').naturalWidth") > 0
    page.wait_for_selector("#neighbors li")
    all_loaded(page, "#neighbors li img.thumb", page.locator("#neighbors li").count())


def zoom_at(page, x: float, y: float, dy: int, until: str, steps: int = 60) -> None:
    page.mouse.move(x, y)
    for _ in range(steps):
        page.mouse.wheel(0, dy)
        page.wait_for_timeout(50)
        if page.evaluate(until):
            break
    page.mouse.move(3, 3)
    page.wait_for_function(until, timeout=15_000)


def test_deep_zoom_draws_pictures_and_zooming_out_brings_dots_back(page) -> None:
    """Zoomed out, the 200 points crowd together and are dots; zoomed in, they have room and become pictures;
    zoomed out again, dots."""
    page.uncheck("#labels-toggle")  # cluster names may lie over the point
    ox, oy = canvas_origin(page)
    row = loneliest_row(page, N)
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    zoom_at(page, ox + x, oy + y, 400, "__embedscope.thumbsDrawn === 0")
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    dots = screenshot(page, "emoji-zoomed-out")
    zoom_at(page, ox + x, oy + y, -300, "__embedscope.thumbsDrawn > 0")
    page.wait_for_timeout(500)  # the batch answered, the pictures placed
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    pictures = screenshot(page, "emoji-deep-zoom")
    drawn = page.evaluate("__embedscope.thumbsDrawn")
    assert 0 < drawn <= N
    # a picture covers the point's neighbourhood; a dot (8 px) does not
    assert painted(pictures, ox + x, oy + y, 14) > 0.8 > 0.3 > painted(dots, ox + x, oy + y, 14)
    zoom_at(page, ox + x, oy + y, 400, "__embedscope.thumbsDrawn === 0")


def test_the_selection_and_its_neighbours_stay_visible_over_the_pictures(page) -> None:
    """Selected: the item's picture is drawn on top with a thick border of the selection's colour, lines join it
    to its neighbours (drawn above the other pictures, which are dimmed)."""
    ox, oy = canvas_origin(page)
    row = loneliest_row(page, N)
    page.evaluate(f"__embedscope.select({row})")
    wait_ready(page)
    page.wait_for_function("__embedscope.neighbors.length > 0", timeout=15_000)
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    zoom_at(page, ox + x, oy + y, -300, "__embedscope.thumbsDrawn > 0")
    page.wait_for_timeout(600)
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    img = screenshot(page, "emoji-selected-deep-zoom")
    ring = page.evaluate("__embedscope.thumbsFocus")
    assert ring is not None and ring["row"] == row
    # the border of the selected picture: a ring of the selection's colour around the point
    assert share_near(img, ACTIVE, ox + x, oy + y, int(ring["half"]) + 4, tol=40) > 0.1
    # the picture itself is there, on top of the others
    assert painted(img, ox + x, oy + y, int(ring["half"]) - 4) > 0.95
    # the lines to its neighbours are drawn over the pictures: the selection's colour between it and a neighbour
    nx, ny = page.evaluate("__embedscope.pointToScreen(__embedscope.neighbors[0])")
    line = [img[int(oy + y + (ny - y) * t), int(ox + x + (nx - x) * t)] for t in np.linspace(0.1, 0.9, 81)
            if 0 <= oy + y + (ny - y) * t < img.shape[0] and 0 <= ox + x + (nx - x) * t < img.shape[1]]
    assert np.mean([np.abs(p - ACTIVE).sum() < 120 for p in line]) > 0.3


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)])
def test_screenshots(browser, server_url: str, width: int, height: int) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = ctx.new_page()
    page.goto(f"{server_url}#space=image")
    wait_ready(page)
    page.wait_for_timeout(600)
    screenshot(page, f"emoji-{width}")
    page.evaluate("__embedscope.select(5)")
    wait_ready(page)
    loaded(page, "#item-thumb")
    page.wait_for_timeout(600)
    screenshot(page, f"emoji-selected-{width}")
    page.evaluate("__embedscope.deselect()")
    wait_ready(page)
    page.evaluate("__embedscope.hover(7)")
    loaded(page, "#tooltip img.thumb")
    screenshot(page, f"emoji-hover-{width}")
    assert (SHOTS / f"emoji-hover-{width}.png").is_file()
    ctx.close()
