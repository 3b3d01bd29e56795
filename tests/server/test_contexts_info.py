"""``/api/info``'s ``contexts``: a contexts workspace (the word, the label, the default layer, each layer's space
with purity, silhouette and clusters, read from the ``contexts`` table); ``null`` elsewhere."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import embedscope
from embedscope.store.manifest import Record
from tests.contextkit import LAYERS, WORD, build_contexts, occurrences
from tests.helpers import client_for


@pytest.fixture(scope="module")
def contexts_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_contexts(tmp_path_factory.mktemp("contexts") / WORD)


def test_info_describes_the_layers_of_a_contexts_workspace(contexts_path: Path) -> None:
    scope = embedscope.open(contexts_path)
    stored = scope.store.read("contexts").to_pylist()
    info = client_for(scope).get("/api/info").json()
    ctx = info["contexts"]
    assert ctx["word"] == WORD and ctx["label"] == "sense" and ctx["default_layer"] == LAYERS[-1]
    assert ctx["occurrences"] == len(occurrences()) - 1
    assert [r["layer"] for r in ctx["layers"]] == LAYERS
    assert [r["space"] for r in ctx["layers"]] == [f"layer_{n}" for n in LAYERS]
    for got, want in zip(ctx["layers"], stored, strict=True):
        assert got == pytest.approx(want)
    # the planted senses separate at the last layer, not at the first
    assert ctx["layers"][-1]["purity"] >= 0.9 > ctx["layers"][0]["purity"]
    assert ctx["layers"][-1]["silhouette"] > ctx["layers"][0]["silhouette"]
    # every layer space is one the explorer can open, over the same items in the same order
    spaces = {s["name"]: s for s in info["spaces"]}
    assert all(spaces[r["space"]]["has_clusters"] and spaces[r["space"]]["layouts"] for r in ctx["layers"])
    first = scope.point_ids("layer_0")
    assert all(scope.point_ids(r["space"]) == first for r in ctx["layers"])


def test_info_has_no_contexts_in_another_workspace(small_scope: embedscope.Scope) -> None:
    assert client_for(small_scope).get("/api/info").json()["contexts"] is None


def test_a_contexts_record_without_its_columns_is_no_contexts(small_scope: embedscope.Scope) -> None:
    store = small_scope.store
    with store.writing():
        table = pa.table({"layer": [0], "other": ["x"]})
        store.record_version(Record(table="contexts", kind="contexts", params={"word": "bank"}),
                             store.commit("contexts", table), 1)
    assert client_for(small_scope).get("/api/info").json()["contexts"] is None
