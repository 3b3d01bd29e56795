"""The contexts view in a real Chromium: the occurrences of "bank" (river and money, a contexts workspace built to
the contract of ``embedscope contexts``, tests/contextkit.py) open at the default layer coloured by the known
senses; the layer control lists every layer with its purity and switches the drawn space (the senses mix on
layer 0's map and separate on layer 6's); hover and the item panel show the sentence with the word marked; the
word alone is ringed on the map; the view fits a phone's 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.contextkit import WORD, build_contexts, occurrences
from tests.web.pagekit import canvas_origin, screenshot, serving, wait_ready

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_contexts(tmp_path_factory.mktemp("contexts-web") / WORD)


@pytest.fixture(scope="module")
def server_url(workspace: Path) -> Iterator[str]:
    with serving(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def stored(workspace: Path) -> dict:
    scope = embedscope.open(workspace)
    ids = scope.point_ids("layer_6")
    senses = occurrences().set_index("id")["sense"]
    return {"layers": scope.store.read("contexts").to_pylist(), "ids": ids,
            "river": [r for r, i in enumerate(ids) if senses[i] == "river"],
            "money": [r for r, i in enumerate(ids) if senses[i] == "money"],
            "static": ids.index(f"{WORD} (alone)")}


def positions(page, n: int) -> np.ndarray:
    return np.array(page.evaluate(f"Array.from({{length: {n}}}, (_, r) => __embedscope.pointToScreen(r))"))


def separation(pts: np.ndarray, a: list[int], b: list[int]) -> float:
    """Distance between the two senses' centres over their mean spread (on screen: what the user sees)."""
    spread = np.mean([np.linalg.norm(pts[g] - pts[g].mean(axis=0), axis=1).mean() for g in (a, b)])
    return float(np.linalg.norm(pts[a].mean(axis=0) - pts[b].mean(axis=0)) / spread)


def to_layer(page, n: int) -> None:
    page.locator(f'#layer-buttons button[data-layer="{n}"]').click()
    page.wait_for_function(f"__embedscope.space === 'layer_{n}' && __embedscope.ready")
    page.wait_for_function(f"""document.querySelector('#layer-buttons button[data-layer="{n}"]')
                               .getAttribute('aria-pressed') === 'true'""")


def test_the_layer_control_shows_every_layer_and_switches_the_map(page, stored) -> None:
    n = len(stored["ids"])
    assert page.evaluate("__embedscope.space") == "layer_6"  # the default layer, not the workspace's first space
    assert page.locator("#contexts-title").inner_text() == f"Contexts of “{WORD}” · {n - 1} occurrences"
    buttons = page.locator("#layer-buttons button")
    assert buttons.evaluate_all("bs => bs.map(b => b.dataset.layer)") == [str(r["layer"]) for r in stored["layers"]]
    # each layer's purity beside it, as stored
    figures = page.locator("#layer-buttons .layer-fig").all_inner_texts()
    assert figures == [f"{r['purity']:.2f}" for r in stored["layers"]]
    assert page.locator("#layer-axis").inner_text().lower().split() == ["layer", "purity"]
    assert page.locator('#layer-buttons button[data-layer="6"]').get_attribute("aria-pressed") == "true"
    last = stored["layers"][-1]
    assert page.locator("#layer-summary").inner_text().startswith(
        f"Layer 6 · purity {last['purity']:.2f} vs sense · silhouette {last['silhouette']:.2f}")
    # coloured by the known senses (the label column the purity is measured against), one colour a sense
    assert page.evaluate("__embedscope.colorBy") == "sense"
    colours = {row: tuple(page.evaluate(f"__embedscope.colorOf({row})")) for row in range(n)}
    river, money = {colours[r] for r in stored["river"]}, {colours[r] for r in stored["money"]}
    assert len(river) == 1 and len(money) == 1 and river != money
    # the senses apart on layer 6's map
    at6 = positions(page, n)
    assert separation(at6, stored["river"], stored["money"]) > 2.5
    screenshot(page, "contexts-layer-6")

    to_layer(page, 0)
    assert page.evaluate("__embedscope.layout") == "umap"
    at0 = positions(page, n)
    assert np.abs(at0 - at6).max() > 20  # another map is drawn
    assert separation(at0, stored["river"], stored["money"]) < 1.0  # the senses mixed
    assert {row: tuple(page.evaluate(f"__embedscope.colorOf({row})")) for row in range(n)} == colours  # same colours
    assert page.locator("#layer-summary").inner_text().startswith(f"Layer 0 · purity {stored['layers'][0]['purity']:.2f}")
    assert page.locator("#layer-prev").is_disabled()
    screenshot(page, "contexts-layer-0")

    # the stepper and the arrow keys go one layer at a time
    page.locator("#layer-next").click()
    page.wait_for_function("__embedscope.space === 'layer_1' && __embedscope.ready")
    page.locator('#layer-buttons button[data-layer="1"]').focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("__embedscope.space === 'layer_2' && __embedscope.ready")

    # clicks while a layer loads: the last one wins, and only it is marked current
    for layer in (4, 5, 3):
        page.locator(f'#layer-buttons button[data-layer="{layer}"]').click()
    page.wait_for_function("__embedscope.space === 'layer_3' && __embedscope.ready")
    page.wait_for_function("!document.querySelector('#contexts').hasAttribute('aria-busy')")
    assert page.evaluate("__embedscope.space") == "layer_3"
    pressed = page.locator("#layer-buttons button[aria-pressed=true]").evaluate_all("bs => bs.map(b => b.dataset.layer)")
    assert pressed == ["3"]
    assert page.locator("#layer-summary").inner_text().startswith("Layer 3 ·")
    assert "space=layer_3" in page.url


def test_hover_and_the_panel_show_the_sentence_with_the_word_marked(page, stored) -> None:
    row = stored["money"][0]
    text = occurrences().set_index("id").loc[stored["ids"][row], "text"]
    page.evaluate(f"__embedscope.hover({row})")
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    page.wait_for_function(f"document.querySelector('#tooltip').dataset.row === '{row}'")
    assert tip.locator(".tooltip-text").inner_text() == text
    assert tip.locator("mark.word").inner_text() == WORD
    screenshot(page, "contexts-hover")

    page.evaluate(f"__embedscope.select({row})")
    page.wait_for_function(f"__embedscope.selected === {row} && __embedscope.ready")
    panel = page.locator("#panel")
    panel.locator("#item-text mark.word").wait_for()
    assert panel.locator("#item-text").inner_text() == text
    source = stored["ids"][row].split("@")[0]
    assert panel.locator("#item-source").inner_text() == f"From item {source}"
    # another layer keeps the occurrence selected, with its neighbours in that layer
    to_layer(page, 2)
    page.wait_for_function(f"__embedscope.selected === {row} && __embedscope.neighbors.length > 0")
    assert panel.locator("#item-text").inner_text() == text
    screenshot(page, "contexts-panel")


def test_the_word_alone_is_ringed_on_the_map(page, stored) -> None:
    row = stored["static"]
    mark = page.locator("#static-mark")
    page.wait_for_function(f"document.querySelector('#static-mark').dataset.row === '{row}'")
    mark.locator(".static-ring").wait_for(state="visible")
    assert mark.inner_text() == f"{WORD} (alone)"
    ring = page.locator("#static-mark .static-ring").bounding_box()
    ox, oy = canvas_origin(page)
    x, y = page.evaluate(f"__embedscope.pointToScreen({row})")
    label = page.locator("#static-mark .static-label").bounding_box()
    assert label["x"] >= ox and label["x"] + label["width"] <= ox + page.locator("#map canvas.map-canvas").bounding_box()["width"]
    assert abs(ring["x"] + ring["width"] / 2 - (ox + x)) <= 2 and abs(ring["y"] + ring["height"] / 2 - (oy + y)) <= 2
    to_layer(page, 1)  # it follows the point to the other layer's map
    page.wait_for_function(f"""(() => {{ const r = document.querySelector('#static-mark .static-ring')
        .getBoundingClientRect(); const [x, y] = __embedscope.pointToScreen({row});
        return Math.abs(r.x + r.width / 2 - {ox} - x) <= 2 && Math.abs(r.y + r.height / 2 - {oy} - y) <= 2; }})()""")
    page.evaluate(f"__embedscope.hover({row})")
    page.wait_for_function(f"document.querySelector('#tooltip').dataset.row === '{row}'")
    assert page.locator("#tooltip .tooltip-id").inner_text() == f"{WORD} (alone)"


def test_the_view_fits_a_phone(browser, server_url: str, stored) -> None:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server_url)
    wait_ready(pg)
    bar = pg.locator("#contexts").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= PHONE["width"]
    for b in pg.locator("#layer-buttons button").all():
        box = b.bounding_box()
        assert box["width"] >= 30 and box["x"] + box["width"] <= PHONE["width"]
    # every point on the canvas (the map fits the narrow screen)
    n = len(stored["ids"])
    pts = positions(pg, n)
    canvas = pg.locator("#map canvas.map-canvas").bounding_box()
    assert (pts[:, 0] >= 0).all() and (pts[:, 0] <= canvas["width"]).all()
    screenshot(pg, "contexts-phone")
    to_layer(pg, 0)
    pg.wait_for_function(f"document.querySelector('#static-mark').dataset.row === '{stored['static']}'")
    label = pg.locator("#static-mark .static-label").bounding_box()  # the word alone's label never off screen
    assert label["x"] >= 0 and label["x"] + label["width"] <= PHONE["width"]
    screenshot(pg, "contexts-phone-layer-0")
    ctx.close()
    assert not errors, errors
