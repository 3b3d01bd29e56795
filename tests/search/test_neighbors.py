"""Exact neighbours agree with a brute-force numpy reference, for every metric, in small blocks too."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from embedscope.search.exact import METRICS, knn_graph, search


def brute(data: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """Full score matrix, oriented so that smaller is closer."""
    d = data.astype(np.float64)
    q = queries.astype(np.float64)
    if metric == "cosine":
        dn = d / np.linalg.norm(d, axis=1, keepdims=True)
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        return -(qn @ dn.T)
    if metric == "dot":
        return -(q @ d.T)
    if metric == "euclidean":
        return np.sqrt(((q[:, None, :] - d[None, :, :]) ** 2).sum(-1))
    return np.abs(q[:, None, :] - d[None, :, :]).sum(-1)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("block_bytes", [10_000, 2**27])
def test_graph_matches_brute_force(metric: str, block_bytes: int, rng: np.random.Generator) -> None:
    x = (rng.normal(size=(300, 24)) * rng.uniform(0.2, 3.0, size=(300, 1))).astype(np.float32)
    k = 7
    res = knn_graph(x, k, metric, block_bytes=block_bytes)
    ref = brute(x, x, metric)
    np.fill_diagonal(ref, np.inf)
    ref_idx = np.argsort(ref, axis=1, kind="stable")[:, :k]
    ref_scores = np.take_along_axis(ref, ref_idx, axis=1)
    if metric in ("cosine", "dot"):
        ref_scores = -ref_scores
    assert res.indices.shape == (300, k)
    assert not (res.indices == np.arange(300)[:, None]).any(), "an item is never its own neighbour"
    np.testing.assert_allclose(res.scores, ref_scores, rtol=1e-4, atol=1e-4)
    agree = np.mean([len(set(a) & set(b)) / k for a, b in zip(res.indices, ref_idx, strict=True)])
    assert agree > 0.995


@pytest.mark.parametrize("metric", METRICS)
def test_search_queries_and_order(metric: str, rng: np.random.Generator) -> None:
    x = rng.normal(size=(200, 16)).astype(np.float32)
    q = rng.normal(size=(5, 16)).astype(np.float32)
    res = search(x, q, 10, metric)
    ref = brute(x, q, metric)
    ref_idx = np.argsort(ref, axis=1)[:, :10]
    for a, b in zip(res.indices, ref_idx, strict=True):
        assert len(set(a) & set(b)) >= 9
    s = res.scores
    if metric in ("cosine", "dot"):
        assert (np.diff(s, axis=1) <= 1e-6).all(), "best first: similarities fall"
    else:
        assert (np.diff(s, axis=1) >= -1e-6).all(), "best first: distances grow"


def test_k_is_capped_and_tiny_inputs(rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 3)).astype(np.float32)
    assert knn_graph(x, 50).k == 3
    assert knn_graph(x[:1], 5).k == 0
    assert search(x, x[:2], 10).k == 4


def test_blocked_memory_never_builds_full_matrix(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a small budget, no block of scores exceeds it (a spy on the matrix products)."""
    import embedscope.search.exact as nb

    x = rng.normal(size=(2000, 8)).astype(np.float32)
    seen: list[int] = []
    real = nb.topk_smallest

    def spy(key: np.ndarray, k: int) -> np.ndarray:
        seen.append(key.nbytes)
        return real(key, k)

    monkeypatch.setattr(nb, "topk_smallest", spy)
    knn_graph(x, 5, block_bytes=200_000)
    assert max(seen) <= 200_000
    assert len(seen) > 1


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(2, 30), st.integers(1, 6)),
              elements=st.floats(-1e3, 1e3, width=32)), st.sampled_from(METRICS), st.integers(1, 40))
def test_property_no_nan_from_finite_input(x: np.ndarray, metric: str, k: int) -> None:
    x = x.copy()
    x[~x.any(axis=1), 0] = 1.0
    res = knn_graph(x, k, metric)
    assert np.isfinite(res.scores).all()
    assert res.k == min(k, len(x) - 1)
    assert ((res.indices >= 0) & (res.indices < len(x))).all()
