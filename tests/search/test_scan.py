"""The reduced-precision query scan (int8 codes, exact rescoring of the hits) against exact float32 search."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import embedscope
from embedscope.search import scan as scan_mod
from embedscope.search.exact import search
from embedscope.search.scan import QueryScan, int8_codes
from tests.helpers import client_for


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
    client = client_for(small_scope)
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


# ------------------------------------------------- the one query-vs-all path: every metric, as exact search
METRICS = ("cosine", "dot", "euclidean", "manhattan")


def _same(got: tuple[np.ndarray, np.ndarray], rows: np.ndarray, scores: np.ndarray, what: str) -> None:
    assert got[0].dtype == np.int64 and got[1].dtype == np.float32, what
    assert got[0].tolist() == rows.tolist(), what
    np.testing.assert_allclose(got[1], scores, rtol=1e-5, atol=1e-5, err_msg=what)


@pytest.mark.parametrize("int8", [False, True])
@pytest.mark.parametrize("metric", METRICS)
def test_top_equals_exact_search_with_exclude_keep_and_least(metric: str, int8: bool) -> None:
    x = clustered(3_000, d=48, seed=5)
    scan = QueryScan(x, int8=int8)
    rng = np.random.default_rng(6)
    for q in [*x[:3], *(rng.standard_normal((2, 48)).astype(np.float32) * 3)]:
        ref = search(x, q[None, :], 25, metric)
        _same(scan.top(q, 25, metric=metric), ref.indices[0], ref.scores[0], f"{metric} plain")
        # the queried item left out
        row = int(np.argmin(np.abs(x - q).sum(1)))
        ref = search(x, q[None, :], 26, metric)
        inside = ref.indices[0] != row
        _same(scan.top(q, 25, metric=metric, exclude=[row]), ref.indices[0][inside][:25],
              ref.scores[0][inside][:25], f"{metric} exclude")
        # only the kept rows (a filter), fewer than k of them in one case
        for keep in (rng.random(len(x)) < 0.3, np.isin(np.arange(len(x)), [7, 70, 700])):
            kept = np.flatnonzero(keep)
            ref = search(x[kept], q[None, :], 25, metric)
            _same(scan.top(q, 25, metric=metric, keep=keep), kept[ref.indices[0]], ref.scores[0], f"{metric} keep")
        # the least similar end, farthest first
        full = search(x, q[None, :], len(x), metric)
        _same(scan.top(q, 10, metric=metric, least=True), full.indices[0][::-1][:10], full.scores[0][::-1][:10],
              f"{metric} least")
    assert scan.top(x[0], 5, metric=metric, keep=np.zeros(len(x), bool))[0].shape == (0,)


def test_scores_of_every_metric_are_the_exact_float32_scores() -> None:
    x = clustered(2_000, d=24, seed=8)
    q = x[3] * 0.7 + 0.1
    scan = QueryScan(x, int8=False)
    want = {"cosine": (x @ q) / (np.linalg.norm(x, axis=1) * np.linalg.norm(q)), "dot": x @ q,
            "euclidean": np.linalg.norm(x - q, axis=1), "manhattan": np.abs(x - q).sum(1)}
    for metric, w in want.items():
        got = scan.scores(q, metric)
        assert got.dtype == np.float32 and got.shape == (len(x),)
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="unknown metric"):
        scan.scores(q, "hamming")
    with pytest.raises(ValueError, match="dimensions"):
        scan.scores(q[:5])


@pytest.mark.parametrize("metric", METRICS)
def test_rescore_keeps_the_exact_best_of_the_candidates(metric: str) -> None:
    from embedscope.search.scan import rescore

    x = clustered(1_000, d=32, seed=9)
    rng = np.random.default_rng(10)
    qs = rng.standard_normal((4, 32)).astype(np.float32)
    cands = np.stack([rng.choice(len(x), 60, replace=False) for _ in qs])
    rows, scores = rescore(x, qs, cands, 8, metric)  # several queries at once
    assert rows.shape == scores.shape == (4, 8)
    for q, cand, r, s in zip(qs, cands, rows, scores, strict=True):
        ref = search(x[cand], q[None, :], 8, metric)
        _same((r, s), cand[ref.indices[0]], ref.scores[0], metric)
        _same(rescore(x, q, cand, 8, metric), cand[ref.indices[0]], ref.scores[0], f"{metric} one query")


def test_a_scope_scans_float32_first_and_builds_int8_codes_from_the_second_cosine_query(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.search.scan import scan_for_scope

    monkeypatch.setattr(scan_mod, "INT8_ABOVE", 100)
    x = clustered(500, d=32)
    first = scan_for_scope(None, x)
    assert first.precision == "float32"  # a one-off query builds no codes
    assert scan_for_scope(first, x, "dot") is first  # other metrics never use them
    second = scan_for_scope(first, x)
    assert second.precision == "int8" and scan_for_scope(second, x) is second
    assert scan_for_scope(second, x.copy()).precision == "float32"  # other vectors: start again
    small = clustered(50, d=32)
    kept = scan_for_scope(scan_for_scope(None, small), small)
    assert kept.precision == "float32" and scan_for_scope(kept, small) is kept


def test_scope_queries_and_items_go_through_the_query_scan(small_scope: embedscope.Scope,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = QueryScan.top

    def spy(self: QueryScan, *args, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw.get("metric", "cosine"))
        return real(self, *args, **kw)

    monkeypatch.setattr(QueryScan, "top", spy)
    _, x = small_scope.vectors("minilm")
    ids = small_scope.point_ids("minilm")
    for metric in METRICS:
        got = small_scope.neighbors(ids[4], k=7, metric=metric, space="minilm", exact=True)
        ref = search(x, x[4:5], 8, metric)
        inside = ref.indices[0] != 4
        assert got.rows.tolist() == ref.indices[0][inside][:7].tolist(), metric
        np.testing.assert_allclose(got.scores, ref.scores[0][inside][:7], rtol=1e-5, atol=1e-5)
    by_vector = small_scope.neighbors(vector=x[9] * 2, k=5, metric="euclidean", space="minilm")
    ref = search(x, x[9:10] * 2, 5, "euclidean")
    assert by_vector.rows.tolist() == ref.indices[0].tolist()
    analogy = small_scope.arithmetic([ids[1], ids[2]], [ids[3]], k=4, space="minilm")
    assert not {ids[1], ids[2], ids[3]} & set(analogy.ids) and len(analogy.ids) == 4
    assert seen == ["dot", "euclidean", "manhattan", "euclidean", "cosine"]  # cosine items: the stored graph
