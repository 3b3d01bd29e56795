"""The vector routes on real word2vec vectors: the vector as Arrow, a pair taken apart, which is closer, analogies;
every figure checked against numpy."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from embedscope.analyses.pairs import pair_rank, top_products, wilson
from tests.helpers import WORD2VEC_1000, client_for, word2vec_scope


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, np.ndarray], list[str]]:
    scope = word2vec_scope(tmp_path_factory.mktemp("w2v") / "words.scope")
    table = json.loads(WORD2VEC_1000.read_text())
    # the stored vectors are float32: numpy works on the same numbers, in float64
    return scope, {w: np.asarray(v, np.float32).astype(np.float64) for w, v in table.items()}, scope.point_ids("word2vec")


@pytest.fixture(scope="module")
def client(words):
    return client_for(words[0], raise_server_exceptions=False)


URL = "/api/spaces/word2vec/vectors"


def test_vector_is_arrow_float32_by_row(client, words) -> None:
    _, vec, ids = words
    row = ids.index("king")
    r = client.get(f"{URL}/{row}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(r.content).read_all()
    assert table.schema.field("value").type == pa.float32() and table.num_rows == 300
    assert np.allclose(table.column("value").to_numpy(), vec["king"], atol=1e-6)
    again = client.get(f"{URL}/{row}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert client.get(f"{URL}/1000").status_code == 404


def test_pair_scores_products_and_exact_rank_match_numpy(client, words) -> None:
    _, vec, ids = words
    r = client.post(f"{URL}/pair", json={"a": {"id": "king"}, "b": {"id": "queen"}, "top": 5})
    assert r.status_code == 200, r.text
    out = r.json()
    a, b = vec["king"], vec["queen"]
    assert out["a"]["id"] == "king" and out["b"]["row"] == ids.index("queen") and out["dims"] == 300
    assert out["dot"] == pytest.approx(float(a @ b), abs=1e-9)
    assert out["cosine"] == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)), abs=1e-9)
    assert out["euclidean"] == pytest.approx(float(np.linalg.norm(a - b)), abs=1e-9)
    assert out["manhattan"] == pytest.approx(float(np.abs(a - b).sum()), abs=1e-9)
    assert out["norms"]["a"] == pytest.approx(float(np.linalg.norm(a)), abs=1e-9)
    p = a * b
    want = np.argsort(-np.abs(p), kind="stable")[:5]
    assert [d["dim"] for d in out["top"]] == [int(i) for i in want]
    assert [d["product"] for d in out["top"]] == pytest.approx([float(p[i]) for i in want], abs=1e-12)
    dims, products = top_products(a, b, 300)  # all of them: signs kept, and they sum to the dot product
    assert (products < 0).any() and float(products.sum()) == pytest.approx(float(a @ b), abs=1e-12)
    assert sorted(dims.tolist()) == list(range(300))
    # the rank among all 499,500 pairs, counted with numpy
    x = np.stack([vec[w] for w in ids])
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = (xn @ xn.T)[np.triu_indices(len(x), 1)]
    cos = out["rank"]["score"]
    rank = out["rank"]
    assert rank["exact"] and rank["pairs"] == 499_500 and rank["sample"] is None
    strictly = int((s > cos + 1e-9).sum())
    assert rank["rank"] == strictly + 1
    assert cos == pytest.approx(out["cosine"], abs=1e-12)
    assert rank["rank"] < 0.01 * 499_500  # king-queen is among the closest 1 % of pairs (measured: 1,966th)
    assert rank["low"] == rank["rank"] and rank["high"] == rank["rank"] + rank["ties"]
    assert rank["ties"] == int((np.abs(s - cos) <= 1e-9).sum()) - 1


def test_pair_rank_estimate_is_honest(words) -> None:
    _, vec, ids = words
    x = np.stack([vec[w] for w in ids]).astype(np.float32)
    a, b = ids.index("king"), ids.index("man")
    exact = pair_rank(x, a, b)
    est = pair_rank(x, a, b, budget=0, sample=50_000, seed=3)
    assert exact.exact and not est.exact and est.sample == 50_000 and est.seed == 3 and est.ties == 0
    assert abs(est.rank - exact.rank) < 0.01 * exact.pairs and est.high - est.low < 0.02 * exact.pairs
    lo, hi = wilson(round(est.closer_fraction * 50_000), 50_000)
    assert est.low == 1 + int(np.floor(lo * exact.pairs)) and est.high == 1 + int(np.ceil(hi * exact.pairs))
    # a 95 % interval: over 20 seeds it holds the true rank about 19 times (fewer than 16: p < 0.003)
    held = [(e.low <= exact.rank <= e.high) for e in (pair_rank(x, a, b, budget=0, sample=20_000, seed=s)
                                                      for s in range(20))]
    assert sum(held) >= 16
    for metric in ("euclidean", "manhattan", "dot"):
        r = pair_rank(x, a, b, metric, budget=2e9)  # manhattan over 1,000 x 300 is estimated by default
        assert r.exact
        d = {"euclidean": lambda u, v: np.linalg.norm(u - v, axis=-1), "manhattan": lambda u, v: np.abs(u - v).sum(-1),
             "dot": lambda u, v: (u * v).sum(-1)}[metric]
        i, j = np.triu_indices(len(x), 1)
        vals = np.concatenate([d(x[i[k:k + 50_000]].astype(np.float64), x[j[k:k + 50_000]].astype(np.float64))
                               for k in range(0, len(i), 50_000)])
        mine = float(d(x[a].astype(np.float64), x[b].astype(np.float64)))
        closer = (vals > mine + 1e-6) if metric == "dot" else (vals < mine - 1e-6)
        near = np.abs(vals - mine) <= 1e-6
        assert int(closer.sum()) + 1 <= r.rank <= int(closer.sum() + near.sum()), metric


def test_closer_king_queen_food_under_each_metric(client, words) -> None:
    _, vec, ids = words
    # "apple" is not among the 1,000 words; "food" is
    r = client.post(f"{URL}/closer", json={"a": {"id": "king"}, "b": {"id": "queen"}, "c": {"id": "food"}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [m["metric"] for m in out["metrics"]] == ["cosine", "dot", "euclidean", "manhattan"]
    x = np.stack([vec[w] for w in ids])
    k, q, food = vec["king"], vec["queen"], vec["food"]
    for m in out["metrics"]:
        assert m["closer"] == "b" and m["closer_id"] == "queen" and m["n"] == 999
        if m["metric"] == "manhattan":
            s = np.abs(x - k).sum(1)
            assert m["score_b"] == pytest.approx(float(np.abs(k - q).sum()), rel=1e-5)
            s[ids.index("king")] = np.inf
            assert m["rank_b"] == int((s < s[ids.index("queen")]).sum()) + 1
            assert m["rank_c"] == int((s < s[ids.index("food")]).sum()) + 1
        if m["metric"] == "cosine":
            assert m["score_c"] == pytest.approx(float(k @ food), abs=1e-5)
            assert m["higher_is_closer"] and m["rank_b"] < m["rank_c"]


def test_analogy_king_minus_man_plus_woman(client, words) -> None:
    _, vec, ids = words
    r = client.post(f"{URL}/analogy", json={"plus": [{"id": "king"}, {"id": "woman"}], "minus": [{"id": "man"}],
                                             "k": 5})
    assert r.status_code == 200, r.text
    out = r.json()
    got = [h["id"] for h in out["results"]]
    assert got[0] == "queen" and not {"king", "woman", "man"} & set(got)
    x = np.stack([vec[w] for w in ids])
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    q = xn[ids.index("king")] + xn[ids.index("woman")] - xn[ids.index("man")]
    cos = xn @ q / np.linalg.norm(q)
    assert out["results"][0]["score"] == pytest.approx(float(cos[ids.index("queen")]), abs=1e-5)
    assert [p["id"] for p in out["plus"]] == ["king", "woman"] and out["minus"][0]["text"] == "man"


def test_lookup_and_bad_items(client) -> None:
    found = client.get(f"{URL}/lookup", params={"q": "que"}).json()
    assert found and found[0]["id"].startswith("que") and "queen" in [f["id"] for f in found]
    assert client.get(f"{URL}/lookup", params={"q": "king"}).json()[0]["id"] == "king"
    r = client.post(f"{URL}/pair", json={"a": {"id": "king"}, "b": {"id": "zzzunknown"}})
    assert r.status_code == 404 and "zzzunknown" in r.json()["detail"]
    r = client.post(f"{URL}/pair", json={"a": {"id": "king"}, "b": {"row": 5000}})
    assert r.status_code == 404 and "5000" in r.json()["detail"]
    assert client.post(f"{URL}/pair", json={"a": {"id": "king"}, "b": {"id": "king"}}).status_code == 400
    assert client.post(f"{URL}/pair", json={"a": {"id": "king", "row": 1}, "b": {"row": 2}}).status_code == 422
    assert client.post(f"{URL}/closer", json={"a": {"row": 1}, "b": {"row": 1}, "c": {"row": 2}}).status_code == 400
    assert client.post(f"{URL}/analogy", json={"plus": []}).status_code == 422
    assert client.post("/api/spaces/nope/vectors/pair", json={"a": {"row": 0}, "b": {"row": 1}}).status_code == 404


def test_vectors_work_on_a_sentence_space(small_scope: Any) -> None:
    scope = small_scope
    space = scope.default_space()
    ids, x = scope.vectors(space)
    client = client_for(scope)
    r = client.post(f"/api/spaces/{space}/vectors/pair", json={"a": {"row": 0}, "b": {"id": ids[1]}})
    assert r.status_code == 200, r.text
    a, b = x[0].astype(np.float64), x[1].astype(np.float64)
    assert r.json()["cosine"] == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)), abs=1e-6)
    assert r.json()["rank"]["exact"]
