"""The ``embedscope`` command line: one subcommand per pipeline stage, thin over :class:`~embedscope.Scope`.

Exit codes: 0 success; 2 bad input or usage (one line on stderr naming file, row, column); 1 anything else
(the error without a traceback, unless ``--debug``); 130 interrupted (Ctrl-C; a rerun resumes). With ``--json``,
stdout holds exactly one JSON document; progress and notes go to stderr.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .cli_common import JSON, SPACE, WS, emit, err, open_scope, progress
from .console import Console
from .errors import EmbedscopeError, InputError
from .translate_cli import app as _translate_app

app = typer.Typer(
    name="embedscope", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="See and measure vector embeddings: ingest, embed, neighbours, maps, and a local explorer.\n\n"
         "Progress goes to stderr: a bar on a terminal, else a line every 10 s and at every tenth of the way "
         "(EMBEDSCOPE_PROGRESS_SECONDS sets the period). Ctrl-C stops any command at once: exit 130, "
         "'interrupted, rerun to resume' (finished steps are kept).",
)
_state = {"debug": False}


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    _state["debug"] = debug


@app.command()
def ingest(
    ws: WS,
    file: Annotated[Path, typer.Argument(help="CSV, TSV, Parquet, JSONL or Arrow file; or vectors with --space.")],
    text: Annotated[str | None, typer.Option("--text", help="Text column (default: 'text' or the longest strings).")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Id column (default: 'id' if present, else row numbers 0..n-1).")] = None,
    space: Annotated[str | None, typer.Option("--space", help="Bring your own vectors into this space.")] = None,
    ids: Annotated[Path | None, typer.Option("--ids", help="For .npy vectors: a file with one id per line.")] = None,
    vector: Annotated[str | None, typer.Option("--vector", help="Vector column (Parquet/Arrow/JSONL).")] = None,
    as_json: JSON = False,
) -> None:
    """Add items (texts + metadata) or vectors (with --space) to WS, creating it if missing.

    Re-ingesting upserts by id: new ids are added, changed rows replace the old ones, and spaces embedded
    from changed texts are marked stale (embed again to update only what changed).

    Text files are UTF-8, or UTF-16/UTF-32 with a byte-order mark. A CSV/TSV of 16 MB or more streams into a new
    workspace in batches of rows, each checked as it passes (a bad row anywhere stores nothing).

    Vectors (.npy, Parquet) stream into the workspace in batches, so a million 384-d vectors need about one
    batch of memory, not the file; a Parquet file's other scalar columns become item metadata (one named
    text or id is stored as text_ / id_).
    """
    from .workspace import Scope

    if space is None and (ids is not None or vector is not None):
        raise InputError("--ids and --vector are for vectors: add --space NAME")
    # Validate before creating anything, so a bad file leaves no workspace behind.
    if space is None:
        from .io.items_stream import open_items

        # a large CSV/TSV is checked batch by batch as it streams into a new workspace (a bad row anywhere
        # removes the workspace this command made); other files are read and checked whole first
        parsed = open_items(file, text=text, id=id)
        made = not (Path(ws) / "scope.json").exists()
        scope = Scope.create(ws, exist_ok=True)
        try:
            with scope._writing():
                rep = scope._ingest_stream(parsed)
        except BaseException:
            if made:
                import shutil

                shutil.rmtree(ws, ignore_errors=True)
            raise
    else:
        from .io.streams import open_vectors
        from .workspace import _check_space

        _check_space(space)
        # ids and shape are checked now; the vectors (.npy memory-mapped, Parquet a record batch at a time) are
        # checked as they stream into the space's table, so a bad one removes the workspace this command made
        vin = open_vectors(file, ids=ids, id=id, vector=vector)
        made = not (Path(ws) / "scope.json").exists()
        scope = Scope.create(ws, exist_ok=True)
        try:
            rep = scope.add_vector_stream(space, vin)
        except BaseException:
            if made:
                import shutil

                shutil.rmtree(ws, ignore_errors=True)
            raise
    if as_json:
        emit(asdict(rep))
        return
    what = f"space {rep.space!r}" if rep.space else "items"
    cols = f" (text column {rep.text_column!r}, ids {'from ' + repr(rep.id_column) if rep.id_column else 'generated 0..n-1'})" \
        if rep.space is None else ""
    err.print(f"{ws}: {what}: {rep.added} added, {rep.updated} updated, {rep.unchanged} unchanged; "
              f"{rep.total} in all{cols}")


@app.command()
def embed(
    ws: WS,
    space: Annotated[str | None, typer.Option("--space", help="Space name (default: named after the model, 'minilm').")] = None,
    model: Annotated[str, typer.Option("--model", help="local | local:PATH | openai:MODEL | tfidf:DIM")] = "local",
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, max=100_000)] = None,
    device: Annotated[str | None, typer.Option("--device", help="Torch device for local models (cpu).")] = None,
    dimensions: Annotated[int | None, typer.Option("--dimensions", min=1, help="Output dimension (openai).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count items, tokens and cost; send nothing.")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local (this process) | ray (an actor pool on a Ray "
                                        "cluster; pip install 'embedscope\\[ray]')")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: start a local "
                                                "one on 127.0.0.1 with 2 CPUs).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, max=10_000,
                                                    help="Ray actors, one model each (default: the cluster's CPUs).")] = None,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="Local models: torch | onnx | onnx-int8 (ONNX Runtime, float32 or int8 weights). Default: "
        "the backend an existing space recorded, else onnx-int8 for the bundled model when onnxruntime is installed, "
        "else torch. Queries of a space always use its own backend.")] = None,
    as_json: JSON = False,
) -> None:
    """Embed every item's text with MODEL into a space. Cached by content; rerun after a crash resumes."""
    scope = open_scope(ws)
    with progress(not as_json) as cb:
        res = scope.embed(space, model, batch_size=batch_size, device=device, dimensions=dimensions,
                          dry_run=dry_run, progress=cb, engine=engine, address=address, concurrency=concurrency,
                          backend=backend)
    doc = asdict(res)
    if as_json:
        emit(doc)
        return
    if dry_run:
        cost = f", about ${doc['cost_usd']:.4f}" if doc.get("cost_usd") is not None else ""
        err.print(f"would embed {doc['items']} texts, {'' if doc['tokens_exact'] else '~'}{doc['tokens']} tokens"
                  f"{cost}; {doc['truncated']} longer than the model window. " + " ".join(doc["notes"]))
        return
    st = doc["stats"]
    via = f", {doc['backend']}" if doc.get("backend") else ""
    err.print(f"space {doc['space']!r} ({doc['model']}{via}, {doc['dim']} dims): {st['texts']} texts, "
              f"{st['computed']} embedded, {st['cached']} from cache"
              + (f"; {st['truncated']} texts were longer than the model window and were cut" if st["truncated"] else "")
              + (f"; {doc['skipped_without_text']} items without text skipped" if doc["skipped_without_text"] else ""))


@app.command()
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
    if as_json:
        if note:
            err.print(note)
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
    if note:
        table.caption = note
    Console().print(table)


ENGINE = Annotated[str, typer.Option("--engine", help="local (this process) | ray (tasks on a Ray cluster; "
                                     "pip install 'embedscope\\[ray]')")]
ADDRESS = Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: start a local one "
                                             "on 127.0.0.1 with 2 CPUs).")]


@app.command()
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
    if engine not in ("local", "ray"):
        raise InputError(f"unknown engine {engine!r}; use local or ray")
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


@app.command()
def project(
    ws: WS,
    space: SPACE = None,
    method: Annotated[str, typer.Option("--method", help="umap | pca | tsne | sphere")] = "umap",
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
    UMAP on the sphere (haversine), compared with the naive wrap of the flat map (the better one is kept).
    Every layout gets trustworthiness, continuity and kNN recall at k, per item and on average. Above
    100,000 items without a stored kNN graph (embedscope knn), umap and pca measure them on a sample of
    items (each ranked exactly against all items) instead of building the graph first.
    With --engine ray (umap), a space fitted on a sample (above 100,000 items, or --sample) has the other
    items placed by Ray tasks: the same layout.
    """
    if sample is not None and method != "umap":
        raise InputError(f"--sample is for umap layouts, not {method}")
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


@app.command()
def quality(ws: WS, space: SPACE = None, as_json: JSON = False) -> None:
    """The stored layouts of a space with their honesty metrics (how much each map distorts).

    JSON: {"space": str, "layouts": [{"method", "k", "trustworthiness", "continuity", "knn_recall",
    "rank_correlation", "sampled", "n", "stale", "params", ...}]}.
    """
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    rows = scope.quality(space)
    if as_json:
        emit({"space": space, "layouts": rows})
        return
    t = Table("method", "k", "trustworthiness", "continuity", "kNN recall", "rank corr.", "n", "stale",
              title=f"layouts of {space!r}: how much each map distorts (1 = no distortion)")
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for r in rows:
        t.add_row(r["method"], str(r["k"]), f(r["trustworthiness"]), f(r["continuity"]), f(r["knn_recall"]),
                  f(r["rank_correlation"]), str(r["n"]), "yes" if r["stale"] else "")
    Console().print(t)
    if not rows:
        err.print(f"no layouts yet: embedscope project {ws} --space {space}")


@app.command("cluster")
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


@app.command()
def health(ws: WS, space: SPACE = None, as_json: JSON = False) -> None:
    """Space health, each figure with its verdict and threshold: normalisation, distance concentration,
    hubness (hubs, anti-hubs), anisotropy, rogue dimensions (by index), intrinsic dimension (TwoNN),
    duplicates, outliers.

    JSON: {"space": str, "checks": [{"name", "value", "verdict", "threshold", "ok", ...}]}.
    """
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    checks = scope.health(space)
    if as_json:
        emit({"space": space, "checks": checks})
        return
    t = Table("check", "value", "verdict", "threshold", title=f"health of space {space!r}")
    for c in checks:
        v = c["value"]
        shown = f"{v:.3f}" if isinstance(v, float) else json.dumps(v)
        style = "" if c["ok"] else "yellow"
        t.add_row(c["name"], shown, c["verdict"], json.dumps(c["threshold"]), style=style)
    Console().print(t)


@app.command()
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
    --label: {"metric", "auc", "verdict", "labels", "items", "exact", "same": {...}, "different": {...}}.
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


@app.command()
def compare(
    ws: WS,
    spaces: Annotated[str, typer.Option("--spaces", help="Two or more spaces, comma-separated: a,b[,c...]")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=1000, help="Neighbourhood size.")] = 10,
    label: Annotated[str | None, typer.Option("--label", help="Metadata column for same-label retrieval.")] = None,
    qrels: Annotated[Path | None, typer.Option(
        "--qrels", help="Query/relevant-item judgements (.csv/.tsv/.jsonl/TREC); queries are item ids or texts.")
                     ] = None,
    figures: Annotated[Path | None, typer.Option("--figures", help="Write the figures (PNG) into this directory.")
                       ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random pairs and the bootstrap.")] = 0,
    as_json: JSON = False,
) -> None:
    r"""Compare embedding spaces of the same items in their original spaces (any dimensions).

    Neighbour agreement (mean Jaccard@k, against the level two unrelated spaces would show), linear CKA,
    Spearman correlation of pair similarities, both similarity scales with a percentile calibration, and with
    --label / --qrels, precision, recall and nDCG at k per space with a paired bootstrap 95% interval: which
    model wins on this data and by how much. The result is stored in the workspace (the explorer shows it).
    JSON (two spaces): {"spaces": \[a, b], "k", "jaccard_mean", "cka", "spearman", "retrieval", "qrels",
    "calibration", "similarity", "changed_most", ...}; more spaces: {"spaces", "k", "pairs": \[...],
    "retrieval": {...} | null}.
    """
    names = [s.strip() for s in spaces.split(",") if s.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise InputError(f"--spaces needs two or more different names separated by commas, got {spaces!r}")
    scope = open_scope(ws)
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    docs = [scope.compare(a, b, k=k, label=label, qrels=qrels, seed=seed) for a, b in pairs]
    written = []
    if figures is not None:
        from .ops.compare_figures import write_figures

        for d in docs:
            written += write_figures(d, figures)
    many: dict[str, Any] | None = None
    if len(names) > 2:
        many = {"spaces": names, "k": k, "pairs": docs,
                "retrieval": scope.retrieval(names, k=k, label=label, qrels=qrels, seed=seed)
                if label is not None or qrels is not None else None}
    if as_json:
        emit(docs[0] if many is None else many)
    else:
        for d in docs:
            _print_comparison(d)
        if many is not None and many["retrieval"]:
            for key in ("label", "qrels"):
                part = many["retrieval"][key]
                if part:
                    _print_retrieval(part["rows"], f"retrieval ({'same ' + str(label) if key == 'label' else 'qrels'},"
                                     f" {part['queries']} queries)")
    for p in written:
        err.print(f"figure written: {p}")


def _print_retrieval(rows: list[dict[str, Any]], title: str) -> None:
    spaces = list(rows[0]["values"])
    t = Table("metric", *spaces, "winner", "margin (95% CI)", title=title)
    for r in rows:
        t.add_row(r["metric"], *(f"{r['values'][s]:.3f}" for s in spaces), r["winner"] or "tie",
                  f"{r['difference']:+.3f} \\[{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]")
    Console().print(t)


def _print_comparison(doc: dict[str, Any]) -> None:
    a, b = doc["spaces"]
    t = Table("figure", "value", title=f"{a} vs {b} on {doc['items']} shared items (dims {doc['dims'][0]}, "
              f"{doc['dims'][1]})")
    t.add_row(f"neighbour agreement (mean Jaccard@{doc['k']})",
              f"{doc['jaccard_mean']:.3f} (chance {doc['chance_jaccard']:.4f})")
    t.add_row("linear CKA", f"{doc['cka']:.3f}")
    t.add_row(f"Spearman of pair similarities ({doc['spearman_pairs']} pairs)", f"{doc['spearman']:.3f}")
    sim = doc["similarity"]
    if sim.get("pairs"):
        t.add_row(f"mean pair similarity: {a} / {b}", f"{sim['mean'][0]:.3f} / {sim['mean'][1]:.3f}")
    Console().print(t)
    cal = doc.get("calibration")
    if cal:
        c = Table("percentile of pairs", f"similarity in {a}", f"similarity in {b}",
                  title="the same percentile on both similarity scales")
        for p, x, y in zip(cal["percentiles"], cal["a"], cal["b"], strict=True):
            if p >= 50:
                c.add_row(f"{p:g}", f"{x:.3f}", f"{y:.3f}")
        Console().print(c)
    if doc.get("retrieval"):
        r = doc["retrieval"]
        _print_retrieval(r["rows"], f"same-{r['column']} retrieval ({r['queries']} queries)")
    if doc.get("qrels"):
        q = doc["qrels"]
        _print_retrieval(q["rows"], f"qrels retrieval ({q['queries']} queries, {q['judgements']} judgements)")
    ch = Table("item", "Jaccard", f"neighbours in {a}", f"neighbours in {b}", title="changed most")
    for row in doc["changed_most"][:5]:
        ch.add_row(row["id"], f"{row['jaccard']:.2f}", ", ".join(row["neighbors_a"][:5]),
                   ", ".join(row["neighbors_b"][:5]))
    Console().print(ch)
    err.print(doc["verdict"])


@app.command("report")
def report_cmd(
    ws: WS,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path("report.html"),
    spaces: Annotated[list[str] | None, typer.Option(
        "--space", help="A space to report on (repeat for several; default: every space).")] = None,
    png_dir: Annotated[Path | None, typer.Option("--png-dir", help="Also write every figure as a PNG file here.")
                       ] = None,
    item: Annotated[str | None, typer.Option("--item", help="Example item for the query histogram, rankings and "
                                             "vector chart (default: the space's top hub).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the pair and query samples.")] = 0,
) -> None:
    """A static, self-contained HTML report (figures embedded as PNG), readable offline.

    For each space: every health check with its verdict and threshold, hubs, rogue dimensions, outliers;
    histograms of pair similarities (exact up to 2,000 items, else a stated seeded sample) and of one item
    against all; most and least similar items; the four metrics side by side; same- vs different-label pairs
    with ROC AUC for each categorical column; k-occurrence; per-dimension mean and spread; one item's vector;
    the layouts' honesty table and the stored compression table. Prints the path written.
    """
    scope = open_scope(ws)
    path = scope.report(output, spaces=spaces or None, png_dir=png_dir, seed=seed, item=item)
    err.print(f"report written: {path}" + (f" (figures as PNG in {png_dir})" if png_dir else ""))
    sys.stdout.write(f"{path}\n")


@app.command("export")
def export_cmd(
    ws: WS,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (a directory for projector-tsv); an "
                                         "existing file is replaced.")],
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or projector-tsv.")] = "parquet",
    space: SPACE = None,
    layout: Annotated[str | None, typer.Option("--layout", help="Only this layout's coordinates (default: all).")
                      ] = None,
) -> None:
    """Export a space: ids, texts, metadata, layout coordinates ({method}_x, {method}_y) and, in Parquet, the
    vectors. projector-tsv writes vectors.tsv + metadata.tsv for https://projector.tensorflow.org ("Load")."""
    from .ops.export import export

    scope = open_scope(ws)
    space = scope.resolve_space(space)
    for p in export(scope, space, output, fmt, layout=layout):
        err.print(f"wrote {p}")


@app.command("compress")
def compress_cmd(
    ws: WS,
    space: SPACE = None,
    codec: Annotated[list[str] | None, typer.Option(
        "--codec", help="Codec to measure (repeatable): float16, int8, binary, binary+rescore, binary+rescore-Rx, "
                        "truncate-D, pca-D. Default: all, at d/2, d/4, d/8.")] = None,
    queries: Annotated[int, typer.Option("--queries", min=1, help="Held-out queries (at most a fifth of the items).")
                       ] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    store: Annotated[str | None, typer.Option("--store", help="Also store this codec's copy as a new space.")] = None,
    as_name: Annotated[str | None, typer.Option("--as", help="Name of the stored copy (with --store).")] = None,
    export: Annotated[str | None, typer.Option("--export", help="Write this codec's codes + ids to an .npz.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="The .npz file (with --export).")] = None,
    as_json: JSON = False,
) -> None:
    """Compression lab: recall@1/10/100 of the exact float32 cosine neighbours on held-out queries against
    bytes per vector, with query time (a top-10 search, ms per query) and build time, per codec.

    JSON: {"space", "dim", "items", "queries", "rows": [{"codec", "bytes_per_vector", "recall@1", "recall@10",
    "recall@100", "query_ms", "build_s", ...}], "frontier": the codec names on the recall/bytes frontier}.
    """
    if (store is None) != (as_name is None):
        raise InputError("--store CODEC and --as NAME go together")
    if (export is None) != (output is None):
        raise InputError("--export CODEC and -o FILE.npz go together")
    scope = open_scope(ws)
    space = scope.resolve_space(space)
    with progress(not as_json) as cb:
        res = scope.compress(space, codec, queries=queries, seed=seed, progress=cb)
    extra: dict[str, Any] = {}
    if store is not None and as_name is not None:
        info = scope.compress_space(space, store, as_name)
        extra["stored"] = {"space": info.name, "codec": store, "dim": info.dim}
    if export is not None and output is not None:
        extra["exported"] = scope.export_compressed(space, export, output)
        extra["exported"] = {k: v for k, v in extra["exported"].items() if k not in ("mean", "min", "step")}
    if as_json:
        emit({**res, **extra})
        return
    t = Table("codec", "bytes/vector", "recall@1", "recall@10", "recall@100", "query ms", "build s",
              title=f"compression of space {space!r} ({res['dim']} dims, {res['items']} items, "
                    f"{res['queries']} held-out queries)")
    for r in res["rows"]:
        mark = " *" if r["codec"] in res["frontier"] else ""
        t.add_row(r["codec"] + mark, f"{r['bytes_per_vector']:g}", f"{r['recall@1']:.3f}", f"{r['recall@10']:.3f}",
                  f"{r['recall@100']:.3f}", f"{r['query_ms']:.3f}", f"{r['build_s']:.3f}")
    Console().print(t)
    err.print("* on the efficient frontier (no other codec is as small and at least as accurate at recall@10)")
    if "stored" in extra:
        err.print(f"stored {extra['stored']['codec']} copy as space {extra['stored']['space']!r}")
    if "exported" in extra:
        err.print(f"wrote {extra['exported']['path']}")


@app.command()
def info(ws: WS, as_json: JSON = False) -> None:
    """Spaces, counts, dimensions, layouts, stale results and library versions."""
    doc = open_scope(ws).info()
    if as_json:
        emit(doc)
        return
    con = Console()
    con.print(f"[bold]{doc['path']}[/]: {doc['items']} items; columns: {', '.join(doc['columns'])}")
    t = Table("space", "kind", "model", "dim", "count", "layouts", "stale")
    for s in doc["spaces"]:
        t.add_row(s["name"], s["kind"], str(s["model"] or "-"), str(s["dim"]), str(s["count"]),
                  ", ".join(s["layouts"]) or "-", "yes" if s["stale"] else "")
    con.print(t)
    if doc["stale"]:
        con.print(f"stale (recomputed on next use): {', '.join(doc['stale'])}")
    con.print("versions: " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()))


HOST = Annotated[str, typer.Option("--host", help="Address to bind (127.0.0.1 by default; any other needs --token).")]
PORT = Annotated[int, typer.Option("--port", min=1, max=65535)]
TOKEN = Annotated[str | None, typer.Option(
    "--token", help="Require this token on every request ('auto' generates one): Authorization: Bearer TOKEN, "
                    "or open the printed URL once (?token=, which sets a cookie).")]
CORS = Annotated[list[str] | None, typer.Option(
    "--cors", help="Let pages from this origin (e.g. https://example.org) call the API; repeatable. None by default.")]
ALLOW_HOST = Annotated[list[str] | None, typer.Option(
    "--allow-host", help="Also answer requests whose Host header is NAME (e.g. a LAN name; '*' for any, behind a "
                         "proxy that checks it); repeatable. Other names than localhost, loopback addresses and "
                         "--host are refused (400), so a web page cannot rebind its own DNS name to this server.")]


@app.command()
def serve(ws: WS, host: HOST = "127.0.0.1", port: PORT = 8765, token: TOKEN = None, cors: CORS = None,
          allow_host: ALLOW_HOST = None) -> None:
    """Serve the explorer for WS at http://HOST:PORT (blocks until Ctrl-C).

    Only the page's own origin may change stored results (POST from another site: 403), and only JSON or
    binary bodies are taken (415); a Host header other than this server's names is refused (400)."""
    token = _check_bind(host, token)
    _serve(open_scope(ws), host, port, token, cors or [], allow_host or [])


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_bind(host: str, token: str | None) -> str | None:
    """The token to require (``auto``: a new random one); refuses a bind beyond loopback without one."""
    import secrets

    if token == "auto":
        token = secrets.token_urlsafe(24)
    if token is not None and not token.strip():
        raise InputError("--token is empty; give a token or --token auto")
    if not _is_loopback(host) and not token:
        raise InputError(f"--host {host} would let anyone on the network read this workspace; refusing to start. "
                         "Add --token T (or --token auto to generate one), or bind 127.0.0.1")
    return token


def _warm(app_: Any, token: str | None) -> None:
    """Read what the page's first paint needs before listening (seconds at a million points; see
    :mod:`embedscope.server.warm`). A failure here is not fatal: the request that needs it reports it."""
    import time

    from .server.warm import warm_first_paint, warm_routes

    t0 = time.perf_counter()
    try:
        steps = warm_first_paint(app_.state.explorer)
        warm_routes(app_, token)
    except Exception as exc:  # the page's own request will say what is wrong
        err.print(f"embedscope: could not prepare the map in advance ({type(exc).__name__}); serving anyway")
        return
    took = time.perf_counter() - t0
    if took >= 1.0:
        detail = ", ".join(f"{name} {sec:.1f} s" for name, sec in steps.items())
        err.print(f"embedscope: prepared the first map in {took:.1f} s ({detail})", highlight=False)


def _serve(scope: Any, host: str, port: int, token: str | None, cors: list[str] | None = None,
           allow_host: list[str] | None = None) -> None:
    import uvicorn
    from rich.markup import escape

    from .server import create_app

    token = _check_bind(host, token)
    app_ = create_app(scope, token=token, cors=cors or (), host=host, allowed_hosts=allow_host or ())
    _warm(app_, token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    err.print(f"embedscope: serving {escape(str(scope.path))} at [bold]{escape(url)}[/] (Ctrl-C to stop)",
              highlight=False)
    # Room in h11's request-line buffer for the longest valid URL (the app answers 414 above 32 kB).
    try:
        uvicorn.run(app_, host=host, port=port, log_level="warning", h11_max_incomplete_event_size=64 * 1024)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it stopped on: stopping is how serving ends
        pass


@app.command()
def demo(
    ws: Annotated[Path, typer.Argument(help="Where to build the sample workspace.")] = Path("embedscope-demo.scope"),
    n: Annotated[int, typer.Option("--n", min=30, max=31_102, help="Verses to embed (all: 31102).")] = 5000,
    host: HOST = "127.0.0.1",
    port: PORT = 8765,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve when built.")] = True,
    token: TOKEN = None,
) -> None:
    """Build the sample workspace (King James Bible verses, MiniLM, UMAP, clusters, globe) if missing, then serve it."""
    from .ops.demo import build_demo

    if serve_:
        token = _check_bind(host, token)
    from .interrupt import run_interruptible

    with progress() as cb:  # built in a worker thread, so Ctrl-C stops it at once (see embedscope.interrupt)
        scope = run_interruptible(lambda: build_demo(ws, n=n, progress=cb, log=err.print))
    if serve_:
        _serve(scope, host, port, token)


app.add_typer(_translate_app, name="translate",
              help="Translate vectors between spaces: fit, eval (held-out, with baselines), apply.")


#: Commands that stay in the main thread: they serve until Ctrl-C (uvicorn handles the signal itself).
_MAIN_THREAD = ("serve", "demo")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps errors to exit codes (2 bad input, 1 other, 130 interrupted).

    Commands run in a worker thread (:func:`embedscope.interrupt.run_interruptible`) so that Ctrl-C stops them
    at once, even inside numba or ONNX Runtime: one line on stderr, exit 130, the workspace as a kill leaves it
    (a rerun resumes).
    """
    from .interrupt import EXIT_CODE, announce, run_interruptible

    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    command = next((a for a in args if not a.startswith("-")), None)
    try:
        if command in _MAIN_THREAD:
            code = app(args=args, standalone_mode=False)
        else:
            code = run_interruptible(lambda: app(args=args, standalone_mode=False))
        # typer turns a KeyboardInterrupt into the exit code 130, returned (not raised) without standalone mode
        if isinstance(code, int) and code:
            if code == EXIT_CODE:
                announce()
            sys.exit(code)
    except InputError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc.one_line()}\n")
        sys.exit(2)
    except EmbedscopeError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        announce()
        sys.exit(EXIT_CODE)
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(EXIT_CODE)
        if debug:
            raise
        sys.stderr.write(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}\n")
        sys.exit(1)
