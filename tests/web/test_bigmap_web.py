"""A map above 50,000 points in the browser: its points are drawn before the spatial index exists, and hover finds
them once the index is filled, from the server's kd order (``/layouts/{method}/kdorder``) or, when that request
fails, from the index the page's worker builds."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import embedscope
from tests.web.pagekit import VIEWPORT, canvas_origin, screenshot, serving, wait_ready

pytestmark = pytest.mark.browser

#: Above the page's WORKER_ABOVE (50,000): the index is not built by the plotting library in place.
N = 60_000
#: A point placed far from all others, so the mouse lands on it alone.
LONE = 7


@pytest.fixture(scope="module")
def big_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rng = np.random.default_rng(0)
    ids = [f"p{i}" for i in range(N)]
    path = tmp_path_factory.mktemp("big") / "big.scope"
    scope = embedscope.create(path)
    scope.ingest(pd.DataFrame({"id": ids, "text": [f"item number {i}" for i in range(N)]}))
    x = rng.normal(size=(N, 8)).astype(np.float32)
    x[LONE] = 60.0
    scope.add_vectors("vec", ids, x)
    scope.project("vec", "pca")
    with serving(path) as url:
        yield url


def _hover_lone_point(page) -> str:
    ox, oy = canvas_origin(page)
    x, y = page.evaluate(f"__embedscope.pointToScreen({LONE})")
    page.mouse.move(ox + x - 20, oy + y - 20)
    page.mouse.move(ox + x, oy + y, steps=4)
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    return tooltip.inner_text()


@pytest.mark.parametrize("order", ["server", "worker"])
def test_big_map_draws_every_point_and_hover_finds_them(browser, big_url: str, order: str) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/kdorder") else None)
    if order == "worker":  # the page sorts the points itself when the server's order is not there
        page.route("**/kdorder", lambda route: route.abort())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(big_url)
    wait_ready(page)
    assert page.evaluate("__embedscope.count") == N
    steps = page.evaluate("__embedscope.timings")
    assert steps["drawn"] <= steps["ready"]
    assert len(asked) == 1  # asked once, after the first frame
    text = _hover_lone_point(page)
    assert "p7" in text and "item number 7" in text
    screenshot(page, f"big-map-hover-{order}")
    assert errors == []
    page.close()
