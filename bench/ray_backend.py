"""The Ray backend against the single-process path on the same items: embedding and the exact kNN graph.

(Not ``bench/ray.py``: this directory is on ``sys.path`` and a ``ray.py`` here would shadow the ``ray`` package.)

What is measured, on ``--n`` distinct Bible texts (``bench/_corpus.bible_texts``) and the bundled MiniLM:

- ``embed local``: ``Scope.embed("minilm", "local")`` in a fresh workspace (model load included);
- ``embed ray``: ``Scope.embed(..., engine="ray")`` in another fresh workspace, on a local Ray runtime with 2
  CPUs bound to 127.0.0.1 (started first and timed apart as ``ray init``), ``--concurrency`` actors (default 2,
  one model and one torch thread each); its time includes starting the actors and loading a model in each;
- ``steady texts/s``: texts per second between the first and the last finished batch (progress callbacks),
  i.e. without start-up: the rate a long run approaches, used for the projection;
- ``knn local`` / ``knn ray``: the exact cosine graph (k = 50) of the embedded vectors,
  ``embedscope.search.exact.knn_graph`` against ``embedscope.engines.ray.knn.knn_graph_ray`` (8 shards as tasks),
  both on the same runtime; and on ``--knn-n`` seeded random unit vectors (384 dims) for a larger size.

- ``ann local`` / ``ann ray``: the approximate cosine graph (k = 50) of ``--ann-n`` vectors,
  ``embedscope.search.ann.ann_graph`` (one usearch HNSW index, 2 threads) against
  ``embedscope.engines.ray.knn.ann_graph_ray`` (one index per shard, ``--shards`` tasks of 1 CPU, merged), each
  with its recall@10 against exact search on the same 1,000 sampled items (``neighbors.graph_recall``);
- ``umap local`` / ``umap ray``: the UMAP layout of ``--layout-n`` vectors fitted on a 50,000 sample
  (``projection.umap.umap_layout``: fit, then ``transform`` in batches of 20,000) against
  ``embedscope.engines.ray.umap.umap_layout_ray`` (the same fit in the driver, each batch a Ray task), with the fit's time
  apart and the largest coordinate difference between the two layouts.

The vectors of the ANN and layout steps are ``bench/_big_workspace.make_vectors``: the 100,000 real MiniLM
embeddings of the Bible corpus tiled with seeded Gaussian noise (0.03 a dimension), re-normalised.

Checks printed: same ids, max abs difference of the vectors, whether the graphs' indices are equal, each
graph's recall, the layouts' largest difference. Load averages are printed before and after every step.

Run::

    .venv/bin/python bench/ray_backend.py [--n 5000] [--knn-n 50000] [--ann-n 0] [--layout-n 0] [--shards 2]
        [--batch-size 128] [--concurrency 2] [--no-embedded-knn] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _timed_embed(scope, **kw):  # type: ignore[no-untyped-def]
    marks: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    rep = scope.embed("minilm", "local", progress=lambda _s, d, _t: marks.append((time.perf_counter(), d)), **kw)
    total = time.perf_counter() - t0
    done = [(t, d) for t, d in marks if d > 0]
    steady = (done[-1][1] - done[0][1]) / (done[-1][0] - done[0][0]) if len(done) > 1 else float("nan")
    return rep, total, steady


def _ann_step(n: int, shards: int) -> dict[str, object]:
    """The approximate graph of ``n`` tiled real vectors, one process against Ray, with recall@10 of each."""
    from _big_workspace import make_vectors
    from embedscope.engines.ray.knn import ann_graph_ray
    from embedscope.search.ann import ann_graph, graph_recall

    _, x = make_vectors(n)
    load = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    ref = ann_graph(x, 50)
    tl = time.perf_counter() - t0
    load.append(os.getloadavg()[0])
    t0 = time.perf_counter()
    got = ann_graph_ray(x, 50, shards=shards)
    tr = time.perf_counter() - t0
    load.append(os.getloadavg()[0])
    return {"n": n, "shards": shards, "local_s": tl, "ray_s": tr, "load": load,
            "local_recall": graph_recall(x, ref, 10)[0], "ray_recall": graph_recall(x, got, 10)[0],
            "rows_equal": float((ref.indices[:, :10] == got.indices[:, :10]).all(axis=1).mean())}


def _layout_step(n: int) -> dict[str, object]:
    """The sampled UMAP layout of ``n`` tiled real vectors, one process against Ray, fit and placement apart."""
    from _big_workspace import make_vectors
    from embedscope.engines.ray.umap import umap_layout_ray
    from embedscope.projection.umap import umap_layout

    _, x = make_vectors(n)
    out: dict[str, object] = {"n": n}
    load = [os.getloadavg()[0]]
    for name, fn in (("local", umap_layout), ("ray", umap_layout_ray)):
        marks: list[tuple[float, int]] = []
        t0 = time.perf_counter()
        lay = fn(x, seed=42, progress=lambda d, _t, m=marks: m.append((time.perf_counter(), d)))  # type: ignore[operator]
        total = time.perf_counter() - t0
        fit_end = next(t for t, d in marks if d > 0)
        out[f"{name}_s"] = total
        out[f"{name}_fit_s"] = fit_end - t0
        out[f"{name}_place_s"] = total - (fit_end - t0)
        out[f"{name}_coords"] = lay.coords
        out["sample"], out["placed"] = lay.params.get("fit_sample", n), lay.params.get("placed_by_transform", 0)
        load.append(os.getloadavg()[0])
    a, b = out.pop("local_coords"), out.pop("ray_coords")
    out["max_coord_diff"] = float(np.abs(np.asarray(a) - np.asarray(b)).max())
    out["load"] = load
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--knn-n", type=int, default=50_000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--knn-only", action="store_true", help="Skip embedding; kNN on --knn-n random vectors only.")
    ap.add_argument("--ann-n", type=int, default=0, help="Items of the approximate graph step (0: skip).")
    ap.add_argument("--layout-n", type=int, default=0, help="Items of the UMAP layout step (0: skip).")
    ap.add_argument("--shards", type=int, default=2, help="Index shards of the Ray approximate graph.")
    ap.add_argument("--no-embedded-knn", action="store_true",
                    help="Skip the exact graph of the embedded vectors (O(n^2): minutes at 100,000).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import embedscope
    from _corpus import bible_texts
    from embedscope.engines.ray.knn import knn_graph_ray
    from embedscope.engines.ray.runtime import ray_runtime
    from embedscope.search.exact import knn_graph

    df = bible_texts(args.n)[["id", "text"]]
    tmp = Path(tempfile.mkdtemp(prefix="embedscope-bench-ray-"))
    res: dict[str, object] = {"n": len(df), "batch_size": args.batch_size, "concurrency": args.concurrency,
                              "load": os.getloadavg()[0]}
    try:
        if not args.knn_only:
            a = embedscope.create(tmp / "local.scope")
            a.ingest(df)
            _, res["embed_local_s"], res["embed_local_steady"] = _timed_embed(a, batch_size=args.batch_size)
            b = embedscope.create(tmp / "ray.scope")
            b.ingest(df)
        t0 = time.perf_counter()
        with ray_runtime(None):
            res["ray_init_s"] = time.perf_counter() - t0
            sets = []
            if not args.knn_only:
                _, res["embed_ray_s"], res["embed_ray_steady"] = _timed_embed(
                    b, batch_size=args.batch_size, engine="ray", concurrency=args.concurrency)
                ia, xa, _ = a.store.arrays("minilm")
                ib, xb, _ = b.store.arrays("minilm")
                res["same_ids"] = list(ia) == list(ib)
                res["max_abs_diff"] = float(np.abs(xa - xb).max())
                if not args.no_embedded_knn:
                    sets.append(("embedded", xa))
            rng = np.random.default_rng(0)
            if args.knn_n:
                r = rng.standard_normal((args.knn_n, 384)).astype(np.float32)
                sets.append(("random", r / np.linalg.norm(r, axis=1, keepdims=True)))
            for name, x in sets:
                t0 = time.perf_counter()
                ref = knn_graph(x, 50)
                tl = time.perf_counter() - t0
                t0 = time.perf_counter()
                got = knn_graph_ray(x, 50, shards=8)
                tr = time.perf_counter() - t0
                res[f"knn_{name}"] = {"n": len(x), "local_s": tl, "ray_s": tr,
                                      "equal_indices": bool(np.array_equal(ref.indices, got.indices)),
                                      "rows_differing": int((ref.indices != got.indices).any(axis=1).sum()),
                                      "max_score_diff": float(np.abs(ref.scores - got.scores).max())}
            if args.ann_n:
                res["ann"] = _ann_step(args.ann_n, args.shards)
                print(json.dumps({"ann": res["ann"]}), file=sys.stderr, flush=True)  # each step as it ends
            if args.layout_n:
                res["umap"] = _layout_step(args.layout_n)
                print(json.dumps({"umap": res["umap"]}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(res, indent=1))
        return
    what = "no embedding" if args.knn_only else \
        f"{res['n']} texts, batch {args.batch_size}, {args.concurrency} Ray actors (1 CPU each)"
    print(f"{what}; a local 2-CPU Ray runtime; load average {res['load']:.1f} -> {res['load_after']:.1f}")
    print(f"{'step':<28}{'local s':>10}{'ray s':>10}{'ray/local':>11}")
    if not args.knn_only:
        el, er = float(res["embed_local_s"]), float(res["embed_ray_s"])  # type: ignore[arg-type]
        sl, sr = float(res["embed_local_steady"]), float(res["embed_ray_steady"])  # type: ignore[arg-type]
        print(f"{'embed (incl. model load)':<28}{el:>10.1f}{er:>10.1f}{er / el:>11.2f}")
    print(f"{'  + ray init':<28}{'':>10}{float(res['ray_init_s']):>10.1f}")  # type: ignore[arg-type]
    if not args.knn_only:
        print(f"{'steady texts/s':<28}{sl:>10.1f}{sr:>10.1f}{sr / sl:>11.2f}")
    for name in ("embedded", "random"):
        kk = res.get(f"knn_{name}")
        if isinstance(kk, dict):
            label = f"knn exact k=50, n={kk['n']}"
            print(f"{label:<28}{kk['local_s']:>10.1f}{kk['ray_s']:>10.1f}{kk['ray_s'] / kk['local_s']:>11.2f}"
                  f"   indices equal: {kk['equal_indices']} ({kk['rows_differing']} rows differ), "
                  f"max score diff {kk['max_score_diff']:.1e}")
    if not args.knn_only:
        print(f"same ids: {res['same_ids']}, max abs diff of the vectors: {res['max_abs_diff']:.2e}")
    ann = res.get("ann")
    if isinstance(ann, dict):
        label = f"ann k=50, n={ann['n']}"
        print(f"{label:<28}{ann['local_s']:>10.1f}{ann['ray_s']:>10.1f}{ann['ray_s'] / ann['local_s']:>11.2f}"
              f"   recall@10 local {ann['local_recall']:.4f}, ray ({ann['shards']} shards) {ann['ray_recall']:.4f}; "
              f"load {ann['load'][0]:.1f} / {ann['load'][1]:.1f} / {ann['load'][2]:.1f}")
    um = res.get("umap")
    if isinstance(um, dict):
        label = f"umap n={um['n']}"
        print(f"{label:<28}{um['local_s']:>10.1f}{um['ray_s']:>10.1f}{um['ray_s'] / um['local_s']:>11.2f}"
              f"   fit on {um['sample']:,}: {um['local_fit_s']:.1f} / {um['ray_fit_s']:.1f} s; placing "
              f"{um['placed']:,}: {um['local_place_s']:.1f} / {um['ray_place_s']:.1f} s; max coordinate diff "
              f"{um['max_coord_diff']:.1e}; load {um['load'][0]:.1f} / {um['load'][1]:.1f} / {um['load'][2]:.1f}")


if __name__ == "__main__":
    main()
