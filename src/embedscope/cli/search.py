"""``embedscope neighbors``, ``knn`` and ``similar``: rankings and similarity histograms in the original space."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from ..engines import get_engine
from ..errors import InputError
from .common import ADDRESS, ENGINE, JSON, SPACE, WS, emit, err, open_scope, progress
from .console import Console


def neighbors(
    ws: WS,
    item: Annotated[str | None, typer.Argument(metavar="[ID]", help="Item id (omit with --query).")] = None,
    query: Annotated[str | None, typer.Option("--query", help="A text, embedded with the space's model.")] = None,
    space: SPACE = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=100_000, help="How many neighbours.")] = 10,
    metric: Annotated[str, typer.Option("--metric", help="cosine | dot | euclidean | manhattan")] = "cosine",
    exact: Annotated[bool, typer.Option("--exact", help="Scan every vector even when the stored kNN graph is "
                                        "approximate (spaces above 200,000 items).")] = False,
    as_json: JSON = False,
) -> None:
    """The k nearest items to an item or a text, in the original space, best first.

    Scores: cosine similarity, dot product, euclidean distance or manhattan distance. The item itself is
    left out. JSON: a list of {"id": str, "score": float}. An item's cosine neighbours come from the space's
    stored kNN graph; above 200,000 items that graph is approximate (HNSW) and its recall@10 against exact
    search, measured when it was built, is printed on stderr (also with --json) and under the table.
    """
    if (item is None) == (query is None):
        raise InputError("give an item ID or --query TEXT (one of them)")
    scope = open_scope(ws)
    res = scope.neighbors(item, query=query, k=k, metric=metric, space=space, exact=exact)
    note = _graph_note(res.graph)
    route = route_note(scope.query_route(space)) if query is not None else None
    if as_json:
        for line in (note, route):
            if line:
                err.print(line)
        emit(res.to_records())
        return
    texts = _texts(scope, res.ids)
    table = Table(title=f"{k} nearest to {item!r}" if item else f"{k} nearest to query {query!r}")
    table.add_column("#", justify="right")
    table.add_column("id")
    table.add_column(metric, justify="right")
    table.add_column("text", overflow="fold", max_width=90)
    for i, (iid, s) in enumerate(zip(res.ids, res.scores, strict=True), 1):
        table.add_row(str(i), iid, f"{s:.4f}", texts.get(iid, "") or "")
    caption = "\n".join(line for line in (route, note) if line)
    if caption:
        table.caption = caption
    Console().print(table)


def route_note(route: dict[str, Any]) -> str | None:
    """One line on how a text query reached a space without a text model (``None`` for its own model)."""
    if route.get("route") != "translator":
        return None
    return (f"searched by words through a translator from space {route['via']!r} ({route['model']}, "
            f"{route['method']}): held-out recall@10 {_fig(route.get('recall_at_10'))} vs "
            f"{_fig(route.get('baseline_recall_at_10'))} for the mean-vector baseline")


def _fig(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def knn(
    ws: WS,
    space: SPACE = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=1000, help="Neighbours per item (at least 50 are "
                                   "stored).")] = 50,
    mode: Annotated[str, typer.Option("--mode", help="auto (exact up to 200,000 items, HNSW above) | exact | "
                                      "approximate")] = "auto",
    engine: ENGINE = "local",
    address: ADDRESS = None,
    as_json: JSON = False,
) -> None:
    """Build (or reuse) the stored cosine kNN graph of a space, the one neighbour lists and layouts read.

    With --engine ray an exact graph is scanned in query shards, an approximate one is one HNSW index per
    shard of the items, merged; a killed approximate build reruns only the shards it had not finished.
    JSON: {"space", "exact", "k", "method", and for approximate graphs "recall@10", "recall_sample", "build_s"}.
    """
    if mode not in ("auto", "exact", "approximate"):
        raise InputError(f"unknown --mode {mode!r}; use auto, exact or approximate")
    get_engine(engine, address)  # an unknown name fails before the workspace is opened
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    with progress(not as_json) as cb:
        scope.knn(space, k, exact={"auto": None, "exact": True, "approximate": False}[mode], progress=cb,
                  engine=engine, address=address)
    info = {"space": space, **(scope.graph_info(space) or {})}
    if as_json:
        emit(info)
        return
    what = "exact" if info.get("exact") else f"approximate ({info.get('method')}), recall@10 " \
        f"{info.get('recall@10', float('nan')):.3f} against exact search on {info.get('recall_sample', 0):,} items"
    err.print(f"kNN graph of space {space!r}: k = {info.get('k')}, {what}")


def _graph_note(graph: dict[str, Any] | None) -> str | None:
    """One line on an approximate graph's measured recall (``None`` for exact answers)."""
    if not graph or graph.get("exact", True):
        return None
    return (f"from an approximate kNN graph ({graph.get('method')}): recall@10 {graph.get('recall@10', float('nan')):.3f}"
            f" against exact search on {graph.get('recall_sample', 0):,} sampled items; --exact scans instead")


def _texts(scope: Any, ids: list[str]) -> dict[str, str | None]:
    if not scope.has_items():
        return {}
    items = scope.items()
    if "text" not in items.column_names:
        return {}
    import pyarrow.compute as pc

    sub = items.filter(pc.is_in(items.column("id"), value_set=__import__("pyarrow").array(ids, items.column("id").type)))
    return {i: (t[:200] if t else t) for i, t in zip(sub.column("id").to_pylist(), sub.column("text").to_pylist(),
                                                     strict=True)}


def similar(
    ws: WS,
    plus: Annotated[list[str] | None, typer.Argument(
        metavar="[ID...]", help="Vector arithmetic: items to add (king woman); with --minus, items to subtract.")] = None,
    minus: Annotated[list[str] | None, typer.Option("--minus", help="Items to subtract (man).")] = None,
    item: Annotated[str | None, typer.Option("--item", help="Rank against this item (left out of its list).")] = None,
    query: Annotated[str | None, typer.Option("--query", help="Rank against a text, embedded with the space's model.")
                     ] = None,
    metric: Annotated[str, typer.Option(
        "--metric", help="cosine | dot | euclidean | manhattan, or 'all' for the four lists side by side "
        "with their overlap (with --item/--query).")] = "cosine",
    least: Annotated[bool, typer.Option("--least", help="The least similar items instead of the most similar.")
                     ] = False,
    closer_to: Annotated[list[str] | None, typer.Option(
        "--closer", help="Give twice with --item A: which of the two items is closer to A, and their ranks.")] = None,
    hist: Annotated[bool, typer.Option("--histogram", help="Histogram of the --item/--query scores against all "
                                       "items instead of a list.")] = False,
    pairs: Annotated[bool, typer.Option("--pairs", help="Histogram of pair similarities (every pair up to 2,000 "
                                        "items, else a seeded random sample of --sample pairs).")] = False,
    label: Annotated[str | None, typer.Option("--label", help="With --pairs: same-label vs different-label pairs "
                                              "of this metadata column, and their ROC AUC.")] = None,
    bins: Annotated[int, typer.Option("--bins", min=1, max=1000, help="Histogram bins.")] = 40,
    sample: Annotated[int, typer.Option("--sample", min=1, max=10_000_000, help="Pairs drawn above 2,000 items.")
                      ] = 200_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the pair sample.")] = 0,
    space: SPACE = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=10_000)] = 10,
    as_json: JSON = False,
) -> None:
    """Rankings, comparisons and similarity histograms in the original space.

    \b
    Forms (one at a time):
      similar WS king woman --minus man      vector arithmetic (cosine of unit vectors), query items left out
      similar WS --item ID [--metric M] [--least] [-k N]    most (or least) similar items to an item
      similar WS --query TEXT ...            the same for a text
      similar WS --item ID --metric all      top-k under cosine, dot, euclidean, manhattan and their overlap
      similar WS --item A --closer B --closer C    which of B and C is closer to A (with their ranks)
      similar WS --item ID --histogram       histogram of the item's scores against every item
      similar WS --pairs [--label COL]       histogram of pair similarities (same vs different label, ROC AUC)

    \b
    JSON: lists: [{"id", "score"}] best first (scores: cosine, dot, or euclidean/manhattan distance);
    --metric all: {"k", "normalised", "must_agree", "overlap": {m: {m: share}}, "metrics": {m: [{"id", "score"}]}};
    --closer: {"a", "b", "c", "closer": id | null, "score_b", "score_c", "rank_b", "rank_c", "n", "metric"};
    --histogram / --pairs: {"kind", "metric", "counts", "edges", "n", "exact", "population", "seed", "stats"};
    --label: {"metric", "auc", "verdict", "labels", "items", "exact", "singletons", "warning", "same": {...},
    "different": {...}}; most labels naming one item only (an id-like column) gives a warning.
    """
    plus = plus or []
    has_query = item is not None or query is not None
    if item is not None and query is not None:
        raise InputError("give --item or --query, not both")
    if plus and (has_query or pairs or label):
        raise InputError("vector arithmetic (ID... --minus ID) cannot be combined with --item, --query or --pairs")
    if minus and not plus:
        raise InputError("--minus needs items to add (ID...)")
    if label is not None:
        pairs = True
    if (hist or least or metric == "all") and not has_query:
        raise InputError("--histogram, --least and --metric all apply to --item or --query")
    modes = [bool(plus), has_query, pairs]
    if sum(modes) != 1:
        raise InputError("give items for vector arithmetic (ID...), --item ID / --query TEXT, or --pairs")
    if closer_to and (item is None or len(closer_to) != 2):
        raise InputError("--closer needs --item A and exactly two items: --closer B --closer C")
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    if plus:
        if metric != "cosine":
            raise InputError("vector arithmetic ranks by cosine of unit vectors; --metric applies to --item/--query")
        res = scope.arithmetic(plus, minus or [], k=k, space=space)
        title = " + ".join(plus) + "".join(f" - {m}" for m in minus or [])
        _show_ranking(res, title, as_json)
        return
    if pairs:
        if label is not None:
            sep = scope.label_separation(label, space, metric=metric, bins=bins, sample=sample, seed=seed)
            doc = {"space": space, "label": label, **sep.to_json()}
            if as_json:
                emit(doc)
                return
            Console().print(f"[bold]{label}[/]: ROC AUC {sep.auc:.3f} ({sep.labels} labels, {sep.items} items, "
                            f"{'all pairs' if sep.exact else f'sampled pairs, seed {seed}'}) - {sep.verdict}")
            if sep.warning:
                err.print(f"warning: {sep.warning}")
            _show_histogram(sep.same.to_json(), "same label")
            _show_histogram(sep.different.to_json(), "different label")
            return
        h = scope.pair_histogram(space, metric=metric, bins=bins, sample=sample, seed=seed).to_json()
        if as_json:
            emit({"space": space, **h})
            return
        _show_histogram(h, f"pair {metric} ({'all' if h['exact'] else 'sampled'} {h['n']} of {h['population']} pairs)")
        return
    if closer_to:
        doc = scope.closer(item, closer_to[0], closer_to[1], metric="cosine" if metric == "all" else metric,
                           space=space)
        if as_json:
            emit(doc)
            return
        who = doc["closer"]
        Console().print(f"{who!r} is closer to {item!r}" if who is not None else "a tie", f"({doc['metric']}: "
                        f"{doc['b']!r} {doc['score_b']:.4f}, rank {doc['rank_b']}; {doc['c']!r} {doc['score_c']:.4f}, "
                        f"rank {doc['rank_c']} of {doc['n']})")
        return
    if hist:
        if metric == "all":
            raise InputError("--histogram needs one metric")
        h = scope.similarity_histogram(item, query=query, metric=metric, bins=bins, space=space).to_json()
        if as_json:
            emit({"space": space, "item": item, "query": query, **h})
            return
        _show_histogram(h, f"{metric} of {item or query!r} against {h['n']} items")
        return
    if metric == "all":
        if least:
            raise InputError("--least needs one metric")
        mo = scope.metric_overlap(item, query=query, k=k, space=space)
        ids = scope.point_ids(space)
        doc = mo.to_json(ids)
        if as_json:
            emit({"space": space, "item": item, "query": query, **doc})
            return
        con = Console()
        t = Table("#", *doc["metrics"], title=f"top {doc['k']} of {item or query!r} by metric")
        for i in range(doc["k"]):
            t.add_row(str(i + 1), *[f"{lst[i]['id']} ({lst[i]['score']:.3f})" for lst in doc["metrics"].values()])
        con.print(t)
        ov = Table("overlap", *doc["overlap"])
        for a, row in doc["overlap"].items():
            ov.add_row(a, *[f"{v:.2f}" for v in row.values()])
        con.print(ov)
        con.print("normalised vectors: " + ("yes" if doc["normalised"] else "no") + "; must agree: " +
                  (", ".join("=".join(p) for p in doc["must_agree"]) or "none"))
        return
    res = scope.rank(item, query=query, k=k, metric=metric, least=least, space=space)
    _show_ranking(res, f"{k} {'least' if least else 'most'} similar to {item or query!r} ({metric})", as_json)


def _show_ranking(res: Any, title: str, as_json: bool) -> None:
    if as_json:
        emit(res.to_records())
        return
    t = Table("#", "id", res.metric, title=title)
    for i, (iid, sc) in enumerate(zip(res.ids, res.scores, strict=True), 1):
        t.add_row(str(i), iid, f"{sc:.4f}")
    Console().print(t)


def _show_histogram(h: dict[str, Any], title: str) -> None:
    counts, edges = h["counts"], h["edges"]
    top = max(counts) or 1
    t = Table("from", "to", "count", "", title=title)
    for c, lo, hi in zip(counts, edges[:-1], edges[1:], strict=True):
        t.add_row(f"{lo:.3f}", f"{hi:.3f}", str(c), "#" * round(40 * c / top))
    Console().print(t)
    st = h.get("stats") or {}
    if st:
        Console().print(f"mean {st['mean']:.4f}  std {st['std']:.4f}  median {st['p50']:.4f}  "
                        f"p05 {st['p05']:.4f}  p95 {st['p95']:.4f}")
