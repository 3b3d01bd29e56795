"""The Ray backend on a local Ray runtime bound to 127.0.0.1: the same vectors and neighbours as one process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.embedding import text_hash
from embedscope.neighbors import knn_graph

from .conftest import run

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

N = 300


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """One local Ray runtime (2 CPUs, 127.0.0.1) for the module; every step reuses it."""
    from embedscope.ray_engine import ray_runtime

    with ray_runtime(None) as r:
        assert r.is_initialized()
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        yield


@pytest.fixture(scope="module")
def bible_df():
    from embedscope.samples import bible

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
    ia, xa, _ = a._space_arrays("minilm")
    ib, xb, _ = b._space_arrays("minilm")
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
    np.testing.assert_array_equal(b._space_arrays("minilm")[1], xb)


def test_ray_resumes_from_staged_batches(ray_local: None, local_ws: Path, bible_df, tmp_path: Path) -> None:
    """A job killed after some batches left them in the staging dataset; the rerun embeds only the rest."""
    from embedscope._cache import LanceCache
    from embedscope.ray_engine import _append

    ws = tmp_path / "resume.scope"
    scope = embedscope.create(ws)
    scope.ingest(bible_df)
    a = embedscope.open(local_ws)
    _, xa, _ = a._space_arrays("minilm")
    texts = list(bible_df["text"])
    done = 100  # what the killed job had committed, as the actors commit it: one Lance append per batch
    staging = ws / "staging" / f"ray-{LanceCache(scope, a.embedder('minilm').key).name}.lance"
    import pyarrow as pa

    for s in range(0, done, 50):
        x = xa[s:s + 50]
        _append(str(staging), pa.table({
            "hash": pa.array([text_hash(t) for t in texts[s:s + 50]], pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 384)}))
    assert "vectors__minilm" not in scope.manifest.records  # the workspace did not change
    rep = scope.embed("minilm", "local", engine="ray", batch_size=64, concurrency=1)
    assert rep.stats.cached == done and rep.stats.computed == N - done
    np.testing.assert_allclose(scope._space_arrays("minilm")[1], xa, rtol=1e-5, atol=1e-5)
    assert not staging.exists()


def test_knn_graph_with_ray_equals_single_process(ray_local: None, local_ws: Path, tmp_path: Path) -> None:
    import shutil

    from embedscope.ray_engine import knn_graph_ray

    _, x, _ = embedscope.open(local_ws)._space_arrays("minilm")
    ref = knn_graph(x, 20)
    got = knn_graph_ray(x, 20, shards=7)  # uneven shards
    np.testing.assert_array_equal(got.indices, ref.indices)
    np.testing.assert_allclose(got.scores, ref.scores, rtol=1e-6, atol=1e-6)
    # through the workspace: the stored graph is the exact one
    ws = tmp_path / "knn.scope"
    shutil.copytree(local_ws, ws)
    scope = embedscope.open(ws)
    with scope._writing():
        scope._drop("neighbors__minilm")  # built by the neighbours queries of another test, if it ran
    g = scope.knn("minilm", 10, engine="ray")
    np.testing.assert_array_equal(g.indices, ref.indices[:, :10])
    assert scope.graph_info("minilm") == {"exact": True, "k": 50, "method": "exact"}
