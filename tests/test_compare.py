"""Comparing spaces: a space agrees with itself and with its rotations, not with noise; any dimensions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.compare import compare, linear_cka
from embedscope.neighbors import knn_graph


def test_self_rotation_and_noise() -> None:
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(400, 24)) + rng.normal(size=(8, 24))[rng.integers(0, 8, 400)] * 3).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(24, 24)))
    rot = (x @ q).astype(np.float32)
    gx = knn_graph(x, 10)
    same = compare(x, x, gx, gx, k=10)
    assert same.jaccard.min() == 1.0 and same.cka == pytest.approx(1.0) and same.spearman == pytest.approx(1.0)
    # cosine neighbours are not rotation invariant when the data is not centred, so rotate centred data
    xc = (x - x.mean(0)).astype(np.float32)
    rc = (xc @ q).astype(np.float32)
    r = compare(xc, rc, knn_graph(xc, 10), knn_graph(rc, 10), k=10)
    assert r.jaccard.mean() > 0.99 and r.cka == pytest.approx(1.0, abs=1e-6)
    noise = rng.normal(size=(400, 50)).astype(np.float32)
    n = compare(x, noise, gx, knn_graph(noise, 10), k=10)
    assert n.jaccard.mean() < 0.1 and n.cka < 0.3 and abs(n.spearman) < 0.1
    assert linear_cka(x, rot[:, :12]) < linear_cka(x, rot)


def test_workspace_compare_different_dimensions(small_scope: embedscope.Scope, tmp_path: Path) -> None:
    from .test_projection import _run_cli

    small_scope.embed("lsa", "tfidf:12")
    code, out, err = _run_cli(["compare", str(small_scope.path), "--spaces", "minilm,lsa", "--label", "topic",
                               "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["spaces"] == ["minilm", "lsa"] and doc["dims"] == [384, 12] and doc["k"] == 10
    assert 0 <= doc["jaccard_mean"] <= 1 and 0 <= doc["cka"] <= 1
    r = doc["retrieval"]
    assert r["a"] > 0.8, "MiniLM keeps topics together"
    assert r["ci95"][0] <= r["difference"] <= r["ci95"][1]
    assert len(doc["changed_most"]) == 10
    code, _, err = _run_cli(["compare", str(small_scope.path), "--spaces", "minilm"])
    assert code == 2 and "two names" in err
