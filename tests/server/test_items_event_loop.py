"""Neighbour lookups and item pages answered on the event loop (from cached arrays) equal the thread-pool answers."""

from __future__ import annotations

import pytest

import embedscope
from embedscope.server.routes import items as items_route
from tests.helpers import client_for


def test_cached_answers_skip_the_thread_pool_and_match(small_scope: embedscope.Scope,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    hops: list[str] = []
    real = items_route.run_in_threadpool

    async def counting(fn, *args):  # type: ignore[no-untyped-def]
        hops.append(fn.__name__)
        return await real(fn, *args)

    monkeypatch.setattr(items_route, "run_in_threadpool", counting)
    client = client_for(small_scope)
    requests = [("/api/spaces/minilm/items/3/neighbors", {"k": 10}), ("/api/spaces/minilm/items", {"offset": 7, "limit": 5}),
                ("/api/spaces/minilm/items/0/neighbors", {"k": 15})]
    first = [client.get(path, params=params) for path, params in requests]  # the first reads go to the pool
    assert hops and all(r.status_code == 200 for r in first)
    hops.clear()
    again = [client.get(path, params=params) for path, params in requests]
    assert hops == []  # everything they read is cached now
    for a, b in zip(first, again, strict=True):
        assert a.headers["content-type"] == b.headers["content-type"] == "application/json"
        assert a.json() == b.json()
    doc = again[0].json()
    assert len(doc["neighbors"]) == 10 and doc["graph"]["method"] and "recall@10" in doc["graph"]
    # what the cache cannot answer still goes to the pool: a filter, another metric, more than the graph has
    stored_k = int(small_scope.graph_info("minilm")["k"])
    for params in ({"k": 3, "filter": "{}"}, {"k": 3, "metric": "dot"}, {"k": stored_k + 1}):
        assert client.get("/api/spaces/minilm/items/3/neighbors", params=params).status_code == 200
    assert hops == ["_neighbors"] * 3
    assert client.get("/api/spaces/nope/items").status_code == 404
    assert client.get("/api/spaces/minilm/items/999/neighbors").status_code == 404
