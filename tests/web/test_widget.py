"""The notebook widget (``embedscope.widget``): what its traits hold, the selection round trip, and the real
front end (``widget_static/widget.js``) in headless Chromium with a minimal stand-in for anywidget's model."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import embedscope
from embedscope.errors import InputError, MissingDependencyError, WorkspaceError
from tests.helpers import topic_frame
from tests.web.pagekit import screenshot
from tests.web.widget_page import PAGE, wire

pytest.importorskip("anywidget")

SPACE = "toy"


def _toy_vectors(frame: pd.DataFrame) -> np.ndarray:
    """Three well-separated clusters in 16-D, one a topic (fast: no model)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 6
    codes = pd.factorize(frame["topic"])[0]
    return (centres[codes] + rng.normal(size=(len(frame), 16))).astype(np.float32)


@pytest.fixture(scope="module")
def scope_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("widget") / "toy.scope"
    scope = embedscope.create(path)
    frame = topic_frame(2)
    scope.ingest(frame)
    scope.add_vectors(SPACE, frame["id"].tolist(), _toy_vectors(frame))
    scope.project(SPACE, "pca")
    return path


@pytest.fixture()
def scope(scope_path: Path) -> embedscope.Scope:
    return embedscope.open(scope_path)


def test_traits_hold_the_stored_layout_and_colour_codes_as_bytes(scope) -> None:
    w = embedscope.widget(scope)
    stored = scope.layout(SPACE, "pca")
    assert (w.space, w.method, w.count, w.color) == (SPACE, "pca", 60, "topic")
    np.testing.assert_array_equal(np.frombuffer(w._x, "<f4"), stored.coords[:, 0])
    np.testing.assert_array_equal(np.frombuffer(w._y, "<f4"), stored.coords[:, 1])
    # Categorical codes index the categories, point by point (most frequent first, then by name).
    topics = scope.items_for(SPACE).column("topic").to_pylist()
    codes = np.frombuffer(w._codes, "<i2")
    assert w._color_kind == "categorical"
    assert [w._categories[c] for c in codes] == topics
    assert sorted(w._categories) == w._categories == ["cooking", "space", "sport"]
    assert {c["name"]: c["kind"] for c in w._columns} == {"topic": "categorical", "length": "numeric"}
    # A path works as well as an open Scope.
    assert embedscope.widget(str(scope.path), layout="pca")._x == w._x


def test_state_travels_as_binary_buffers_not_json_numbers(scope) -> None:
    from ipywidgets.widgets.widget import _remove_buffers

    w = embedscope.widget(scope)
    state, paths, buffers = _remove_buffers(w.get_state())
    assert sorted(p[0] for p in paths) == ["_codes", "_selected_rows", "_x", "_y"]
    assert sum(len(bytes(b)) for b in buffers) == 60 * (4 + 4 + 2)  # x, y float32 + int16 codes, nothing selected
    assert not any(isinstance(v, list) and v and isinstance(v[0], float) for v in state.values())


def test_numeric_colour_and_no_colour(scope) -> None:
    w = embedscope.widget(scope, color="length")
    lengths = scope.items_for(SPACE).column("length").to_numpy()
    assert w._color_kind == "numeric" and w._categories == []
    np.testing.assert_array_equal(np.frombuffer(w._codes, "<f4"), lengths.astype(np.float32))
    w.color = "topic"
    assert w._color_kind == "categorical" and len(w._codes) == 2 * 60
    w.color = ""
    assert (w._color_kind, w._codes) == ("none", b"")
    with pytest.raises(InputError, match=r"cannot colour by 'text'.*columns: topic, length"):
        embedscope.widget(scope, color="text")


def test_selection_round_trip_between_python_and_the_front_end(scope) -> None:
    w = embedscope.widget(scope)
    ids = scope.point_ids(SPACE)
    # Python -> front end: ids become uint32 rows.
    w.selected = [ids[7], ids[42], ids[7]]
    assert w.selected == [ids[7], ids[42]]
    assert np.frombuffer(w._selected_rows, "<u4").tolist() == [7, 42]
    # Front end -> Python: the rows arrive as a binary buffer (a memoryview, as the kernel's comm gives them).
    w.set_state({"_selected_rows": memoryview(np.array([3, 59, 0], "<u4").tobytes())})
    assert w.selected == [ids[3], ids[59], ids[0]]
    w.set_state({"_selected_rows": memoryview(np.array([4, 9, 4], "<u4").tobytes())})
    assert w.selected == [ids[4], ids[9]] and np.frombuffer(w._selected_rows, "<u4").tolist() == [4, 9]
    w.set_state({"_selected_rows": memoryview(b"")})
    assert w.selected == []
    with pytest.raises(InputError, match="selected row 60 is beyond the 60 points"):
        w.set_state({"_selected_rows": memoryview(np.array([60], "<u4").tobytes())})
    with pytest.raises(InputError, match=r"1 selected id\(s\) are not points of space 'toy': 'nope'"):
        w.selected = [ids[1], "nope"]


def test_selection_frame_has_ids_texts_metadata_and_coordinates(scope) -> None:
    w = embedscope.widget(scope)
    ids = scope.point_ids(SPACE)
    stored = scope.layout(SPACE, "pca")
    items = scope.items_for(SPACE).to_pandas()
    w.selected = [ids[5], ids[31]]
    frame = w.selection_frame()
    assert list(frame.columns) == ["id", "text", "topic", "length", "x", "y"]
    assert frame["id"].tolist() == [ids[5], ids[31]]
    assert frame["text"].tolist() == items["text"].iloc[[5, 31]].tolist()
    assert frame["topic"].tolist() == items["topic"].iloc[[5, 31]].tolist()
    np.testing.assert_array_equal(frame[["x", "y"]].to_numpy(), stored.coords[[5, 31]])
    w.selected = []
    assert w.selection_frame().empty


def test_hover_text_is_sent_on_request(scope, monkeypatch: pytest.MonkeyPatch) -> None:
    w = embedscope.widget(scope)
    sent: list[Any] = []
    monkeypatch.setattr(w, "send", lambda content, buffers=None: sent.append(content))
    w._on_message(w, {"type": "item", "row": 12}, [])
    w._on_message(w, {"type": "item", "row": 60}, [])  # out of range: no answer
    w._on_message(w, {"type": "other"}, [])
    items = scope.items_for(SPACE).to_pylist()
    assert sent == [{"type": "item", "item": {"row": 12, "id": items[12]["id"], "text": items[12]["text"],
                                               "metadata": {"topic": items[12]["topic"], "length": items[12]["length"]}}}]


def test_missing_layout_or_space_is_a_clear_error(tmp_path: Path) -> None:
    scope = embedscope.create(tmp_path / "bare.scope")
    frame = topic_frame(1)
    scope.ingest(frame)
    scope.add_vectors(SPACE, frame["id"].tolist(), _toy_vectors(frame))
    with pytest.raises(WorkspaceError, match=r"space 'toy' has no stored layout to show; compute one with "
                                             r"embedscope project .*bare\.scope --space toy"):
        embedscope.widget(scope)
    with pytest.raises(WorkspaceError, match=r"no umap layout \(it has: none\).*--method umap"):
        embedscope.widget(scope, layout="umap")
    with pytest.raises(InputError, match="no space 'other'"):
        embedscope.widget(scope, space="other")


def test_unbuilt_front_end_says_how_to_build_it(scope, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys.modules["embedscope.widget"], "STATIC", tmp_path / "widget.js")
    with pytest.raises(WorkspaceError, match=r"front end is not built .*widget\.js is missing.*npm run build"):
        embedscope.widget(scope)


def test_importing_embedscope_does_not_import_anywidget() -> None:
    import subprocess

    code = "import sys, embedscope; print(callable(embedscope.widget), 'anywidget' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


def test_layout_out_of_step_with_the_space_is_a_clear_error(scope_path: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(scope_path, tmp_path / "grown.scope")
    scope = embedscope.open(tmp_path / "grown.scope")
    scope.add_vectors(SPACE, ["late"], np.ones((1, 16), np.float32))  # the stored layout has 60 points, the space 61
    with pytest.raises(WorkspaceError, match=r"layout 'pca' of space 'toy' is not in the space's point order; "
                                             r"recompute it with embedscope project .* --space toy --method pca"):
        embedscope.widget(scope)


def test_missing_anywidget_names_the_extra(scope, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anywidget", None)  # `import anywidget` now raises ImportError
    with pytest.raises(ImportError, match=r"needs 'anywidget'.*pip install 'embedscope\[notebook\]'") as err:
        embedscope.widget(scope)
    assert isinstance(err.value, MissingDependencyError)


# -- the real front end in Chromium --------------------------------------------------------------------------


def _mount(browser, w) -> Any:
    from embedscope.widget import STATIC

    context = browser.new_context(viewport={"width": 960, "height": 640}, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.route("http://widget.test/", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    pg.route("http://widget.test/widget.js",
             lambda route: route.fulfill(body=STATIC.read_bytes(), content_type="text/javascript"))
    pg.goto("http://widget.test/")
    pg.wait_for_function("typeof window.mount === 'function'")
    pg.evaluate("(state) => window.mount(state)", wire(w.get_state()))
    pg.wait_for_function("document.querySelector('.embedscope-widget')?.embedscope?.ready === true", timeout=30_000)
    pg.wait_for_timeout(300)  # let the first frames draw
    pg.errors = errors
    return pg


def _canvas_origin(pg) -> tuple[float, float]:
    box = pg.locator(".embedscope-widget canvas").bounding_box()
    return box["x"], box["y"]


def _screen(pg, row: int) -> tuple[float, float]:
    ox, oy = _canvas_origin(pg)
    x, y = pg.evaluate(f"document.querySelector('.embedscope-widget').embedscope.pointToScreen({row})")
    return ox + x, oy + y


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in css.removeprefix("rgb(").removesuffix(")").split(","))


@pytest.mark.browser
def test_widget_draws_points_in_category_colours_and_a_click_selects(browser, scope) -> None:
    w = embedscope.widget(scope)
    ids = scope.point_ids(SPACE)
    topics = scope.items_for(SPACE).column("topic").to_pylist()
    texts = scope.items_for(SPACE).column("text").to_pylist()
    pg = _mount(browser, w)
    try:
        # The legend lists the categories with the web app's palette; every point shows its category's colour.
        swatch = {li.get_attribute("data-label"): _rgb(li.locator(".swatch").evaluate(
            "el => getComputedStyle(el).backgroundColor")) for li in pg.locator(".embedscope-widget .legend li").all()}
        assert sorted(swatch) == ["cooking", "space", "sport"] and len(set(swatch.values())) == 3
        img = screenshot(pg, "widget-map")
        hits = 0
        for row, topic in enumerate(topics):
            x, y = _screen(pg, row)
            patch = img[round(y) - 2: round(y) + 3, round(x) - 2: round(x) + 3]
            hits += int(np.abs(patch - np.array(swatch[topic])).sum(axis=-1).min() <= 30)
        assert hits / len(topics) >= 0.9
        for colour in swatch.values():  # each colour covers real area of the canvas, not just the legend
            assert (np.abs(img - np.array(colour)).sum(axis=-1) <= 30).sum() >= 100

        # Hover asks the kernel for the item; the answer (from the real Python handler) fills the tooltip.
        pts = np.array([_screen(pg, r) for r in range(len(ids))])
        d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        row = int(np.argmax(d.min(axis=1)))  # the loneliest point, so the mouse lands on it alone
        x, y = pts[row]
        pg.mouse.move(x - 30, y - 30)
        pg.mouse.move(x, y, steps=5)
        pg.wait_for_function(f"fake.log.sent.some((m) => m.type === 'item' && m.row === {row})")
        replies: list[Any] = []
        w.send = lambda content, buffers=None: replies.append(content)  # type: ignore[method-assign]
        w._on_message(w, {"type": "item", "row": row}, [])
        pg.evaluate("(msg) => fake.emit('msg:custom', msg)", replies[0])
        tip = pg.locator(".embedscope-widget .tooltip")
        tip.wait_for(state="visible")
        assert texts[row] in tip.inner_text() and ids[row] in tip.inner_text()
        screenshot(pg, "widget-hover")

        # A click selects the point: the rows go to the model (set + save_changes) and back to Python's ids.
        pg.mouse.click(x, y)
        pg.wait_for_function("fake.log.sets.some(([k]) => k === '_selected_rows') && fake.log.saves > 0")
        sent = pg.evaluate("fake.bytesOf(fake.log.sets.filter(([k]) => k === '_selected_rows').at(-1)[1])")
        rows = base64.b64decode(sent)
        assert np.frombuffer(rows, "<u4").tolist() == [row]
        w.set_state({"_selected_rows": memoryview(rows)})
        assert w.selected == [ids[row]]
        assert w.selection_frame()["text"].tolist() == [texts[row]]
        assert pg.locator(".embedscope-widget .es-selected").inner_text() == "1 selected"

        # Python selects: the map shows those points in the selected colour.
        chosen = [i for i, t in enumerate(topics) if t == "space"][:5]
        w.selected = [ids[i] for i in chosen]
        pg.evaluate("(changes) => fake.update(changes)", wire({"_selected_rows": w._selected_rows}))
        pg.wait_for_function(f"document.querySelector('.embedscope-widget').embedscope.selected.length === {len(chosen)}")
        colours = pg.evaluate(f"{chosen}.map((r) => document.querySelector('.embedscope-widget').embedscope.colorOf(r))")
        assert all(c == [255, 209, 102] for c in colours)  # colors.ts ACTIVE
        assert pg.locator(".embedscope-widget .es-selected").inner_text() == "5 selected"
        screenshot(pg, "widget-selected")

        # The colour menu sets `color`; Python answers with the numeric column; the legend becomes a ramp.
        pg.locator(".embedscope-widget select").select_option("length")
        pg.wait_for_function("fake.log.sets.some(([k, v]) => k === 'color' && v === 'length') && fake.log.saves > 1")
        w.set_state({"color": "length"})
        pg.evaluate("(changes) => fake.update(changes)", wire({k: w.get_state()[k] for k in
                                                              ("_color_kind", "_categories", "_codes")}))
        pg.locator(".embedscope-widget .legend .ramp").wait_for()
        assert pg.locator(".embedscope-widget .legend-title").inner_text().lower() == "length"
        screenshot(pg, "widget-numeric")
        assert not pg.errors, pg.errors
    finally:
        pg.context.close()


@pytest.mark.browser
def test_shift_drag_lasso_selects_many(browser, scope) -> None:
    w = embedscope.widget(scope)
    pg = _mount(browser, w)
    try:
        pts = np.array([_screen(pg, r) for r in range(w.count)])
        topics = scope.items_for(SPACE).column("topic").to_pylist()
        group = np.array([t == "cooking" for t in topics])
        # A rectangle around the cooking cluster (padded), drawn as a lasso with shift held.
        (x0, y0), (x1, y1) = pts[group].min(axis=0) - 12, pts[group].max(axis=0) + 12
        inside = ((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1))
        pg.keyboard.down("Shift")
        pg.mouse.move(x0, y0)
        pg.mouse.down()
        for px, py in [(x1, y0), (x1, y1), (x0, y1), (x0, y0)]:
            pg.mouse.move(px, py, steps=12)
        pg.mouse.up()
        pg.keyboard.up("Shift")
        pg.wait_for_function("fake.log.sets.some(([k]) => k === '_selected_rows')")
        sent = pg.evaluate("fake.bytesOf(fake.log.sets.filter(([k]) => k === '_selected_rows').at(-1)[1])")
        w.set_state({"_selected_rows": memoryview(base64.b64decode(sent))})
        frame = w.selection_frame()
        assert len(frame) == int(inside.sum()) >= group.sum()
        assert set(frame["topic"]) >= {"cooking"}
        screenshot(pg, "widget-lasso")
        assert not pg.errors, pg.errors
    finally:
        pg.context.close()


@pytest.mark.browser
def test_lasso_mode_button_makes_a_plain_drag_draw_the_lasso(browser, scope) -> None:
    """Issue 24: JupyterLab takes shift + drag for its cells, so the bar's Lasso button turns a plain drag into
    the lasso; off again, a plain drag pans."""
    w = embedscope.widget(scope)
    pg = _mount(browser, w)
    try:
        pts = np.array([_screen(pg, r) for r in range(w.count)])
        topics = scope.items_for(SPACE).column("topic").to_pylist()
        group = np.array([t == "space" for t in topics])
        (x0, y0), (x1, y1) = pts[group].min(axis=0) - 12, pts[group].max(axis=0) + 12
        inside = ((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1))

        def drag() -> None:
            pg.mouse.move(x0, y0)
            pg.mouse.down()
            for px, py in [(x1, y0), (x1, y1), (x0, y1), (x0, y0)]:
                pg.mouse.move(px, py, steps=12)
            pg.mouse.up()

        button = pg.locator(".embedscope-widget button.es-lasso")
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        assert pg.locator(".embedscope-widget canvas.lasso-mode").count() == 1
        drag()  # no modifier key
        pg.wait_for_function("fake.log.sets.some(([k]) => k === '_selected_rows')")
        sent = pg.evaluate("fake.bytesOf(fake.log.sets.filter(([k]) => k === '_selected_rows').at(-1)[1])")
        assert sorted(np.frombuffer(base64.b64decode(sent), "<u4").tolist()) == np.flatnonzero(inside).tolist()
        assert pg.locator(".embedscope-widget .es-selected").inner_text() == f"{int(inside.sum())} selected"
        screenshot(pg, "widget-lasso-mode")

        # Off again: a plain drag pans the map and leaves the selection alone.
        button.click()
        assert button.get_attribute("aria-pressed") == "false"
        sets = pg.evaluate("fake.log.sets.length")
        pg.mouse.move(x0, y0)
        pg.mouse.down()
        pg.mouse.move(x0 + 60, y0 + 40, steps=12)
        pg.mouse.up()
        pg.wait_for_timeout(300)
        moved = np.array(_screen(pg, 0)) - pts[0]
        assert np.abs(moved).max() > 5, "a plain drag out of lasso mode should pan"
        assert pg.evaluate("fake.log.sets.length") == sets
        assert not pg.errors, pg.errors
    finally:
        pg.context.close()


@pytest.mark.browser
def test_the_module_exports_only_the_default_render(browser, scope) -> None:
    """anywidget warns that a named ``render`` export will be deprecated: the ESM has the default export only."""
    pg = _mount(browser, embedscope.widget(scope))
    try:
        keys = pg.evaluate("async () => { const m = await import('./widget.js'); "
                           "return [Object.keys(m), Object.keys(m.default)]; }")
        assert keys == [["default"], ["render"]]
    finally:
        pg.context.close()
