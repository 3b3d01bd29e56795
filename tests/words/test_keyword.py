"""Keyword search matches whole words (issue 24 item 10): "test" is not "testament"."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from embedscope.errors import InputError
from embedscope.words.keyword import keyword_match

TEXTS = pa.array(["a test here", "testament", "Test, yes", "contest", "don’t stop", "naïve café", None,
                  "test_case", "retest"])


@pytest.mark.parametrize(("query", "rows"), [
    ("test", [0, 2]),          # whole word, any case; not testament, contest, retest, test_case
    ("TEST", [0, 2]),
    ("test yes", [2]),         # every word must be there
    ("yes, test!", [2]),       # punctuation of the query is ignored, order too
    ("don't", [4]),            # a straight apostrophe finds the typographic one
    ("café", [5]),             # non-ASCII words
    ("naïve", [5]),
])
def test_whole_words(query: str, rows: list[int]) -> None:
    assert np.flatnonzero(keyword_match([TEXTS], query)).tolist() == rows


def test_words_may_come_from_different_columns() -> None:
    title = pa.array(["moon", "sun", "moon"])
    body = pa.array(["rocket launch", "rocket", "sea"])
    assert np.flatnonzero(keyword_match([title, body], "moon rocket")).tolist() == [0]


def test_a_query_without_words_is_a_substring() -> None:
    emoji = pa.array(["I 😀 it", "plain", None])
    assert np.flatnonzero(keyword_match([emoji], "😀")).tolist() == [0]
    assert not keyword_match([TEXTS], "?!").any()
    with pytest.raises(InputError, match="empty"):
        keyword_match([TEXTS], "   ")
