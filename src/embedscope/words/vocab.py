"""The vocabulary of a corpus: each word's count, document frequency and rank, with the words a word space
leaves out by default (stop words, rare words, numbers alone) left out.

Texts are read once, as a stream: memory grows with the number of distinct words, never with the number of
texts. Words are those of :func:`embedscope.words.tokens.words` (one tokeniser everywhere).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tokens import words as split_words

#: Words seen at least this many times are kept by default.
MIN_COUNT = 5
#: The most frequent words kept by default.
MAX_WORDS = 50_000


def stop_words() -> frozenset[str]:
    """The English stop words left out by default: scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words: articles,
    pronouns, auxiliaries, prepositions, conjunctions; from the Glasgow Information Retrieval Group's list),
    plus the archaic forms of the King James Bible sample (``thee``, ``thou``, ``thy``, ``thine``, ``ye``,
    ``hath``, ``doth``, ``shalt``, ``unto``), which play the same part there."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | ARCHAIC


#: Archaic function words of the sample corpus, stop words as ``the`` and ``you`` are.
ARCHAIC = frozenset({"thee", "thou", "thy", "thine", "ye", "hath", "doth", "shalt", "unto", "art", "wilt",
                     "hast", "saith"})


@dataclass
class Vocabulary:
    """Words kept, most frequent first.

    Attributes
    ----------
    words
        ``n`` normalised words, by descending count (ties by the word, so the order is reproducible).
    counts
        int64 ``(n,)``: occurrences in the corpus.
    docs
        int64 ``(n,)``: texts the word occurs in.
    texts, tokens, distinct
        Texts read, words read, distinct words seen (before anything was left out).
    options
        ``min_count``, ``max_words``, ``stop_words`` (``"kept"`` or ``"left out"``), ``numbers``: what decided
        which words are kept (recorded as the words workspace's provenance).
    """

    words: list[str]
    counts: np.ndarray
    docs: np.ndarray
    texts: int
    tokens: int
    distinct: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def ranks(self) -> np.ndarray:
        """int64 ``(n,)``: 1 for the most frequent word."""
        return np.arange(1, len(self.words) + 1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.words)


def is_number(word: str) -> bool:
    """Whether a word is digits only, possibly with inner separators (``1984``, ``3-4``, ``1'000``)."""
    return all(ch.isdigit() or ch in "'-" for ch in word)


def build_vocabulary(texts: Iterable[str | None], *, min_count: int = MIN_COUNT, max_words: int = MAX_WORDS,
                     keep_stop_words: bool = False, keep_numbers: bool = False,
                     progress: Callable[[int], None] | None = None) -> Vocabulary:
    """Count the words of ``texts`` and keep the vocabulary of a word space.

    Parameters
    ----------
    texts
        Any iterable of texts, read once (``None`` is skipped).
    min_count
        Words seen fewer times are left out (``>= 1``).
    max_words
        At most this many words, the most frequent (``>= 1``).
    keep_stop_words
        Keep the stop words of :func:`stop_words` (left out by default).
    keep_numbers
        Keep words made of digits alone (left out by default).
    progress
        Called with the number of texts read, every 10,000 texts.
    """
    if min_count < 1 or max_words < 1:
        raise ValueError("min_count and max_words must be at least 1")
    counts: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    n_texts = n_tokens = 0
    for text in texts:
        if text is None:
            continue
        ws = split_words(text)
        counts.update(ws)
        docs.update(set(ws))
        n_texts += 1
        n_tokens += len(ws)
        if progress is not None and n_texts % 10_000 == 0:
            progress(n_texts)
    stops = frozenset() if keep_stop_words else stop_words()
    kept = [(w, c) for w, c in counts.items()
            if c >= min_count and w not in stops and (keep_numbers or not is_number(w))]
    kept.sort(key=lambda wc: (-wc[1], wc[0]))
    kept = kept[:max_words]
    options = {"min_count": min_count, "max_words": max_words,
               "stop_words": "kept" if keep_stop_words else "left out", "numbers": "kept" if keep_numbers else
               "left out"}
    return Vocabulary([w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64),
                      np.array([docs[w] for w, _ in kept], dtype=np.int64), n_texts, n_tokens, len(counts), options)
