"""Clusters: recovered on separated data, labelled by words that describe them, stored in the workspace."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import embedscope
from embedscope.analyses.clusters import class_tfidf_keywords, cluster, corpus_stop_words
from tests.helpers import blobs, run_cli_subprocess


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_separated_clusters_are_recovered(method: str) -> None:
    x, truth = blobs(n_per=60, n_clusters=6)
    from embedscope.projection import project
    from embedscope.search.exact import knn_graph

    lay = project(x, "umap", knn=knn_graph(x, 50), seed=0)
    res = cluster(x, reduced=lay.coords, method=method, n_clusters=6)
    keep = res.labels >= 0
    assert keep.mean() > 0.8
    assert adjusted_rand_score(truth[keep], res.labels[keep]) > 0.9
    assert sum(c["size"] for c in res.clusters) == int(keep.sum())


def test_class_tfidf_picks_distinctive_words() -> None:
    texts = ["the cat sat on the mat", "a cat and a kitten", "dogs bark at the cat",
             "stocks fell on the market", "the market rallied", "bond market yields"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    kw = class_tfidf_keywords(texts, labels, top=2)
    assert kw[0][0] == "cat" and kw[1][0] == "market"


def test_corpus_stop_words_leave_the_labels() -> None:
    """Archaic function words of the KJV say nothing about a division: learned from the corpus and left out of
    the labels, while the words that tell divisions apart stay (issue 24 item 11)."""
    from embedscope.io.samples import bible

    df = bible(5000)
    cats = sorted(df.division.unique())
    labels = np.array([cats.index(d) for d in df.division])
    stop = corpus_stop_words(df.text.tolist(), labels)
    assert {"unto", "thou", "thee", "thy", "hath", "ye"} <= set(stop)
    assert not {"king", "israel", "jesus", "david", "moses", "paul"} & set(stop)
    kw = class_tfidf_keywords(df.text.tolist(), labels, top=5)
    used = {w for words in kw.values() for w in words}
    assert not used & {"unto", "thou", "thee", "thy", "hath", "ye", "shall"}
    assert "king" in kw[cats.index("History")] and "jesus" in kw[cats.index("Gospels")]


def test_a_word_in_every_text_of_two_clusters_is_no_label() -> None:
    """A contexts workspace: every occurrence holds the word itself; with two senses it labelled both."""
    river = [f"the bank of the river {w} water" for w in ("flowed", "rose", "ran", "fell", "froze", "dried")]
    money = [f"the bank lent money {w} loan" for w in ("today", "again", "twice", "late", "early", "once")]
    labels = np.array([0] * 6 + [1] * 6)
    kw = class_tfidf_keywords(river + money, labels, top=3)
    assert "bank" not in kw[0] + kw[1]
    assert {"river", "water"} <= set(kw[0]) and {"money", "loan"} & set(kw[1])


def test_workspace_clusters_and_cli(small_scope: embedscope.Scope) -> None:
    code, out, err = run_cli_subprocess(["cluster", str(small_scope.path), "--method", "kmeans", "--n-clusters", "3",
                               "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["space"] == "minilm" and len(doc["clusters"]) == 3 and doc["unclustered"] == 0
    words = {w for c in doc["clusters"] for w in c["keywords"]}
    assert {"rocket", "sauce", "match"} & words, words
    s = embedscope.open(small_scope.path)
    got = s.clusters()
    assert got is not None and got.labels.shape == (60,)
    topic = np.array([i.split("-")[0] for i in s.point_ids()])
    assert adjusted_rand_score(topic, got.labels) > 0.8
