"""``embedscope project``, ``quality`` and ``cluster``: layouts with their honesty metrics, and clusters."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..errors import InputError
from ..projection import method_names, traits
from .common import ADDRESS, ENGINE, JSON, SPACE, WS, emit, err, open_scope, progress
from .console import Console


def project(
    ws: WS,
    space: SPACE = None,
    method: Annotated[str, typer.Option("--method", help=" | ".join(method_names()))] = "umap",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (layouts are reproducible).")] = 42,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=1000, help="Neighbourhood size of the honesty metrics.")] = 15,
    sample: Annotated[int | None, typer.Option("--sample", min=5, max=100_000_000, help="umap: fit on this many "
                                               "random items and place the rest with transform (default: all up "
                                               "to 100,000 items, 50,000 above).")] = None,
    engine: ENGINE = "local",
    address: ADDRESS = None,
    as_json: JSON = False,
) -> None:
    """Compute a layout of a space, measure how much it distorts, and store both.

    umap and tsne reuse the stored kNN graph; pca keeps 3 components (explained variance stored); sphere is
    the naive wrap of the flat UMAP map relaxed on a sphere by UMAP's forces, compared with the wrap itself (the
    better one is kept).
    Every layout gets trustworthiness, continuity and kNN recall at k, per item and on average. Above
    100,000 items without a stored kNN graph (embedscope knn), umap and pca measure them on a sample of
    items (each ranked exactly against all items) instead of building the graph first.
    With --engine ray (umap), a space fitted on a sample (above 100,000 items, or --sample) has the other
    items placed by Ray tasks: the same layout.
    """
    if sample is not None and not traits(method).sampled:
        sampled = " or ".join(m for m in method_names() if traits(m).sampled)
        raise InputError(f"--sample is for {sampled} layouts, not {method}")
    scope = open_scope(ws)
    with progress(not as_json) as cb:
        lay = scope.project(space, method, seed=seed, k=k, progress=cb, engine=engine, address=address,
                            **({"sample": sample} if sample is not None else {}))
    doc = {"space": lay.space, "method": lay.method, "count": len(lay.ids),
           "params": {key: v for key, v in lay.params.items() if key != "request"}, "quality": lay.quality,
           "metrics": {key: v for key, v in lay.metrics.items() if key != "quality"}}
    if as_json:
        emit(doc)
    else:
        q = lay.quality
        err.print(f"stored {lay.method} layout of {len(lay.ids)} points of space {lay.space!r}: "
                  f"trustworthiness@{q['k']} {q['trustworthiness']:.3f}, continuity {q['continuity']:.3f}, "
                  f"kNN recall {q['knn_recall']:.3f}")


def quality(ws: WS, space: SPACE = None, as_json: JSON = False) -> None:
    """The stored layouts of a space with their honesty metrics (how much each map distorts).

    JSON: {"space": str, "layouts": [{"method", "k", "trustworthiness", "continuity", "knn_recall",
    "rank_correlation", "sampled", "n", "stale", "params", ...}]}; "n" items on the map, "sampled" the number the
    figures were measured on (null: all of them).
    """
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    rows = scope.quality(space)
    if as_json:
        emit({"space": space, "layouts": rows})
        return
    t = Table("method", "k", "trustworthiness", "continuity", "kNN recall", "rank corr.", "items", "measured on",
              "stale",
              title=f"layouts of {space!r}: how much each map distorts (1 = no distortion)")
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for r in rows:
        t.add_row(r["method"], str(r["k"]), f(r["trustworthiness"]), f(r["continuity"]), f(r["knn_recall"]),
                  f(r["rank_correlation"]), f"{r['n']:,}",
                  f"{r['sampled']:,} sampled" if r.get("sampled") else "all", "yes" if r["stale"] else "")
    Console().print(t)
    if not rows:
        err.print(f"no layouts yet: embedscope project {ws} --space {space}")


def cluster_cmd(
    ws: WS,
    space: SPACE = None,
    method: Annotated[str, typer.Option("--method", help="hdbscan (on the UMAP map) | kmeans")] = "hdbscan",
    n_clusters: Annotated[int | None, typer.Option("--n-clusters", min=2, help="k-means: number of clusters.")] = None,
    min_size: Annotated[int | None, typer.Option("--min-size", min=2, help="HDBSCAN: smallest cluster.")] = None,
    as_json: JSON = False,
) -> None:
    """Cluster a space and label each cluster by its keywords (class-based TF-IDF).

    JSON: {"space": str, "params": {...}, "unclustered": int, "clusters": [{"id", "size", "keywords", "label"}]}.
    """
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    res = scope.cluster(space, method, n_clusters=n_clusters, min_cluster_size=min_size)
    doc = {"space": space, "params": res.params, "unclustered": int((res.labels < 0).sum()), "clusters": res.clusters}
    if as_json:
        emit(doc)
        return
    t = Table("cluster", "size", "keywords", title=f"{len(res.clusters)} clusters of {space!r} "
              f"({doc['unclustered']} items unclustered)")
    for c in res.clusters:
        t.add_row(str(c["id"]), str(c["size"]), ", ".join(c["keywords"]))
    Console().print(t)
