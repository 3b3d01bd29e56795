"""Fine-tuning (issue 21): a planted task on a tiny BERT built here, held-out gain over the base, queries of the
tuned space, a no-op rerun, a crafted weights file, and a SIGKILL mid-epoch then a resumed rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.errors import InputError, WorkspaceError
from embedscope.io.modelfiles import save_state
from embedscope.tune.examples import from_labels
from embedscope.tune.split import split
from tests.helpers import client_for
from tests.tinybert import planted_items, save_tiny_bert

pytest.importorskip("sentence_transformers")
TRAIN = {"label": "topic", "epochs": 4, "lr": 1e-3, "checkpoint_every": 5}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, outside every workspace."""
    folder = tmp_path_factory.mktemp("tinybert") / "tinybert"
    save_tiny_bert(folder)
    return folder


def _workspace(path: Path, n: int = 320) -> embedscope.Scope:
    scope = embedscope.create(path)
    scope.ingest(planted_items(n))
    return scope


def test_split_is_seeded_and_stratified() -> None:
    labels = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 1)
    m = split(len(labels), labels, held_out=0.2, seed=3)
    assert (m == split(len(labels), labels, held_out=0.2, seed=3)).all()
    assert m[:50].sum() == 10 and m[50:80].sum() == 6 and not m[80]  # each label in proportion; a lone item trains
    assert (m != split(len(labels), labels, held_out=0.2, seed=4)).any()


def test_label_batches_keep_groups_and_replay() -> None:
    ex = from_labels([f"t{i}" for i in range(40)], ["x", "y"] * 20)
    a, b = ex.batches(8, seed=1, epoch=0), ex.batches(8, seed=1, epoch=0)
    assert all((u == v).all() for u, v in zip(a, b, strict=True))
    assert sorted(np.concatenate(a).tolist()) == list(range(40))
    assert ex.labels is not None
    assert all(np.bincount(ex.labels[r]).max() >= 2 for r in a)  # every batch holds same-label positives


def test_train_gains_on_held_out_items_and_queries_use_the_tuned_weights(tiny: Path, tmp_path: Path) -> None:
    scope = _workspace(tmp_path / "ws")
    doc = scope.train(base=f"local:{tiny}", **TRAIN)
    held = doc["held_out"]["precision"]
    assert doc["skipped"] is False and doc["base_space"] == "tinybert"
    assert held["ci95"][0] > 0, held  # a gain outside the noise on items never trained on
    assert doc["held_out"]["items"] == doc["split"]["n_held_out"] == 64
    assert any("too few" in w for w in doc["warnings"])  # 64 held-out items: said
    probe = doc["held_out"]["probe"]
    assert probe is not None and 0 <= probe["base"]["accuracy"] <= 1 and 0 <= probe["tuned"]["accuracy"] <= 1
    held_ids = set(scope.held_out("tuned") or [])
    assert len(held_ids) == 64 and scope.held_out("tinybert") is None
    served = client_for(scope).get("/api/probe", params={"label": "topic", "spaces": "tinybert,tuned",
                                                          "held_out_of": "tuned"})
    assert served.status_code == 200 and served.json()["items"] == 64  # the probe route reads the split
    rec = scope.store.record("vectors__tuned")
    assert rec is not None and rec.params["model"] == f"tuned:local:{tiny}" and rec.params["split"]["n_train"] == 256
    assert rec.params["train"]["loss"] == "BatchHardSoftMarginTripletLoss" and len(rec.params["loss_curve"]) == 32

    # a fresh process view: the query embedder comes from the workspace's weights file, and reproduces the space
    again = embedscope.open(tmp_path / "ws")
    _ids, x, pos = again.store.arrays("tuned")
    items = planted_items(320).set_index("id")
    for item in ("t0003", "t0100", "t0201"):
        q = again.embed_query(str(items.loc[item, "text"]), "tuned")
        assert float(q @ x[pos[item]] / np.linalg.norm(q) / np.linalg.norm(x[pos[item]])) > 0.999
    base_q = again.embed_query(str(items.loc["t0003", "text"]), "tinybert")
    assert float(base_q @ x[pos["t0003"]]) < 0.999  # the base model is not the tuned one
    hits = again.neighbors(query=str(items.loc["t0003", "text"]), space="tuned", k=1)
    assert list(hits.ids) == ["t0003"]

    # same inputs: a no-op
    t0 = os.stat(tmp_path / "ws" / "scope.json").st_mtime_ns
    assert again.train(base=f"local:{tiny}", **TRAIN)["skipped"] is True
    assert os.stat(tmp_path / "ws" / "scope.json").st_mtime_ns == t0

    # a crafted weights file: a clear error naming it, never code
    file = tmp_path / "ws" / "models" / str(rec.params["model_file"])
    save_state(file, "tuned-sentence-transformer", {"0.auto_model.embeddings.word_embeddings.weight":
                                                    np.zeros((3, 3), np.float32)}, {})
    with pytest.raises(WorkspaceError, match=r"does not fit the base model.*train the space again") as err:
        embedscope.open(tmp_path / "ws").embed_query("apple", "tuned")
    assert str(file) in str(err.value)
    np.savez(file, __header__=np.array(json.dumps({"kind": "tuned-sentence-transformer"})),
             w=np.array([object()], dtype=object))
    with pytest.raises(WorkspaceError, match="not a readable model file"):
        embedscope.open(tmp_path / "ws").embed_query("apple", "tuned")


def test_train_refuses_bad_input(tiny: Path, tmp_path: Path) -> None:
    scope = _workspace(tmp_path / "ws", 40)
    with pytest.raises(InputError, match="not a metadata column"):
        scope.train(base=f"local:{tiny}", label="colour")
    with pytest.raises(InputError, match="only a local sentence-transformers model"):
        scope.train(base="tfidf:8", label="topic")
    with pytest.raises(InputError, match="exactly one of"):
        scope.train(base=f"local:{tiny}")


def test_sigkill_mid_epoch_leaves_the_workspace_and_a_rerun_resumes(tiny: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _workspace(ws)
    embedscope.open(ws).embed(model=f"local:{tiny}")  # the base space first: the kill lands in training
    before = json.loads((ws / "scope.json").read_text())
    args = [sys.executable, "-m", "embedscope", "train", str(ws), "--base", f"local:{tiny}", "--label", "topic",
            "--epochs", "6", "--lr", "1e-3", "--checkpoint-every", "3", "--json"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 300
        while not list((ws / "staging").glob("train-tuned-*/checkpoint.safetensors")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    after = json.loads((ws / "scope.json").read_text())
    assert after["records"].keys() == before["records"].keys()  # nothing recorded: the workspace as it was
    assert embedscope.open(ws).spaces() == ["tinybert"]

    out = subprocess.run(args, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["resumed_from"] > 0 and doc["steps"] == 48 and len(doc["loss_curve"]) == 48
    assert not list((ws / "staging").glob("train-tuned-*"))  # the checkpoint is gone once recorded
    scope = embedscope.open(ws)
    assert sorted(scope.spaces()) == ["tinybert", "tuned"] and len(scope.held_out("tuned") or []) == 64
    assert doc["held_out"]["precision"]["ci95"][0] > 0
