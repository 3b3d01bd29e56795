"""The reduced-precision query scan (int8 codes, exact rescoring of the hits) against exact float32 search."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

import embedscope
from embedscope.search import scan as scan_mod
from embedscope.search.exact import search
from embedscope.search.scan import QueryScan, int8_codes
from embedscope.server import create_app


def clustered(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, d))
    x = centres[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, d))
    return (x * rng.uniform(0.5, 2.0, (n, 1))).astype(np.float32)  # not unit: the scan normalises


def test_int8_codes_reconstruct_unit_rows() -> None:
    x = clustered(500)
    codes, scale = int8_codes(x, block=128)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert codes.dtype == np.int8 and np.abs(codes).max() == 127
    assert np.abs(codes * scale[:, None] - unit).max() < 0.5 * scale.max() + 1e-6


def test_int8_scan_scores_and_exact_hits() -> None:
    x = clustered(20_000)
    fast, exact = QueryScan(x, int8=True), QueryScan(x, int8=False)
    assert fast.precision == "int8" and exact.precision == "float32"
    rng = np.random.default_rng(1)
    for q in x[rng.choice(len(x), 20, replace=False)] + 0.3 * rng.standard_normal((20, x.shape[1])).astype(np.float32):
        s8, s32 = fast.scores(q), exact.scores(q)
        assert s8.dtype == np.float32 and s8.shape == (len(x),)
        assert np.abs(s8 - s32).max() < 0.01
        ref = search(x, q[None, :], 25, "cosine")
        rows, sims = fast.top(q, 25, s8)
        # the ranked hits are rescored exactly: the same similarities as exact search, best first
        np.testing.assert_allclose(sims, ref.scores[0], atol=1e-5)
        assert set(rows.tolist()) == set(ref.indices[0].tolist()) or np.allclose(sims, ref.scores[0], atol=1e-6)
        _, sims32 = exact.top(q, 25)
        np.testing.assert_allclose(sims32, ref.scores[0], atol=1e-5)
    assert fast.top(x[0], 0)[0].shape == (0,)
    assert len(fast.top(x[0], 10**9)[0]) == len(x)


def test_candidate_selection_by_sampled_threshold_matches_argpartition() -> None:
    rng = np.random.default_rng(2)
    s = rng.standard_normal(400_000).astype(np.float32)
    s[123] = s[456] = s.max() + 1  # a tie at the top
    got = scan_mod._top_candidates(s, 300)
    want = np.argsort(-s, kind="stable")[:300]
    assert set(got.tolist()) == set(want.tolist())


def test_search_route_with_int8_scan_gives_exact_hits(small_scope: embedscope.Scope,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_mod, "INT8_ABOVE", 0)  # the 60-item space scans like a big one
    client = TestClient(create_app(small_scope))
    q = "a football game and its goals"
    doc = client.get("/api/spaces/minilm/search", params={"q": q, "k": 10}).json()
    api = small_scope.neighbors(query=q, k=10, space="minilm")
    assert [h["id"] for h in doc["hits"]] == list(api.ids)
    np.testing.assert_allclose([h["score"] for h in doc["hits"]], api.scores, atol=1e-6)
    assert doc["cut"] == pytest.approx(float(api.scores[-1]), abs=1e-6)
    table = pa.ipc.open_stream(client.get("/api/spaces/minilm/search/scores", params={"q": q}).content).read_all()
    _, x = small_scope.vectors("minilm")
    full = small_scope.neighbors(query=q, k=len(x), space="minilm")
    want = np.empty(len(x), np.float32)
    want[full.rows] = full.scores
    assert np.abs(table.column("score").to_numpy() - want).max() < 0.01


@pytest.mark.parametrize("int8", [True, False])
def test_scores_many_equals_one_query_at_a_time(int8: bool) -> None:
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(3_001, 48)) * rng.uniform(0.1, 5.0, size=(3_001, 1))).astype(np.float32)  # unnormalised
    scan = QueryScan(x, int8=int8)
    queries = rng.normal(size=(7, 48)).astype(np.float32)
    many = scan.scores_many(queries)
    assert many.shape == (7, 3_001) and many.dtype == np.float32
    for q, row in zip(queries, many, strict=True):
        np.testing.assert_allclose(row, scan.scores(q), atol=1e-5)
    exact = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (queries / np.linalg.norm(queries, axis=1, keepdims=True)).T
    assert np.abs(many - exact.T).max() < (0.01 if int8 else 1e-5)


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 250_000])
def test_score_histogram_equals_numpys(n: int) -> None:
    from embedscope.search.scan import score_histogram

    rng = np.random.default_rng(n)
    s = (rng.standard_normal(n) * 0.2).astype(np.float32)
    s[::5] = s[0]  # ties, and values on the edges
    for keep in (None, rng.random(n) < 0.3, np.zeros(n, bool), np.ones(n, bool)):
        counts, edges, total = score_histogram(s, 40, keep)
        shown = s if keep is None else s[keep]
        lo, hi = (float(shown.min()), float(shown.max())) if len(shown) else (0.0, 1.0)
        want, want_edges = np.histogram(shown, bins=40, range=(lo, hi if hi > lo else lo + 1e-6))
        np.testing.assert_array_equal(counts, want)
        np.testing.assert_array_equal(edges, want_edges)
        assert total == len(shown) == counts.sum()


@pytest.mark.parametrize("d", [384, 48, 7])
def test_avx2_and_portable_kernels_give_the_exact_integer_dot_products(d: int) -> None:
    from embedscope.search.kernels import int8 as _int8scan

    if not _int8scan.has_avx2():
        pytest.skip("this CPU (or numba's target) has no AVX2: only the portable kernel runs")
    rng = np.random.default_rng(d)
    codes = rng.integers(-127, 128, (1_003, d)).astype(np.int8)
    codes[0], codes[1] = 127, -127  # the extremes: |code| x |query| pairs must not saturate int16
    scale = rng.uniform(0.5, 2.0, 1_003).astype(np.float32)
    qcodes = rng.integers(-127, 128, (7, d)).astype(np.int8)  # one group of four queries and three alone
    qcodes[0], qcodes[1] = 127, -127
    qscale = rng.uniform(0.5, 2.0, 7).astype(np.float32)
    exact = (codes.astype(np.int64) @ qcodes.T.astype(np.int64)).T
    want = exact.astype(np.float32) * (qscale[:, None] * scale[None, :])
    for kernel in (_int8scan.scan_avx2, _int8scan.scan_portable):
        for n in (1_003, 5):  # more rows than chunks, and fewer
            out, span = np.empty((7, n), np.float32), np.empty((7, 2), np.float32)
            kernel(codes[:n], scale[:n], qcodes, qscale, out, span)
            np.testing.assert_array_equal(out, want[:, :n])
            np.testing.assert_array_equal(span, np.stack([want[:, :n].min(axis=1), want[:, :n].max(axis=1)], axis=1))


@pytest.mark.parametrize("int8", [True, False])
def test_spans_are_the_scores_min_and_max_and_give_the_same_histogram(int8: bool) -> None:
    from embedscope.search.scan import score_histogram

    x = clustered(3_000)
    scan = QueryScan(x, int8=int8)
    scores, spans = scan.scores_spans(x[:5] + 0.1)
    np.testing.assert_array_equal(spans[:, 0], scores.min(axis=1))
    np.testing.assert_array_equal(spans[:, 1], scores.max(axis=1))
    for s, (lo, hi) in zip(scores, spans, strict=True):
        got = score_histogram(s, 40, span=(float(lo), float(hi)))
        want = score_histogram(s, 40)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_scan_threads_change_nothing_but_the_threads() -> None:
    import numba

    x = clustered(5_000)
    scan = QueryScan(x, int8=True)
    before = numba.get_num_threads()
    one, spans_one = scan.scores_spans(x[:6], threads=1)
    assert numba.get_num_threads() == before  # restored
    many, spans_many = scan.scores_spans(x[:6], threads=64)  # capped at numba's threads
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(spans_one, spans_many)
