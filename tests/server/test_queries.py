"""One scan per space and query text: the browser's ``/search`` and ``/search/scores`` share it, and the CLI's
``neighbors --query`` and the server's search run the same kernel (:meth:`embedscope.search.scan.QueryScan.top`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

import embedscope
from embedscope.search.scan import QueryScan
from tests.helpers import client_for
from tests.helpers import run_cli as run

SPACE = "minilm"
SEARCH = f"/api/spaces/{SPACE}/search"


@pytest.fixture()
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every scan of every query scan (one entry per call, the number of queries it scanned)."""
    calls: list[int] = []
    real = QueryScan.scores_spans

    def counting(self: QueryScan, queries: np.ndarray, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(queries))
        return real(self, queries, **kw)

    monkeypatch.setattr(QueryScan, "scores_spans", counting)
    return calls


def _scores(client: TestClient, q: str) -> np.ndarray:
    body = client.get(f"{SEARCH}/scores", params={"q": q}).content
    return pa.ipc.open_stream(body).read_all().column("score").to_numpy()


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    out: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def go(i: int) -> None:
        start.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def test_search_then_its_scores_scan_the_space_once(small_scope: embedscope.Scope, scans: list[int]) -> None:
    client = client_for(small_scope)
    q = "planets and stars"
    doc = client.get(SEARCH, params={"q": q, "k": 5}).json()
    scores = _scores(client, q)
    assert len(scans) == 1  # the browser's two requests, one scan
    assert [h["row"] for h in doc["hits"]] == np.argsort(-scores, kind="stable")[:5].tolist()
    np.testing.assert_allclose([h["score"] for h in doc["hits"]], np.sort(scores)[::-1][:5], atol=1e-6)
    # another k or a filter over the same text: no new scan either
    client.get(SEARCH, params={"q": q, "k": 10, "filter": json.dumps({"topic": ["space"]})})
    assert len(scans) == 1
    _scores(client, "a football match")  # another text: a scan of its own
    assert len(scans) == 2


def test_both_requests_at_once_scan_once(small_scope: embedscope.Scope, scans: list[int]) -> None:
    client = client_for(small_scope)
    q = "cooking pasta with sauce"
    doc, scores = _together([lambda: client.get(SEARCH, params={"q": q, "k": 3}).json(), lambda: _scores(client, q)])
    assert len(scans) == 1 and sum(scans) == 1  # the second request waited for the first one's scan
    np.testing.assert_allclose([h["score"] for h in doc["hits"]], np.sort(scores)[::-1][:3], atol=1e-6)


def test_a_new_workspace_version_scans_again(small_scope: embedscope.Scope, scans: list[int]) -> None:
    from embedscope.server.queries import space_queries

    client = client_for(small_scope)
    state = client.app.state.explorer  # type: ignore[attr-defined]
    q = "an old castle"
    before = _scores(client, q)
    first = space_queries(state, SPACE)
    assert len(scans) == 1 and first.batcher.batches == 1
    small_scope.project(SPACE, "pca")  # the workspace changes (a new manifest version): the answers may too
    after = _scores(client, q)
    assert len(scans) == 2
    again = space_queries(state, SPACE)
    assert again is not first and again.batcher.batches == 1
    np.testing.assert_allclose(after, before, atol=1e-6)  # the vectors did not change, the scan is redone
    _scores(client, q)
    assert len(scans) == 2


def test_an_error_is_not_kept(small_scope: embedscope.Scope, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(small_scope, raise_server_exceptions=False)
    real = small_scope.embed_query
    failing = {"on": True}

    def embed_query(text: str, space: str | None = None) -> np.ndarray:
        if failing["on"]:
            raise RuntimeError("the model went away")
        return real(text, space)

    monkeypatch.setattr(small_scope, "embed_query", embed_query)
    assert client.get(SEARCH, params={"q": "rain"}).status_code == 500
    failing["on"] = False
    assert client.get(SEARCH, params={"q": "rain"}).status_code == 200  # asked again, answered


def test_cli_and_server_search_share_one_kernel(small_scope: embedscope.Scope, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[int, str]] = []
    real = QueryScan.top

    def spy(self: QueryScan, query: np.ndarray, k: int, *args: Any, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
        seen.append((int(self.vectors.shape[0]), kw.get("metric", "cosine")))
        return real(self, query, k, *args, **kw)

    monkeypatch.setattr(QueryScan, "top", spy)
    q = "a football game and its goals"
    code, out, _ = run(capsys, "neighbors", str(small_scope.path), "--query", q, "--space", SPACE, "-k", "5",
                       "--json")
    assert code == 0 and len(seen) == 1
    cli = json.loads(out)
    doc = client_for(small_scope).get(SEARCH, params={"q": q, "k": 5}).json()
    assert len(seen) == 2 and seen[0] == seen[1] == (60, "cosine")
    assert [h["id"] for h in doc["hits"]] == [r["id"] for r in cli]
    np.testing.assert_allclose([h["score"] for h in doc["hits"]], [r["score"] for r in cli], atol=1e-6)
