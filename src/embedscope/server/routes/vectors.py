"""Vectors you can look at: one item's vector, a pair taken apart, "which is closer?" and analogies, on any space.

- ``GET /vectors/{row}``: the item's vector, ``value`` float32 one row a dimension, as an Arrow IPC stream;
- ``GET /vectors/lookup?q=...``: items whose id (first) or text holds ``q``, for the pickers' suggestions;
- ``POST /vectors/pair``: two items' cosine, dot, euclidean and manhattan, both norms, the dimensions of their
  element-wise product (whose sum is the dot product) with the largest magnitude, and the pair's rank among all
  pairs of the space (exact when that is cheap, else estimated from a seeded sample, with its interval);
- ``POST /vectors/closer``: A, B, C -> under each metric which of B and C is closer to A, both scores and ranks
  (:func:`embedscope.analyses.similarity.closer`);
- ``POST /vectors/analogy``: plus and minus items -> the nearest items (cosine) to the sum of their unit vectors,
  the inputs left out (:meth:`embedscope.Scope.arithmetic`).

Items are named by ``{"row": N}`` (point order) or ``{"id": "king"}``; an unknown id or row is a 404 naming it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from ...analyses.pairs import pair_rank, pair_scores_of, top_products
from ...analyses.similarity import closer
from ...errors import InputError, WorkspaceError
from ...search.exact import METRICS, higher_is_closer
from ..arrow import ARROW_CACHED
from ..snippets import snippets
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/vectors", tags=["vectors"])

Metric = Literal["cosine", "dot", "euclidean", "manhattan"]
#: Suggestions a lookup returns at most.
MAX_LOOKUP = 50
#: Items on each side of an analogy at most.
MAX_TERMS = 10


class ItemRef(BaseModel):
    """An item, by its row in point order or by its id (exactly one of them)."""

    row: int | None = Field(None, ge=0)
    id: str | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one(self) -> ItemRef:
        if (self.row is None) == (self.id is None):
            raise ValueError('name the item by "row" or by "id" (exactly one)')
        return self


class ItemBrief(BaseModel):
    row: int
    id: str
    #: The text cut to a snippet (``null`` without texts).
    text: str | None


class NormsOut(BaseModel):
    a: float
    b: float


class ProductDim(BaseModel):
    """One dimension of the element-wise product: ``product = a * b``."""

    dim: int
    a: float
    b: float
    product: float


class PairRankOut(BaseModel):
    """The pair among all ``pairs`` pairs of distinct items: ``rank`` 1 = the closest pair of the space.

    Exact (``exact``): 1 + the pairs strictly closer, ``ties`` other pairs with the same score, ``low..high`` the
    ranks the ties share. Estimated: from ``sample`` pairs drawn with ``seed``; ``low..high`` a 95 % interval."""

    metric: str
    score: float
    rank: int
    pairs: int
    exact: bool
    ties: int
    closer_fraction: float
    low: int
    high: int
    sample: int | None = None
    seed: int | None = None


class PairIn(BaseModel):
    a: ItemRef
    b: ItemRef
    #: How many of the product's dimensions (largest magnitude first).
    top: int = Field(10, ge=1, le=100)
    #: The metric the pair is ranked by.
    metric: Metric = "cosine"


class PairOut(BaseModel):
    a: ItemBrief
    b: ItemBrief
    dims: int
    cosine: float
    dot: float
    euclidean: float
    manhattan: float
    norms: NormsOut
    #: The dimensions of ``a * b`` with the largest ``|a_i b_i|``; all of them sum to ``dot``.
    top: list[ProductDim]
    rank: PairRankOut


class CloserIn(BaseModel):
    a: ItemRef
    b: ItemRef
    c: ItemRef


class CloserMetric(BaseModel):
    """Under one metric: which of B and C is closer to A, their scores and ranks among all items seen from A."""

    metric: str
    #: cosine and dot: higher is closer; euclidean and manhattan: lower is.
    higher_is_closer: bool
    closer: Literal["b", "c", "tie"]
    #: The id of the closer item (``null`` for a tie).
    closer_id: str | None
    score_b: float
    score_c: float
    rank_b: int
    rank_c: int
    #: Items ranked (A left out).
    n: int


class CloserOut(BaseModel):
    a: ItemBrief
    b: ItemBrief
    c: ItemBrief
    metrics: list[CloserMetric]


class AnalogyIn(BaseModel):
    plus: list[ItemRef] = Field(..., min_length=1, max_length=MAX_TERMS)
    minus: list[ItemRef] = Field(default_factory=list, max_length=MAX_TERMS)
    k: int = Field(10, ge=1, le=100)


class AnalogyHit(BaseModel):
    row: int
    id: str
    #: Cosine similarity to the combined vector.
    score: float
    text: str | None


class AnalogyOut(BaseModel):
    plus: list[ItemBrief]
    minus: list[ItemBrief]
    #: Best first; the inputs are left out.
    results: list[AnalogyHit]


# ----------------------------------------------------------------------------------------- helpers
def _vectors(state: ExplorerState, space: str) -> np.ndarray:
    """The space's vectors, float32 ``(n, d)`` in point order (read once per workspace version)."""
    state.check_space(space)
    return state.cached(("vectors", space), lambda: np.asarray(state.scope.vectors(space)[1]))


def _positions(state: ExplorerState, space: str) -> dict[str, int]:
    return state.cached(("positions", space), lambda: {i: r for r, i in enumerate(state.point_ids(space))})


def _row(state: ExplorerState, space: str, ref: ItemRef) -> int:
    if ref.row is not None:
        return state.check_row(space, ref.row)
    assert ref.id is not None
    row = _positions(state, space).get(ref.id)
    if row is None:
        raise WorkspaceError(f"no item with id {ref.id!r} in space {space!r}")
    return row


def _briefs(state: ExplorerState, space: str, rows: list[int]) -> list[ItemBrief]:
    ids = state.point_ids(space)
    return [ItemBrief(row=r, id=ids[r], text=t) for r, t in zip(rows, snippets(state.texts(space), rows), strict=True)]


# ------------------------------------------------------------------------------------------ routes
@router.get("/lookup", response_model=list[ItemBrief])
def lookup(
    space: str,
    q: str = Query(..., min_length=1, max_length=1000, description="Part of an id or a text."),
    k: int = Query(10, ge=1, le=MAX_LOOKUP, description="At most this many (1..50)."),
    state: ExplorerState = Depends(get_state),
) -> list[ItemBrief]:
    """Items to pick by typing: the id equal to ``q`` first, then ids starting with it, then ids or texts holding
    it (case-insensitive), each group in point order."""
    ids = state.point_ids(space)
    needle = q.strip().casefold()
    if not needle:
        return []

    def find() -> list[int]:
        folded = state.cached(("ids_folded", space), lambda: [i.casefold() for i in ids])
        texts = state.texts(space)
        exact = [r for r, i in enumerate(folded) if i == needle]
        starts = [r for r, i in enumerate(folded) if i.startswith(needle) and i != needle]
        found = set(exact) | set(starts)
        rest: list[int] = []
        if len(found) < k:
            text_list = state.cached(("texts_folded", space),
                                     lambda: [] if texts is None else [str(t or "").casefold() for t in texts.to_pylist()])
            for r, i in enumerate(folded):
                if r not in found and (needle in i or (text_list and needle in text_list[r])):
                    rest.append(r)
                    if len(found) + len(rest) >= k:
                        break
        return (exact + starts + rest)[:k]

    return _briefs(state, space, state.recent(("lookup", space, needle, k), find))


@router.get("/{row}", response_class=Response, responses=ARROW_CACHED)
def vector(space: str, request: Request, row: int = Path(ge=0, description="Row in point order (0-based)."),
           state: ExplorerState = Depends(get_state)) -> Response:
    """The item's vector: ``value`` float32, one row a dimension, as an Arrow IPC stream."""
    state.check_row(space, row)
    x = _vectors(state, space)
    return state.send_blob(request, state.blob_of(("vector", space, row),
                                                  pa.table({"value": pa.array(x[row], type=pa.float32())})))


@router.post("/pair", response_model=PairOut)
def pair(space: str, body: PairIn, state: ExplorerState = Depends(get_state)) -> PairOut:
    """Two items side by side: every score, both norms, the top dimensions of their product and the pair's rank
    among all pairs of the space."""
    x = _vectors(state, space)
    a, b = _row(state, space, body.a), _row(state, space, body.b)
    if a == b:
        raise InputError("choose two different items to compare")
    scores = pair_scores_of(x[a], x[b])
    dims, products = top_products(x[a], x[b], body.top)
    ranked = state.recent(("pair_rank", space, min(a, b), max(a, b), body.metric),
                          lambda: pair_rank(x, a, b, body.metric))
    ba, bb = _briefs(state, space, [a, b])
    return PairOut(
        a=ba, b=bb, dims=int(x.shape[1]), cosine=scores.cosine, dot=scores.dot, euclidean=scores.euclidean,
        manhattan=scores.manhattan, norms=NormsOut(a=scores.norm_a, b=scores.norm_b),
        top=[ProductDim(dim=int(d), a=float(x[a, d]), b=float(x[b, d]), product=float(p))
             for d, p in zip(dims, products, strict=True)],
        rank=PairRankOut(**ranked.to_json()))


@router.post("/closer", response_model=CloserOut)
def which_closer(space: str, body: CloserIn, state: ExplorerState = Depends(get_state)) -> CloserOut:
    """Which of B and C is closer to A under cosine, dot, euclidean and manhattan, with both scores and ranks."""
    x = _vectors(state, space)
    a, b, c = (_row(state, space, r) for r in (body.a, body.b, body.c))
    if a in (b, c):
        raise InputError("A must differ from B and from C")
    ids = state.point_ids(space)
    out = []
    for metric in METRICS:
        found = closer(x, a, b, c, metric)
        who = found.closer
        out.append(CloserMetric(
            metric=metric, higher_is_closer=higher_is_closer(metric), closer=who,  # type: ignore[arg-type]
            closer_id=None if who == "tie" else ids[b if who == "b" else c], score_b=found.score_b,
            score_c=found.score_c, rank_b=found.rank_b, rank_c=found.rank_c, n=found.n))
    ba, bb, bc = _briefs(state, space, [a, b, c])
    return CloserOut(a=ba, b=bb, c=bc, metrics=out)


@router.post("/analogy", response_model=AnalogyOut)
def analogy(space: str, body: AnalogyIn, state: ExplorerState = Depends(get_state)) -> AnalogyOut:
    """The items nearest (cosine) to ``sum(plus) - sum(minus)`` of unit vectors, the inputs left out
    (``king - man + woman`` -> ``queen``)."""
    state.check_space(space)
    plus = [_row(state, space, r) for r in body.plus]
    minus = [_row(state, space, r) for r in body.minus]
    ids = state.point_ids(space)
    with state.lock:
        found = state.scope.arithmetic([ids[r] for r in plus], [ids[r] for r in minus], k=body.k, space=space)
    rows = [int(r) for r in found.rows]
    texts = snippets(state.texts(space), rows)
    results = [AnalogyHit(row=r, id=ids[r], score=float(s), text=t)
               for r, s, t in zip(rows, found.scores, texts, strict=True)]
    return AnalogyOut(plus=_briefs(state, space, plus), minus=_briefs(state, space, minus), results=results)
