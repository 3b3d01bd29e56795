"""Keyword search: items whose string columns contain every word of a query, as whole words.

The explorer's "by words" search. A word of the query (the words tokeniser, :mod:`embedscope.words.tokens`:
letters, digits, underscores, inner apostrophes and hyphens) matches where it stands alone in a column's
text, case-insensitively: ``test`` finds "a test" and "Test," but not "testament" or "contest". Every word of
the query must appear (in any of the columns, in any order). A query with no word at all (emoji, punctuation)
is matched as a substring. The filter's ``contains`` is the substring match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .tokens import words

#: What may not touch a matched word on either side (a letter, digit or underscore would make it a longer word).
_EDGE_BEFORE = r"(?:^|[^\pL\pN_])"
_EDGE_AFTER = r"(?:$|[^\pL\pN_])"


def word_pattern(word: str) -> str:
    """The RE2 pattern (pyarrow's regular expressions) of one normalised word standing alone, any case;
    an apostrophe matches the typographic one too."""
    body = "['’]".join(re.escape(part) for part in word.split("'"))
    return f"(?i){_EDGE_BEFORE}{body}{_EDGE_AFTER}"


def keyword_match(columns: Sequence[pa.Array | pa.ChunkedArray], query: str) -> np.ndarray:
    """Which rows contain every word of ``query`` as a whole word in at least one of ``columns``.

    Parameters
    ----------
    columns
        String columns of equal length ``n`` (nulls never match).
    query
        The words to find; punctuation between them is ignored.

    Returns
    -------
    np.ndarray
        ``(n,)`` bool.
    """
    wanted = list(dict.fromkeys(words(query)))
    n = len(columns[0]) if columns else 0
    if not wanted:  # no word to stand alone (emoji, punctuation): the text itself, as a substring
        text = query.strip()
        if not text:
            raise InputError("the query is empty")
        found = np.zeros(n, dtype=bool)
        for col in columns:
            m = pc.match_substring(col, pattern=text, ignore_case=True)
            found |= np.asarray(m.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        return found
    hit = np.ones(n, dtype=bool)
    for word in wanted:
        pattern = word_pattern(word)
        found = np.zeros(n, dtype=bool)
        for col in columns:
            m = pc.match_substring_regex(col, pattern=pattern)
            found |= np.asarray(m.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        hit &= found
    return hit
