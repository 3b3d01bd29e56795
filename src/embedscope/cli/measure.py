"""``embedscope health``, ``compare``, ``probe``, ``report`` and ``compress``: measurements of spaces, printed or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..errors import InputError
from .common import JSON, SPACE, WS, emit, err, open_scope, progress
from .console import Console


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
    With --label, also what each space knows about the label (the probe of `embedscope probe`: cross-validated
    logistic-regression and k-NN accuracy and macro-F1 with intervals, the shuffled-label control).
    JSON (two spaces): {"spaces": \[a, b], "k", "jaccard_mean", "cka", "spearman", "retrieval", "qrels",
    "calibration", "similarity", "changed_most", "probe": {...} | null, ...}; more spaces: {"spaces", "k",
    "pairs": \[...], "retrieval": {...} | null, "probe": {...} | null}.
    """
    names = [s.strip() for s in spaces.split(",") if s.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise InputError(f"--spaces needs two or more different names separated by commas, got {spaces!r}")
    scope = open_scope(ws)
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    docs = [scope.compare(a, b, k=k, label=label, qrels=qrels, seed=seed) for a, b in pairs]
    written = []
    if figures is not None:
        from ..ops.compare_figures import write_figures

        for d in docs:
            written += write_figures(d, figures)
    many: dict[str, Any] | None = None
    if len(names) > 2:
        many = {"spaces": names, "k": k, "pairs": docs,
                "retrieval": scope.retrieval(names, k=k, label=label, qrels=qrels, seed=seed)
                if label is not None or qrels is not None else None}
    probed: dict[str, Any] | None = None
    if label is not None:
        try:
            probed = scope.probe(label, names, seed=seed)
        except InputError as exc:
            err.print(f"no probe of {label!r}: {exc.one_line()}", highlight=False, soft_wrap=True)
    if as_json:
        emit({**(docs[0] if many is None else many), "probe": probed})
    else:
        for d in docs:
            _print_comparison(d)
        if probed is not None:
            print_probe(probed, details=False)
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


def probe_cmd(
    ws: WS,
    label: Annotated[str, typer.Option("--label", help="The metadata column to predict (categorical, or numeric "
                                       "with many values: ridge R²).")],
    spaces: Annotated[str | None, typer.Option("--spaces", help="Spaces, comma-separated (default: every space).")
                      ] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, max=50, help="Cross-validation folds (stratified).")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds, the sample, the control and the "
                                      "bootstrap.")] = 0,
    as_json: JSON = False,
) -> None:
    r"""What each space knows about a label: cross-validated logistic regression and k-NN (k=10, cosine) predict
    the column from the vectors, on the items every space holds, with the same stratified seeded folds.

    Per space: accuracy and macro-F1 of the out-of-fold predictions with a bootstrap 95% interval, the base rate
    (always the largest class) and the control (the same probe on shuffled labels: chance on this data); then
    per-class precision/recall/F1 and the most confidently misclassified items with their texts. Classes with
    fewer items than folds are named and left out. A numeric column with many distinct values: ridge R².
    Above 5,000 items a seeded stratified sample is probed.
    JSON: {"label", "items", "spaces": {name: {"kind": "classes", "n", "sample", "folds", "classes",
    "left_out", "base_rate", "control", "logreg": {"accuracy", "accuracy_ci95", "macro_f1", "macro_f1_ci95",
    "per_class", "confusion"}, "knn": {..., "k"}, "misclassified": \[{"row", "id", "text", "label",
    "predicted", "confidence"}], "dims", "seconds"} | {"kind": "numeric", "ridge": {"r2", "r2_ci95"},
    "control", ...}}}.
    """
    names = [s.strip() for s in spaces.split(",") if s.strip()] if spaces else None
    scope = open_scope(ws)
    doc = scope.probe(label, names, folds=folds, seed=seed)
    if as_json:
        emit(doc)
        return
    print_probe(doc)


def _ci(value: float, ci: list[float]) -> str:
    return f"{value:.3f} \\[{ci[0]:.3f}, {ci[1]:.3f}]"


def _span(ci: list[float]) -> str:
    return f"{ci[0]:.3f}-{ci[1]:.3f}"


def print_probe(doc: dict[str, Any], *, details: bool = True) -> None:
    """The probe of :meth:`embedscope.Scope.probe` as tables: one summary, then (``details``) per space the
    per-class figures and the most confident mistakes."""
    from rich.markup import escape

    spaces = doc["spaces"]
    label = escape(doc["label"])
    classes = {s: r for s, r in spaces.items() if r["kind"] == "classes"}
    numeric = {s: r for s, r in spaces.items() if r["kind"] == "numeric"}
    if classes:
        first = next(iter(classes.values()))
        sampled = f", a sample of {first['sample']}" if first["sample"] else ""
        t = Table("space", "probe", "accuracy", "95% CI", "macro-F1", "95% CI",
                  title=f"probe of {label!r}: {first['n']} items{sampled}, {len(first['classes'])} classes, "
                        f"{first['folds']}-fold",
                  caption="; ".join(f"{escape(s)}: {r['dims']}-d, {r['seconds']:.1f} s" for s, r in classes.items()))
        for i, (s, r) in enumerate(classes.items()):
            lr, kn = r["logreg"], r["knn"]
            t.add_row(escape(s), "logreg", f"{lr['accuracy']:.3f}", _span(lr["accuracy_ci95"]),
                      f"{lr['macro_f1']:.3f}", _span(lr["macro_f1_ci95"]))
            t.add_row("", f"kNN k={kn['k']}", f"{kn['accuracy']:.3f}", _span(kn["accuracy_ci95"]),
                      f"{kn['macro_f1']:.3f}", _span(kn["macro_f1_ci95"]))
            t.add_row("", "control", f"{r['control']:.3f}", "shuffled", "", "")
            t.add_row("", "base rate", f"{r['base_rate']:.3f}", "", "", "", end_section=i < len(classes) - 1)
        Console().print(t)
        if first["left_out"]:
            err.print("left out (fewer items than folds): " + ", ".join(
                f"{escape(c['label'])!r} ({c['count']})" for c in first["left_out"]), soft_wrap=True)
    if numeric:
        first = next(iter(numeric.values()))
        t = Table("space", "dims", "ridge R² (95% CI)", "control (shuffled)", "seconds",
                  title=f"probe of numeric {label!r}: {first['n']} items, {first['folds']}-fold")
        for s, r in numeric.items():
            t.add_row(escape(s), str(r["dims"]), _ci(r["ridge"]["r2"], r["ridge"]["r2_ci95"]),
                      f"{r['control']:.3f}", f"{r['seconds']:.1f}")
        Console().print(t)
    if not details:
        return
    for s, r in classes.items():
        pc = Table("class", "support", "precision", "recall", "F1", "kNN F1", title=f"{escape(s)}: per class "
                   "(logistic regression; kNN F1 beside)")
        for a, b in zip(r["logreg"]["per_class"], r["knn"]["per_class"], strict=True):
            pc.add_row(escape(a["label"]), str(a["support"]), f"{a['precision']:.3f}", f"{a['recall']:.3f}",
                       f"{a['f1']:.3f}", f"{b['f1']:.3f}")
        Console().print(pc)
        if r["misclassified"]:
            mt = Table("id", label, "predicted", "confidence", "text",
                       title=f"{escape(s)}: most confident mistakes")
            for m in r["misclassified"][:5]:
                mt.add_row(escape(m["id"]), escape(m["label"]), escape(m["predicted"]), f"{m['confidence']:.2f}",
                           escape((m["text"] or "")[:100]))
            Console().print(mt)
