"""Text -> image-like search without a text model: a space of brought vectors is searched by words through a
translator kept by ``translate fit`` from a text space (issue 19, point 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedscope import Scope
from embedscope.errors import InputError
from embedscope.io.samples import bible
from tests.helpers import client_for, run_cli

N_TEXT = 1200   # items with a text: the text space, and the pairs the translator is fitted on
N_HELD = 60     # items with only a brought "picture" vector: queried by their text, never seen by the translator


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[str]]:
    """A workspace with a ``text`` space (TF-IDF on real verses) and a ``picture`` space of brought vectors: a
    noisy low-rank linear map of the verses' TF-IDF vectors into 48 dimensions, for ``N_TEXT`` items that have a
    text and ``N_HELD`` more that have only the picture vector. Returns (workspace, held-out ids, their texts)."""
    root = tmp_path_factory.mktemp("route")
    ws = root / "ws.scope"
    df = bible(N_TEXT + N_HELD)
    held = df.iloc[::(N_TEXT + N_HELD) // N_HELD].head(N_HELD)
    train = df.drop(held.index)
    scope = Scope.create(ws)
    scope.ingest(train[["id", "text", "division"]])
    scope.embed("text", "tfidf:64")
    x = scope.embedder("text").embed(df["text"].tolist())       # the real TF-IDF of every verse, held-out ones too
    rng = np.random.default_rng(7)
    w = rng.normal(size=(x.shape[1], 24)) @ rng.normal(size=(24, 48))   # rank 24, 64 -> 48 dims
    pic = x @ w
    pic += rng.normal(size=pic.shape) * 1.5 * pic.std()
    np.save(root / "pic.npy", pic.astype(np.float32))
    (root / "pic.ids").write_text("\n".join(df["id"]) + "\n", encoding="utf-8")
    scope.ingest_vectors(root / "pic.npy", "picture", ids=root / "pic.ids")
    shutil.copytree(ws, root / "bare.scope")  # before any translator
    return ws, held["id"].tolist(), held["text"].tolist()


def test_without_translator_the_error_says_how_to_fit_one(built: tuple[Path, list[str], list[str]],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    ws, _, texts = built
    ws = ws.parent / "bare.scope"
    code, _, err = run_cli(capsys, "neighbors", str(ws), "--query", texts[0], "--space", "picture")
    assert code == 2
    assert f"embedscope translate fit {ws} --from text --to picture" in err
    with pytest.raises(InputError, match="translate fit"):
        Scope.open(ws).query_route("picture")


def test_text_query_goes_through_the_best_translator(built: tuple[Path, list[str], list[str]],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    ws, held_ids, held_texts = built
    code, _, err = run_cli(capsys, "translate", "fit", str(ws), "--from", "text", "--to", "picture",
                           "--method", "ridge", "--json")
    assert code == 0, err
    scope = Scope.open(ws)
    route = scope.query_route("picture")
    assert route["route"] == "translator" and route["via"] == "text" and route["model"].startswith("tfidf")
    assert route["recall_at_10"] > 2 * route["baseline_recall_at_10"]
    assert scope.query_route("text")["route"] == "model"

    # held-out verses (in the picture space only, never a translator pair) found by their words
    ids = scope.point_ids("picture")
    ranks = []
    for iid, text in zip(held_ids, held_texts, strict=True):
        res = scope.neighbors(query=text, space="picture", k=len(ids))
        ranks.append(res.ids.index(iid) + 1)
    hit10 = float(np.mean(np.array(ranks) <= 10))
    chance = 10 / len(ids)
    with capsys.disabled():
        print(f"held-out text -> picture: hit@10 {hit10:.2f} (chance {chance:.3f}), median rank "
              f"{np.median(ranks):.0f} of {len(ids)}; translator recall@10 {route['recall_at_10']:.2f} "
              f"vs baseline {route['baseline_recall_at_10']:.2f}")
    assert hit10 > 20 * chance

    # the CLI says which route it took (the JSON stays the list of hits; the route is a line on stderr)
    code, out, err = run_cli(capsys, "neighbors", str(ws), "--query", held_texts[0], "--space", "picture", "--json")
    assert code == 0, err
    assert isinstance(json.loads(out), list)
    assert "through a translator from space 'text'" in err and "recall@10" in err

    # the search API answers with the route
    with client_for(scope) as client:
        r = client.get("/api/spaces/picture/search", params={"q": held_texts[0], "k": 5})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["route"]["route"] == "translator" and body["route"]["via"] == "text"
        assert body["route"]["recall_at_10"] == pytest.approx(route["recall_at_10"])
        assert client.get("/api/spaces/text/search", params={"q": "the lord"}).json()["route"]["route"] == "model"
        assert client.get("/api/spaces/picture/search",
                          params={"q": "lord", "mode": "keyword"}).json()["route"] is None


def test_the_best_of_several_translators_is_chosen(built: tuple[Path, list[str], list[str]]) -> None:
    ws, _, _ = built
    scope = Scope.open(ws)
    if scope.store.record("translator__text__picture") is None:
        scope.translate_fit("text", "picture", "ridge")
    scope.embed("text2", "tfidf:8")  # a poorer text space (8 dims): its translator recalls less
    scope.translate_fit("text2", "picture", "ridge")
    recs = {r.params["from"]: r.metrics["recall@10"] for r in scope.store.records("translator")}
    assert recs["text2"] < recs["text"]
    assert Scope.open(ws).query_route("picture")["via"] == "text"
