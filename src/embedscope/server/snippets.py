"""Texts cut to a snippet, as the panel, the neighbour list and the search hits show them."""

from __future__ import annotations

import pyarrow as pa

#: Texts are cut to this many characters (the panel shows a snippet; the item endpoint has it all).
SNIPPET_CHARS = 300


def snippet(text: str | None, chars: int = SNIPPET_CHARS) -> str | None:
    """``text`` cut to ``chars`` characters, the last one an ellipsis when cut (``None`` stays ``None``)."""
    if text is not None and len(text) > chars:
        return text[: chars - 1] + "…"
    return text


def snippets(texts: pa.ChunkedArray | pa.Array | None, rows: list[int]) -> list[str | None]:
    """The texts of ``rows``, each cut to :data:`SNIPPET_CHARS` characters (``None`` where there is no text)."""
    if texts is None or not rows:
        return [None] * len(rows)
    return [snippet(value) for value in texts.take(rows).to_pylist()]
