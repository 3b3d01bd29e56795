"""``embedscope contexts``: a word's occurrences as a workspace of their own, one space per model layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..words.contexts import WINDOW
from .common import JSON, WS, emit, err, open_scope, progress
from .console import Console


def contexts(
    ws: WS,
    word: Annotated[str, typer.Option("--word", help="The word (whole words, any case).")],
    label: Annotated[str | None, typer.Option("--label", help="An item column of known senses: each layer's "
                                              "cluster purity against it.")] = None,
    layer: Annotated[int | None, typer.Option("--layer", min=0, help="The default layer (default: the last).")] = None,
    layers: Annotated[str, typer.Option("--layers", help="Layers stored as spaces: all | 0,3,6 "
                                        "(0 = the embedding layer).")] = "all",
    to: Annotated[Path | None, typer.Option("--to", help="Where to build the contexts workspace "
                                            "(default: WS/contexts/WORD).")] = None,
    clusters: Annotated[int | None, typer.Option("--clusters", min=1, max=100, help="k of the k-means (default: "
                                                 "the label's number of values, else the best silhouette in "
                                                 "2..6).")] = None,
    window: Annotated[int, typer.Option("--window", min=20, max=100_000, help="Snippet: the sentence, cut to "
                                        "about this many characters around the word.")] = WINDOW,
    max_occurrences: Annotated[int | None, typer.Option("--max", min=1, help="At most this many occurrences "
                                                        "(the first in item order).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="local (the bundled all-MiniLM-L6-v2) | "
                                              "local:PATH")] = None,
    as_json: JSON = False,
) -> None:
    """Collect a word's occurrences in the texts and store them as a workspace: one item per occurrence (its
    sentence, the word's span in it) plus the word alone, one space per layer of the model (the occurrence's
    sub-word token vectors, mean-pooled), each with a kNN graph, a UMAP map and k-means clusters (the senses).

    With --label, each layer's cluster purity against that column (the word alone left out). Explore with
    `embedscope serve WS/contexts/WORD`; every other command works on it too. A rerun with the same inputs
    does nothing.

    JSON: {"workspace": str, "word": str, "occurrences": int, "default_layer": int, "label": str|null,
    "layers": [{"layer": int, "space": str, "purity": float|null, "silhouette": float|null, "clusters": int}],
    "purity": float|null (at the default layer)}.
    """
    scope = open_scope(ws)
    with progress(not as_json) as cb:
        rep = scope.contexts(word, to=to, label=label, layer=layer, layers=layers, clusters=clusters,
                             window=window, limit=max_occurrences, model=model, progress=cb,
                             log=lambda m: err.print(m, highlight=False, soft_wrap=True))
    if as_json:
        emit(rep.to_json())
        return
    t = Table("layer", "space", "clusters", "silhouette", "purity",
              title=f"{rep.occurrences} occurrences of {rep.word!r} in {rep.workspace}")
    for r in rep.layers:
        mark = " *" if r["layer"] == rep.default_layer else ""
        t.add_row(f"{r['layer']}{mark}", r["space"], str(r["clusters"]),
                  "-" if r["silhouette"] is None else f"{r['silhouette']:.3f}",
                  "-" if r["purity"] is None else f"{r['purity']:.3f}")
    Console().print(t)
    err.print(f"explore: embedscope serve {rep.workspace}", highlight=False, soft_wrap=True)
