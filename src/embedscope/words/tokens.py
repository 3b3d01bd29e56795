"""The tokeniser of word spaces, averaged word vectors and contexts: Unicode words in lower case.

One rule everywhere (the vocabulary, word2vec's training sentences, ``avg:`` embedders, finding a word's
occurrences): a word is a run of Unicode letters, digits or underscores, with inner apostrophes or hyphens kept
(``don't``, ``well-known``), lower-cased with :meth:`str.casefold`. Numbers alone are words too (``1984``); the
vocabulary may leave them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: A word: letters/digits/underscore runs joined by single inner apostrophes (' or ’) or hyphens.
WORD = re.compile(r"\w+(?:['’\-]\w+)*")


@dataclass(frozen=True)
class Token:
    """One word of a text: its lower-cased form and its character span ``[start, end)`` in the text."""

    word: str
    start: int
    end: int


def normalise(word: str) -> str:
    """A word as the vocabulary keys it (case-folded, typographic apostrophe as ``'``)."""
    return word.casefold().replace("’", "'")


def words(text: str) -> list[str]:
    """The words of ``text``, normalised, in order."""
    return [normalise(m.group()) for m in WORD.finditer(text)]


def tokens(text: str) -> Iterator[Token]:
    """The words of ``text`` with their character spans (for occurrences in context)."""
    for m in WORD.finditer(text):
        yield Token(normalise(m.group()), m.start(), m.end())
