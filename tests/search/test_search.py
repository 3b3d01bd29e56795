"""Search from the explorer's server: by meaning (the query embedded with the space's model) and by words."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

import embedscope
from tests.helpers import client_for


@pytest.fixture()
def client(small_scope: embedscope.Scope) -> TestClient:
    return client_for(small_scope, raise_server_exceptions=False)


def test_semantic_search_ranks_by_meaning_with_histogram(client: TestClient, small_scope: embedscope.Scope) -> None:
    r = client.get("/api/spaces/minilm/search", params={"q": "a football game and its goals", "k": 10})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["mode"] == "semantic" and doc["total"] == 60 and len(doc["hits"]) == 10
    topics = small_scope.items_for("minilm").column("topic").to_pylist()
    assert [topics[h["row"]] for h in doc["hits"][:5]] == ["sport"] * 5
    scores = [h["score"] for h in doc["hits"]]
    assert scores == sorted(scores, reverse=True) and doc["cut"] == pytest.approx(scores[-1])
    assert sum(doc["histogram"]["counts"]) == 60 and len(doc["histogram"]["edges"]) == 41
    # the same figures as the Python API's neighbour search by text
    api = small_scope.neighbors(query="a football game and its goals", k=10, space="minilm")
    assert [h["id"] for h in doc["hits"]] == list(api.ids)
    np.testing.assert_allclose(scores, api.scores, atol=1e-5)


def test_scores_are_arrow_float32_in_point_order(client: TestClient) -> None:
    r = client.get("/api/spaces/minilm/search/scores", params={"q": "planets and stars"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(r.content).read_all()
    assert table.schema.field("score").type == pa.float32() and table.num_rows == 60
    best = client.get("/api/spaces/minilm/search", params={"q": "planets and stars", "k": 1}).json()["hits"][0]
    assert int(np.argmax(table.column("score").to_numpy())) == best["row"]


def test_keyword_search_matches_text_and_metadata(client: TestClient) -> None:
    doc = client.get("/api/spaces/minilm/search", params={"q": "SAUCE", "mode": "keyword"}).json()
    assert doc["total"] == 4 and all("sauce" in h["text"].lower() for h in doc["hits"])  # 2 texts x 2 variants
    doc = client.get("/api/spaces/minilm/search", params={"q": "cooking", "mode": "keyword"}).json()
    assert doc["total"] == 20  # the topic column
    r = client.get("/api/spaces/minilm/search/scores", params={"q": "sauce", "mode": "keyword"})
    assert pa.ipc.open_stream(r.content).read_all().column("score").to_numpy().sum() == 4


def test_search_errors_are_4xx(client: TestClient, small_scope: embedscope.Scope) -> None:
    assert client.get("/api/spaces/minilm/search", params={"q": ""}).status_code == 422
    assert client.get("/api/spaces/minilm/search", params={"q": "x" * 2001}).status_code == 422
    assert client.get("/api/spaces/minilm/search", params={"q": "x", "k": 0}).status_code == 422
    assert client.get("/api/spaces/minilm/search", params={"q": "x", "mode": "regex"}).status_code == 422
    assert client.get("/api/spaces/minilm/search", params={"q": "   "}).status_code == 400
    assert client.get("/api/spaces/nope/search", params={"q": "x"}).status_code == 404
    ids, x = small_scope.vectors("minilm")
    small_scope.add_vectors("mine", ids, x[:, :16])
    c2 = client_for(embedscope.open(small_scope.path), raise_server_exceptions=False)
    r = c2.get("/api/spaces/mine/search", params={"q": "rockets"})
    assert r.status_code == 400 and "brought" in r.json()["detail"]
    assert c2.get("/api/spaces/mine/search", params={"q": "rocket", "mode": "keyword"}).json()["total"] == 2
