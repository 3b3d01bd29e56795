"""``embedscope contexts`` on a planted corpus: two senses of "bank" (tests/data/bank_senses.csv)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import embedscope
from tests.helpers import DATA, one_error_line, run_cli, snapshot

CORPUS = DATA / "bank_senses.csv"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    ws = tmp_path_factory.mktemp("ctx") / "ws"
    embedscope.create(ws).ingest(str(CORPUS))
    rep = embedscope.open(ws).contexts("bank", label="sense")
    return ws, rep.to_json()


def test_senses_separate_at_the_last_layer_not_at_layer_0(built, capsys):
    ws, doc = built
    code, out, _ = run_cli(capsys, "contexts", str(ws), "--word", "Bank", "--label", "sense", "--json")
    assert code == 0
    got = json.loads(out)
    assert got == doc
    assert got["workspace"] == str(ws / "contexts" / "bank") and got["word"] == "bank"
    assert got["occurrences"] == 48  # 24 + 24; "bank's" and "banking" are other words
    assert got["default_layer"] == 6 and got["label"] == "sense"
    assert [r["layer"] for r in got["layers"]] == list(range(7))
    assert [r["space"] for r in got["layers"]] == [f"layer_{i}" for i in range(7)]
    by = {r["layer"]: r for r in got["layers"]}
    assert got["purity"] == by[6]["purity"] >= 0.9
    assert by[0]["purity"] < 0.7 < by[6]["purity"]
    assert all(r["clusters"] == 2 for r in got["layers"])


def test_the_contexts_workspace_is_an_ordinary_workspace(built):
    ws, doc = built
    sub = embedscope.open(ws / "contexts" / "bank")
    assert sub.spaces() == [f"layer_{i}" for i in range(7)]
    items = sub.items().to_pandas().set_index("id")
    occ = items[items["kind"] == "occurrence"]
    assert len(occ) == 48
    for _, r in occ.iterrows():
        assert r["text"][r["word_start"]:r["word_end"]].casefold() == "bank"
    src = pd.read_csv(CORPUS).set_index("id")
    row = items.loc["r04@36"]
    assert row["item"] == "r04" and row["sense"] == "river" and row["form"] == "bank"
    assert src.loc["r04", "text"][36:40] == "bank"
    static = items.loc["bank (alone)"]
    assert (static["text"], static["kind"], static["item"], static["word_start"], static["word_end"]) == \
        ("bank", "static", "", 0, 4)
    assert pd.isna(static["sense"])
    for i in range(7):
        assert sub.layouts(f"layer_{i}") == ["umap"]
        assert sub.clusters(f"layer_{i}").params["n_clusters"] == 2
        assert sub.graph_info(f"layer_{i}") is not None
    rec = sub.store.record("contexts")
    assert rec.kind == "contexts"
    assert rec.params == {"word": "bank", "source": str(ws), "model": "all-MiniLM-L6-v2", "layers": list(range(7)),
                          "default_layer": 6, "label": "sense", "occurrences": 48, "window": 400}
    table = sub.store.read("contexts").to_pylist()
    assert [{k: r[k] for k in ("layer", "space", "purity", "silhouette", "clusters")} for r in table] == doc["layers"]
    # neighbours of a river occurrence at the last layer are mostly river occurrences
    nb = sub.neighbors("r05@32", k=10, space="layer_6")
    assert sum(items.loc[i, "sense"] == "river" for i in nb.ids) >= 8


def test_rerun_is_a_no_op(built, capsys):
    ws, _ = built
    sub = ws / "contexts" / "bank"
    before = snapshot(sub)
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "bank", "--label", "sense")
    assert code == 0 and "already built" in err
    assert snapshot(sub) == before


def test_layers_subset_no_label_and_a_rebuild_when_texts_change(tmp_path, capsys):
    ws = tmp_path / "ws"
    df = pd.read_csv(CORPUS)
    embedscope.create(ws).ingest(df)
    to = tmp_path / "bank.ctx"
    code, out, _ = run_cli(capsys, "contexts", str(ws), "--word", "bank", "--layers", "0,3", "--to", str(to),
                           "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["default_layer"] == 3 and doc["label"] is None and doc["purity"] is None
    assert [r["layer"] for r in doc["layers"]] == [0, 3]
    assert all(r["purity"] is None and 2 <= r["clusters"] <= 6 for r in doc["layers"])
    assert embedscope.open(to).spaces() == ["layer_0", "layer_3"]
    # fewer texts: the old workspace is replaced by a new build, nothing left beside it
    embedscope.open(ws)  # still there
    ws2 = tmp_path / "ws2"
    embedscope.create(ws2).ingest(df.iloc[10:])
    code, out, _ = run_cli(capsys, "contexts", str(ws2), "--word", "bank", "--layers", "0,3", "--to", str(to),
                           "--json", "--clusters", "2", "--layer", "0")
    assert code == 0
    doc2 = json.loads(out)
    assert doc2["occurrences"] == 38 and doc2["default_layer"] == 0
    assert len(embedscope.open(to).items()) == 39
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.ctx", "ws", "ws2"]


def test_bad_input_exits_2_with_one_line(built, tmp_path, capsys):
    ws, _ = built
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "heron")
    assert code == 2
    line = one_error_line(err)
    assert "'heron' occurs 1 time" in line and "at least 4" in line
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "zebra")
    assert code == 2 and "occurs 0 times" in one_error_line(err)
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "bank", "--label", "colour")
    assert code == 2 and "--label 'colour' is not a column" in one_error_line(err) and "sense" in err
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "bank", "--label", "text")
    assert code == 2 and "--label 'text'" in one_error_line(err)
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "river bank")
    assert code == 2 and "not one word" in one_error_line(err)
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "bank", "--layers", "0,9")
    assert code == 2 and "layers 0 to 6" in one_error_line(err)
    code, _, err = run_cli(capsys, "contexts", str(ws), "--word", "bank", "--layers", "0,3", "--layer", "5")
    assert code == 2 and "--layer 5" in one_error_line(err)
    assert not (ws / "contexts" / "heron").exists() and not (ws / "contexts" / "zebra").exists()


def test_a_killed_build_leaves_a_consistent_workspace_and_the_rerun_finishes(tmp_path):
    ws = tmp_path / "ws"
    embedscope.create(ws).ingest(str(CORPUS))
    args = [sys.executable, "-m", "embedscope", "contexts", str(ws), "--word", "bank", "--label", "sense", "--json"]
    env = {**os.environ, "EMBEDSCOPE_PROGRESS": "0"}
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert p.stderr is not None
    for line in p.stderr:
        if line.startswith("layer_3:"):  # mid-way: spaces written, some maps and clusters not yet
            p.send_signal(signal.SIGKILL)
            break
    p.wait()
    assert p.returncode == -signal.SIGKILL
    sub = embedscope.open(ws / "contexts" / "bank")  # opens: the manifest names only committed tables
    assert sub.store.record("contexts") is None
    assert len(sub.items()) == 49
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "token vectors of" not in done.stderr  # the stored layer spaces were reused
    assert json.loads(done.stdout)["purity"] >= 0.9
    shutil.rmtree(ws)
