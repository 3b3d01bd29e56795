"""The workspace: atomic state, provenance, small inputs, vectors-only workspaces, the CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.manifold import trustworthiness

import embedscope
from embedscope.errors import InputError, WorkspaceError
from embedscope.search.exact import search
from tests.helpers import run_cli as run
from tests.helpers import topic_frame


def test_neighbors_json_contract(small_scope: embedscope.Scope, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(small_scope.path)
    code, out, _ = run(capsys, "neighbors", ws, "sport-0-00", "--json")
    assert code == 0
    doc = json.loads(out)
    assert isinstance(doc, list) and len(doc) == 10
    assert all(set(d) == {"id", "score"} and isinstance(d["id"], str) for d in doc)
    assert "sport-0-00" not in [d["id"] for d in doc], "the queried item is left out"
    scores = [d["score"] for d in doc]
    assert scores == sorted(scores, reverse=True)
    assert doc[0]["id"] == "sport-1-00", "its numbered variant is the nearest"
    assert sum(d["id"].startswith("sport") for d in doc) >= 8
    for metric in ("dot", "euclidean", "manhattan"):
        code, out, _ = run(capsys, "neighbors", ws, "sport-0-00", "--metric", metric, "-k", "5", "--json")
        got = json.loads(out)
        assert code == 0 and len(got) == 5 and got[0]["id"] == "sport-1-00"
        s = [d["score"] for d in got]
        assert s == sorted(s, reverse=(metric == "dot"))
    code, out, _ = run(capsys, "neighbors", ws, "--query", "baking bread in the oven", "-k", "3", "--json")
    assert code == 0 and all(d["id"].startswith("cooking") for d in json.loads(out))


def test_neighbors_agree_with_exact_scan(small_scope: embedscope.Scope) -> None:
    ids, x = small_scope.vectors()
    for metric in ("cosine", "dot", "euclidean", "manhattan"):
        for k in (1, 10, 59):
            got = small_scope.neighbors("cooking-1-03", k=k, metric=metric)
            row = ids.index("cooking-1-03")
            ref = search(x, x[row:row + 1], k + 1, metric)
            ref_ids = [ids[i] for i in ref.indices[0] if i != row][:k]
            assert got.ids == ref_ids


def test_usage_errors_exit_2(small_scope: embedscope.Scope, capsys: pytest.CaptureFixture[str],
                             tmp_path: Path) -> None:
    ws = str(small_scope.path)
    for args, expect in [
        (("neighbors", ws, "no-such-id"), "no item with id 'no-such-id'"),
        (("neighbors", ws, "sport-0-00", "--metric", "hamming"), "unknown metric"),
        (("neighbors", ws, "sport-0-00", "--space", "nope"), "no space 'nope'"),
        (("neighbors", ws), "give an item ID or --query"),
        (("neighbors", str(tmp_path / "missing.scope"), "x"), "no workspace at"),
        (("project", ws, "--method", "magic"), "unknown --method"),
        (("embed", ws, "--model", "bert:x"), "unknown --model"),
    ]:
        code, out, err = run(capsys, *args)
        assert code == 2, (args, err)
        assert out == "" and expect in err and len(err.strip().splitlines()) == 1


def test_info_json(small_scope: embedscope.Scope, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", str(small_scope.path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["items"] == 60
    sp = doc["spaces"][0]
    assert (sp["name"], sp["dim"], sp["count"], sp["layouts"], sp["stale"]) == ("minilm", 384, 60, ["umap"], False)
    assert "lancedb" in doc["versions"] and doc["stale"] == []


def test_umap_layout_keeps_neighbourhoods_and_is_reproducible(small_scope: embedscope.Scope) -> None:
    lay = small_scope.layout("minilm", "umap")
    ids, x = small_scope.vectors()
    assert lay.ids == ids and lay.coords.shape == (60, 2)
    assert lay.params["knn"] == "stored", "UMAP reuses the stored kNN graph"
    t = trustworthiness(x, lay.coords, n_neighbors=5, metric="cosine")
    assert t > 0.9, t
    # topics separate on the map: each point's 5 map-neighbours mostly share its topic
    topic = np.array([i.split("-")[0] for i in ids])
    d = ((lay.coords[:, None] - lay.coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :5]
    assert (topic[nn] == topic[:, None]).mean() > 0.9
    again = small_scope.project("minilm", "umap")
    assert np.array_equal(again.coords, lay.coords), "same inputs: a no-op returning the stored layout"
    redo = small_scope.project("minilm", "umap", seed=42, min_dist=0.1)
    redo2 = small_scope.project("minilm", "umap", seed=42, min_dist=0.1)
    assert np.allclose(redo.coords, redo2.coords)


def test_thirty_items_and_odd_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = topic_frame(1)
    df["id"] = [f"{i:03d}/ü {i}" for i in range(30)]
    f = tmp_path / "thirty.jsonl"
    df.to_json(f, orient="records", lines=True, force_ascii=False)
    ws = str(tmp_path / "t.scope")
    assert run(capsys, "ingest", ws, str(f))[0] == 0
    assert run(capsys, "embed", ws, "--model", "tfidf:8")[0] == 0
    assert run(capsys, "project", ws)[0] == 0
    assert run(capsys, "project", ws, "--method", "pca")[0] == 0
    code, out, _ = run(capsys, "neighbors", ws, "000/ü 0", "-k", "29", "--json")
    assert code == 0 and len(json.loads(out)) == 29
    code, out, _ = run(capsys, "neighbors", ws, "000/ü 0", "-k", "500", "--json")
    assert code == 0 and len(json.loads(out)) == 29, "k beyond n returns every other item"
    s = embedscope.open(ws)
    assert sorted(s.layouts()) == ["pca", "umap"]


def test_vectors_only_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(3, 50)) * 5
    x = np.concatenate([c + rng.normal(size=(20, 50)) for c in centers]) * 3.7  # unnormalised
    np.save(tmp_path / "v.npy", x.astype(np.float32))
    ws = str(tmp_path / "v.scope")
    assert run(capsys, "ingest", ws, str(tmp_path / "v.npy"), "--space", "mine")[0] == 0
    code, out, _ = run(capsys, "neighbors", ws, "0", "-k", "5", "--json")
    assert code == 0 and all(int(d["id"]) < 20 for d in json.loads(out))
    code, _, err = run(capsys, "neighbors", ws, "--query", "hello")
    assert code == 2 and "no model" in err
    assert run(capsys, "project", ws)[0] == 0
    code, out, _ = run(capsys, "info", ws, "--json")
    assert json.loads(out)["spaces"][0]["kind"] == "vectors"


def test_two_spaces_need_a_choice_and_differ_in_dimension(small_scope: embedscope.Scope) -> None:
    small_scope.embed("lsa", "tfidf:12")
    with pytest.raises(InputError, match="several spaces"):
        small_scope.neighbors("sport-0-00")
    assert small_scope.space_info("lsa").dim == 12
    assert len(small_scope.neighbors("sport-0-00", space="lsa", k=3).ids) == 3


def test_killed_between_table_commit_and_manifest_keeps_previous_state(small_scope: embedscope.Scope) -> None:
    """A table commit whose manifest update never happened is invisible: reads use the recorded version."""
    ids, before = small_scope.vectors()
    before = before.copy()
    tbl = small_scope.store.open_table("vectors__minilm")
    import pyarrow as pa

    junk = np.zeros((3, 384), np.float32)
    tbl.add(pa.table({"id": ["x", "y", "z"],
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(junk.reshape(-1)), 384)}),
            mode="overwrite")
    again = embedscope.open(small_scope.path)
    ids2, after = again.vectors()
    assert ids2 == ids and np.array_equal(after, before)


def test_manifest_is_never_half_written(small_scope: embedscope.Scope) -> None:
    (small_scope.path / "scope.json").write_text('{"format": 1, "records": {"items": 5}}')
    with pytest.raises(WorkspaceError, match="manifest is damaged"):
        embedscope.open(small_scope.path)
    (small_scope.path / "scope.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        embedscope.open(small_scope.path)


def test_dataframe_api_roundtrip(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "d.scope")
    s.ingest(pd.DataFrame({"text": ["a b", "b c", "c d", "d e"], "n": [1, 2, 3, 4]}))
    s.embed(model="tfidf:3")
    t = s.items_for("tfidf-3")
    assert t.column("id").to_pylist() == ["0", "1", "2", "3"] and t.column("n").to_pylist() == [1, 2, 3, 4]


def test_items_for_follows_the_point_order_of_the_space(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "o.scope")
    s.ingest(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["w x", "x y", "y z", "z w"], "n": [1, 2, 3, 4]}))
    s.add_vectors("mine", ["c", "a", "d", "b"], np.eye(4, dtype=np.float32) + 0.1)
    assert s.point_ids("mine") == ["c", "a", "d", "b"]
    t = s.items_for("mine")
    assert t.column("id").to_pylist() == ["c", "a", "d", "b"] and t.column("n").to_pylist() == [3, 1, 4, 2]
    s.embed(model="tfidf:3")  # the texts' space: points in the items' own order (the fast path)
    t = s.items_for("tfidf-3")
    assert t.column("id").to_pylist() == ["a", "b", "c", "d"] and t.column("n").to_pylist() == [1, 2, 3, 4]
