"""The kNN graph of a big space through the public API: approximate above 200,000 items (usearch HNSW), its
build time, peak memory and recall@10 against exact search on 1,000 sampled items, and the exact graph's
time extrapolated.

Data: the workspace of ``bench/_big_workspace.py`` (``--n`` points, default 1,000,000: the 100,000 real MiniLM
vectors of the sample texts tiled with noise), built without a graph if missing. Then ``Scope.knn(space)``
(k=50, cosine) builds and stores the graph; above ``embedscope.search.ann.ANN_ABOVE`` (200,000) items that is
``neighbors.ann_graph`` (HNSW, float16 copies, M=16, efConstruction=128, efSearch=64, candidates rescored
exactly) followed by ``neighbors.graph_recall`` (brute-force exact neighbours of 1,000 sampled items; its
time gives the first extrapolation of the exact graph: ``scan_s * n / 1000``). The stored record carries
build time and recall, which the server and CLI show next to neighbour lists.

With ``--exact-n M`` the exact blocked graph (``neighbors.knn_graph``, k=50) of the first ``M`` vectors is
also timed, for a second extrapolation to ``n`` by ``(n / M)^2``.

Run::

    .venv/bin/python bench/knn_1m.py [--n 1000000] [--exact-n 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import embedscope
from _big_workspace import SPACE, build, vm_hwm_mb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--path", default=None, help="workspace (default /tmp/embedscope-bench/serve-N.scope)")
    ap.add_argument("--exact-n", type=int, default=0, help="also time the exact graph of this many vectors")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    path = Path(args.path or f"/tmp/embedscope-bench/serve-{args.n}.scope")
    build(args.n, path, graph=False)
    scope = embedscope.open(path)
    before = scope.graph_info(SPACE)
    base_mb = vm_hwm_mb()
    t0 = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - t0
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"\r{stage}: {done:,}/{total:,} at {now:.0f} s", end="", file=sys.stderr, flush=True)

    scope.knn(SPACE, progress=progress)
    total_s = time.perf_counter() - t0
    print(file=sys.stderr)
    rec = scope.manifest.records[f"neighbors__{SPACE}"].params
    doc = {"n": args.n, "dim": 384, "k": rec["k"], "cpus": os.cpu_count(), "load_average": os.getloadavg(),
           "reused_graph": before is not None, "knn_total_s": total_s, "graph": rec,
           "peak_mb": vm_hwm_mb(), "peak_before_mb": base_mb}
    if args.exact_n:
        from embedscope.search.exact import knn_graph

        _, x = scope.vectors(SPACE)
        sub = np.ascontiguousarray(x[: args.exact_n])
        t0 = time.perf_counter()
        knn_graph(sub, int(rec["k"]), "cosine")
        dt = time.perf_counter() - t0
        doc["exact_at"] = {"n": args.exact_n, "s": dt, "extrapolated_to_n_s": dt * (args.n / args.exact_n) ** 2}
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
        return
    print(f"{args.n:,} x 384, k={rec['k']}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
          + (" (graph reused from an earlier run)" if before is not None else ""))
    print(f"  graph method          {rec.get('method')}, exact={rec.get('exact')}")
    if not rec.get("exact", True):
        print(f"  ANN build (add+search) {rec['build_s']:9.1f} s")
        print(f"  recall@10 vs exact    {rec['recall@10']:9.4f}   (on {rec['recall_sample']:,} sampled items)")
        print(f"  Scope.knn total       {total_s:9.1f} s   (build + recall check + store)")
        est = rec["exact_estimate_s"]
        print(f"  exact graph, estimated {est:9.0f} s = {est / 3600:.1f} h (timed exact scan of the sample x n/1000);"
              f" ANN is {est / rec['build_s']:.0f}x faster")
    else:
        print(f"  exact graph           {total_s:9.1f} s")
    if "exact_at" in doc:
        e = doc["exact_at"]
        print(f"  exact graph at {e['n']:,}: {e['s']:.1f} s -> x (n/{e['n']:,})^2 = {e['extrapolated_to_n_s']:.0f} s "
              f"= {e['extrapolated_to_n_s'] / 3600:.1f} h at {args.n:,}")
    print(f"  peak memory           {doc['peak_mb']:9.0f} MB (process; {base_mb:.0f} MB before the graph)")


if __name__ == "__main__":
    main()
