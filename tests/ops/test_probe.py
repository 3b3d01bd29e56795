"""Probing a workspace: every space on the same items, mistakes with ids and texts, held-out ids, the route."""

from __future__ import annotations

import pytest

import embedscope
from embedscope.errors import InputError
from tests.helpers import client_for, probe_scope


@pytest.fixture(scope="module")
def scope(tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    return probe_scope(tmp_path_factory.mktemp("probe") / "p.scope")


def test_every_space_on_the_same_items(scope: embedscope.Scope) -> None:
    r = scope.probe("topic", folds=5)
    assert r["label"] == "topic" and r["items"] == 300 and set(r["spaces"]) == {"signal", "noise"}
    sig, noise = r["spaces"]["signal"], r["spaces"]["noise"]
    assert sig["left_out"] == [{"label": "tiny", "count": 2}] and sig["n"] == 298 and sig["dims"] == 43
    assert sig["logreg"]["accuracy"] > 0.97 and sig["knn"]["accuracy"] > 0.95
    assert noise["logreg"]["accuracy"] < 0.5 and abs(noise["control"] - noise["base_rate"]) < 0.1
    assert sig["logreg"]["accuracy_ci95"][0] > noise["logreg"]["accuracy_ci95"][1]
    for m in noise["misclassified"]:
        row = int(m["id"][1:])
        assert m["row"] == row and m["text"].startswith(f"verse {row} of {m['label']}")


def test_numeric_label_and_ids(scope: embedscope.Scope) -> None:
    r = scope.probe("score", ["signal", "noise"])
    assert r["spaces"]["signal"]["kind"] == "numeric"
    assert r["spaces"]["signal"]["ridge"]["r2"] > 0.95 and r["spaces"]["noise"]["ridge"]["r2"] < 0.1
    half = [f"v{i}" for i in range(0, 300, 2)]
    part = scope.probe("topic", ["signal"], ids=half)
    assert part["items"] == 150 and part["spaces"]["signal"]["n"] == 149
    assert all(int(m["id"][1:]) % 2 == 0 for m in part["spaces"]["signal"]["misclassified"])


def test_bad_label_is_one_line(scope: embedscope.Scope) -> None:
    with pytest.raises(InputError, match=r"column 'nope': no such label column; columns: topic, score"):
        scope.probe("nope")
    with pytest.raises(InputError, match=r"column 'topic': space 'signal': 5 items have a label, fewer than"):
        scope.probe("topic", ["signal"], ids=["v3", "v4", "v5", "v6", "v7"], folds=6)


def test_route(scope: embedscope.Scope) -> None:
    client = client_for(scope)
    got = client.get("/api/probe", params={"label": "topic", "spaces": "signal,noise"})
    assert got.status_code == 200, got.text
    doc = got.json()
    assert doc["items"] == 300 and doc["held_out_of"] is None
    assert doc["spaces"]["signal"]["logreg"]["accuracy"] > 0.97
    assert doc["spaces"]["signal"]["knn"]["k"] == 10
    assert doc["spaces"]["noise"]["misclassified"][0]["text"].startswith("verse ")
    num = client.get("/api/probe", params={"label": "score", "spaces": "signal"}).json()
    assert num["spaces"]["signal"]["ridge"]["r2"] > 0.95 and num["spaces"]["signal"]["logreg"] is None
    assert client.get("/api/probe", params={"label": "nope"}).status_code == 404
    assert client.get("/api/probe", params={"label": "topic", "spaces": "nope"}).status_code == 404
    bad = client.get("/api/probe", params={"label": "topic", "held_out_of": "signal"})
    assert bad.status_code == 400 and "not a tuned space" in bad.json()["detail"]


def test_route_held_out_of_a_tuned_space(scope: embedscope.Scope, monkeypatch: pytest.MonkeyPatch) -> None:
    # a tuned space's held-out part, as Scope.held_out gives it (from the train branch): only those are probed
    held = [f"v{i}" for i in range(0, 300, 3)]
    monkeypatch.setattr(type(scope), "held_out", lambda self, space: held if space == "signal" else None,
                        raising=False)
    client = client_for(scope)
    doc = client.get("/api/probe", params={"label": "topic", "spaces": "signal,noise",
                                           "held_out_of": "signal"}).json()
    assert doc["items"] == 100 and doc["held_out_of"] == "signal"
    assert all(int(m["id"][1:]) % 3 == 0 for m in doc["spaces"]["noise"]["misclassified"])
    assert client.get("/api/probe", params={"label": "topic", "held_out_of": "noise"}).status_code == 400
