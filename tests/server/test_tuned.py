"""A tuned space in the explorer: ``/api/info``'s ``tuned`` (its base space and split sizes) and
``/api/spaces/{space}/split`` (each point's part, in the space's point order); neither for other spaces."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa

import embedscope
from tests.helpers import client_for
from tests.tunedkit import add_tuned


def _parts(body: bytes) -> pa.Table:
    return pa.ipc.open_stream(io.BytesIO(body)).read_all()


def test_info_names_the_base_and_the_split_of_a_tuned_space(small_scope: embedscope.Scope) -> None:
    part = add_tuned(small_scope)
    held = sum(p == "held_out" for p in part.values())
    assert held == 12
    spaces = {s["name"]: s for s in client_for(small_scope).get("/api/info").json()["spaces"]}
    assert spaces["tuned"]["tuned"] == {"base": "minilm", "n_train": 48, "n_held_out": held,
                                      "by": "topic"}
    assert spaces["minilm"]["tuned"] is None


def test_the_base_space_is_found_without_base_space_in_the_record(small_scope: embedscope.Scope) -> None:
    small_scope.embed("lsa", "tfidf:16")
    add_tuned(small_scope, base_space=False)  # base "local": the space the bundled model embedded
    spaces = {s["name"]: s for s in client_for(small_scope).get("/api/info").json()["spaces"]}
    assert spaces["tuned"]["tuned"]["base"] == "minilm"
    add_tuned(small_scope, space="tuned2", base="lsa", base_param="lsa", base_space=False)  # base names a space
    spaces = {s["name"]: s for s in client_for(small_scope).get("/api/info").json()["spaces"]}
    assert spaces["tuned2"]["tuned"]["base"] == "lsa"
    assert spaces["lsa"]["tuned"] is None


def test_split_sends_each_points_part_in_point_order(small_scope: embedscope.Scope) -> None:
    part = add_tuned(small_scope)
    client = client_for(small_scope, raise_server_exceptions=False)
    r = client.get("/api/spaces/tuned/split")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.apache.arrow.stream")
    table = _parts(r.content)
    assert table.schema.field("part").type == pa.uint8()
    ids = small_scope.point_ids("tuned")
    assert ids == small_scope.point_ids("minilm")[::-1]  # the tuned space's own order, not the items'
    want = np.array([1 if part[i] == "held_out" else 0 for i in ids], np.uint8)
    assert np.array_equal(table.column("part").to_numpy(), want)
    again = client.get("/api/spaces/tuned/split", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    # not a tuned space, no such space: 404 with a sentence
    r = client.get("/api/spaces/minilm/split")
    assert r.status_code == 404 and "not a tuned space" in r.json()["detail"]
    assert client.get("/api/spaces/nope/split").status_code == 404


def test_a_tuned_record_without_its_split_table_has_no_split(small_scope: embedscope.Scope) -> None:
    add_tuned(small_scope)
    with small_scope.store.writing():
        small_scope.store.drop("split__tuned")
    small_scope.reload()
    client = client_for(small_scope, raise_server_exceptions=False)
    assert client.get("/api/info").json()["spaces"][-1]["tuned"]["n_held_out"] == 12
    assert client.get("/api/spaces/tuned/split").status_code == 404
