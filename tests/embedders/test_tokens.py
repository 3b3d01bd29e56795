"""Contextual token vectors of the bundled MiniLM: every layer, sub-word tokens pooled, long texts windowed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from embedscope.embedders.local import LocalEmbedder, default_model_path
from embedscope.embedders.tokens import TokenVectors
from embedscope.errors import InputError, MissingDependencyError


@pytest.fixture(scope="module")
def tv() -> TokenVectors:
    return TokenVectors()


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_last_layer_over_the_whole_text_is_the_sentence_vector(tv):
    texts = ["He sat on the bank of the river.", "She deposited money at the bank on Friday morning.",
             "In the beginning God created the heaven and the earth."]
    v = tv.vectors(texts, [(0, len(t)) for t in texts])
    assert v.shape == (7, 3, 384) and v.dtype == np.float32
    ref = LocalEmbedder(backend="torch").embed(texts)
    # the sentence model mean-pools the last layer over all tokens ([CLS] and [SEP] too); the span leaves them out
    assert (unit(v[-1]) * ref).sum(1).min() >= 0.98


def test_sub_words_are_pooled_and_context_matters(tv):
    texts = ["The overdraft was large.", "The overdraft ruined the fishermen by the river.", "overdraft"]
    spans = [(t.index("overdraft"), t.index("overdraft") + 9) for t in texts]
    tok, _ = tv.load()
    assert len(tok.tokenize("overdraft")) == 3  # a word of several sub-word tokens
    v = tv.vectors(texts, spans)
    cos = (unit(v[:, 0]) * unit(v[:, 1])).sum(-1)
    assert cos[0] > 0.9999  # the embedding layer sees the tokens and their positions only, not the context
    assert cos[1:].max() < 0.99  # every transformer layer does
    # the word alone (the "static" item) is one more text
    alone = tv.vectors(["overdraft"], [(0, 9)])
    assert np.allclose(alone[:, 0], v[:, 2], atol=1e-5)


def test_long_text_is_windowed_around_the_word(tv):
    filler = " ".join(f"w{i}" for i in range(3000))
    text = filler + " we walked along the river bank at dusk " + filler
    s = text.index("bank")
    cut, a, b = tv.fit_window(text, s, s + 4)
    assert cut[a:b] == "bank"
    tok, _ = tv.load()
    n = len(tok(cut, add_special_tokens=True)["input_ids"])
    assert n <= tv.max_tokens
    assert n >= tv.max_tokens - 8  # as much context as fits
    left, right = cut[:a], cut[b:]
    assert abs(len(tok.tokenize(left)) - len(tok.tokenize(right))) <= 4  # centred
    v_long = tv.vectors([text], [(s, s + 4)])
    v_cut = tv.vectors([cut], [(a, b)])
    assert np.allclose(v_long, v_cut, atol=1e-5)
    # at the very start of a long text: the window holds the text's start
    cut0, a0, b0 = tv.fit_window(text, 0, 2)
    assert (a0, cut0[a0:b0]) == (0, "w0")


def test_a_batch_gives_each_text_its_own_vectors(tv):
    texts = ["bank", "A long sentence about the bank of a river, with many more words after it than before."]
    spans = [(0, 4), (texts[1].index("bank"), texts[1].index("bank") + 4)]
    both = tv.vectors(texts, spans)
    one = tv.vectors(texts[1:], spans[1:])
    assert np.allclose(both[:, 1], one[:, 0], atol=1e-4)


def test_local_path_model_and_bad_model(tmp_path):
    same = TokenVectors(f"local:{default_model_path()}")
    assert same.layers == 7 and same.dim == 384
    assert same.key == TokenVectors().key.replace("all-MiniLM-L6-v2", same.name)
    with pytest.raises(InputError, match="not a directory"):
        TokenVectors(f"local:{tmp_path / 'missing'}")
    with pytest.raises(InputError, match=r"neither modules\.json nor config\.json"):
        TokenVectors(f"local:{tmp_path}")


def test_missing_transformers_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedscope\[local\]'"):
        TokenVectors().load()
