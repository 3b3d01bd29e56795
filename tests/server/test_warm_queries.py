"""The background warm-up of the query path: after it, a query reads nothing and answers as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

import embedscope
from embedscope.server import create_app
from embedscope.server.queries import space_queries

SPACE = "minilm"


def scores_of(client: TestClient, q: str) -> np.ndarray:
    table = pa.ipc.open_stream(client.get(f"/api/spaces/{SPACE}/search/scores", params={"q": q}).content).read_all()
    return np.asarray(table.column("score"))


def test_warm_queries_builds_the_scan_and_loads_the_model(small_scope: embedscope.Scope,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.server.warm import start_warm_queries, warm_queries

    cold = TestClient(create_app(small_scope))
    want = cold.get(f"/api/spaces/{SPACE}/search", params={"q": "a topic", "k": 5}).json()
    want_scores = scores_of(cold, "a topic")

    app = create_app(small_scope)
    state = app.state.explorer
    lines: list[str] = []
    start_warm_queries(state, lines.append, delay=0).join(timeout=300)
    assert len(lines) == 1 and lines[0].startswith("ready for queries in ")
    assert all(f"{step} " in lines[0] for step in ("vectors and scan", "query model", "kernels"))
    steps = warm_queries(state)  # a second time: everything is cached, the same scan object
    assert set(steps) == {"vectors and scan", "query model", "kernels"}
    scan = space_queries(state, SPACE).scan
    # a query now reads no vectors: the workspace's vectors are not asked for again
    monkeypatch.setattr(small_scope, "vectors", lambda *a, **k: pytest.fail("read the vectors after warm-up"))
    client = TestClient(app)
    got = client.get(f"/api/spaces/{SPACE}/search", params={"q": "a topic", "k": 5}).json()
    assert [h["id"] for h in got["hits"]] == [h["id"] for h in want["hits"]]
    np.testing.assert_array_equal(scores_of(client, "a topic"), want_scores)
    assert space_queries(state, SPACE).scan is scan


def test_warm_queries_of_an_empty_workspace_does_nothing(tmp_path: Path) -> None:
    from embedscope.server.warm import warm_queries

    assert warm_queries(create_app(embedscope.create(tmp_path / "empty.scope")).state.explorer) == {}
