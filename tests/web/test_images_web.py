"""Images in the explorer (issue 19), in a real Chromium: the hover tooltip's thumbnail, the item panel's picture,
thumbnails in neighbour lists and search hits, and pictures drawn instead of dots at deep zoom. The ``images``
table is written by ``tests.helpers.add_test_images`` (a drawn shape a category) until image ingest lands."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import embedscope
from tests.helpers import add_test_images
from tests.web.pagekit import SHOTS, VIEWPORT, canvas_origin, loneliest_row, screenshot, serving, wait_ready

pytestmark = pytest.mark.browser
NO_IMAGE = "sport-0-00"
#: The drawn pictures' light ground (tests/helpers.py drawn_image): the dark map has no such pixels.
GROUND = np.array([245, 242, 235])
N_BIG = 900


@pytest.fixture(scope="module")
def workspace(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("images") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    add_test_images(embedscope.open(dst), "topic", skip=(NO_IMAGE,))
    return dst


@pytest.fixture(scope="module")
def big_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """900 items with pictures (5 categories, vectors in 5 clusters, PCA map): too many on screen for pictures
    until one zooms in."""
    rng = np.random.default_rng(0)
    ids = [f"pic/{i:04d} ü.png" for i in range(N_BIG)]
    cats = [f"c{i % 5}" for i in range(N_BIG)]
    path = tmp_path_factory.mktemp("big") / "big.scope"
    scope = embedscope.create(path)
    scope.ingest(pd.DataFrame({"id": ids, "text": [f"picture {i}" for i in range(N_BIG)], "kind": cats}))
    centres = rng.normal(size=(5, 16)) * 6
    x = centres[np.arange(N_BIG) % 5] + rng.normal(size=(N_BIG, 16))
    scope.add_vectors("vec", ids, x.astype(np.float32))
    scope.project("vec", "pca")
    add_test_images(scope, "kind")
    with serving(path) as url:
        yield url


def ground_fraction(img: np.ndarray, x: float, y: float, r: int = 18) -> float:
    """Share of pixels within ``r`` of (x, y) that have the pictures' light ground colour."""
    patch = img[max(int(y) - r, 0): int(y) + r, max(int(x) - r, 0): int(x) + r]
    return float((np.abs(patch - GROUND).sum(axis=-1) < 25).mean())


def loaded(page, selector: str) -> None:
    page.wait_for_function("s => { const i = document.querySelector(s); return !!i && i.complete && i.naturalWidth > 0; }",
                           arg=selector, timeout=15_000)


def test_hover_shows_the_thumbnail(page, workspace: Path) -> None:
    ids = embedscope.open(workspace).point_ids("minilm")
    row = next(r for r in range(60) if ids[r] != NO_IMAGE)
    page.evaluate(f"__embedscope.hover({row})")
    loaded(page, "#tooltip img.thumb")
    assert page.locator("#tooltip img.thumb").get_attribute("alt") == ids[row]
    assert page.evaluate("document.querySelector('#tooltip img.thumb').naturalWidth") == 128
    bare = ids.index(NO_IMAGE)
    page.evaluate(f"__embedscope.hover({bare})")
    page.wait_for_function(f"document.querySelector('#tooltip').dataset.row === '{bare}'")
    assert page.locator("#tooltip img").count() == 0


def test_item_panel_and_neighbours_show_pictures(page, workspace: Path) -> None:
    ids = embedscope.open(workspace).point_ids("minilm")
    row = next(r for r in range(60) if ids[r] != NO_IMAGE)
    page.evaluate(f"__embedscope.select({row})")
    wait_ready(page)
    loaded(page, "#item-thumb")
    assert page.evaluate("document.querySelector('#item-thumb').naturalWidth") > 0
    page.wait_for_selector("#neighbors li")
    loaded(page, "#neighbors li img.thumb")
    sizes = page.evaluate("[...document.querySelectorAll('#neighbors li .thumb')].map(t => "
                          "[t.getBoundingClientRect().width, t.getBoundingClientRect().height])")
    assert len(sizes) == page.locator("#neighbors li").count() and {tuple(s) for s in sizes} == {(32, 32)}


def test_search_hits_show_pictures(page) -> None:
    page.fill("#search", "report")
    page.select_option("#search-mode", "keyword")
    page.press("#search", "Enter")
    wait_ready(page)
    page.wait_for_selector("#search-hits li")
    loaded(page, "#search-hits li img.thumb")
    n_hits = page.locator("#search-hits li").count()
    assert page.locator("#search-hits li .thumb").count() == n_hits > 0


def test_small_map_draws_pictures_instead_of_dots(page) -> None:
    """60 points are few enough to show as pictures at the first zoom."""
    page.wait_for_function("__embedscope.thumbsDrawn > 50", timeout=15_000)
    img = screenshot(page, "images-small-map")
    ox, oy = canvas_origin(page)
    rows = [loneliest_row(page, 60)]
    for row in rows:
        x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
        assert ground_fraction(img, ox + x, oy + y) > 0.2


def test_deep_zoom_draws_pictures_and_zooming_out_brings_dots_back(browser, big_url: str) -> None:
    ctx = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(big_url)
    wait_ready(page)
    assert page.evaluate("__embedscope.thumbsDrawn") == 0
    ox, oy = canvas_origin(page)
    row = 7
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    before = ground_fraction(screenshot(page, "images-zoomed-out"), ox + x, oy + y)
    page.mouse.move(ox + x, oy + y)
    for _ in range(40):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(60)
        if page.evaluate("__embedscope.thumbsDrawn") > 0:
            break
    page.wait_for_timeout(300)
    page.mouse.move(5, 5)
    page.wait_for_function("__embedscope.thumbsDrawn > 0", timeout=15_000)
    drawn = page.evaluate("__embedscope.thumbsDrawn")
    assert 0 < drawn <= 400
    page.wait_for_timeout(500)  # the batch answered, the pictures placed
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    img = screenshot(page, "images-deep-zoom")
    assert before < 0.02 and ground_fraction(img, ox + x, oy + y) > 0.2
    page.mouse.move(ox + x, oy + y)
    for _ in range(60):
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(40)
        if page.evaluate("__embedscope.thumbsDrawn") == 0:
            break
    page.wait_for_function("__embedscope.thumbsDrawn === 0", timeout=15_000)
    ctx.close()
    assert not errors


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)])
def test_screenshots(browser, server_url: str, workspace: Path, width: int, height: int) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = ctx.new_page()
    page.goto(server_url)
    wait_ready(page)
    ids = embedscope.open(workspace).point_ids("minilm")
    row = next(r for r in range(60) if ids[r] != NO_IMAGE)
    page.evaluate(f"__embedscope.select({row})")
    wait_ready(page)
    loaded(page, "#item-thumb")
    page.wait_for_function("__embedscope.thumbsDrawn > 0", timeout=15_000)
    page.wait_for_timeout(400)
    screenshot(page, f"images-{width}")
    page.evaluate("__embedscope.deselect()")
    wait_ready(page)
    page.evaluate(f"__embedscope.hover({row})")
    loaded(page, "#tooltip img.thumb")
    screenshot(page, f"images-hover-{width}")
    assert (SHOTS / f"images-{width}.png").is_file()
    ctx.close()
