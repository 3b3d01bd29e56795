"""Search a space: by meaning (the query embedded with the space's own model, or, for a space with no text model,
with a text space's model and a kept translator: ``route`` says which) or by words (every word of the query as a
whole word in the texts or the string metadata; not a substring: ``test`` does not find "testament").

- ``GET /search?q=...&mode=semantic|keyword&k=...``: the ranked hits (row, id, score, snippet), how many
  items match (keyword) and, for semantic search, a histogram of the query's cosine similarity to every item with
  the score of the k-th hit (the cut);
- ``GET /search/scores?q=...&mode=...``: ``score`` float32 in point order as an Arrow IPC stream (cosine
  similarity, or 1/0 for a keyword match), to light the map up.

Semantic queries go through the space's :class:`~embedscope.server.queries.SpaceQueries`: the two requests of
one search (and any others for the same text) share one scan; concurrent queries are embedded one text a call and
scored together (:class:`~embedscope.server.batcher.QueryBatcher`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from ...errors import InputError
from ...search.scan import score_histogram
from ...words.keyword import keyword_match
from ..arrow import ARROW_ONLY, arrow_response
from ..batcher import QueryBatcher
from ..columns import RESERVED, jsonable
from ..figures import Figure
from ..queries import space_queries
from ..snippets import snippets
from ..state import ExplorerState, get_state
from ..thumbs import image_ids
from .filter import FILTER, filter_mask

router = APIRouter(prefix="/api/spaces/{space}/search", tags=["search"])

MAX_QUERY_CHARS = 2000
MAX_K = 1000
HISTOGRAM_BINS = 40
Mode = Literal["semantic", "keyword"]

Q = Query(..., min_length=1, max_length=MAX_QUERY_CHARS, description="The query text (1..2000 characters).")
MODE = Query("semantic", description="semantic: by meaning, with the space's model; keyword: substring match.")


class Hit(BaseModel):
    row: int
    id: str
    #: Cosine similarity to the query (semantic), or 1.0 (keyword match).
    score: float
    text: str | None
    #: ``/api/thumbs/{id}`` has a thumbnail of it.
    has_image: bool = False


class Histogram(BaseModel):
    #: ``len(counts) + 1`` bin edges (cosine similarity).
    edges: list[float]
    counts: list[int]


class QueryRoute(BaseModel):
    """How a semantic query was embedded into the space."""

    #: ``model``: a model with a text side (the space's own, or its source's); ``translator``: the model of the
    #: text space ``via``, then a translator fitted from it to this space.
    route: Literal["model", "translator"]
    space: str
    #: The model that embedded the query text.
    model: str
    via: str | None = None
    method: str | None = None
    #: The translator's held-out recall@10, and the mean-vector baseline's.
    recall_at_10: Figure = None
    baseline_recall_at_10: Figure = None
    protocol: str | None = None
    n_test: int | None = None


class SearchOut(BaseModel):
    query: str
    mode: str
    k: int
    #: Items that match (keyword) or that were scored (semantic: every item).
    total: int
    hits: list[Hit]
    #: Semantic search: the distribution of the query's similarity to every item, and the k-th hit's score.
    histogram: Histogram | None
    cut: float | None
    #: Semantic search: how the query was embedded (``null`` for keyword search).
    route: QueryRoute | None = None


def _scores(state: ExplorerState, space: str, q: str, mode: str) -> np.ndarray:
    """``(n,)`` float32 in point order: cosine similarity to the query, or 1/0 for a keyword match."""
    q = _text(q)
    if mode == "keyword":
        return state.recent(("keyword", space, q.casefold()), lambda: _keyword(state, space, q))
    return space_queries(state, space).scored(q).scores


def _text(q: str) -> str:
    q = q.strip()
    if not q:
        raise InputError("the query is empty")
    return q


def _batcher(state: ExplorerState, space: str) -> QueryBatcher:
    """The space's query batcher (one per workspace version)."""
    return space_queries(state, space).batcher


def _keyword(state: ExplorerState, space: str, q: str) -> np.ndarray:
    """1/0 per point: the item's text columns contain every word of ``q`` as whole words
    (:func:`embedscope.words.keyword.keyword_match`)."""
    items = state.items(space)
    cols = [items.column(name) for name in items.column_names
            if (name == "text" or name not in RESERVED[1:])
            and (pa.types.is_string(items.column(name).type) or pa.types.is_large_string(items.column(name).type))]
    if not cols:
        return np.zeros(items.num_rows, dtype=np.float32)
    return keyword_match(cols, q).astype(np.float32)


@router.get("", response_model=SearchOut)
def search(
    space: str,
    q: str = Q,
    mode: Mode = MODE,
    k: int = Query(20, ge=1, le=MAX_K, description="How many hits (1..1000)."),
    spec: str | None = FILTER,
    state: ExplorerState = Depends(get_state),
) -> SearchOut:
    """The ``k`` best hits for ``q`` in ``space``; for semantic search also the similarity histogram. With
    ``filter``, only items that pass it are hits, counted and in the histogram."""
    state.check_space(space)
    queries = None if mode == "keyword" else space_queries(state, space)
    found = None if queries is None else queries.scored(_text(q))
    scores = _scores(state, space, q, mode) if found is None else found.scores
    keep = filter_mask(state, space, spec)
    ids = state.point_ids(space)
    if mode == "keyword":
        match = scores > 0 if keep is None else (scores > 0) & keep
        rows = np.flatnonzero(match)[:k]
        total = int(match.sum())
        histogram, cut = None, None
    else:
        assert queries is not None and found is not None
        # hits rescored exactly (the scan of a big space is int8; see embedscope.search.scan), only items that pass
        rows, exact = queries.top(found, k, keep)
        k = len(rows)
        counts, edges, total = score_histogram(scores, HISTOGRAM_BINS, keep, span=found.span if keep is None else None)
        histogram = Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts])
        cut = float(exact[-1]) if len(rows) else None
    row_list = [int(r) for r in rows]
    texts = snippets(state.texts(space), row_list)
    hit_scores = exact.tolist() if mode != "keyword" else [float(scores[r]) for r in row_list]
    images = image_ids(state)
    hits = [Hit(row=r, id=ids[r], score=float(sc), text=t, has_image=ids[r] in images)
            for r, sc, t in zip(row_list, hit_scores, texts, strict=True)]
    route = None if mode == "keyword" else QueryRoute(**jsonable(state.scope.query_route(space)))
    return SearchOut(query=q, mode=mode, k=k, total=total, hits=hits, histogram=histogram, cut=cut, route=route)


@router.get("/scores", response_class=Response, responses=ARROW_ONLY)
def search_scores(space: str, q: str = Q, mode: Mode = MODE, state: ExplorerState = Depends(get_state)) -> Response:
    """Every item's score for ``q`` (``score`` float32, point order) as an Arrow IPC stream."""
    state.check_space(space)
    scores = _scores(state, space, q, mode)
    return arrow_response(pa.table({"score": pa.array(scores, type=pa.float32())}), cache=False)
