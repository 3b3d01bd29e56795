"""``--model avg:word2vec`` and ``avg:glove`` (issue 20): averaged word vectors as a sentence space.

word2vec is fitted on the workspace's texts with the defaults of ``embedscope words`` and kept as data (no
pickle), so a query embeds the same way as the items; GloVe's averages are the mean of the known content words'
unit vectors; and ``compare --label`` says, with a bootstrap interval, how much the sentence model gains over
the averages on the King James sample (1,200 verses, 10 divisions).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.embedders import get_embedder
from embedscope.errors import InputError
from embedscope.words.glove import glove
from tests.helpers import run_cli as run


@pytest.fixture(scope="module")
def verses() -> list[str]:
    from embedscope.io.samples import bible

    return bible(1200)["text"].tolist()


def test_avg_word2vec_fits_saves_as_data_and_embeds_queries_the_same_way(tmp_path: Path) -> None:
    from embedscope.io.samples import bible

    ws = tmp_path / "a.scope"
    s = embedscope.create(ws)
    s.ingest(bible(1200))
    rep = s.embed(None, "avg:word2vec")
    assert (rep.space, rep.dim) == ("avg-word2vec", 100)
    rec = s.store.record("vectors__avg-word2vec")
    assert rec.params["word2vec"]["sg"] == 1 and rec.params["word2vec"]["seed"] == 42
    assert rec.params["model_file"].endswith(".npz") and not list((ws / "models").glob("*.pkl"))
    again = embedscope.open(ws)  # a new process would do the same: the model comes back from models/
    ids, x = again.vectors("avg-word2vec")
    text = s.items().to_pandas().set_index("id").loc[ids[7], "text"]
    np.testing.assert_allclose(again.embed_query(text, "avg-word2vec"), x[7], atol=1e-6)
    assert again.neighbors(query=text, space="avg-word2vec", k=1).ids == [ids[7]]
    assert again.embedder("avg-word2vec").key == rec.params["key"] and "corpus" in rec.params["key"]


def test_avg_glove_is_the_mean_of_known_content_words(verses: list[str]) -> None:
    emb = get_embedder("avg:glove")
    assert not emb.needs_fit and emb.default_space == "avg-glove"
    x = emb.embed(["The KING and the Queen", "unto the", "Xyzzyq plugh"])
    assert glove().lookup(["king", "queen"])[0].all()
    _, v = glove().lookup(["king", "queen"])
    want = (v / np.linalg.norm(v, axis=1, keepdims=True)).sum(axis=0)
    np.testing.assert_allclose(x[0], want / np.linalg.norm(want), atol=1e-6)
    _, stops = glove().lookup(["unto", "the"])
    w = (stops / np.linalg.norm(stops, axis=1, keepdims=True)).sum(axis=0)
    np.testing.assert_allclose(x[1], w / np.linalg.norm(w), atol=1e-6)  # stop words only: they count
    assert emb.fallback_texts == 1 and np.isclose(np.linalg.norm(x[2]), 1.0)  # no known word: the fallback
    assert emb.spec()["fallback_texts"] == 1
    with pytest.raises(InputError, match="avg:SOURCE"):
        get_embedder("avg:bert")


def test_compare_averaged_words_against_the_sentence_model(tmp_path: Path, bible_vectors, capsys) -> None:
    """The sentence model retrieves same-division verses better than averaged word2vec, and the averages still
    beat chance (the probability that a random other verse shares the division)."""
    from embedscope.io.samples import bible

    ws = tmp_path / "c.scope"
    s = embedscope.create(ws)
    df = bible(1200)
    s.ingest(df)
    s.embed("avg-word2vec", "avg:word2vec")
    ids, vecs = bible_vectors
    s.add_vectors("minilm", ids, vecs)
    code, out, err = run(capsys, "compare", str(ws), "--spaces", "avg-word2vec,minilm", "--label", "division")
    assert code == 0, err
    said = " ".join((out + err).split())
    m = re.search(r"on same-division retrieval, (\S+) wins ndcg@10 by ([\d.]+) \(95% CI ([\d.]+)\.\.([\d.]+)\)", said)
    assert m, said[-600:]
    assert m.group(1) == "minilm" and 0 < float(m.group(3)) <= float(m.group(2)) <= float(m.group(4))
    code, out, _ = run(capsys, "compare", str(ws), "--spaces", "avg-word2vec,minilm", "--label", "division",
                       "--json")
    p10 = json.loads(out)["retrieval"]["rows"][0]
    assert p10["metric"] == "precision@10"
    sizes = np.array(list(Counter(df["division"]).values()), float)
    chance = float(((sizes * (sizes - 1)).sum()) / (len(df) * (len(df) - 1)))
    assert p10["values"]["avg-word2vec"] > 1.3 * chance, (p10, chance)
    assert p10["values"]["minilm"] > p10["values"]["avg-word2vec"]
