"""Figures of a comparison of two spaces (the JSON of :meth:`embedscope.Scope.compare`), as PNG files.

- ``agreement``: how many items keep how much of their k-neighbourhood (Jaccard@k), with the chance level;
- ``similarity``: both spaces' cosine similarities of the same random pairs on one axis;
- ``calibration``: the similarity in B at the percentile a similarity in A has (the two scales side by side);
- ``retrieval``: precision, recall and nDCG at k per space (same-label and/or qrels), best space marked.

Rendered with matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io.files import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLORS = ("#3b6fd4", "#d9822b", "#2f9e6e", "#9b59b6")


def _fig(w: float = 6.4, h: float = 3.4) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def agreement_figure(doc: dict[str, Any]) -> Figure:
    """Histogram of per-item Jaccard@k (10 bins over [0, 1]) with the chance level marked."""
    fig = _fig()
    ax = fig.add_subplot(1, 1, 1)
    counts = np.asarray(doc["jaccard_histogram"], float)
    edges = np.linspace(0, 1, len(counts) + 1)
    ax.stairs(counts, edges, fill=True, alpha=0.5, color=COLORS[0])
    ax.axvline(doc["jaccard_mean"], color="#1d232a", linewidth=1.2, label=f"mean {doc['jaccard_mean']:.3f}")
    ax.axvline(doc["chance_jaccard"], color="#c0392b", linestyle="--", linewidth=1.2,
               label=f"chance {doc['chance_jaccard']:.4f}")
    a, b = doc["spaces"]
    ax.set_title(f"neighbour agreement of {a} and {b} ({doc['items']} items)", fontsize=10)
    ax.set_xlabel(f"Jaccard overlap of the {doc['k']} nearest neighbours")
    ax.set_ylabel("items")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.25)
    return fig


def similarity_figure(doc: dict[str, Any]) -> Figure:
    """Both spaces' pair-similarity distributions on one axis."""
    fig = _fig()
    ax = fig.add_subplot(1, 1, 1)
    sim = doc["similarity"]
    edges = np.asarray(sim["edges"], float)
    for name, key, color in zip(doc["spaces"], ("a", "b"), COLORS, strict=False):
        counts = np.asarray(sim[key], float)
        ax.stairs(counts, edges, fill=True, alpha=0.4, color=color, label=name)
        ax.stairs(counts, edges, color=color, linewidth=1.2)
    ax.set_title(f"cosine similarity of the same {sim['pairs']:,} random pairs", fontsize=10)
    ax.set_xlabel("cosine similarity")
    ax.set_ylabel("pairs")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.25)
    return fig


def calibration_figure(doc: dict[str, Any]) -> Figure:
    """Similarity in A against the similarity at the same percentile in B."""
    fig = _fig(4.6, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    cal = doc["calibration"]
    a, b = doc["spaces"]
    ax.plot(cal["a"], cal["b"], marker="o", color=COLORS[0], markersize=3)
    for p, x, y in zip(cal["percentiles"], cal["a"], cal["b"], strict=True):
        if p in (50.0, 90.0, 99.0, 99.9):
            ax.annotate(f"p{p:g}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    lo = min(min(cal["a"]), min(cal["b"]))
    hi = max(max(cal["a"]), max(cal["b"]))
    ax.plot([lo, hi], [lo, hi], color="#999", linestyle=":", linewidth=1, label="same value")
    ax.set_title("the same percentile in both spaces", fontsize=10)
    ax.set_xlabel(f"cosine similarity in {a}")
    ax.set_ylabel(f"cosine similarity in {b}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.25)
    return fig


def retrieval_figure(doc: dict[str, Any]) -> Figure | None:
    """Grouped bars of the retrieval metrics per space; ``None`` when the comparison measured none."""
    parts = [(f"same {doc['retrieval'].get('column')}", doc["retrieval"]["rows"])] if doc.get("retrieval") else []
    if doc.get("qrels"):
        parts.append(("qrels", doc["qrels"]["rows"]))
    if not parts:
        return None
    fig = _fig(6.4, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    labels = [f"{title}\n{row['metric']}" for title, rows in parts for row in rows]
    rows = [row for _, rows in parts for row in rows]
    spaces = doc["spaces"]
    width = 0.8 / len(spaces)
    x = np.arange(len(rows))
    for j, (s, color) in enumerate(zip(spaces, COLORS, strict=False)):
        vals = [row["values"][s] for row in rows]
        ax.bar(x + (j - (len(spaces) - 1) / 2) * width, vals, width, color=color, label=s)
    for i, row in enumerate(rows):
        mark = "tie" if row["winner"] is None else f"+{row['difference']:.3f}"
        ax.text(i, max(row["values"].values()) + 0.02, mark, ha="center", fontsize=7)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylim(0, 1.1)
    ax.set_title("retrieval quality (margin of the best; tie = 95% interval holds 0)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.25, axis="y")
    return fig


def write_figures(doc: dict[str, Any], directory: str | Path) -> list[Path]:
    """Write every figure of ``doc`` as ``compare-{a}-{b}-{figure}.png`` in ``directory``; the paths written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    a, b = (re.sub(r"[^A-Za-z0-9_.-]+", "_", s) for s in doc["spaces"])
    figs = {"agreement": agreement_figure(doc), "similarity": similarity_figure(doc),
            "calibration": calibration_figure(doc) if doc.get("calibration") else None,
            "retrieval": retrieval_figure(doc)}
    written = []
    for name, fig in figs.items():
        if fig is None:
            continue
        FigureCanvasAgg(fig)
        p = out / f"compare-{a}-{b}-{name}.png"
        with atomic_path(p) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        written.append(p)
    return written
