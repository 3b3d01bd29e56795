"""``embedscope translate``: fit, evaluate and apply maps between embedding spaces (thin over the Scope API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..errors import InputError
from ..io.files import storage_error
from .common import JSON, WS, emit, err, open_scope, progress
from .console import Console

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Translate vectors between embedding spaces (any dimensions), with measured accuracy.")

FROM = Annotated[str, typer.Option("--from", help="Source space (the vectors you have).")]
TO = Annotated[str, typer.Option("--to", help="Target space (the model you move to).")]
SEED = Annotated[int, typer.Option("--seed", help="Seed of the held-out split and the fits (reproducible).")]
TEST = Annotated[int | None, typer.Option("--test-size", min=2, help="Held-out pairs (default min(1000, pairs/5)).")]


def _methods(value: str | None) -> list[str] | None:
    from ..translate import METHODS

    if value is None:
        return None
    names = [m.strip() for m in value.split(",") if m.strip()]
    bad = [m for m in names if m not in METHODS]
    if bad or not names:
        raise InputError(f"--methods: unknown method {', '.join(bad) or '(none)'}; use some of {', '.join(METHODS)}")
    return names


def _f(v: Any, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


@app.command("eval")
def eval_cmd(
    ws: WS,
    src: FROM,
    tgt: TO,
    methods: Annotated[str | None, typer.Option("--methods", help="Subset of procrustes,ridge,lowrank,mlp.")] = None,
    curve: Annotated[bool, typer.Option("--curve/--no-curve", help="Learning curve over training sizes.")] = True,
    test_size: TEST = None,
    seed: SEED = 0,
    as_json: JSON = False,
) -> None:
    """Evaluate maps from --from to --to on shared items they were not fitted on, against baselines.

    Baselines: the target space's mean vector ("mean"), the source vectors themselves when the dimensions
    match ("identity"), and the best linear map. With fewer than 500 pairs the figures are k-fold
    cross-validated, and below 200 a warning says they are too few for a trustworthy figure.
    JSON: {"from", "to", "pairs", "warning", "methods": [{"method", "mean_cosine", "mean_baseline_cosine",
    "gain_over_mean_baseline", "top1", "top10", "mean_rank", "median_rank", "recall@10", "baseline",
    "gain_over_best_linear", ...}], "protocol", "n_train", "n_test", "best", "best_linear", "curve": [...]}.
    """
    scope = open_scope(ws)
    with progress(not as_json) as cb:
        doc = scope.translate_eval(src, tgt, methods=_methods(methods), curve=curve, test_size=test_size, seed=seed,
                                   progress=cb)
    if as_json:
        emit(doc)
        return
    con = Console()
    t = Table("method", "cos", "base", "gain", "top-1", "top-10", "rank", "med.", "R@10",
              title=f"{doc['from']} -> {doc['to']}: {doc['n_test']} pairs scored "
              f"({doc['protocol']}, {doc['n_train']} training pairs per fit)",
              caption="cos: mean cosine to the true target; base: the same for the target mean vector; gain: "
              "cos - base; top-k: true target among the k nearest scored targets; rank: mean (med.: median) "
              "rank of it; R@10: overlap of native queries' 10 nearest translated vs native vectors; "
              "* baseline")
    for m in doc["methods"]:
        t.add_row(m["method"] + ("*" if m["baseline"] else ""), _f(m["mean_cosine"]),
                  _f(m["mean_baseline_cosine"]), _f(m["gain_over_mean_baseline"], "+.3f"), _f(m["top1"]), _f(m["top10"]),
                  _f(m["mean_rank"], ".1f"), _f(m["median_rank"], ".0f"), _f(m["recall@10"]))
    con.print(t)
    if doc["curve"]:
        sizes = sorted({c["n_train"] for c in doc["curve"]})
        names = list(dict.fromkeys(c["method"] for c in doc["curve"]))
        cell = {(c["method"], c["n_train"]): c for c in doc["curve"]}
        for key, label, fmt in (("top1", "top-1", ".2f"), ("gain_over_mean_baseline", "gain over the mean vector", "+.2f")):
            ct = Table("method", *[str(s) for s in sizes], title=f"learning curve: {label} by training pairs")
            for name in names:
                ct.add_row(name, *[format(cell[(name, s)][key], fmt) if (name, s) in cell else "-" for s in sizes])
            con.print(ct)
    if doc["warning"]:
        err.print(f"[yellow]warning:[/] {doc['warning']}")
    err.print(f"best: {doc['best']} (best linear: {doc['best_linear']})")


@app.command("fit")
def fit_cmd(
    ws: WS,
    src: FROM,
    tgt: TO,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Also write the translator to this file (.npz format), portable to other data.")] = None,
    method: Annotated[str, typer.Option("--method", help="procrustes | ridge | lowrank | mlp | auto (best held-out)")] = "auto",
    select: Annotated[str, typer.Option("--select", help="What auto maximises: mean_cosine | top1 | top10 | recall@10")]
    = "mean_cosine",
    test_size: TEST = None,
    seed: SEED = 0,
    keep: Annotated[bool, typer.Option("--keep/--no-keep", help="Keep it in WS (text queries of --to may use it).")]
    = True,
    as_json: JSON = False,
) -> None:
    """Fit a translator from --from to --to on every shared item; keep it in WS, and with -o as a portable file.

    Kept in WS, it lets a space with no text model of its own (vectors you brought, an image model) be
    searched by words: the query is embedded with the --from space's model and translated (when several are
    kept, the one with the best held-out recall@10 is used; search says which). It is measured first on
    held-out items (or by cross-validation when the pairs are few); those figures,
    not in-sample ones, are stored in the file and printed. auto picks the method with the best held-out
    mean cosine (--select top1 for retrieval: with few pairs Procrustes often ranks better while ridge has
    the better cosine). Use the file with: embedscope translate apply FILE IN.npy -o OUT.npy.
    """
    scope = open_scope(ws)
    if output is None and not keep:
        raise InputError("--no-keep without -o FILE would keep the translator nowhere; add -o FILE")
    if output is not None and output.is_dir():
        raise InputError("-o names a directory; give a file name such as minilm-to-lsa.translator", file=output)
    with progress(not as_json) as cb:
        tl = scope.translate_fit(src, tgt, method, path=output, seed=seed, test_size=test_size, select=select,
                                 progress=cb, keep=keep)
    doc = tl.describe()
    if as_json:
        emit(doc)
        return
    m = tl.meta.get("metrics") or {}
    ev = tl.meta.get("evaluation") or {}
    where = ", ".join(([f"kept in {ws}"] if keep else []) + ([f"wrote {output}"] if output is not None else []))
    err.print(f"{where}: {tl.method} map {tl.src_dim} -> {tl.tgt_dim} dims, fitted on {tl.meta['n_train']} pairs; "
              f"{ev.get('protocol', 'held-out')} on {ev.get('n_test')} pairs: mean cosine {_f(m.get('mean_cosine'))} "
              f"(mean vector {_f(m.get('mean_baseline_cosine'))}, gain {_f(m.get('gain_over_mean_baseline'), '+.3f')}), "
              f"top-1 {_f(m.get('top1'))}, top-10 {_f(m.get('top10'))}, recall@10 {_f(m.get('recall@10'))}")
    if ev.get("warning"):
        err.print(f"[yellow]warning:[/] {ev['warning']}")


@app.command("apply")
def apply_cmd(
    file: Annotated[Path, typer.Argument(help="Translator file (from translate fit).")],
    target: Annotated[Path, typer.Argument(metavar="IN.npy|WS", help="A .npy of source vectors, or a workspace.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="With IN.npy: the output .npy.")] = None,
    space: Annotated[str | None, typer.Option("--space", help="With WS: the source space (default: the translator's).")] = None,
    as_name: Annotated[str | None, typer.Option("--as", help="With WS: name of the new, translated space.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000_000)] = 65_536,
    as_json: JSON = False,
) -> None:
    """Translate vectors with a saved translator: IN.npy into OUT.npy, or a space of WS into a new space.

    A translated space is flagged as translated (embedscope info shows it) with the translator's held-out
    figures; its neighbours work as usual, and text queries use the target space's model when that space
    is in the workspace.

    Examples: embedscope translate apply m.translator vectors.npy -o out.npy;
    embedscope translate apply m.translator reviews.scope --space minilm --as lsa-from-minilm
    """
    import numpy as np

    from ..translate import load

    tl = load(file)
    if target.is_dir():
        if as_name is None:
            raise InputError("translating a workspace needs --as NAME for the new space")
        if output is not None:
            raise InputError("-o is for .npy input; with a workspace use --as NAME")
        scope = open_scope(target)
        src = space or tl.meta.get("source")
        if src is None:
            raise InputError("the translator does not name its source space; add --space NAME")
        with progress(not as_json) as cb:
            rep = scope.translate_apply(tl, src, as_name, batch_size=batch_size, progress=cb)
        doc = {"space": as_name, "from": scope.resolve_space(src), "method": tl.method, "count": rep.total,
               "dim": tl.tgt_dim, "query_space": scope.store.require(f"vectors__{as_name}").params.get("query_space")}
        if as_json:
            emit(doc)
        else:
            q = (f"; text queries are embedded with the model of space {doc['query_space']!r}" if doc["query_space"]
                 else "; no model for text queries (the target space was not embedded here): search by item id")
            err.print(f"{target}: space {as_name!r} = {tl.method} translation of {doc['from']!r}, {rep.total} vectors, "
                      f"{tl.tgt_dim} dims{q}")
        return
    if space is not None or as_name is not None:
        raise InputError("--space and --as are for a workspace; for a .npy file use -o OUT.npy")
    if output is None:
        raise InputError("translating a .npy file needs -o OUT.npy")
    if not target.is_file():
        raise InputError("no such file or workspace", file=target)
    try:
        x = np.load(target, allow_pickle=False, mmap_mode="r")
    except Exception as exc:
        raise InputError(f"cannot read as .npy ({type(exc).__name__}: {exc})", file=target) from None
    if x.ndim != 2:
        raise InputError(f"expected a 2-D array of vectors (rows x dimensions), got shape {x.shape}", file=target)
    tmp = output.with_name(f".{output.name}.tmp")
    try:  # stream batch by batch from a memory-mapped input into a memory-mapped output
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(x.shape[0], tl.tgt_dim))
        with progress(not as_json) as cb:
            tl.transform(x, batch_size=batch_size, file=str(target), progress=lambda d, t: cb("translate", d, t), out=out)
        out.flush()
        del out
        tmp.replace(output)
    except OSError as exc:  # a full or read-only disk: the path and what to do
        raise storage_error(exc, output) or exc from None
    finally:
        tmp.unlink(missing_ok=True)
    out = np.load(output, mmap_mode="r", allow_pickle=False)
    doc = {"input": str(target), "output": str(output), "rows": int(out.shape[0]), "dim": int(out.shape[1]),
           "method": tl.method}
    if as_json:
        emit(doc)
    else:
        err.print(f"wrote {output}: {out.shape[0]} vectors, {tl.src_dim} -> {tl.tgt_dim} dims ({tl.method})")
