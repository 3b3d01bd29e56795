"""Compression lab on real vectors: recall against bytes per vector, and binary Hamming search against float32.

Data: ``--n`` (default 100,000) distinct texts of the bundled sample data (King James verses, their clauses,
consecutive verse pairs, comma phrases: see ``bench/_corpus.py``) embedded with the bundled MiniLM
(all-MiniLM-L6-v2, 384 dims, unit-normalised), embedded once into ``/tmp/embedscope-bench`` and reused.

What runs, in one process: :func:`embedscope.analyses.compress.evaluate` with ``--queries`` (default 1,000) held-out
queries and every default codec (float32 reference, float16, int8, binary, binary+rescore (4x),
binary+rescore-10x, truncate and PCA to 192/96/48 dims): recall@1/10/100 of the exact float32 cosine
neighbours, bytes per vector, build time and query time (a batch top-10 search of all queries over all
stored items, ms per query). Then the ratio the issue asks for: float32 exact search time over binary Hamming
search time, plain and with rescoring, from the same run, next to each one's recall@10.

Run::

    .venv/bin/python bench/compress.py [--n 100000] [--queries 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import bible_vectors
from embedscope.analyses.compress import default_codecs, evaluate, frontier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3, help="runs of the timed searches; the median is kept")
    ap.add_argument("--codecs", default=None,
                    help="comma-separated codec names (default: every default codec and binary+rescore-20x)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    _ids, x = bible_vectors(args.n, log=lambda m: print(m, file=sys.stderr))
    load_before = os.getloadavg()
    codecs = args.codecs.split(",") if args.codecs else [*default_codecs(x.shape[1]), "binary+rescore-20x"]
    runs = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        runs.append(evaluate(x, codecs, queries=args.queries, seed=0))
        print(f"run {r + 1}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    ev = runs[0]
    for i, row in enumerate(ev.rows):  # median query time over the runs (recall is identical: same split)
        times = sorted(run.rows[i].query_ms for run in runs)
        row.query_ms = times[len(times) // 2]
    rows = {r.codec: r for r in ev.rows}
    ref = rows["float32"].query_ms
    speed = {name: ref / r.query_ms for name, r in rows.items() if name.startswith("binary")}
    doc = {"n_items": ev.n_items, "n_queries": ev.n_queries, "dim": ev.dim, "cpus": os.cpu_count(),
           "load_average_before": load_before, "load_average": os.getloadavg(),
           "rows": [r.row() for r in ev.rows], "frontier": frontier(ev.rows),
           "float32_over_binary_time": speed}
    if args.json:
        print(json.dumps(doc))
        return
    print(f"{ev.n_items:,} stored x {ev.dim} dims, {ev.n_queries:,} held-out queries; "
          f"median of {args.repeats} runs; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'codec':22s} {'bytes/vec':>9s} {'recall@1':>9s} {'recall@10':>9s} {'recall@100':>10s} "
          f"{'query ms':>9s} {'build s':>8s}")
    for r in ev.rows:
        mark = "*" if r.codec in doc["frontier"] else " "
        print(f"{r.codec + mark:22s} {r.bytes_per_vector:9g} {r.recall['recall@1']:9.3f} {r.recall['recall@10']:9.3f} "
              f"{r.recall['recall@100']:10.3f} {r.query_ms:9.3f} {r.build_s:8.2f}")
    print("* on the recall@10 / bytes frontier")
    for name, s in speed.items():
        print(f"float32 exact search time / {name} time = {s:.1f}x  (recall@10 {rows[name].recall['recall@10']:.3f})")


if __name__ == "__main__":
    main()
