"""Contexts at scale: a word's occurrences in the King James Bible as a contexts workspace, time and peak memory
per stage.

Data: the bundled sample (``embedscope.io.samples.bible()``, 31,102 verses) ingested into a fresh workspace;
``embedscope contexts WS --word WORD --max N`` (through :meth:`embedscope.Scope.contexts`) on it, every layer
(``layer_0`` .. ``layer_6``). The stages are timed by wrapping the functions the command calls (nothing else
changes): token vectors (:meth:`TokenVectors.vectors`, all layers in one pass), kNN graphs (``Scope.knn``),
UMAP layouts (``Scope.project``), clustering (the k-means / silhouette choice of k on the unit vectors, and the
stored ``Scope.cluster``). Peak memory: ``VmHWM`` reset before each call (``/proc/self/clear_refs``), reported
as the largest peak above the resident size at the call's start. Then a rerun (a no-op) is timed.

With ``--forms``, each layer's cluster purity against the word as written (``form``: e.g. LORD vs Lord).

Run::

    .venv/bin/python bench/contexts.py [--word and] [--max 20000] [--forms] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import embedscope
from embedscope.embedders.tokens import TokenVectors
from embedscope.io.samples import bible
from embedscope.ops import contexts as ops_contexts
from embedscope.words import contexts as words_contexts


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


STAGES: dict[str, dict[str, float]] = {}


def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*a: Any, **kw: Any) -> Any:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        rss0 = _status("VmRSS")
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            s = STAGES.setdefault(stage, {"seconds": 0.0, "calls": 0, "peak_mb": 0.0})
            s["seconds"] += time.perf_counter() - t0
            s["calls"] += 1
            s["peak_mb"] = max(s["peak_mb"], (_status("VmHWM") - rss0) / 2**20)
    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--word", default="and")
    ap.add_argument("--max", type=int, default=20000)
    ap.add_argument("--forms", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    TokenVectors.vectors = timed("token vectors", TokenVectors.vectors)  # type: ignore[method-assign]
    embedscope.Scope.knn = timed("kNN graphs", embedscope.Scope.knn)  # type: ignore[method-assign]
    embedscope.Scope.project = timed("UMAP layouts", embedscope.Scope.project)  # type: ignore[method-assign]
    embedscope.Scope.cluster = timed("clusters (stored, on the map)", embedscope.Scope.cluster)  # type: ignore[method-assign]
    ops_contexts.choose_k = timed("k-means + silhouette (unit vectors)", words_contexts.choose_k)  # type: ignore[attr-defined]
    ops_contexts.kmeans = timed("k-means + silhouette (unit vectors)", words_contexts.kmeans)  # type: ignore[attr-defined]
    ops_contexts.silhouette = timed("k-means + silhouette (unit vectors)", words_contexts.silhouette)  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="ctx-bench-") as tmp:
        ws = embedscope.create(f"{tmp}/ws")
        ws.ingest(bible())
        t0 = time.perf_counter()
        rep = ws.contexts(args.word, limit=args.max, log=lambda m: print(m, file=sys.stderr, flush=True))
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = ws.contexts(args.word, limit=args.max)
        rerun = time.perf_counter() - t1
        forms = None
        if args.forms:
            sub = embedscope.open(rep.workspace)
            form = sub.items().column("form").to_pylist()[:-1]
            forms = {}
            for lay in rep.layers:
                x = sub.store.arrays(lay["space"]).x[:-1]
                k = len(set(form))
                forms[lay["layer"]] = words_contexts.purity(words_contexts.kmeans(x, k), form)
        doc = {"word": args.word, "occurrences": rep.occurrences, "layers": rep.layers, "total_seconds": total,
               "peak_rss_mb": _status("VmHWM") / 2**20, "rerun_seconds": rerun, "rerun_reused": again.reused,
               "stages": STAGES, "form_purity": forms}
    if args.json:
        print(json.dumps(doc))
        return
    print(f"{doc['occurrences']} occurrences of {args.word!r}: {total:.1f} s, rerun {rerun:.2f} s")
    for name, s in STAGES.items():
        print(f"  {name:40s} {s['seconds']:8.1f} s  {int(s['calls']):3d} calls  peak +{s['peak_mb']:.0f} MB")
    for lay in rep.layers:
        print(f"  layer {lay['layer']}: k={lay['clusters']} silhouette={lay['silhouette']:.3f}"
              + (f" form purity={forms[lay['layer']]:.3f}" if forms else ""))


if __name__ == "__main__":
    main()
