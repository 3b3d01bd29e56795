"""Approximate kNN graphs (HNSW via usearch): recall against exact search, stored and reported with every
neighbour list they answer (Scope, HTTP API, CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.search import KNN, knn_graph
from embedscope.search import ann as nb
from tests.helpers import client_for
from tests.helpers import run_cli as run

pytest.importorskip("usearch")


def clustered(n: int, d: int = 48, clusters: int = 30, seed: int = 0) -> np.ndarray:
    """Unit vectors around ``clusters`` centres: neighbourhoods with structure, like an embedding space."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_recall(graph: KNN, exact: KNN, k: int = 10) -> float:
    return float(np.mean([len(set(a[:k]) & set(b[:k])) / k
                          for a, b in zip(graph.indices.tolist(), exact.indices.tolist(), strict=True)]))


def test_ann_graph_recall_against_exact_and_exact_scores() -> None:
    x = clustered(4000)
    g = nb.ann_graph(x, 20, chunk=1500)
    ex = knn_graph(x, 20)
    assert g.indices.shape == (4000, 20) and g.scores.dtype == np.float32
    assert not (g.indices == np.arange(4000)[:, None]).any(), "an item is its own neighbour"
    assert exact_recall(g, ex) >= 0.95
    # stored scores are exact float32 cosines of the candidates, best first
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    want = np.einsum("nd,nkd->nk", xn, xn[g.indices])
    np.testing.assert_allclose(g.scores, want, atol=1e-5)
    assert (np.diff(g.scores, axis=1) <= 1e-7).all()
    # graph_recall on sampled items agrees with the full comparison
    sampled, scan_s = nb.graph_recall(x, g, 10, sample=500)
    assert abs(sampled - exact_recall(g, ex)) < 0.03 and scan_s >= 0
    # the exact graph measures as perfect
    assert nb.graph_recall(x, ex, 10, sample=500)[0] == 1.0


def test_ann_graph_tiny_inputs() -> None:
    x = clustered(5, d=8)
    g = nb.ann_graph(x, 50)
    assert g.indices.shape == (5, 4)
    assert all(set(row) == set(range(5)) - {i} for i, row in enumerate(g.indices.tolist()))
    assert nb.ann_graph(x[:1], 10).indices.shape == (1, 0)


@pytest.fixture()
def ann_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> embedscope.Scope:
    """A 3,000-item space whose stored graph is approximate (threshold lowered from 200,000 to 1,000)."""
    monkeypatch.setattr(nb, "ANN_ABOVE", 1000)
    s = embedscope.create(tmp_path / "ann.scope")
    s.add_vectors("v", [f"p{i}" for i in range(3000)], clustered(3000, seed=1))
    return s


def test_scope_stores_approximate_graph_with_its_recall(ann_scope: embedscope.Scope) -> None:
    s = ann_scope
    g = s.knn("v", 10)
    info = s.graph_info("v")
    assert info is not None and info["exact"] is False and info["method"] == nb.ANN_METHOD
    assert info["recall_sample"] == 1000 and info["k"] == 50
    _, x = s.vectors("v")
    ex = knn_graph(x, 10)
    full = exact_recall(g, ex)
    assert full >= 0.95
    assert info["recall@10"] >= 0.95 and abs(info["recall@10"] - full) < 0.03
    rec = s.manifest.records["neighbors__v"]
    assert rec.params["recall@10"] == info["recall@10"] and rec.params["exact"] is False
    # an item's neighbours come from that graph and say so
    res = s.neighbors("p7", k=5, space="v")
    assert res.graph == info and res.ids == [f"p{i}" for i in g.indices[7, :5]]
    # --exact scans instead; the answer then carries no graph
    scan = s.neighbors("p7", k=5, space="v", exact=True)
    assert scan.graph is None and scan.rows.tolist() == ex.indices[7, :5].tolist()
    # asking for an exact graph rebuilds it exactly
    s.knn("v", 10, exact=True)
    exact_info = s.graph_info("v")
    assert exact_info is not None and exact_info["exact"] is True and "recall@10" not in exact_info
    assert s.neighbors("p7", k=5, space="v").graph == exact_info


def test_small_spaces_stay_exact(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "small.scope")
    s.add_vectors("v", [str(i) for i in range(300)], clustered(300))
    s.knn("v")
    assert s.graph_info("v") == {"exact": True, "k": 50, "method": "exact"}
    # approximate on request, whatever the size
    s.knn("v", exact=False)
    assert s.graph_info("v")["exact"] is True, "a stored exact graph is at least as good: it is reused"


def test_api_and_cli_report_the_graph_recall(ann_scope: embedscope.Scope, capsys: pytest.CaptureFixture[str]) -> None:
    ann_scope.knn("v")
    recall = ann_scope.graph_info("v")["recall@10"]  # type: ignore[index]
    body = client_for(ann_scope).get("/api/spaces/v/items/3/neighbors", params={"k": 5}).json()
    assert body["graph"]["exact"] is False and body["graph"]["recall@10"] == recall
    assert [n["id"] for n in body["neighbors"]] == ann_scope.neighbors("p3", k=5, space="v").ids
    scan = client_for(ann_scope).get("/api/spaces/v/items/3/neighbors",
                                                 params={"k": 5, "metric": "dot"}).json()
    assert scan["graph"] is None
    code, out, err = run(capsys, "neighbors", str(ann_scope.path), "p3", "-k", "5", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [d["id"] for d in doc] == [n["id"] for n in body["neighbors"]]
    assert f"recall@10 {recall:.3f}" in err and "approximate" in err
    code, out, err = run(capsys, "neighbors", str(ann_scope.path), "p3", "-k", "5", "--json", "--exact")
    assert code == 0 and "recall@10" not in err
