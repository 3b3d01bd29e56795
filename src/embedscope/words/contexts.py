"""A word's occurrences in texts, their snippets, and how their vectors cluster (texts and arrays only).

- :func:`occurrences`: every occurrence of a word (whole words, case-insensitive, the normalised form of
  :mod:`.tokens`) with its snippet: the sentence around it, or a window of the text when the sentence is long,
  and the occurrence's span inside the snippet.
- :func:`kmeans`, :func:`choose_k`: k-means on unit vectors (seeded); k chosen by silhouette.
- :func:`purity`, :func:`silhouette`: how well clusters match known labels; how well they are separated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tokens import normalise, tokens

#: Default snippet length bound, in characters.
WINDOW = 400
#: Silhouettes are measured on at most this many points (a seeded sample above).
SILHOUETTE_SAMPLE = 3000
#: k is chosen in this range when no labels give it.
K_RANGE = (2, 6)

#: The end of a sentence: ., ! or ? (closing quotes/brackets allowed) then white space; or a blank line.
SENTENCE_END = re.compile(r"[.!?…][\"'’”)\]]*\s+|\n\s*\n")


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a word.

    Attributes
    ----------
    index
        Position of the source text in the input sequence.
    start, end
        The occurrence's character span in the source text.
    snippet
        The sentence (or window) around it.
    snippet_start, snippet_end
        The occurrence's span inside ``snippet``.
    form
        The word as written.
    """

    index: int
    start: int
    end: int
    snippet: str
    snippet_start: int
    snippet_end: int
    form: str


def snippet(text: str, start: int, end: int, window: int = WINDOW) -> tuple[str, int, int]:
    """The sentence of ``text`` around ``[start, end)``, cut to about ``window`` characters around the span when
    it is longer (at white space when there is some); returns the snippet and the span inside it.

    White space at the snippet's ends is stripped; inner white space runs (line breaks) are kept as they are, so
    the span stays exact.
    """
    lo = 0
    for m in SENTENCE_END.finditer(text, 0, start):
        lo = m.end()
    stop = SENTENCE_END.search(text, end)
    hi = stop.start() + len(stop.group().rstrip()) if stop else len(text)
    if hi - lo > window:
        half = max(0, (window - (end - start)) // 2)
        a, b = max(lo, start - half), min(hi, end + half)
        # give what one side cannot use to the other
        a = max(lo, min(a, b - window))
        b = min(hi, max(b, a + window))
        if a > lo:
            sp = text.find(" ", a, start)
            a = sp + 1 if sp >= 0 else a
        if b < hi:
            sp = text.rfind(" ", end, b)
            b = sp if sp >= 0 else b
        lo, hi = a, b
    while lo < start and text[lo].isspace():
        lo += 1
    while hi > end and text[hi - 1].isspace():
        hi -= 1
    return text[lo:hi], start - lo, end - lo


def occurrences(texts: Iterable[str | None], word: str, *, window: int = WINDOW,
                limit: int | None = None) -> list[Occurrence]:
    """Every occurrence of ``word`` in ``texts``: whole words, compared in their normalised form (case-folded,
    typographic apostrophes as ``'``), in text order.

    Parameters
    ----------
    texts
        The texts (``None`` is an empty text).
    word
        One word as :func:`.tokens.words` finds them.
    window
        Snippet length bound, in characters (:func:`snippet`).
    limit
        Stop after this many occurrences.
    """
    target = normalise(word.strip())
    out: list[Occurrence] = []
    for i, text in enumerate(texts):
        if not text or target[:1] not in text.casefold():
            continue
        for t in tokens(text):
            if t.word != target:
                continue
            snip, s, e = snippet(text, t.start, t.end, window)
            out.append(Occurrence(i, t.start, t.end, snip, s, e, text[t.start:t.end]))
            if limit is not None and len(out) >= limit:
                return out
    return out


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64; zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def kmeans(x: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """k-means of the unit vectors of ``x`` (shape ``(n, d)``); int32 labels, shape ``(n,)``."""
    from sklearn.cluster import KMeans

    u = unit(x)
    k = max(1, min(int(k), len(u)))
    if k == 1:
        return np.zeros(len(u), np.int32)
    return KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(u).astype(np.int32)


def silhouette(x: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> float | None:
    """Mean cosine silhouette of ``labels`` on ``x`` (shape ``(n, d)``), on a seeded sample of at most
    :data:`SILHOUETTE_SAMPLE` points; ``None`` with fewer than 2 clusters or every point its own cluster."""
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    k = len(np.unique(labels))
    if k < 2 or k >= len(labels):
        return None
    sample = SILHOUETTE_SAMPLE if len(labels) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(unit(x), labels, metric="cosine", sample_size=sample, random_state=seed))


def choose_k(x: np.ndarray, *, k_range: tuple[int, int] = K_RANGE, seed: int = 0) -> tuple[int, np.ndarray]:
    """k in ``k_range`` (inclusive) whose k-means has the best silhouette, and its labels."""
    lo, hi = k_range
    hi = min(hi, len(x) - 1)
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(lo, hi + 1):
        labels = kmeans(x, k, seed=seed)
        s = silhouette(x, labels, seed=seed)
        if s is not None and (best is None or s > best[0]):
            best = (s, k, labels)
    if best is None:
        return 1, np.zeros(len(x), np.int32)
    return best[1], best[2]


def purity(clusters: np.ndarray, labels: Sequence[Any]) -> float | None:
    """Cluster purity against known labels: the share of points whose cluster's most common label is theirs.

    Points whose label is ``None`` (or NaN) are left out; ``None`` when none is left.
    """
    keep = [i for i, v in enumerate(labels) if v is not None and v == v]
    if not keep:
        return None
    c = np.asarray(clusters)[keep]
    lab = [str(labels[i]) for i in keep]
    hits = 0
    for cl in np.unique(c):
        members = [lab[i] for i in np.flatnonzero(c == cl)]
        hits += max(members.count(v) for v in set(members))
    return hits / len(keep)
