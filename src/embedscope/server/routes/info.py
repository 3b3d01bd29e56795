"""``GET /api/info``: what the workspace holds (spaces, counts, layouts)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ...errors import WorkspaceError
from ..contexts import ContextsOut, contexts_of
from ..state import ExplorerState, get_state
from ..thumbs import has_images, images_version
from ..tuned import TunedOut, tuned_of

router = APIRouter(prefix="/api", tags=["info"])


class LayoutOut(BaseModel):
    """A stored layout and how honest it is (``embedscope quality``): ``null`` figures were not measured.

    ``label``, ``surface`` and ``rank`` are the method's traits: its name in menus, ``plane`` or ``sphere`` (a
    globe: coordinates are longitude and latitude), and the default choice (the lowest rank among plane
    layouts; layouts are listed in the workspace's order).
    """

    method: str
    k: int | None
    trustworthiness: float | None
    continuity: float | None
    knn_recall: float | None
    #: The figures were measured on this many sampled items (``null``: on every item).
    sampled: int | None = None
    stale: bool
    has_xyz: bool
    label: str
    surface: Literal["plane", "sphere"]
    rank: int


class SpaceOut(BaseModel):
    name: str
    kind: str
    model: str | None
    dim: int
    count: int
    layouts: list[LayoutOut]
    stale: bool
    #: A clustering is stored (``embedscope cluster``): ``/api/spaces/{space}/clusters`` answers.
    has_clusters: bool
    #: A space fine-tuned from ``base`` (``embedscope train``): its split sizes; ``/api/spaces/{space}/split``
    #: answers. ``null`` for any other space.
    tuned: TunedOut | None = None


class InfoOut(BaseModel):
    count: int
    default_space: str | None
    spaces: list[SpaceOut]
    has_text: bool
    #: Items have images: ``/api/thumbs/{id}`` answers for those whose ``has_image`` is true.
    images: bool = False
    #: Changes whenever the thumbnails do (``?v=`` of ``/api/thumbs/{id}``); ``null`` without images.
    images_version: str | None = None
    #: A contexts workspace (``embedscope contexts``): the word and its layers' spaces with their figures.
    contexts: ContextsOut | None = None


def _space_out(state: ExplorerState, name: str) -> SpaceOut:
    info = state.scope.space_info(name)
    return SpaceOut(name=info.name, kind=info.kind, model=info.model, dim=int(info.dim), count=int(info.count),
                    layouts=[LayoutOut(**q) for q in state.layout_summaries(name)], stale=bool(info.stale),
                    has_clusters=state.has_clusters(name), tuned=tuned_of(state.scope, name))


def build_info(state: ExplorerState) -> InfoOut:
    """What ``/api/info`` answers, once per workspace version."""

    def build() -> InfoOut:
        spaces = [_space_out(state, name) for name in state.spaces()]
        try:
            default = state.scope.default_space() if spaces else None
        except WorkspaceError:
            default = None
        images = has_images(state)
        return InfoOut(count=state.item_count(), default_space=default, spaces=spaces, has_text=state.has_text(),
                       images=images, images_version=images_version(state) if images else None,
                       contexts=contexts_of(state.scope) if spaces else None)

    return state.cached(("info",), build)


@router.get("/info", response_model=InfoOut)
def get_info(state: ExplorerState = Depends(get_state)) -> InfoOut:
    """Spaces with their model, dimension, count and stored layouts (with their honesty figures at ``k``:
    trustworthiness, continuity, kNN recall) and whether they have clusters; the default space; whether
    items have text and images."""
    return build_info(state)
