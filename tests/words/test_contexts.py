"""Occurrences of a word, their snippets, and the clustering figures of contexts (texts and arrays only)."""

from __future__ import annotations

import numpy as np

from embedscope.words.contexts import choose_k, kmeans, occurrences, purity, silhouette, snippet


def test_whole_words_any_case_normalised_apostrophes():
    texts = ["Bank, bank and BANK. Banks and embankment are other words; so is the bank's.",
             None, "",
             "Café au lait at the CAFÉ; cafe is another word.",
             "Don’t say don't twice, said Dont."]
    found = occurrences(texts, "bank")
    assert [(o.index, o.form) for o in found] == [(0, "Bank"), (0, "bank"), (0, "BANK")]
    assert [o.form for o in occurrences(texts, "café")] == ["Café", "CAFÉ"]
    assert [o.form for o in occurrences(texts, "don't")] == ["Don’t", "don't"]
    assert [o.form for o in occurrences(texts, "bank's")] == ["bank's"]
    assert len(occurrences(texts, "bank", limit=2)) == 2


def test_span_inside_the_snippet_is_the_word():
    text = ("The river rose all night. At dawn the old bank gave way, and the water ran into the fields! "
            "Nobody was hurt.\n\nLater, the Bank of England raised its rate.")
    found = occurrences([text], "bank")
    assert len(found) == 2
    for o in found:
        assert o.snippet[o.snippet_start:o.snippet_end] == o.form
        assert text[o.start:o.end] == o.form
    assert found[0].snippet == "At dawn the old bank gave way, and the water ran into the fields!"
    assert found[1].snippet == "Later, the Bank of England raised its rate."


def test_long_sentence_is_cut_around_the_word_at_spaces():
    text = " ".join(["word"] * 500) + " the bank of the river " + " ".join(["more"] * 500)
    s = text.index("bank")
    snip, a, b = snippet(text, s, s + 4, window=120)
    assert snip[a:b] == "bank"
    assert len(snip) <= 120
    assert not snip.startswith(" ") and not snip.endswith(" ")
    assert snip.split()[0] in ("word", "the") and snip.split()[-1] in ("more", "river")
    # the word near the start of a long sentence: the window goes to the other side
    s2 = text.index("word")
    snip2, a2, b2 = snippet(text, s2, s2 + 4, window=120)
    assert (a2, snip2[a2:b2]) == (0, "word") and len(snip2) > 100


def test_kmeans_purity_and_silhouette_on_two_directions(rng):
    a = rng.normal(size=(30, 16)) * 0.2 + np.eye(16)[0] * 3
    b = rng.normal(size=(30, 16)) * 0.2 + np.eye(16)[1] * 3
    x = np.vstack([a, b])
    truth = ["a"] * 30 + ["b"] * 30
    labels = kmeans(x, 2, seed=0)
    assert purity(labels, truth) == 1.0
    assert silhouette(x, labels) > 0.5
    k, best = choose_k(x, seed=0)
    assert k == 2 and purity(best, truth) == 1.0
    # labels of one sense only: purity of one cluster is the share of its majority
    assert purity(np.zeros(60, np.int32), truth) == 0.5
    assert purity(labels, [None] * 60) is None
    assert purity(labels, [*truth[:59], None]) == 1.0
    assert silhouette(x, np.zeros(60, np.int32)) is None
