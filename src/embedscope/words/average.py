"""Averaged word vectors: a text's vector is the mean of the unit vectors of its known words, normalised.

The classic baseline of sentence embeddings. Which words count, in order:

1. the text's known words that are not stop words (each occurrence counts, so a repeated word weighs more);
2. if it has none, its known stop words (``and he said unto them`` still gets a direction);
3. if it has no known word at all: the **fallback** vector, the normalised mean of every word's unit vector
   ("the average word"). Such texts are counted (``Averaged.fallback``) and reported by the caller; the vector
   is never NaN nor all zeros, so the space stores and searches like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .tokens import words as split_words

#: ``lookup(words) -> (found (n,) bool, vectors (found.sum(), d) float32)``.
Lookup = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]]
#: Per-text sources (:attr:`Averaged.source`).
CONTENT, STOP, FALLBACK = 0, 1, 2


@dataclass
class Averaged:
    """Averaged vectors of ``n`` texts.

    Attributes
    ----------
    vectors
        float32 ``(n, d)``, unit length.
    source
        int8 ``(n,)``: 0 from content words, 1 from stop words only, 2 the fallback (no known word).
    """

    vectors: np.ndarray
    source: np.ndarray

    @property
    def fallback(self) -> int:
        """Texts that got the fallback vector."""
        return int((self.source == FALLBACK).sum())


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32; a zero row stays zero)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def fallback_vector(vectors: np.ndarray) -> np.ndarray:
    """float32 ``(d,)``: the normalised mean of the unit rows of ``vectors`` (the first axis if that is zero)."""
    m = unit_rows(vectors).astype(np.float64).sum(axis=0)
    norm = float(np.linalg.norm(m))
    if not np.isfinite(norm) or norm == 0.0:
        m = np.zeros(vectors.shape[1]); m[0] = 1.0  # noqa: E702
        return m.astype(np.float32)
    return (m / norm).astype(np.float32)


def average(texts: Sequence[str], lookup: Lookup, *, fallback: np.ndarray,
            stop_words: frozenset[str] = frozenset()) -> Averaged:
    """Averaged word vectors of ``texts`` (see the module's docstring for which words count).

    Parameters
    ----------
    texts
        ``n`` texts, split by :func:`embedscope.words.tokens.words`.
    lookup
        The word vectors (:data:`Lookup`).
    fallback
        float32 ``(d,)`` unit vector for texts with no known word (:func:`fallback_vector`).
    stop_words
        Words that count only when a text has no other known word.
    """
    from scipy import sparse

    d = int(fallback.shape[0])
    split = [split_words(t) for t in texts]
    vocab: dict[str, int] = {}
    for ws in split:
        for w in ws:
            vocab.setdefault(w, len(vocab))
    distinct = list(vocab)
    found, vecs = lookup(distinct)
    unit = np.zeros((len(distinct), d), np.float32)
    unit[found] = unit_rows(vecs)
    known = found & (np.linalg.norm(unit, axis=1) > 0)
    stop = np.array([w in stop_words for w in distinct], dtype=bool)
    rows, cols = [], []
    for i, ws in enumerate(split):
        for w in ws:
            rows.append(i)
            cols.append(vocab[w])
    n = len(split)
    counts = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(distinct)))
    content = counts @ sparse.diags((known & ~stop).astype(np.float32))
    stops = counts @ sparse.diags((known & stop).astype(np.float32))
    has_content = np.asarray(content.sum(axis=1)).ravel() > 0
    has_stop = np.asarray(stops.sum(axis=1)).ravel() > 0
    x = np.asarray(content @ unit, dtype=np.float32)
    only_stop = ~has_content & has_stop
    if only_stop.any():
        x[only_stop] = np.asarray(stops[np.flatnonzero(only_stop)] @ unit, dtype=np.float32)
    x = unit_rows(x)
    # words whose unit vectors cancel exactly have no direction either
    none = np.linalg.norm(x, axis=1) == 0
    x[none] = fallback
    source = np.where(none, FALLBACK, np.where(has_content, CONTENT, STOP)).astype(np.int8)
    return Averaged(x, source)
