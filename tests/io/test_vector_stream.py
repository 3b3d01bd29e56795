"""Bring-your-own vectors streamed from a file in batches (issue 9): the same stored result as a one-shot ingest,
and the memory-saving paths (blocked cosine scaling, blocked PCA) give the results of the copying ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import embedscope
from embedscope.io import vectors as ing
from embedscope.io.streams import StreamFingerprint, open_vectors
from embedscope.projection import pca as pca_mod
from embedscope.projection.quality import layout_quality
from embedscope.search.exact import knn_graph, normalize, search
from embedscope.store.manifest import fingerprint_arrays
from tests.helpers import run_cli as run

ODD = ["007", " 7", "7 ", "ünïcode/路径", "a,b;c", "x\ty", "0x1F", "1e3", "-0", "NaN", "null", "None", "true",
       "[1, 2]", "{}", "#hash", "slash/back\\", "quote\"d", "'single'", "émoji 🙂", "tab\tend", "00000",
       "dup-like-1", "dup-like-01", "CAPS", "caps", "space in id", "~", "_", "."]


def _clusters(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Three well-separated directions, rows scaled by lengths from 0.01 to 100 (not normalised)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, d)) * 3
    x = centres[np.arange(n) % 3] + 0.3 * rng.standard_normal((n, d))
    scale = 10.0 ** rng.uniform(-2, 2, size=(n, 1))
    return (x * scale).astype(np.float32)


def _parquet(path: Path, ids: list[str], x: np.ndarray, row_group: int) -> Path:
    t = pa.table({"id": pa.array(ids, pa.string()),
                  "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1]),
                  "group": pa.array(np.arange(len(ids)) % 3, pa.int32())})
    pq.write_table(t, path, row_group_size=row_group)
    return path


@pytest.mark.parametrize("fmt", ["parquet", "npy", "parquet-lists"])
def test_batched_ingest_stores_what_a_one_shot_ingest_stores(tmp_path: Path, fmt: str) -> None:
    n, d = 1000, 24
    x = _clusters(n, d)
    ids = [f"doc/{i:05d} é" for i in range(n)]
    if fmt == "npy":
        f = tmp_path / "v.npy"
        np.save(f, x)
        (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
        kw: dict[str, object] = {"ids": tmp_path / "ids.txt"}
    elif fmt == "parquet":
        f = _parquet(tmp_path / "v.parquet", ids, x, row_group=333)
        kw = {}
    else:  # variable-length lists of float64
        f = tmp_path / "v.parquet"
        pq.write_table(pa.table({"id": ids, "embedding": pa.array(x.astype(np.float64).tolist())}), f,
                       row_group_size=250)
        kw = {}
    one = embedscope.create(tmp_path / "one.scope")
    inp = ing.read_vectors(f, **kw)  # type: ignore[arg-type]
    one.add_vectors("s", inp.ids, inp.vectors, source=str(f))
    many = embedscope.create(tmp_path / "many.scope")
    stream = open_vectors(f, batch_rows=37, **kw)  # type: ignore[arg-type]
    assert stream.ids == ids
    rep = many.add_vector_stream("s", stream)
    assert (rep.added, rep.total, rep.space) == (n, n, "s")
    a, b = embedscope.open(tmp_path / "one.scope"), embedscope.open(tmp_path / "many.scope")
    ids_a, xa = a.vectors("s")
    ids_b, xb = b.vectors("s")
    assert ids_a == ids_b == ids
    assert xa.dtype == xb.dtype == np.float32 and xa.shape == xb.shape == (n, d)
    assert np.array_equal(xa, xb) and np.array_equal(xb, x)
    # the same content fingerprint, so results computed on one workspace are valid for the other
    ra, rb = a.manifest.records["vectors__s"], b.manifest.records["vectors__s"]
    assert ra.fingerprint == rb.fingerprint and ra.params["dim"] == rb.params["dim"] == d
    assert a.point_ids("s") == b.point_ids("s") == a.items().column("id").to_pylist()


def test_stream_fingerprint_equals_the_whole_array_fingerprint() -> None:
    x = _clusters(101, 5)
    ids = pa.array([str(i) for i in range(101)], pa.string())
    fp = StreamFingerprint(ids, x.shape)
    for lo in range(0, 101, 10):
        fp.update(x[lo:lo + 10])
    assert fp.hexdigest() == fingerprint_arrays(pa.table({"id": ids}).column("id"), x)


def test_cli_odd_ids_unnormalised_vectors_30_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n, d = 30, 16
    x = _clusters(n, d, seed=3)
    assert len(set(ODD)) == n
    f = _parquet(tmp_path / "odd.parquet", ODD, x, row_group=7)
    ws = tmp_path / "odd.scope"
    code, out, err = run(capsys, "ingest", str(ws), str(f), "--space", "byo", "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == n
    scope = embedscope.open(ws)
    ids, stored = scope.vectors("byo")
    assert ids == ODD  # kept exactly: leading/trailing spaces, "007", "NaN", "null"
    assert np.array_equal(stored, x)  # stored as given, not normalised
    # cosine neighbours of unnormalised vectors: the same as those of their unit vectors, in the same order
    g = scope.knn("byo", 10)
    xn = normalize(x)
    sims = xn @ xn.T
    np.fill_diagonal(sims, -np.inf)
    best = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    assert np.array_equal(np.sort(g.indices, axis=1), np.sort(best, axis=1))
    assert np.allclose(g.scores, np.take_along_axis(sims, best, axis=1), atol=1e-5)
    # a neighbour query by an odd id answers with odd ids
    code, out, err = run(capsys, "neighbors", str(ws), "007", "-k", "3", "--json")
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)] == [ODD[i] for i in best[ODD.index("007"), :3]]
    # and the (cosine) UMAP map of three separated clusters of unnormalised vectors is honest
    code, out, err = run(capsys, "project", str(ws), "--method", "umap", "-k", "5", "--json")
    assert code == 0, err
    assert embedscope.open(ws).layout("byo", "umap").quality["trustworthiness"] > 0.9


def test_bad_vector_deep_in_the_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = _clusters(500, 8)
    x[433, 5] = np.inf
    f = tmp_path / "bad.npy"
    np.save(f, x)
    ws = tmp_path / "new.scope"
    code, _, err = run(capsys, "ingest", str(ws), str(f), "--space", "v")
    assert code == 2 and "row 434" in err and "not a finite number" in err
    assert not ws.exists()  # the workspace this command made is removed
    good = tmp_path / "good.npy"
    np.save(good, _clusters(20, 8))
    ws2 = tmp_path / "old.scope"
    assert run(capsys, "ingest", str(ws2), str(good), "--space", "a")[0] == 0
    code, _, err = run(capsys, "ingest", str(ws2), str(f), "--space", "b")
    assert code == 2 and "row 434" in err
    scope = embedscope.open(ws2)
    assert scope.spaces() == ["a"] and scope.items().num_rows == 20  # nothing of the bad file is recorded
    assert run(capsys, "ingest", str(ws2), str(good), "--space", "b")[0] == 0  # the space can still be made
    assert embedscope.open(ws2).spaces() == ["a", "b"]


def test_upsert_into_an_existing_space_still_merges(tmp_path: Path) -> None:
    x = _clusters(40, 6)
    ids = [f"i{i}" for i in range(40)]
    f1 = _parquet(tmp_path / "a.parquet", ids[:30], x[:30], row_group=8)
    y = x.copy()
    y[5] *= -1
    f2 = _parquet(tmp_path / "b.parquet", ids[5:], y[5:], row_group=8)
    scope = embedscope.create(tmp_path / "w.scope")
    scope.ingest_vectors(f1, "s")
    rep = scope.ingest_vectors(f2, "s")
    assert (rep.added, rep.updated, rep.unchanged, rep.total) == (10, 1, 24, 40)
    got_ids, got = embedscope.open(tmp_path / "w.scope").vectors("s")
    assert got_ids == ids and np.array_equal(got, y)


def _same_up_to_ties(a: object, b: object, xq: np.ndarray, xd: np.ndarray) -> None:
    """Two top-k answers agree: the same scores (float32 rounding), and where the order differs the two items
    are equally similar to the query (a near-tie broken by a last-bit difference)."""
    ai, bi = a.indices, b.indices  # type: ignore[attr-defined]
    assert np.allclose(a.scores, b.scores, atol=1e-6)  # type: ignore[attr-defined]
    sims = normalize(xq).astype(np.float64) @ normalize(xd).astype(np.float64).T
    rows, cols = np.nonzero(ai != bi)
    assert np.all(np.abs(sims[rows, ai[rows, cols]] - sims[rows, bi[rows, cols]]) < 1e-6)
    assert len(rows) < 0.05 * ai.size


def test_cosine_search_without_a_normalised_copy_matches_unit_vectors() -> None:
    x = _clusters(700, 20, seed=5)
    a = knn_graph(x, 12, block_bytes=4 * 700 * 50)  # several query blocks
    b = knn_graph(normalize(x), 12)
    _same_up_to_ties(a, b, x, x)
    q = _clusters(300, 20, seed=6)  # more than 256 queries
    _same_up_to_ties(search(x, q, 7, "cosine"), search(normalize(x), normalize(q), 7, "cosine"), q, x)


def test_honesty_is_scale_invariant() -> None:
    x = _clusters(600, 12, seed=7)
    coords = normalize(x)[:, :2] * 3
    qa = layout_quality(x, coords, k=10, seed=1)
    qb = layout_quality(normalize(x), coords, k=10, seed=1)
    assert abs(qa.trustworthiness - qb.trustworthiness) < 1e-6
    assert abs(qa.continuity - qb.continuity) < 1e-6
    assert abs(qa.knn_recall - qb.knn_recall) < 1e-6
    assert abs(qa.rank_correlation - qb.rank_correlation) < 1e-6


def test_blocked_pca_matches_full_svd(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5000, 30)) * np.linspace(5, 0.1, 30) + 2).astype(np.float32)
    monkeypatch.setattr(pca_mod, "BLOCK_ROWS", 777)
    monkeypatch.setattr(pca_mod, "BLOCKED_ABOVE", 0)
    res = pca_mod.pca_layout(x)
    ref = PCA(3, svd_solver="full").fit(x)
    y = ref.transform(x)
    got = np.column_stack([res.coords, res.extra["z"]])
    assert np.allclose(got, y, atol=1e-3 * np.abs(y).max())
    assert np.allclose(res.metrics["explained_variance_ratio"], ref.explained_variance_ratio_, rtol=1e-4)


def test_parquet_metadata_columns_become_item_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = _clusters(12, 4)
    ids = [f"m{i}" for i in range(12)]
    t = pa.table({"id": ids, "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 4),
                  "group": pa.array([f"g{i % 3}" for i in range(12)]), "score": pa.array(np.arange(12) / 2),
                  "text": pa.array([f"t{i}" for i in range(12)]), "tags": pa.array([[1, 2]] * 12)})
    f = tmp_path / "m.parquet"
    pq.write_table(t, f, row_group_size=5)
    ws = tmp_path / "m.scope"
    assert run(capsys, "ingest", str(ws), str(f), "--space", "v")[0] == 0
    items = embedscope.open(ws).items_for("v")
    # the text column is the items' text, a list column is metadata (issue 24: before, text_ and no list)
    assert items.column_names == ["id", "text", "group", "score", "tags"]
    assert items.column("text").to_pylist()[:2] == ["t0", "t1"] and items.column("tags").to_pylist()[0] == [1, 2]
    assert items.column("group").to_pylist() == [f"g{i % 3}" for i in range(12)]
    assert items.column("score").to_pylist() == list(np.arange(12) / 2)
    # re-ingesting the same file changes nothing
    code, out, _ = run(capsys, "ingest", str(ws), str(f), "--space", "v", "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 12


def test_pca_of_a_big_space_builds_no_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import embedscope.projection.base as projection_base

    monkeypatch.setattr(projection_base, "SAMPLE_FIT_MIN", 100)  # "big" above 100 items, for the test
    x = _clusters(300, 10, seed=2)
    scope = embedscope.create(tmp_path / "b.scope")
    scope.add_vectors("s", [f"p{i}" for i in range(300)], normalize(x))
    lay = scope.project("s", "pca", k=10)
    assert scope.graph_info("s") is None  # honesty measured without storing a graph
    assert lay.quality["trustworthiness"] > 0.9 and np.isfinite(lay.per_item["knn_recall"]).all()
    scope.knn("s")  # a graph built later leaves the stored layout valid (its input is the vectors)
    again = scope.project("s", "pca", k=10)
    assert abs(again.quality["trustworthiness"] - lay.quality["trustworthiness"]) < 1e-6
