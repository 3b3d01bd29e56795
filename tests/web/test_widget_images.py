"""Thumbnails in the notebook widget (issue 19): in a workspace with images, the hover asks the kernel for the
item's thumbnail by id and gets the WebP bytes as the reply's buffer (``Scope.thumbnails``), never through HTTP;
the real front end (``widget_static/widget.js``) shows it in the tooltip, in headless Chromium."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embedscope
from tests.helpers import add_test_images, topic_clusters_scope, topic_frame
from tests.web.pagekit import screenshot
from tests.web.widget_page import PAGE, wire

pytest.importorskip("anywidget")

SPACE = "toy"
NO_IMAGE = "sport-0-00"


@pytest.fixture(scope="module")
def scope_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 items in three topics, vectors in three clusters, a PCA map, and a drawn picture a topic for all items
    but one (real image ingest)."""
    path = tmp_path_factory.mktemp("widget-images") / "pics.scope"
    scope = topic_clusters_scope(path, SPACE)
    add_test_images(scope, "topic", skip=(NO_IMAGE,))
    return path


@pytest.fixture()
def scope(scope_path: Path) -> embedscope.Scope:
    return embedscope.open(scope_path)


def _replies(w: Any) -> list[tuple[Any, list[bytes] | None]]:
    out: list[tuple[Any, list[bytes] | None]] = []
    w.send = lambda content, buffers=None: out.append((content, buffers))
    return out


def test_a_thumbnail_is_sent_as_bytes_on_request(scope) -> None:
    from PIL import Image

    w = embedscope.widget(scope)
    assert w._images is True
    ids = scope.point_ids(SPACE)
    replies = _replies(w)
    row = next(r for r, i in enumerate(ids) if i != NO_IMAGE)
    w._on_message(w, {"type": "thumb", "id": ids[row]}, [])
    w._on_message(w, {"type": "thumb", "id": NO_IMAGE}, [])
    w._on_message(w, {"type": "thumb", "id": "not an item"}, [])
    w._on_message(w, {"type": "thumb", "id": 3}, [])  # not an id: no answer
    assert [c for c, _ in replies] == [{"type": "thumb", "id": ids[row], "found": True},
                                       {"type": "thumb", "id": NO_IMAGE, "found": False},
                                       {"type": "thumb", "id": "not an item", "found": False}]
    buffers = replies[0][1]
    assert buffers is not None and len(buffers) == 1
    assert buffers[0] == scope.thumbnails([ids[row]])[ids[row]]
    picture = Image.open(io.BytesIO(buffers[0]))
    assert picture.format == "WEBP" and max(picture.size) == 128
    assert replies[1][1] is None and replies[2][1] is None
    # the hover's item says whether there is a picture to ask for
    w._on_message(w, {"type": "item", "row": row}, [])
    w._on_message(w, {"type": "item", "row": ids.index(NO_IMAGE)}, [])
    assert [c["item"]["has_image"] for c, _ in replies[3:]] == [True, False]


def test_a_workspace_without_images_sends_no_thumbnail(tmp_path: Path) -> None:
    scope = embedscope.create(tmp_path / "plain.scope")
    frame = topic_frame(1)
    scope.ingest(frame)
    scope.add_vectors(SPACE, frame["id"].tolist(), np.random.default_rng(1).normal(size=(len(frame), 8)).astype(np.float32))
    scope.project(SPACE, "pca")
    w = embedscope.widget(scope)
    assert w._images is False
    replies = _replies(w)
    w._on_message(w, {"type": "thumb", "id": frame["id"][0]}, [])
    w._on_message(w, {"type": "item", "row": 0}, [])
    assert replies[0] == ({"type": "thumb", "id": frame["id"][0], "found": False}, None)
    assert "has_image" not in replies[1][0]["item"]


def _loaded(pg, selector: str) -> None:
    pg.wait_for_function("s => { const i = document.querySelector(s); return !!i && i.complete && i.naturalWidth > 0; }",
                         arg=selector, timeout=15_000)


@pytest.mark.browser
def test_hover_shows_the_thumbnail_from_the_kernel(browser, scope) -> None:
    from embedscope.widget import STATIC

    w = embedscope.widget(scope)
    ids = scope.point_ids(SPACE)
    context = browser.new_context(viewport={"width": 960, "height": 640}, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("request", lambda r: requests.append(r.url))
    pg.route("http://widget.test/", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    pg.route("http://widget.test/widget.js",
             lambda route: route.fulfill(body=STATIC.read_bytes(), content_type="text/javascript"))
    try:
        pg.goto("http://widget.test/")
        pg.wait_for_function("typeof window.mount === 'function'")
        pg.evaluate("(state) => window.mount(state)", wire(w.get_state()))
        pg.wait_for_function("document.querySelector('.embedscope-widget')?.embedscope?.ready === true", timeout=30_000)
        hook = "document.querySelector('.embedscope-widget').embedscope"
        box = pg.locator(".embedscope-widget canvas").bounding_box()
        pts = np.array([pg.evaluate(f"{hook}.pointToScreen({r})") for r in range(len(ids))]) + np.array([box["x"], box["y"]])
        d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        order = np.argsort(-d.min(axis=1))  # loneliest first, so the mouse lands on the point alone
        row = int(next(r for r in order if ids[r] != NO_IMAGE))
        pg.mouse.move(pts[row][0] - 30, pts[row][1] - 30)
        pg.mouse.move(*pts[row], steps=5)
        # The kernel's answers come from the real Python handler, relayed as anywidget would.
        pg.wait_for_function(f"fake.log.sent.some((m) => m.type === 'item' && m.row === {row})")
        replies = _replies(w)
        w._on_message(w, {"type": "item", "row": row}, [])
        pg.evaluate("(msg) => fake.emit('msg:custom', msg)", replies[-1][0])
        pg.wait_for_function(f"fake.log.sent.some((m) => m.type === 'thumb' && m.id === {ids[row]!r})")
        w._on_message(w, {"type": "thumb", "id": ids[row]}, [])
        content, buffers = replies[-1]
        assert buffers is not None
        pg.evaluate("([msg, b64]) => { const s = atob(b64); const b = new Uint8Array(s.length);"
                    " for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);"
                    " fake.emit('msg:custom', msg, [new DataView(b.buffer)]); }",
                    [content, base64.b64encode(buffers[0]).decode()])
        tip = ".embedscope-widget .tooltip img.thumb"
        _loaded(pg, tip)
        assert pg.evaluate(f"document.querySelector({tip!r}).naturalWidth") == 128
        assert pg.locator(tip).get_attribute("alt") == ids[row]
        assert pg.locator(".embedscope-widget .tooltip").is_visible()
        img = screenshot(pg, "widget-hover-thumb")
        # the drawn picture's light ground shows in the tooltip (tests/helpers.py drawn_image)
        tb = pg.locator(tip).bounding_box()
        patch = img[int(tb["y"]) + 4: int(tb["y"] + tb["height"]) - 4, int(tb["x"]) + 4: int(tb["x"] + tb["width"]) - 4]
        assert (np.abs(patch - np.array([245, 242, 235])).sum(axis=-1) < 25).mean() > 0.3
        # asked once: hovering again uses the kept picture; nothing went over HTTP but the page and its script
        pg.mouse.move(5, 5)
        pg.locator(".embedscope-widget .tooltip").wait_for(state="hidden")
        pg.mouse.move(*pts[row], steps=5)
        _loaded(pg, tip)
        assert pg.evaluate("fake.log.sent.filter((m) => m.type === 'thumb').length") == 1
        assert {u for u in requests if not u.startswith("blob:")} == {"http://widget.test/", "http://widget.test/widget.js"}
        assert not errors, errors
    finally:
        context.close()
