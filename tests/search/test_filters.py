"""Metadata filters: parsing, the mask over the items, and the explorer's map, search and neighbours restricted
to the same items."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import embedscope
from embedscope.errors import InputError
from embedscope.search.filters import mask, parse_filter
from tests.helpers import client_for


def _items() -> pa.Table:
    return pa.table({"id": ["a", "b", "c", "d", "e"],
                     "text": ["Rocket to the Moon", "bread dough", None, "moonlight sonata", "tomato"],
                     "topic": pa.array(["space", "cooking", "space", None, "cooking"]).dictionary_encode(),
                     "n": [1, 5, 9, None, 3], "score": [0.5, 0.1, 0.9, 0.3, float("nan")]})


def test_mask_conditions() -> None:
    t = _items()
    m = lambda spec: mask(t, parse_filter(spec)).tolist()  # noqa: E731
    assert m(None) == m("") == m("{}") == [True] * 5
    assert m({"topic": ["space"]}) == [True, False, True, False, False]
    assert m({"topic": ["cooking", None]}) == [False, True, False, True, True]
    assert m({"n": {"min": 3}}) == [False, True, True, False, True]
    assert m({"n": {"min": 2, "max": 5}}) == [False, True, False, False, True]
    assert m({"score": {"max": 0.5}}) == [True, True, False, True, False]  # NaN is not in any range
    assert m({"text": "moon"}) == [True, False, False, True, False]  # case-insensitive, null text never matches
    assert m(json.dumps({"text": {"contains": "MOON"}, "topic": ["space"]})) == [True, False, False, False, False]
    assert m({"n": [1, 9]}) == [True, False, True, False, False]


@pytest.mark.parametrize(("spec", "want"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"nope": ["x"]}, "no column 'nope'"),
    ({"n": {"min": "low"}}, "finite number"),
    ({"n": {"min": 5, "max": 1}}, "above max"),
    ({"topic": {"min": 1}}, "needs a numeric column"),
    ({"n": {"contains": "x"}}, "needs a text column"),
    ({"n": ["x"]}, "do not fit"),
    ({"topic": 3}, "use a list of values"),
])
def test_bad_filters_say_what_is_wrong(spec, want: str) -> None:
    with pytest.raises(InputError, match=want):
        mask(_items(), parse_filter(spec))


@pytest.fixture(scope="module")
def ws(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("filter") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    return dst


def test_server_restricts_map_search_and_neighbours(ws: Path) -> None:
    scope = embedscope.open(ws)
    client = client_for(scope, raise_server_exceptions=False)
    topics = np.array(scope.items_for("minilm").column("topic").to_pylist())
    spec = json.dumps({"topic": ["cooking"]})
    r = client.get("/api/spaces/minilm/filter", params={"filter": spec})
    keep = pa.ipc.open_stream(io.BytesIO(r.content)).read_all().column("keep").to_numpy()
    assert keep.tolist() == (topics == "cooking").astype(np.uint8).tolist()
    # semantic search: hits, total and histogram only over the filtered items
    res = client.get("/api/spaces/minilm/search", params={"q": "rocket launch", "k": 30, "filter": spec}).json()
    assert res["total"] == 20 and sum(res["histogram"]["counts"]) == 20 and len(res["hits"]) == 20
    assert all(topics[h["row"]] == "cooking" for h in res["hits"])
    scores = [h["score"] for h in res["hits"]]
    assert scores == sorted(scores, reverse=True)
    kw = client.get("/api/spaces/minilm/search", params={"q": "the", "mode": "keyword", "filter": spec}).json()
    assert kw["hits"] and all(topics[h["row"]] == "cooking" for h in kw["hits"])
    # neighbours among the filtered items, exact, for every metric
    row = int(np.flatnonzero(topics == "space")[0])  # an item outside the filter still has neighbours inside it
    _, x = scope.vectors("minilm")
    inside = np.flatnonzero(topics == "cooking")
    for metric in ("cosine", "dot", "euclidean", "manhattan"):
        got = client.get(f"/api/spaces/minilm/items/{row}/neighbors",
                         params={"k": 5, "metric": metric, "filter": spec}).json()
        rows = [n["row"] for n in got["neighbors"]]
        want = scope.neighbors(vector=x[row], k=60, metric=metric).rows.tolist()
        assert rows == [r for r in want if r in set(inside.tolist())][:5], metric
    # a filter nothing passes: no hits, no neighbours, never a 500
    none = json.dumps({"length": {"min": 10_000}})
    assert client.get("/api/spaces/minilm/search", params={"q": "x", "filter": none}).json()["hits"] == []
    assert client.get(f"/api/spaces/minilm/items/{row}/neighbors", params={"filter": none}).json()["neighbors"] == []
    for bad in ("{oops", json.dumps({"nope": [1]}), json.dumps({"length": {"min": "a"}})):
        assert client.get("/api/spaces/minilm/filter", params={"filter": bad}).status_code == 400
        assert client.get("/api/spaces/minilm/search", params={"q": "x", "filter": bad}).status_code == 400


@pytest.mark.browser
def test_filter_in_the_page(ws: Path) -> None:
    from tests.web.pagekit import chromium, open_sheet, screenshot, serving

    scope = embedscope.open(ws)
    topics = scope.items_for("minilm").column("topic").to_pylist()
    with serving(ws) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        ready = "window.__embedscope && window.__embedscope.ready"
        page.wait_for_function(ready)
        open_sheet(page, "filter")
        page.wait_for_selector("#filter-view")
        page.check("fieldset[data-column=topic] input[value=cooking]")
        page.click("#filter-apply")
        page.wait_for_function("window.__embedscope.filter !== null && window.__embedscope.ready")
        assert page.evaluate("__embedscope.filter.count") == 20
        assert "20 of 60" in page.inner_text("#filter-count")
        screenshot(page, "filter-cooking")
        page.fill("#search", "rocket launch")
        page.press("#search", "Enter")
        page.wait_for_function("window.__embedscope.search !== null && window.__embedscope.ready")
        rows = page.evaluate("__embedscope.search.rows")
        assert len(rows) == 20 and all(topics[r] == "cooking" for r in rows)
        page.evaluate(f"__embedscope.select({rows[0]})")
        page.wait_for_function("window.__embedscope.neighbors.length > 0 && window.__embedscope.ready")
        assert all(topics[r] == "cooking" for r in page.evaluate("__embedscope.neighbors"))
        link = page.url
        assert "filter=" in link
        again = context.new_page()
        again.goto(link)
        again.wait_for_function("window.__embedscope && window.__embedscope.filter !== null")
        assert again.evaluate("__embedscope.filter.count") == 20
        context.close()
        assert not errors, errors
