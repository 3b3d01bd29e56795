"""A static, self-contained HTML report of a workspace's spaces, readable offline.

For each space: the health checks (value, verdict, threshold), the distribution of pair similarities
(exact for small spaces, a stated random sample otherwise), one item's similarities against every item,
the most and least similar items to it and the four metrics side by side, same-label against
different-label pairs for each categorical metadata column (with ROC AUC) and what the space knows about it
(cross-validated probes, :mod:`embedscope.ops.probe`), the k-occurrence distribution
(hubness), the mean and spread of every dimension, one item's vector over its dimensions, the honesty table
of stored layouts and the stored compression table.

Figures are rendered with matplotlib's Agg backend (no display, no pyplot state) as PNG and embedded as
base64 ``data:`` URIs; with ``png_dir`` the same PNG files are also written there, named
``{space}-{figure}.png``.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..errors import EmbedscopeError, InputError, WorkspaceError
from ..io.files import atomic_path
from ..search.graph import GRAPH_ON_DEMAND_MAX
from ..store.tables import neighbors_table
from .base import ScopeLike
from .compress import compression
from .health import HEALTH_MIN_ITEMS, health
from .probe import probe
from .similarity import (
    dimension_stats,
    label_columns,
    label_separation,
    metric_overlap,
    pair_histogram,
    rank,
    similarity_histogram,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Label columns shown at most, per space.
MAX_LABEL_COLUMNS = 3
#: Dimensions drawn one bar each at most; above, the per-dimension chart draws lines.
BAR_DIMS = 128



class ReportScope(ScopeLike, Protocol):
    """What the report reads of a workspace beyond :class:`~embedscope.ops.base.ScopeLike`: all item ids, a
    space's vectors and the honesty table of its layouts."""

    def ids(self) -> list[str]:
        """All item ids, in items order."""
        ...

    def vectors(self, space: str | None = None) -> tuple[list[str], np.ndarray]:
        """A space's ids and vectors ``(n, d)``, in point order."""
        ...

    def quality(self, space: str | None = None) -> list[dict[str, Any]]:
        """How honest each stored layout of the space is."""
        ...


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid #d5dae1;padding-bottom:4px}
h3{font-size:16px;margin:20px 0 6px}
.meta{color:#5b6470} .note{color:#5b6470;font-size:13px;margin:4px 0 12px}
table{border-collapse:collapse;background:#fff;margin:6px 0 14px;font-size:13px}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1b7f3b;font-weight:600} .warn{color:#b35900;font-weight:600}
figure{margin:8px 0 16px;background:#fff;border:1px solid #dde1e6;padding:8px;display:inline-block;max-width:100%}
figure img{max-width:100%;height:auto;display:block} figcaption{color:#5b6470;font-size:12px;margin-top:4px}
.grid{display:flex;flex-wrap:wrap;gap:12px} nav a{margin-right:12px}
"""


class _Figures:
    """Collects rendered figures: base64 for the HTML, and PNG files when ``png_dir`` is given."""

    def __init__(self, png_dir: Path | None) -> None:
        self.png_dir = png_dir
        self.written: list[Path] = []
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)

    def render(self, fig: Figure, name: str, alt: str, caption: str = "") -> str:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        data = buf.getvalue()
        if self.png_dir is not None:
            p = self.png_dir / f"{name}.png"
            with atomic_path(p) as tmp:  # no half PNG, and no temporary, on a full disk
                tmp.write_bytes(data)
            self.written.append(p)
        b64 = base64.b64encode(data).decode("ascii")
        cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
        return (f'<figure><img src="data:image/png;base64,{b64}" alt="{_e(alt)}" data-figure="{_e(name)}">'
                f"{cap}</figure>")


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}" if np.isfinite(v) else str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:20]) + (", ..." if len(v) > 20 else "") + "]"
    return str(v)


def _fig(w: float = 6.4, h: float = 3.2) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    return fig


def _hist_axes(fig: Figure, hists: Sequence[tuple[dict[str, Any], str, str]], title: str, xlabel: str,
               density: bool = False) -> None:
    ax = fig.add_subplot(1, 1, 1)
    for h, label, color in hists:
        counts = np.asarray(h["counts"], dtype=float)
        edges = np.asarray(h["edges"], dtype=float)
        if density and counts.sum() > 0:
            counts = counts / counts.sum() / np.diff(edges)
        ax.stairs(counts, edges, fill=True, alpha=0.45, color=color, label=label)
        ax.stairs(counts, edges, color=color, linewidth=1.2)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density" if density else "count")
    if len(hists) > 1:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.25)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], num: Sequence[int] = ()) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = []
    for r in rows:
        cells = []
        for j, v in enumerate(r):
            cls = ' class="num"' if j in num else ""
            cells.append(f"<td{cls}>{v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section_health(scope: ReportScope, space: str, seed: int) -> tuple[str, list[dict[str, Any]]]:
    try:
        checks = health(scope, space, seed=seed)
    except EmbedscopeError as exc:
        return f'<p class="note">Health not measured: {_e(exc)}</p>', []
    rows = []
    for c in checks:
        verdict_cls = "ok" if c.get("ok", True) else "warn"
        rows.append([_e(c["name"]), _e(_fmt(c["value"])),
                     f'<span class="{verdict_cls}">{"ok" if c.get("ok", True) else "check"}</span> {_e(c["verdict"])}',
                     _e(_fmt(c["threshold"]))])
    out = _table(["check", "value", "verdict", "threshold"], rows)
    extra = []
    by = {c["name"]: c for c in checks}
    hub = by.get("hubness")
    if hub and hub.get("hubs"):
        extra.append("<h3>Hubs (largest k-occurrence)</h3>" + _table(
            ["id", f"k-occurrence (k={hub.get('k')})"],
            [[_e(h["id"]), h["k_occurrence"]] for h in hub["hubs"][:10]], num=[1]) +
            f'<p class="note">{hub.get("anti_hubs", 0)} anti-hub(s): items in no other item\'s neighbour list.</p>')
    rogue = by.get("rogue_dimensions")
    if rogue and rogue.get("dimensions"):
        extra.append("<h3>Rogue dimensions</h3>" + _table(
            ["dimension", "share of cosine", "mean", "std"],
            [[d["dim"], f"{d['share_of_cosine']:.1%}", f"{d['mean']:.4f}", f"{d['std']:.4f}"]
             for d in rogue["dimensions"]], num=[0, 1, 2, 3]))
    out_c = by.get("outliers")
    if out_c and out_c.get("items"):
        extra.append("<h3>Outliers</h3>" + _table(
            ["id", "k-th neighbour similarity"],
            [[_e(i["id"]), f"{i['kth_similarity']:.4f}"] for i in out_c["items"]], num=[1]))
    return out + "".join(extra), checks


def _example_item(scope: ReportScope, space: str, checks: list[dict[str, Any]], item: str | None) -> str:
    if item is not None:
        return item
    hub = next((c for c in checks if c["name"] == "hubness"), None)
    if hub and hub.get("hubs"):
        return str(hub["hubs"][0]["id"])
    return scope.point_ids(space)[0]


def space_section(scope: ReportScope, space: str, figs: _Figures, *, seed: int = 0, item: str | None = None) -> str:
    """The HTML of one space's section (figures rendered through ``figs``)."""
    from ..analyses.similarity import METRICS

    info = scope.space_info(space)
    parts = [f'<section id="space-{_e(space)}"><h2>Space {_e(space)}</h2>',
             f'<p class="meta">{info.count} items, {info.dim} dimensions, source {_e(info.kind)}'
             f'{", model " + _e(info.model) if info.model else ""}{" (stale)" if info.stale else ""}</p>']
    health_html, checks = _section_health(scope, space, seed)
    parts.append("<h3>Health</h3>" + health_html)

    # similarity distributions
    parts.append("<h3>Similarity distributions</h3><div class=\"grid\">")
    ph = pair_histogram(scope, space, bins=60, seed=seed).to_json()
    how = (f"all {ph['n']:,} pairs" if ph["exact"] else
           f"a uniform random sample of {ph['n']:,} of {ph['population']:,} pairs (seed {ph['seed']})")
    fig = _fig()
    _hist_axes(fig, [(ph, "pairs", "#3b6fb6")], f"cosine similarity of item pairs ({how})", "cosine similarity")
    st = ph["stats"]
    parts.append(figs.render(fig, f"{space}-pairs", "pair similarity histogram",
                             f"{how}; mean {st['mean']:.3f}, median {st['p50']:.3f}, 5-95% {st['p05']:.3f} to "
                             f"{st['p95']:.3f}. A mean far above 0 means the space is anisotropic."))
    example = _example_item(scope, space, checks, item)
    qh = similarity_histogram(scope, example, space=space, bins=60).to_json()
    fig = _fig()
    _hist_axes(fig, [(qh, example, "#7a4bb5")], f"cosine of {example!r} against every other item",
               "cosine similarity")
    parts.append(figs.render(fig, f"{space}-query", "query-vs-all histogram",
                             f"{qh['n']:,} items; the long right tail is the neighbourhood."))
    parts.append("</div>")

    # rankings and metrics side by side
    most = rank(scope, example, k=10, space=space)
    least = rank(scope, example, k=5, least=True, space=space)
    texts = _texts(scope, space, [example, *most.ids, *least.ids])
    rows = [[i + 1, _e(iid), f"{s:.4f}", _e(texts.get(iid, ""))] for i, (iid, s) in
            enumerate(zip(most.ids, most.scores, strict=True))]
    rows += [["least " + str(i + 1), _e(iid), f"{s:.4f}", _e(texts.get(iid, ""))] for i, (iid, s) in
             enumerate(zip(least.ids, least.scores, strict=True))]
    head = f" &mdash; {_e(texts[example])}" if texts.get(example) else ""
    parts.append(f"<h3>Most and least similar to {_e(example)}{head}</h3>" +
                 _table(["#", "id", "cosine", "text"], rows, num=[2]))
    mo = metric_overlap(scope, example, k=10, space=space)
    ov_rows = [[_e(a)] + [f"{mo.overlap[a][b]:.2f}" for b in METRICS] for a in METRICS]
    agree = ", ".join(f"{a} = {b}" for a, b in mo.must_agree) or "none (vectors are not of equal length)"
    parts.append("<h3>Distance metrics side by side (top 10 overlap)</h3>" + _table(["", *METRICS], ov_rows,
                                                                                       num=[1, 2, 3, 4]) +
                 f'<p class="note">Vectors {"are" if mo.normalised else "are not"} unit length; rankings that must '
                 f"agree here: {_e(agree)}.</p>")

    # labels
    labels = label_columns(scope, space)[:MAX_LABEL_COLUMNS]
    if labels:
        parts.append("<h3>Label separation</h3><div class=\"grid\">")
        for col in labels:
            sep = label_separation(scope, col, space, bins=50, seed=seed)
            fig = _fig()
            _hist_axes(fig, [(sep.same.to_json(), "same label", "#1b7f3b"),
                             (sep.different.to_json(), "different label", "#b3362f")],
                       f"{col}: same vs different label pairs, ROC AUC {sep.auc:.3f}", "cosine similarity",
                       density=True)
            how = "all pairs" if sep.exact else f"sampled pairs (seed {sep.seed})"
            parts.append(figs.render(fig, f"{space}-labels-{_slug(col)}", f"label separation by {col}",
                                     f"{col}: ROC AUC {sep.auc:.3f}; {sep.labels} labels, {sep.items} items, "
                                     f"{how}: {sep.verdict}."))
        parts.append("</div>")
        parts.append(_section_probe(scope, space, labels, seed))

    # hubness
    graph = None
    try:
        if info.count <= GRAPH_ON_DEMAND_MAX or scope.store.record(neighbors_table(space)) is not None:
            graph = scope.knn(space, 10)
    except EmbedscopeError:
        graph = None
    parts.append("<h3>Per dimension, and hubness</h3><div class=\"grid\">")
    if graph is not None and graph.k > 0:
        occ = np.bincount(graph.indices[:, :graph.k].ravel(), minlength=info.count)
        fig = _fig()
        ax = fig.add_subplot(1, 1, 1)
        ax.hist(occ, bins=min(60, max(5, int(occ.max()) + 1)), color="#c07a1a", alpha=0.8)
        ax.set_yscale("log")
        ax.set_xlabel(f"k-occurrence (k={graph.k}): in how many neighbour lists an item appears")
        ax.set_ylabel("items (log)")
        ax.set_title("k-occurrence distribution (a long right tail = hubs)", fontsize=10)
        ax.grid(alpha=0.25)
        parts.append(figs.render(fig, f"{space}-hubness", "k-occurrence histogram",
                                 f"mean {occ.mean():.1f}; the largest is {int(occ.max())}."))

    ds = dimension_stats(scope, space)
    rogue: list[int] = next((c["value"] for c in checks if c["name"] == "rogue_dimensions"), []) or []
    fig = _fig(9.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    dims = np.arange(len(ds.mean))
    if len(dims) <= BAR_DIMS:
        ax.bar(dims, ds.mean, yerr=ds.std, color="#3b6fb6", ecolor="#9aa9c0", width=0.8, label="mean, +/- std")
    else:
        ax.fill_between(dims, ds.mean - ds.std, ds.mean + ds.std, color="#9aa9c0", alpha=0.6, label="mean +/- std")
        ax.plot(dims, ds.mean, color="#3b6fb6", linewidth=0.8, label="mean")
    for r in rogue:
        ax.axvline(r, color="#b3362f", linewidth=1.0, linestyle="--")
        ax.annotate(f"rogue {r}", (r, ds.mean[r]), color="#b3362f", fontsize=8)
    ax.axhline(0, color="#555", linewidth=0.5)
    ax.set_xlabel("dimension")
    ax.set_ylabel("value")
    ax.set_title(f"mean and spread of each dimension over {ds.n:,} items", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.25)
    top = np.argsort(-ds.abs_mean_over_std)[:3]
    parts.append(figs.render(fig, f"{space}-dimensions", "per-dimension mean and spread",
                             "largest |mean|/std: " + ", ".join(f"dim {int(i)} ({ds.abs_mean_over_std[i]:.1f})"
                                                               for i in top)))
    _ids, x = scope.vectors(space)
    vec = np.asarray(x[scope.point_ids(space).index(example)], dtype=np.float64)
    fig = _fig(9.0, 2.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(dims, vec, color=np.where(vec >= 0, "#3b6fb6", "#b3362f"), width=1.0)
    ax.set_xlabel("dimension")
    ax.set_title(f"the vector of {example!r} (norm {np.linalg.norm(vec):.3f})", fontsize=10)
    ax.grid(alpha=0.25)
    parts.append(figs.render(fig, f"{space}-item-vector", f"vector of {example}", ""))
    parts.append("</div>")

    # layouts and compression
    quality = scope.quality(space)
    if quality:
        rows = [[_e(q["method"]), _e(q.get("k")), _num(q.get("trustworthiness")), _num(q.get("continuity")),
                 _num(q.get("knn_recall")), _e(q.get("sampled") or "all"), "yes" if q.get("stale") else "no"]
                for q in quality]
        parts.append("<h3>Layouts: how honest each map is</h3>" + _table(
            ["layout", "k", "trustworthiness", "continuity", "kNN recall", "sampled", "stale"], rows, num=[1, 2, 3, 4]) +
            '<p class="note">Trustworthiness: neighbours on the map are true neighbours; continuity: true neighbours '
            "stay close on the map; kNN recall: share of the k true neighbours among the k map neighbours.</p>")
    comp = compression(scope, space)
    if comp:
        rows = [[_e(r["codec"]), f"{r['bytes_per_vector']:g}", _num(r.get("recall@1")), _num(r.get("recall@10")),
                 _num(r.get("recall@100")), _num(r.get("query_ms"), 2), _num(r.get("build_s"), 2)] for r in comp["rows"]]
        parts.append("<h3>Compression: recall against bytes per vector</h3>" + _table(
            ["codec", "bytes/vector", "recall@1", "recall@10", "recall@100", "query ms", "build s"], rows,
            num=[1, 2, 3, 4, 5, 6]) + f'<p class="note">{_e(comp.get("queries"))} held-out queries'
            f'{"; stale: the vectors changed since" if comp.get("stale") else ""}. Frontier: '
            f'{_e(", ".join(comp.get("frontier", [])))}.</p>')
        fig = _fig(6.4, 3.4)
        ax = fig.add_subplot(1, 1, 1)
        front = sorted((r for r in comp["rows"] if r["codec"] in comp.get("frontier", [])),
                       key=lambda r: r["bytes_per_vector"])
        ax.plot([r["bytes_per_vector"] for r in front], [r["recall@10"] for r in front], "--", color="#3b6fb6", lw=1)
        for r in comp["rows"]:
            on = r["codec"] in comp.get("frontier", [])
            ax.scatter([r["bytes_per_vector"]], [r["recall@10"]], color="#3b6fb6" if on else "#9aa3b2", s=26 if on else 16,
                       zorder=3)
            ax.annotate(r["codec"], (r["bytes_per_vector"], r["recall@10"]), fontsize=7, xytext=(4, 3),
                        textcoords="offset points", color="#222" if on else "#777")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("bytes per vector (log scale)")
        ax.set_ylabel("recall@10")
        ax.set_ylim(0, 1.05)
        ax.set_title("recall of the exact neighbours against size (dashed: the efficient frontier)", fontsize=10)
        ax.grid(alpha=0.25)
        parts.append(figs.render(fig, f"{space}-compression", "recall@10 against bytes per vector", ""))
    parts.append("</section>")
    return "".join(parts)


def _section_probe(scope: ReportScope, space: str, labels: Sequence[str], seed: int) -> str:
    """What the space knows about each label column: the cross-validated probes (:mod:`embedscope.ops.probe`)."""
    rows, notes = [], []
    for col in labels:
        try:
            doc = probe(scope, col, [space], seed=seed)["spaces"][space]
        except InputError as exc:
            notes.append(f"{col}: {exc.message}")
            continue
        lr, kn = doc["logreg"], doc["knn"]
        rows.append([_e(col), str(doc["n"]) + (" (sample)" if doc["sample"] else ""), str(len(doc["classes"])),
                     _with_ci(lr["accuracy"], lr["accuracy_ci95"]), _with_ci(lr["macro_f1"], lr["macro_f1_ci95"]),
                     _with_ci(kn["accuracy"], kn["accuracy_ci95"]), f"{doc['base_rate']:.3f}", f"{doc['control']:.3f}"])
        if doc["left_out"]:
            notes.append(f"{col}: left out (fewer items than the {doc['folds']} folds): " +
                         ", ".join(f"{c['label']} ({c['count']})" for c in doc["left_out"]))
    table = _table(["label", "items", "classes", "logreg accuracy (95% CI)", "logreg macro-F1", "kNN accuracy",
                    "base rate", "control"], rows, num=[1, 2, 6, 7]) if rows else ""
    note = ("Cross-validated (5 stratified folds, seeded) logistic regression and k-NN (k=10, cosine) predicting the "
            "label from the vectors; intervals bootstrap over items; the control is the logistic regression on "
            "shuffled labels (chance on this data), the base rate the share of the largest class.")
    return (f"<h3>Probe: what the space knows about each label</h3>{table}<p class=\"note\">{_e(note)}</p>" +
            "".join(f'<p class="note">{_e(n)}</p>' for n in notes))


def _with_ci(v: float, ci: Sequence[float]) -> str:
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def _num(v: Any, digits: int = 3) -> str:
    return "" if v is None else f"{float(v):.{digits}f}"


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in s)[:40] or "label"


def _texts(scope: ReportScope, space: str, ids: Sequence[str]) -> dict[str, str]:
    if not scope.has_items():
        return {}
    t = scope.items_for(space)
    if "text" not in t.column_names:
        return {}
    want = set(ids)
    return {i: (txt or "")[:160] for i, txt in zip(t.column("id").to_pylist(), t.column("text").to_pylist(), strict=True)
            if i in want}


def write_report(scope: ReportScope, path: str | Path, *, spaces: Sequence[str], png_dir: str | Path | None = None,
                 seed: int = 0, item: str | None = None) -> Path:
    """Write the report of ``spaces`` to ``path`` (one HTML file, figures embedded); returns the path.

    Parameters
    ----------
    scope
        The workspace.
    path
        The HTML file to write (its directory must exist).
    spaces
        Space names, in order.
    png_dir
        If given, every figure is also written there as ``{space}-{figure}.png``.
    seed
        Seed of every sample (pairs, queries).
    item
        The example item for the query histogram, rankings and vector chart (default: the top hub).
    """
    from ..version import __version__

    path = Path(path)
    if not path.parent.exists():
        raise EmbedscopeError(f"the directory of {path} does not exist")
    figs = _Figures(Path(png_dir) if png_dir is not None else None)
    sections = [space_section(scope, s, figs, seed=seed, item=item) for s in spaces]
    nav = "".join(f'<a href="#space-{_e(s)}">{_e(s)}</a>' for s in spaces)
    n_items = len(scope.ids()) if scope.has_items() else 0
    doc = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>embedscope report: '
           f'{_e(scope.path.name)}</title><meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<style>{_CSS}</style></head><body><main><h1>embedscope report: {_e(scope.path.name)}</h1>"
           f'<p class="meta">{n_items} items, {len(spaces)} space(s); generated {time.strftime("%Y-%m-%d %H:%M")} '
           f"by embedscope {__version__}; samples seeded with {seed}.</p><nav>{nav}</nav>{''.join(sections)}"
           "</main></body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path


def report(scope: ReportScope, path: str | Path, *, spaces: Sequence[str] | None = None,
           png_dir: str | Path | None = None, seed: int = 0, item: str | None = None) -> Path:
    """Write the static, self-contained HTML report of the given spaces (default: all) to ``path``, after checking
    that each space can be reported on and ``item`` is in each; see :func:`write_report`.

    Parameters
    ----------
    scope
        The workspace.
    path
        The HTML file to write (its directory must exist).
    spaces
        Space names (default: every space).
    png_dir
        If given, every figure is also written there as ``{space}-{figure}.png``.
    seed
        Seed of every sample.
    item
        The example item of the query histogram, rankings and vector chart (default: each space's top hub).
    """
    names = [scope.resolve_space(s) for s in spaces] if spaces else scope.spaces()
    if not names:
        raise WorkspaceError(f"{scope.path} has no embedding space yet: embedscope embed {scope.path}")
    for s in names:
        n = len(scope.point_ids(s))
        if n < HEALTH_MIN_ITEMS:
            raise InputError(f"too few items: a report needs at least {HEALTH_MIN_ITEMS} items ({scope.path} has "
                             f"{n} in space {s!r}); add items with embedscope ingest")
    if item is not None:
        for s in names:
            if str(item) not in scope.store.arrays(s).pos:
                raise InputError(f"no item with id {item!r} in space {s!r}")
    if not Path(path).resolve().parent.is_dir():
        raise InputError(f"cannot write {path}: its directory does not exist")
    return write_report(scope, path, spaces=names, png_dir=png_dir, seed=seed, item=item)
