"""Thumbnails of image items over HTTP: ``/api/thumbs/{id}``, the Arrow batch, ``images`` in ``/api/info`` and
``has_image`` in items, neighbours and search hits (issue 19; the ``images`` table written by
``tests.helpers.add_test_images`` until image ingest lands)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import embedscope
from embedscope.server.arrow import ARROW_STREAM
from tests.helpers import add_test_images, client_for

SPACE = "minilm"
NO_IMAGE = "sport-0-00"
#: Ids a URL mangles unless encoded: a slash, spaces, non-ASCII, '%', '?', '#', a comma, '+'.
ODD_IDS = ["a/b/c.png", "with space.jpg", "ünïcødé 画像", "50%off", "what?x=1", "tag#1", "x,y", "a+b", "plain"]


@pytest.fixture(scope="module")
def img_scope(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    """The 60-item MiniLM workspace with a drawn picture for every item but one (a shape per topic)."""
    dst = tmp_path_factory.mktemp("thumbs") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    scope = embedscope.open(dst)
    add_test_images(scope, "topic", skip=(NO_IMAGE,))
    return scope


@pytest.fixture(scope="module")
def client(img_scope: embedscope.Scope) -> TestClient:
    return client_for(img_scope, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def odd_scope(tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    path = tmp_path_factory.mktemp("odd") / "odd.scope"
    scope = embedscope.create(path)
    scope.ingest(pd.DataFrame({"id": ODD_IDS, "text": [f"item {i}" for i in range(len(ODD_IDS))]}))
    scope.add_vectors("vec", ODD_IDS, np.random.default_rng(0).normal(size=(len(ODD_IDS), 4)).astype(np.float32))
    add_test_images(scope, None)
    return scope


def read_arrow(response) -> pa.Table:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ARROW_STREAM
    return pa.ipc.open_stream(response.content).read_all()


def decoded(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "WEBP"
    return img.convert("RGB")


def test_info_says_the_workspace_has_images(client: TestClient, _small_scope_path: Path, tmp_path: Path) -> None:
    info = client.get("/api/info").json()
    assert info["images"] is True and isinstance(info["images_version"], str)
    shutil.copytree(_small_scope_path, tmp_path / "plain.scope")
    plain = client_for(embedscope.open(tmp_path / "plain.scope")).get("/api/info").json()
    assert plain["images"] is False and plain["images_version"] is None


def test_thumbnail_is_the_items_picture(client: TestClient, img_scope: embedscope.Scope) -> None:
    topics = {r["id"]: r["topic"] for r in img_scope.items().to_pylist()}
    centre = {}
    for item in ["sport-0-03", "cooking-0-03", "space-0-03", "space-1-07"]:
        r = client.get(f"/api/thumbs/{item}")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/webp"
        img = decoded(r.content)
        assert max(img.size) <= 128 and min(img.size) > 0
        centre[item] = np.asarray(img)[img.height // 2, img.width // 2].astype(int)
    # one colour a topic in sorted order (cooking: red circle, space: green triangle, sport: blue square)
    assert np.abs(centre["space-0-03"] - centre["space-1-07"]).sum() < 40
    assert np.abs(centre["sport-0-03"] - centre["space-0-03"]).sum() > 150
    assert topics["sport-0-03"] == "sport" and np.argmax(centre["sport-0-03"]) == 2
    assert np.argmax(centre["cooking-0-03"]) == 0 and np.argmax(centre["space-0-03"]) == 1


def test_missing_thumbnail_is_a_json_404(client: TestClient) -> None:
    for item in [NO_IMAGE, "no-such-item"]:
        r = client.get(f"/api/thumbs/{item}")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/json"
        assert item in r.json()["detail"]


def test_workspace_without_images_has_no_thumbnails(_small_scope_path: Path, tmp_path: Path) -> None:
    shutil.copytree(_small_scope_path, tmp_path / "plain.scope")
    c = client_for(embedscope.open(tmp_path / "plain.scope"))
    assert c.get("/api/thumbs/sport-0-03").status_code == 404
    assert read_arrow(c.get("/api/thumbs", params={"ids": ["sport-0-03"]})).num_rows == 0
    assert c.get("/api/spaces/minilm/items/0").json()["has_image"] is False


def test_odd_ids_reach_their_thumbnail(odd_scope: embedscope.Scope) -> None:
    c = client_for(odd_scope)
    stored = dict(zip(*odd_scope.store.read_columns("images", ["id", "thumb"]).to_pydict().values(), strict=True))
    for item in ODD_IDS:
        r = c.get("/api/thumbs/" + quote(item, safe=""))
        assert r.status_code == 200, (item, r.text)
        assert r.content == stored[item], item
    table = read_arrow(c.get("/api/thumbs", params={"ids": ODD_IDS}))
    assert table.column("id").to_pylist() == ODD_IDS
    assert table.column("thumb").to_pylist() == [stored[i] for i in ODD_IDS]


def test_thumbnail_caching(client: TestClient) -> None:
    version = client.get("/api/info").json()["images_version"]
    plain = client.get("/api/thumbs/space-0-01")
    assert plain.headers["cache-control"] == "private, no-cache" and plain.headers["etag"]
    again = client.get("/api/thumbs/space-0-01", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and not again.content
    pinned = client.get("/api/thumbs/space-0-01", params={"v": version})
    assert "immutable" in pinned.headers["cache-control"] and "max-age=31536000" in pinned.headers["cache-control"]
    stale = client.get("/api/thumbs/space-0-01", params={"v": "old"})
    assert stale.headers["cache-control"] == "private, no-cache"


def test_batch_by_ids_and_by_rows(client: TestClient, img_scope: embedscope.Scope) -> None:
    ids = img_scope.point_ids(SPACE)
    asked = [ids[5], NO_IMAGE, "nobody", ids[7], ids[5]]
    table = read_arrow(client.get("/api/thumbs", params={"ids": asked}))
    assert table.column_names == ["id", "thumb", "width", "height"]
    assert table.column("id").to_pylist() == [ids[5], ids[7], ids[5]]
    for data, w, h in zip(*(table.column(c).to_pylist() for c in ("thumb", "width", "height")), strict=True):
        assert decoded(data).size == (w, h)
    rows = list(range(12))
    body = read_arrow(client.post("/api/thumbs", json={"space": SPACE, "rows": rows}))
    assert body.column_names == ["row", "id", "thumb", "width", "height"]
    expect = [r for r in rows if ids[r] != NO_IMAGE]
    assert body.column("row").to_pylist() == expect
    assert body.column("id").to_pylist() == [ids[r] for r in expect]
    same = read_arrow(client.post("/api/thumbs", json={"ids": [ids[5]]}))
    assert same.column("thumb")[0] == table.column("thumb")[0]


@pytest.mark.parametrize("call", [
    lambda c: c.get("/api/thumbs", params={"ids": [f"x{i}" for i in range(513)]}),
    lambda c: c.post("/api/thumbs", json={"ids": [f"x{i}" for i in range(513)]}),
    lambda c: c.post("/api/thumbs", json={"space": SPACE, "rows": list(range(513))}),
    lambda c: c.post("/api/thumbs", json={}),
    lambda c: c.post("/api/thumbs", json={"rows": [1]}),
    lambda c: c.post("/api/thumbs", json={"space": SPACE, "rows": [60]}),
    lambda c: c.post("/api/thumbs", json={"space": "nope", "rows": [0]}),
])
def test_bad_batches_are_4xx(client: TestClient, call) -> None:
    r = call(client)
    assert 400 <= r.status_code < 500, r.text
    assert "detail" in r.json()


def test_items_neighbours_and_hits_say_which_have_an_image(client: TestClient, img_scope: embedscope.Scope) -> None:
    ids = img_scope.point_ids(SPACE)
    bare = ids.index(NO_IMAGE)
    assert client.get(f"/api/spaces/{SPACE}/items/{bare}").json()["has_image"] is False
    assert client.get(f"/api/spaces/{SPACE}/items/{(bare + 1) % 60}").json()["has_image"] is True
    page = client.get(f"/api/spaces/{SPACE}/items", params={"limit": 60}).json()["items"]
    assert [p["has_image"] for p in page] == [i != NO_IMAGE for i in ids]
    for _ in range(2):  # the second answer comes from the event loop's cached path
        nbrs = client.get(f"/api/spaces/{SPACE}/items/{(bare + 1) % 60}/neighbors", params={"k": 59}).json()
        assert {n["id"]: n["has_image"] for n in nbrs["neighbors"]}[NO_IMAGE] is False
        assert sum(n["has_image"] for n in nbrs["neighbors"]) == 58
    hits = client.get(f"/api/spaces/{SPACE}/search", params={"q": "striker", "mode": "keyword"}).json()["hits"]
    assert hits and {h["id"]: h["has_image"] for h in hits}[NO_IMAGE] is False
    sem = client.get(f"/api/spaces/{SPACE}/search", params={"q": "football match", "k": 5}).json()["hits"]
    assert all(h["has_image"] == (h["id"] != NO_IMAGE) for h in sem)
