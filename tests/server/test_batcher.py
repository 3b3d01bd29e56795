"""Concurrent semantic queries are embedded and scored together, with the same answers as one at a time."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import embedscope
from embedscope.errors import InputError
from embedscope.search.scan import QueryScan
from embedscope.server.batcher import QueryBatcher
from embedscope.server.routes import search as search_route
from tests.helpers import client_for


def _together(calls: list) -> list:
    """Run the calls in threads released at the same moment; their results in order."""
    out: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def test_concurrent_queries_share_batches_and_get_their_own_scores(small_scope: embedscope.Scope) -> None:
    _, x = small_scope.vectors("minilm")
    embedder = small_scope.embedder("minilm")
    calls: list[list[str]] = []
    gate = threading.Event()

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.asarray(embedder.embed_queries(texts), dtype=np.float32)

    batcher = QueryBatcher(embed, QueryScan(x))
    scan_spans = batcher.scan.scores_spans

    def held(queries, **kw):  # type: ignore[no-untyped-def]
        gate.wait(timeout=30)  # hold the first scan so the other queries queue up behind it
        return scan_spans(queries, **kw)

    batcher.scan.scores_spans = held  # type: ignore[method-assign]
    texts = ["planets and stars", "a football match", "cooking pasta with sauce", "a football match",
             "the stock market fell", "rain and wind tonight", "an old castle", "planets and stars"]
    threading.Timer(1.0, gate.set).start()
    results = _together([lambda t=t: batcher.scores(t) for t in texts])
    assert batcher.queries == len(texts) and batcher.batches < len(texts)  # some were answered together
    assert all(len(c) == 1 for c in calls)  # one text a model call
    assert sorted(t for c in calls for t in c) == sorted(set(texts))  # every distinct text embedded once
    scan = QueryScan(x)
    for t, (vec, scores) in zip(texts, results, strict=True):  # each request: its own query, as if alone
        np.testing.assert_array_equal(vec, small_scope.embed_query(t, "minilm"))
        np.testing.assert_allclose(scores, scan.scores(vec), atol=1e-6)
    # a cached text answers its vector without a batch or a model call
    before, made = batcher.batches, len(calls)
    np.testing.assert_allclose(batcher.vector("an old castle"), results[6][0])
    assert batcher.batches == before and len(calls) == made


def test_an_embedding_error_reaches_every_waiting_request() -> None:
    x = np.eye(4, dtype=np.float32)

    def embed(texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 3), np.float32)  # the wrong dimension for this space

    batcher = QueryBatcher(embed, QueryScan(x))
    out = _together([lambda: _error(lambda: batcher.scores("a")), lambda: _error(lambda: batcher.scores("b"))])
    assert all(isinstance(e, InputError) and "3 dimensions" in str(e) for e in out)


def _error(call):  # type: ignore[no-untyped-def]
    try:
        call()
    except Exception as exc:
        return exc
    return None


def test_concurrent_search_requests_equal_sequential_ones(small_scope: embedscope.Scope) -> None:
    client = client_for(small_scope, raise_server_exceptions=False)
    queries = ["a football game and its goals", "planets and stars", "cooking", "the weather", "a castle",
               "money and banks"]
    alone = [client.get("/api/spaces/minilm/search", params={"q": q, "k": 5}).json() for q in queries]
    fresh = client_for(small_scope, raise_server_exceptions=False)
    together = _together([lambda q=q: fresh.get("/api/spaces/minilm/search", params={"q": q, "k": 5}).json()
                          for q in queries])
    for a, b in zip(alone, together, strict=True):
        assert [h["row"] for h in a["hits"]] == [h["row"] for h in b["hits"]]
        np.testing.assert_allclose([h["score"] for h in a["hits"]], [h["score"] for h in b["hits"]], atol=1e-6)
        # the scan of several queries is one matrix product: the same scores up to float32 rounding
        assert a["histogram"]["counts"] == b["histogram"]["counts"]
        np.testing.assert_allclose(a["histogram"]["edges"], b["histogram"]["edges"], atol=1e-6)
        assert a["cut"] == pytest.approx(b["cut"], abs=1e-6)
    state = fresh.app.state.explorer  # type: ignore[attr-defined]
    batcher = search_route._batcher(state, "minilm")
    assert batcher.queries == len(queries)
