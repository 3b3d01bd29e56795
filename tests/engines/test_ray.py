"""The Ray backend on a local Ray runtime bound to 127.0.0.1: the same vectors and neighbours as one process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.search.exact import knn_graph
from tests.helpers import run_cli as run

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

N = 300


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """One local Ray runtime (2 CPUs, 127.0.0.1) for the module; every step reuses it."""
    from embedscope.engines.ray.runtime import ray_runtime

    with ray_runtime(None) as r:
        assert r.is_initialized()
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        yield


@pytest.fixture(scope="module")
def bible_df():
    from embedscope.io.samples import bible

    return bible(N)


@pytest.fixture(scope="module")
def local_ws(tmp_path_factory: pytest.TempPathFactory, bible_df) -> Path:
    path = tmp_path_factory.mktemp("ray") / "local.scope"
    scope = embedscope.create(path)
    scope.ingest(bible_df)
    scope.embed("minilm", "local", batch_size=64)
    return path


def _neighbors(capsys: pytest.CaptureFixture[str], ws: Path, item: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "neighbors", str(ws), item, "-k", "10", "--json")
    assert code == 0, err
    return json.loads(out)


def test_embed_with_ray_matches_local(ray_local: None, local_ws: Path, bible_df, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ray.scope"
    embedscope.create(ws).ingest(bible_df)
    code, out, err = run(capsys, "embed", str(ws), "--space", "minilm", "--engine", "ray", "--batch-size", "64",
                         "--concurrency", "2", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["stats"]["computed"] == N and doc["stats"]["batches"] == -(-N // 64)
    a, b = embedscope.open(local_ws), embedscope.open(ws)
    ia, xa, _ = a.store.arrays("minilm")
    ib, xb, _ = b.store.arrays("minilm")
    assert list(ia) == list(ib)
    assert xb.dtype == np.float32 and xb.shape == (N, 384)
    np.testing.assert_allclose(xb, xa, rtol=1e-5, atol=1e-5)
    ra, rb = a.manifest.records["vectors__minilm"], b.manifest.records["vectors__minilm"]
    assert ra.params == rb.params  # model, key, dims: the same record as the single-process path
    assert not (ws / "staging").exists()  # the exchange dataset is gone once the space is written
    for item in (ia[0], ia[N // 2], ia[-1]):
        assert [r["id"] for r in _neighbors(capsys, ws, item)] == [r["id"] for r in _neighbors(capsys, local_ws, item)]
    # a rerun finds every text in the cache: nothing is embedded, the vectors stay the same
    rep = b.embed("minilm", "local", engine="ray", batch_size=64)
    assert rep.stats.computed == 0 and rep.stats.cached == N
    np.testing.assert_array_equal(b.store.arrays("minilm")[1], xb)


def test_knn_graph_with_ray_equals_single_process(ray_local: None, local_ws: Path, tmp_path: Path) -> None:
    import shutil

    from embedscope.engines.ray.knn import knn_graph_ray

    _, x, _ = embedscope.open(local_ws).store.arrays("minilm")
    ref = knn_graph(x, 20)
    got = knn_graph_ray(x, 20, shards=7)  # uneven shards
    np.testing.assert_array_equal(got.indices, ref.indices)
    np.testing.assert_allclose(got.scores, ref.scores, rtol=1e-6, atol=1e-6)
    # through the workspace: the stored graph is the exact one
    ws = tmp_path / "knn.scope"
    shutil.copytree(local_ws, ws)
    scope = embedscope.open(ws)
    with scope.store.writing():
        scope.store.drop("neighbors__minilm")  # built by the neighbours queries of another test, if it ran
    g = scope.knn("minilm", 10, engine="ray")
    np.testing.assert_array_equal(g.indices, ref.indices[:, :10])
    assert scope.graph_info("minilm") == {"exact": True, "k": 50, "method": "exact"}


def test_killed_ray_job_leaves_workspace_and_rerun_resumes(ray_local: None, local_ws: Path, bible_df,
                                                           tmp_path: Path) -> None:
    """SIGKILL the driver of a Ray embedding run once some batches are staged: nothing changed, the rerun resumes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import lance

    ws = tmp_path / "killed.scope"
    embedscope.create(ws).ingest(bible_df)
    before = (ws / "scope.json").read_text()
    staging_dir = ws / "staging"
    proc = subprocess.Popen([sys.executable, "-m", "embedscope", "embed", str(ws), "--space", "minilm",
                             "--engine", "ray", "--batch-size", "8", "--concurrency", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    staged = 0
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            sets = list(staging_dir.glob("*/actor-*.lance")) if staging_dir.exists() else []
            if sets:  # one dataset per actor
                try:
                    staged = sum(lance.dataset(str(s)).count_rows() for s in sets)
                except Exception:
                    staged = 0
                if staged >= 16:
                    break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert 16 <= staged < N, "the run was not caught mid-way"
    assert (ws / "scope.json").read_text() == before  # the workspace did not change
    scope = embedscope.open(ws)
    rep = scope.embed("minilm", "local", engine="ray", batch_size=64)
    assert rep.stats.cached >= staged and rep.stats.computed == N - rep.stats.cached
    # the killed run embedded batches of 8, the rerun and the local path batches of 64: the int8 default model
    # quantises activations per batch, so a text's vector moves a little with its batch (not with the engine)
    got, ref = scope.store.arrays("minilm")[1], embedscope.open(local_ws).store.arrays("minilm")[1]
    cos = np.einsum("ij,ij->i", got, ref) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
    assert cos.min() >= 0.99, cos.min()


def test_without_ray_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    import pandas as pd

    from embedscope.engines.ray.runtime import ray_runtime
    from embedscope.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedscope\[ray\]'"), ray_runtime(None):
        pass
    ws = tmp_path / "e.scope"
    embedscope.create(ws).ingest(pd.DataFrame({"text": ["a b c", "d e f"]}))
    code, _, err = run(capsys, "embed", str(ws), "--model", "tfidf:2", "--engine", "nope")
    assert code == 2 and "unknown engine 'nope'" in err
    code, _, err = run(capsys, "embed", str(ws), "--model", "tfidf:2", "--engine", "ray")
    assert code == 2 and "without --engine ray" in err  # fitted models embed in one process
    code, _, err = run(capsys, "embed", str(ws), "--model", "tfidf:2")
    assert code == 0, err
    for args in (["knn", str(ws), "--mode", "approximate"], ["project", str(ws), "--sample", "5"]):
        code, _, err = run(capsys, *args, "--engine", "ray")
        assert code == 1 and "pip install 'embedscope[ray]'" in err, (args, err)


# ------------------------------------------------------------------------------------ approximate graph
def _clustered(n: int, d: int = 48, seed: int = 0) -> np.ndarray:
    """Noisy Gaussian clusters: a space whose neighbour lists an ANN index can get wrong."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 100, d)).astype(np.float32)
    return (centres[rng.integers(0, len(centres), n)] + 0.7 * rng.standard_normal((n, d))).astype(np.float32)


def test_ann_graph_with_ray_recall_and_workspace(ray_local: None, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from embedscope.search.ann import ann_graph, graph_recall

    x = _clustered(6000)
    ws = tmp_path / "ann.scope"
    scope = embedscope.create(ws)
    scope.add_vectors("v", [f"p{i}" for i in range(len(x))], x)
    # forced approximate on small data, through the CLI
    code, out, err = run(capsys, "knn", str(ws), "--mode", "approximate", "--engine", "ray", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["exact"] is False and info["engine"] == "ray" and info["k"] == 50
    local = graph_recall(x, ann_graph(x, 50), 10, sample=len(x))[0]
    scope = embedscope.open(ws)
    g = scope.knn("v", 50)
    ray_recall = graph_recall(x, g, 10, sample=len(x))[0]
    assert ray_recall >= 0.95 and abs(ray_recall - local) <= 0.02, (ray_recall, local)
    assert info["recall@10"] >= 0.95  # stored with the graph, measured on 1,000 sampled items
    assert not (g.indices == np.arange(len(x))[:, None]).any()  # never its own neighbour
    # the stored scores are exact cosine similarities of the listed neighbours, best first
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    rows = np.arange(0, len(x), 97)
    np.testing.assert_allclose(g.scores[rows], np.einsum("bd,bkd->bk", xn[rows], xn[g.indices[rows]]), atol=1e-5)
    assert (np.diff(g.scores, axis=1) <= 1e-7).all()
    assert not (ws / "staging").exists()
    # the neighbour list shown says where it came from
    code, _, err = run(capsys, "neighbors", str(ws), "p0", "--json")
    assert code == 0 and "approximate kNN graph" in err and "recall@10" in err


def test_ann_graph_with_ray_retries_a_killed_task_and_resumes(ray_local: None, tmp_path: Path) -> None:
    """A worker killed mid-shard is retried; a driver stopped after some shards reruns only the others."""
    from embedscope.engines.ray import knn as ray_engine
    from embedscope.engines.ray.staging import ShardStage

    x = _clustered(3000, seed=1)
    marks = tmp_path / "marks"
    marks.mkdir()
    original = ray_engine._ann_shard

    def dying_once(x: np.ndarray, lo: int, hi: int, *args: object) -> object:
        import os

        flag = marks / f"died-{lo}"
        if lo == 0 and not flag.exists():
            flag.touch()
            os._exit(1)  # the worker process dies: Ray retries the task
        (marks / f"ran-{lo}-{os.getpid()}").touch()
        return original(x, lo, hi, *args)

    class Stop(Exception):
        pass

    def stop_after_first(done: int, total: int) -> None:
        if done == 1:
            raise Stop

    staging = tmp_path / "ws" / "staging" / "knn-v"
    ray_engine._ann_shard = dying_once  # type: ignore[assignment]
    try:
        with pytest.raises(Stop):
            ray_engine.ann_graph_ray(x, 20, shards=4, staging=staging, key="fp", progress=stop_after_first)
        staged = {p.name for p in staging.glob("shard-*.npz")}
        assert len(staged) == 1 and (marks / "died-0").exists()
        for p in marks.glob("ran-*"):
            p.unlink()
        seen: list[tuple[int, int]] = []
        got = ray_engine.ann_graph_ray(x, 20, shards=4, staging=staging, key="fp",
                                       progress=lambda d, t: seen.append((d, t)))
    finally:
        ray_engine._ann_shard = original  # type: ignore[assignment]
    bounds = np.linspace(0, len(x), 5).astype(int)
    ran = {int(p.name.split("-")[1]) for p in marks.glob("ran-*")}
    staged_lo = {int(bounds[int(s[6:-4])]) for s in staged}
    assert ran == set(bounds[:-1].tolist()) - staged_lo  # only the missing shards ran again
    assert seen[-1] == (4, 4)
    assert not staging.exists()
    ref = ray_engine.ann_graph_ray(x, 20, shards=4)
    np.testing.assert_array_equal(got.indices, ref.indices)  # resumed = built in one go
    # a stage left by another job (other vectors) is not mixed in
    stage = ShardStage(staging, {"key": "fp"})
    stage.save(0, indices=np.zeros((1, 1), np.int32))
    assert ShardStage(staging, {"key": "other"}).done() == set()


# ------------------------------------------------------------------------------------------- layouts
def test_umap_layout_with_ray_equals_single_process(ray_local: None, local_ws: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Fit on a sample, place the rest in Ray tasks (four transform batches): the single-process layout."""
    import shutil

    from embedscope.projection import umap as um

    monkeypatch.setattr(um, "TRANSFORM_BATCH", 40)  # 150 items to place: batches of 40, 40, 40, 30
    a, b = tmp_path / "a.scope", tmp_path / "b.scope"
    shutil.copytree(local_ws, a)
    shutil.copytree(local_ws, b)
    la = embedscope.open(a).project("minilm", "umap", sample=150)
    lb = embedscope.open(b).project("minilm", "umap", sample=150, engine="ray")
    assert lb.params["engine"] == "ray" and lb.params["shards"] == 4 and lb.params["placed_by_transform"] == 150
    assert la.ids == lb.ids
    np.testing.assert_allclose(lb.coords, la.coords, atol=1e-5)
    assert abs(lb.quality["trustworthiness"] - la.quality["trustworthiness"]) <= 1e-6
    assert lb.quality["trustworthiness"] > 0.7  # a real map of 300 verses, not noise
    assert not (b / "staging").exists()
    # other methods are not sharded: a clear error, exit code 2
    code, _, err = run(capsys, "project", str(b), "--method", "pca", "--engine", "ray")
    assert code == 2 and "--engine ray lays out umap" in err
    code, _, err = run(capsys, "knn", str(b), "--engine", "nope")
    assert code == 2 and "unknown engine 'nope'" in err
    code, _, err = run(capsys, "project", str(b), "--engine", "nope")
    assert code == 2 and "unknown engine 'nope'" in err
