"""The stored clustering of a space (``embedscope cluster``): the clusters as JSON, the labels as Arrow bytes.

- ``/clusters``: parameters, how many points are unclustered, and the clusters biggest first (paged), each
  with ``id``, ``size``, ``keywords`` and ``label`` (its top keywords);
- ``/clusters/labels``: ``cluster`` int32 in point order, -1 for unclustered points.

Both are 404 when the space has no clustering. Cluster centres are not sent: they depend on the layout
shown, and the browser computes them from the coordinates it already has.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, JsonValue

from ..arrow import ARROW_CACHED
from ..columns import jsonable
from ..state import Blob, ExplorerState, get_state

router = APIRouter(prefix="/api/spaces/{space}/clusters", tags=["clusters"])

#: Clusters in one page of ``/clusters``.
MAX_CLUSTERS = 10_000


class ClusterOut(BaseModel):
    id: int
    size: int
    keywords: list[str]
    label: str


class ClustersOut(BaseModel):
    """A page of a space's clusters, biggest first (ties by id)."""

    #: The parameters the clustering was made with, as recorded (free-form).
    params: dict[str, JsonValue]
    #: Points left out of every cluster (HDBSCAN's noise; label -1).
    unclustered: int
    #: Clusters in all (this page holds ``clusters[offset:offset + limit]``).
    total: int
    offset: int
    #: The vectors or the UMAP map the clustering came from changed since it was computed.
    stale: bool
    #: Changes whenever the clustering does; ``/clusters/labels?v=VERSION`` is then a new URL.
    version: str
    clusters: list[ClusterOut]


@router.get("", response_model=ClustersOut)
def get_clusters(
    space: str,
    offset: int = Query(0, ge=0, description="Skip this many clusters (biggest first)."),
    limit: int = Query(1000, ge=1, le=MAX_CLUSTERS, description="At most this many clusters (1..10000)."),
    state: ExplorerState = Depends(get_state),
) -> ClustersOut:
    """The clusters of ``space`` biggest first, with their keyword labels; 404 without a clustering."""

    def build() -> tuple[dict[str, JsonValue], int, list[ClusterOut]]:
        found = state.clustering(space)
        labels = np.asarray(found.labels)
        ordered = sorted(found.clusters, key=lambda c: (-int(c["size"]), int(c["id"])))
        clusters = [ClusterOut(id=int(c["id"]), size=int(c["size"]), keywords=[str(k) for k in c.get("keywords", [])],
                               label=str(c.get("label") or f"cluster {c['id']}")) for c in ordered]
        params = {str(k): jsonable(v) for k, v in found.params.items()}
        return params, int((labels < 0).sum()), clusters

    params, unclustered, clusters = state.cached(("clusters-json", space), build)
    return ClustersOut(params=params, unclustered=unclustered, total=len(clusters), offset=offset,
                       stale=state.clusters_stale(space), version=state.clusters_version(space),
                       clusters=clusters[offset: offset + limit])


@router.get("/labels", response_class=Response, responses=ARROW_CACHED)
def get_cluster_labels(space: str, request: Request, state: ExplorerState = Depends(get_state)) -> Response:
    """Each point's cluster id, ``cluster`` int32 in point order (-1: unclustered), as an Arrow IPC stream."""
    return state.send_blob(request, labels_blob(state, space))


def labels_blob(state: ExplorerState, space: str) -> Blob:
    """The Arrow bytes of ``/clusters/labels``, cached."""

    def table() -> pa.Table:
        labels = np.ascontiguousarray(state.clustering(space).labels, dtype=np.int32)
        return pa.table({"cluster": pa.array(labels, type=pa.int32())})

    return state.blob(("cluster-labels", space), table)
