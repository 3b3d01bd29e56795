"""One item (text + metadata) and its nearest neighbours, by point-order row.

The two requests a browsing user sends most, a neighbour lookup answered from the stored kNN graph and a page of
items, are answered on the event loop when everything they read is already cached (a slice of cached arrays:
no workspace read, no lock), and sent as JSON bytes made from the response model; FastAPI's sync path would
run the route and then the response's validation and serialisation in the thread pool, two thread hops that
cost more than the answer (docs/BENCHMARKS.md, "Load on the server"). Anything else runs in the thread pool.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ...store.tables import neighbors_table
from ..columns import RESERVED, jsonable
from ..protocol import ScopeAPI
from ..queries import space_scan
from ..snippets import SNIPPET_CHARS, snippet, snippets
from ..state import ExplorerState, get_state
from ..thumbs import IDS_KEY, image_ids

router = APIRouter(prefix="/api/spaces/{space}/items", tags=["items"])

MAX_K = 1000
#: Spaces bigger than this answer neighbour queries by a scan until their kNN graph is stored.
SCAN_ABOVE = 20_000
Metric = Literal["cosine", "dot", "euclidean", "manhattan"]


class ItemOut(BaseModel):
    row: int
    id: str
    text: str | None
    #: The item's metadata columns (whatever the workspace holds; NaN and inf as null).
    metadata: dict[str, JsonValue]
    #: ``/api/thumbs/{id}`` has a thumbnail of it.
    has_image: bool = False


class NeighborOut(BaseModel):
    row: int
    id: str
    score: float
    text: str | None
    has_image: bool = False


class GraphOut(BaseModel):
    """How the stored kNN graph that answered was made; approximate graphs carry their measured recall@10."""

    model_config = ConfigDict(populate_by_name=True)
    exact: bool
    method: str
    k: int
    recall_at_10: float | None = Field(None, alias="recall@10", description="Against exact search, on sampled items.")
    recall_sample: int | None = None


class NeighborsOut(BaseModel):
    row: int
    id: str
    metric: str
    k: int
    neighbors: list[NeighborOut]
    #: ``null`` when the answer is an exact scan rather than the stored graph.
    graph: GraphOut | None = None


class ItemsPageOut(BaseModel):
    """A page of a space's items in point order: ``items[i]`` is row ``offset + i``; texts cut to 300 characters."""

    total: int
    offset: int
    items: list[ItemOut]


Row = Path(ge=0, description="Row in point order (0-based).")
#: Items in one page of ``/items``.
MAX_PAGE = 1000


@router.get("", response_model=ItemsPageOut)
async def list_items(
    space: str,
    offset: int = Query(0, ge=0, description="Skip this many items (point order)."),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description="At most this many items (1..1000)."),
    state: ExplorerState = Depends(get_state),
) -> Response:
    """Items ``offset .. offset + limit - 1`` of ``space``: row, id, text snippet and metadata."""
    if _items_cached(state, space):
        return _json(_page(state, space, offset, limit))
    return _json(await run_in_threadpool(_page, state, space, offset, limit))


def _page(state: ExplorerState, space: str, offset: int, limit: int) -> ItemsPageOut:
    ids = state.point_ids(space)
    page = state.items(space).slice(offset, limit).to_pylist() if offset < len(ids) else []
    out = []
    images = image_ids(state)
    for i, record in enumerate(page):
        out.append(ItemOut(row=offset + i, id=ids[offset + i], text=snippet(record.get("text"), SNIPPET_CHARS),
                           metadata={k: jsonable(v) for k, v in record.items() if k not in RESERVED},
                           has_image=ids[offset + i] in images))
    return ItemsPageOut(total=len(ids), offset=offset, items=out)


def _json(model: BaseModel) -> Response:
    """``model`` as FastAPI would send it for the route's ``response_model`` (by alias), without validating it
    again."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


def _items_cached(state: ExplorerState, space: str) -> bool:
    """Whether the space's ids, items and texts are cached (reading them is then a slice, fit for the event
    loop); an unknown space is not (the thread-pool path answers its 404)."""
    spaces, items = state.peek(("spaces",), ()), state.peek(("items", space))
    if space not in spaces or items is None or state.peek(("ids", space)) is None or state.peek(IDS_KEY) is None:
        return False
    return "text" not in items.column_names or state.peek(("texts", space)) is not None


@router.get("/{row}", response_model=ItemOut)
def get_item(space: str, row: int = Row, state: ExplorerState = Depends(get_state)) -> ItemOut:
    """The item at ``row``: id, full text (``null`` without texts) and metadata."""
    state.check_row(space, row)
    items = state.items(space)
    record = items.slice(row, 1).to_pylist()[0]
    text = record.get("text")
    metadata = {k: jsonable(v) for k, v in record.items() if k not in RESERVED}
    item_id = state.point_ids(space)[row]
    return ItemOut(row=row, id=item_id, text=text, metadata=metadata, has_image=item_id in image_ids(state))


@router.get("/{row}/neighbors", response_model=NeighborsOut)
async def get_neighbors(
    space: str,
    row: int = Row,
    k: int = Query(10, ge=1, le=MAX_K, description="How many neighbours (1..1000)."),
    metric: Metric = Query("cosine", description="cosine, dot (similarities) or euclidean, manhattan (distances)."),
    spec: str | None = Query(None, alias="filter", max_length=20_000,
                             description="Only neighbours that pass this metadata filter (see embedscope.search.filters)."),
    state: ExplorerState = Depends(get_state),
) -> Response:
    """The ``k`` nearest neighbours of the item at ``row``, best first, the item itself left out (with
    ``filter``: among the items that pass it, by an exact scan)."""
    if spec is None and metric == "cosine" and _items_cached(state, space) and _graph_cached(state, space, k):
        return _json(_neighbors(state, space, row, k, metric, spec))
    return _json(await run_in_threadpool(_neighbors, state, space, row, k, metric, spec))


def _neighbors(state: ExplorerState, space: str, row: int, k: int, metric: str, spec: str | None) -> NeighborsOut:
    from .filter import filter_mask

    state.check_row(space, row)
    item_id = state.point_ids(space)[row]
    keep = filter_mask(state, space, spec)
    if keep is None:
        ids, rows, scores, graph = _find(state, space, row, k, metric)
    else:
        ids, rows, scores = _find_within(state, space, row, k, metric, keep)
        graph = None
    snips = snippets(state.texts(space), rows)
    images = image_ids(state)
    neighbors = [NeighborOut(row=r, id=str(i), score=float(s), text=t, has_image=str(i) in images)
                 for r, i, s, t in zip(rows, ids, scores, snips, strict=True)]
    return NeighborsOut(row=row, id=item_id, metric=metric, k=k, neighbors=neighbors,
                        graph=GraphOut.model_validate(graph) if graph else None)


def _graph_cached(state: ExplorerState, space: str, k: int) -> bool:
    """Whether :func:`_from_graph` answers ``k`` neighbours from cached arrays (no lock, no read)."""
    found = state.peek(("graph", space))  # None: not read yet, or no graph
    return found is not None and k <= found[0].indices.shape[1]


def _find(state: ExplorerState, space: str, row: int, k: int, metric: str
          ) -> tuple[list[str], list[int], list[float], dict[str, Any] | None]:
    """Neighbours from the Scope; one scan instead when the space is big and has no stored graph yet.

    ``Scope.neighbors`` builds the space's whole kNN graph on first need (quadratic: minutes at 200k
    points); a click in the browser must not wait for that, so big spaces without a graph answer with
    one scan of the space's query scan (the one search uses: milliseconds, hits rescored exactly) and leave
    the graph to ``embedscope project`` / the CLI.
    """
    hit = _from_graph(state, space, row, k) if metric == "cosine" else None
    if hit is not None:
        return hit
    scope = state.scope
    with state.lock:
        big = metric == "cosine" and state.count(space) > SCAN_ABOVE and not _has_graph(scope, space)
    if big:
        scan = space_scan(state, space)
        rows, scores = scan.top(scan.vectors[row], k, exclude=[row])
        ids = state.point_ids(space)
        return [ids[i] for i in rows], [int(r) for r in rows], [float(s) for s in scores], None
    with state.lock:
        found = scope.neighbors(state.point_ids(space)[row], k=k, metric=metric, space=space)
    return list(found.ids), [int(r) for r in found.rows], [float(s) for s in found.scores], found.graph


def _from_graph(state: ExplorerState, space: str, row: int, k: int
                ) -> tuple[list[str], list[int], list[float], dict[str, Any] | None] | None:
    """The common click, answered from the stored graph's arrays without taking the Scope's lock (a query being
    embedded holds it for tens of milliseconds); ``None`` when there is no fresh graph or it is shorter than
    ``k``, and :func:`_find` asks the Scope. The same rows and scores as ``Scope.neighbors`` (which reads the
    same graph), decoded once per workspace version."""

    def load() -> tuple[Any, dict[str, Any]] | None:
        info = state.scope.graph_info(space)
        if info is None or int(info.get("k", 0)) < 1:
            return None
        return state.scope.knn(space, int(info["k"])), info

    found = state.cached(("graph", space), load)
    if found is None or k > found[0].indices.shape[1]:
        return None
    graph, info = found
    rows = [int(r) for r in graph.indices[row, :k]]
    ids = state.point_ids(space)
    return [ids[r] for r in rows], rows, [float(x) for x in graph.scores[row, :k]], info


def _find_within(state: ExplorerState, space: str, row: int, k: int, metric: str, keep: np.ndarray
                 ) -> tuple[list[str], list[int], list[float]]:
    """Neighbours of ``row`` among the points where ``keep`` holds (one scan of the space, hits exact)."""
    scan = space_scan(state, space)
    rows, scores = scan.top(scan.vectors[row], k, metric=metric, keep=keep, exclude=[row])
    ids = state.point_ids(space)
    return [ids[i] for i in rows], [int(i) for i in rows], [float(s) for s in scores]


def _has_graph(scope: ScopeAPI, space: str) -> bool:
    return scope.store.record(neighbors_table(space)) is not None
