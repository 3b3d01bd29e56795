"""Layouts of 20,000 real embeddings: embedscope's PCA, UMAP, t-SNE and sphere vs embedding-atlas's UMAP.

Data: ``embedscope.io.samples.bible(N)`` (KJV verses spread evenly over the whole text), embedded with the
bundled all-MiniLM-L6-v2 (``LocalEmbedder().embed`` in chunks of 2,000 texts; sentence-transformers
``encode``, batch size 128, L2 norms as the model returns them, float32). The vectors are cached in
``--cache-dir`` (default ``/tmp/embedscope-bench``) as ``bible{N}_minilm.npy``; so is the exact cosine 15-NN
graph used as ground truth (``knn_graph(x, k=15)``: ``bible{N}_minilm_knn15_{indices,scores}.npy``).

Each run is a fresh process (``multiprocessing`` ``spawn`` for embedscope, a subprocess of the other
virtualenv's python for embedding-atlas) with ``NUMBA_CACHE_DIR`` set to a directory of its own: **cold** is
the first run with that directory empty (numba compiles everything), **warm** a second fresh process with
the cache the cold run filled. Inside the child: load the vectors, import the tool's projection module, read
the process's peak RSS (``VmHWM``: the baseline), then time

- embedscope: the kNN graph ``knn_graph(x, k)`` with the k the workspace stores (50; 90 for t-SNE's
  perplexity 30), then ``embedscope.projection.project(x, method, knn=graph, seed=42)``. The workspace builds
  the graph once, stores it and reuses it for every layout (and for neighbours and the honesty metrics), so
  both "layout" (graph reused) and "end to end" (graph + layout) are reported. ``sphere`` includes its flat
  UMAP and its two honesty evaluations (the relaxed sphere vs the naive wrap, on 1,000 items), as ``project`` runs them;
- embedding-atlas (``bench/_atlas_project.py``): its public ``compute_projection(df, modality="vector")``
  with an empty result cache: umap-learn's NN-descent kNN ("graph", timed by wrapping it) then its UMAP.
  Variants: ``default`` (its defaults: no seed, so umap-learn runs its optimisation on all cores) and
  ``seeded`` (``random_state=42``, single-threaded and reproducible like embedscope's).

"peak MB" is the increase of the child's own peak RSS over the baseline (``VmHWM`` from ``/proc/self/status``,
not ``ru_maxrss``, which a fork + exec child inherits from its parent on Linux). A warm run with a "hot"
repeat measures its peak before the repeat. "hot" (warm runs only) is the same graph + layout (or
``compute_projection``) timed a second time in the same process: what a long-lived process (the server)
pays once nothing is left to import or compile. Every layout is scored in this process with
embedscope's ``layout_quality(x, coords, k=15, high_knn=<the exact 15-NN graph>)`` (the sphere as unit x, y,
z), against the same graph for every run, on every item (``--quality-sample N`` for a sample).

Setup of the embedding-atlas virtualenv (kept out of embedscope's; it needs pandas >= 3)::

    python3 -m venv /tmp/embedscope-bench/atlas-venv
    /tmp/embedscope-bench/atlas-venv/bin/pip install torch==2.13.0   # the CPU build, before it pulls CUDA
    /tmp/embedscope-bench/atlas-venv/bin/pip install embedding-atlas

Run::

    .venv/bin/python bench/project.py [--n 20000] [--methods pca,umap,tsne,sphere] [--skip-atlas]
                                      [--cache-dir /tmp/embedscope-bench] [--quality-sample N] [--no-hot] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("pca", "umap", "tsne", "sphere")
GRAPH_K = {"umap": 50, "sphere": 50, "tsne": 90}  # what Scope.project stores (DEFAULT_K, 3 x perplexity)
SEED = 42
K = 15
CHUNK = 2_000


def load_vectors(n: int, cache: Path) -> Path:
    """Path of the cached ``(n, 384)`` float32 MiniLM vectors of ``bible(n)``; embeds them when missing."""
    path = cache / f"bible{n}_minilm.npy"
    if path.exists():
        return path
    from embedscope.embedders.local import LocalEmbedder
    from embedscope.io.samples import bible

    texts = bible(n)["text"].tolist()
    emb = LocalEmbedder()
    parts, t0 = [], time.perf_counter()
    for s in range(0, len(texts), CHUNK):
        parts.append(emb.embed(texts[s:s + CHUNK]))
        print(f"embedded {min(s + CHUNK, n)}/{n} verses, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    np.save(path, np.ascontiguousarray(np.concatenate(parts), dtype=np.float32))
    return path


def truth_graph(x: np.ndarray, path: Path) -> Any:
    """The exact cosine 15-NN graph of ``x``, cached next to the vectors."""
    from embedscope.search.exact import KNN, knn_graph

    ip, sp = (path.with_name(f"{path.stem}_knn{K}_{part}.npy") for part in ("indices", "scores"))
    if ip.exists() and sp.exists():
        return KNN(np.load(ip), np.load(sp), "cosine")
    g = knn_graph(x, k=K, metric="cosine")
    np.save(ip, g.indices)
    np.save(sp, g.scores)
    return g


def peak_rss_mb() -> float:
    """This process's own peak resident set (``VmHWM``), in MB.

    Not ``ru_maxrss``: on Linux a child started by fork + exec (``spawn``, ``subprocess``) inherits its parent's
    ``ru_maxrss``, so with a large parent the child's increase would read as 0.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _child(path: str, method: str, numba_dir: str, repeat: bool) -> dict[str, Any]:
    os.environ["NUMBA_CACHE_DIR"] = numba_dir  # before anything imports numba
    x = np.load(path)
    from embedscope.projection import project
    from embedscope.search.exact import knn_graph

    base = peak_rss_mb()
    graph, graph_s = None, 0.0
    if method in GRAPH_K:
        t0 = time.perf_counter()
        graph = knn_graph(x, k=GRAPH_K[method], metric="cosine")
        graph_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = project(x, method, knn=graph, seed=SEED)
    layout_s = time.perf_counter() - t0
    peak = peak_rss_mb()
    hot_s: float | None = None
    hot_graph_s = 0.0
    if repeat:  # the same again in this process: nothing left to import or compile
        t0 = time.perf_counter()
        graph = knn_graph(x, k=GRAPH_K[method]) if method in GRAPH_K else None
        hot_graph_s = time.perf_counter() - t0
        project(x, method, knn=graph, seed=SEED)
        hot_s = time.perf_counter() - t0
    return {"graph_s": graph_s, "layout_s": layout_s, "total_s": graph_s + layout_s, "hot_total_s": hot_s,
            "hot_graph_s": hot_graph_s if repeat else None, "baseline_mb": base,
            "peak_mb": peak - base, "params": res.params, "metrics": res.metrics,
            "coords": res.extra.get("xyz", res.coords)}


def run_embedscope(path: Path, method: str, numba_dir: Path, repeat: bool) -> dict[str, Any]:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_child, (str(path), method, str(numba_dir), repeat))


def run_atlas(python: str, path: Path, seed: int | None, numba_dir: Path, out: Path, repeat: bool) -> dict[str, Any]:
    cmd = [python, str(Path(__file__).with_name("_atlas_project.py")), str(path), str(out)]
    if repeat:
        cmd.append("--repeat")
    if seed is not None:
        cmd += ["--seed", str(seed)]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_dir)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"embedding-atlas run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    knn_s = float(info["knn_s"] or 0.0)
    return {"graph_s": knn_s, "layout_s": info["total_s"] - knn_s, "total_s": info["total_s"],
            "hot_total_s": info["hot_total_s"], "hot_graph_s": info["hot_knn_s"], "peak_mb": info["peak_mb"],
            "baseline_mb": info["baseline_mb"],
            "params": {k: info[k] for k in ("umap_args", "embedding_atlas", "umap_learn")},
            "coords": np.load(out)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="number of verses (spread evenly over the KJV)")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated embedscope methods")
    ap.add_argument("--skip-atlas", action="store_true", help="do not run embedding-atlas")
    ap.add_argument("--atlas-variants", default="default,seeded", help="embedding-atlas runs: default, seeded")
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/embedscope-bench"),
                    help="vectors, ground-truth graph, numba caches (default /tmp/embedscope-bench)")
    ap.add_argument("--atlas-python", help="python of the embedding-atlas venv (default CACHE/atlas-venv/bin/python)")
    ap.add_argument("--quality-sample", type=int, default=0,
                    help="score T@15 on this many random items (default 0: all; embedscope samples 5,000 > 10,000)")
    ap.add_argument("--no-hot", action="store_true", help="skip the repeat call in the warm process")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    if bad := [m for m in methods if m not in METHODS]:
        raise SystemExit(f"unknown method(s) {bad}; use {', '.join(METHODS)}")
    variants = [] if args.skip_atlas else [v for v in args.atlas_variants.split(",") if v]
    atlas_py = args.atlas_python or str(args.cache_dir / "atlas-venv" / "bin" / "python")
    if variants and not Path(atlas_py).exists():
        raise SystemExit(f"{atlas_py} not found: create the embedding-atlas venv (see the docstring) or --skip-atlas")
    args.cache_dir.mkdir(parents=True, exist_ok=True)

    from embedscope.projection.quality import layout_quality

    path = load_vectors(args.n, args.cache_dir)
    x = np.load(path)
    truth = truth_graph(x, path)
    jobs: list[tuple[str, str, Any]] = [("embedscope", m, None) for m in methods]
    jobs += [("embedding-atlas", f"umap ({v})", None if v == "default" else SEED) for v in variants]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="numba-", dir=args.cache_dir) as tmp:
        for tool, method, seed in jobs:
            numba_dir = Path(tmp) / f"{tool}-{method.split()[0]}-{len(rows)}"
            numba_dir.mkdir()
            prev: np.ndarray | None = None
            for phase in ("cold", "warm"):
                load = os.getloadavg()[0]
                hot = phase == "warm" and not args.no_hot
                if tool == "embedscope":
                    r = run_embedscope(path, method, numba_dir, hot)
                else:
                    r = run_atlas(atlas_py, path, seed, numba_dir, Path(tmp) / "atlas_coords.npy", hot)
                coords = r.pop("coords")
                if prev is not None and np.array_equal(prev, coords):
                    q = rows[-1]["quality"]
                else:
                    t0 = time.perf_counter()
                    q = layout_quality(x, coords, k=K, high_knn=truth, sample=args.quality_sample or len(x)).summary()
                    q["seconds"] = time.perf_counter() - t0
                prev = coords
                rows.append({"tool": tool, "method": method, "phase": phase, "load1": load, **r, "quality": q})
                print(f"{tool} {method} {phase}: {r['total_s']:.1f} s, T@15 {q['trustworthiness']:.4f}",
                      file=sys.stderr)
                (args.cache_dir / f"project_bench_{args.n}.partial.json").write_text(json.dumps(rows, indent=1))

    refs = {(r["method"], r["phase"]): r for r in rows if r["tool"] == "embedding-atlas"}
    first = f"umap ({variants[0]})" if variants else ""
    for r in rows:
        a = refs.get((first, r["phase"]))
        r["total_vs_atlas"] = r["total_s"] / a["total_s"] if a else None
        r["layout_vs_atlas"] = r["layout_s"] / a["total_s"] if a else None
        r["trust_minus_atlas"] = r["quality"]["trustworthiness"] - a["quality"]["trustworthiness"] if a else None
    ratios = [{"embedscope": r["method"], "atlas": am, "phase": r["phase"],
               "e2e": r["total_s"] / a["total_s"], "layout_only": r["layout_s"] / a["total_s"],
               "trust_minus_atlas": r["quality"]["trustworthiness"] - a["quality"]["trustworthiness"]}
              for r in rows if r["tool"] == "embedscope" and r["method"] in ("umap", "sphere")
              for (am, ph), a in refs.items() if ph == r["phase"]]
    ratios += [{"embedscope": r["method"], "atlas": am, "phase": "hot (repeat in the warm process)",
                "e2e": r["hot_total_s"] / a["hot_total_s"],
                "layout_only": (r["hot_total_s"] - r["hot_graph_s"]) / a["hot_total_s"],
                "trust_minus_atlas": r["quality"]["trustworthiness"] - a["quality"]["trustworthiness"]}
               for r in rows if r["tool"] == "embedscope" and r["method"] in ("umap", "sphere") and r["hot_total_s"]
               for (am, ph), a in refs.items() if ph == "warm" and a["hot_total_s"]]
    result = {"n": args.n, "dim": int(x.shape[1]), "k": K, "seed": SEED, "graph_k": GRAPH_K,
              "vectors": f"embedscope.io.samples.bible({args.n}) text, bundled all-MiniLM-L6-v2, {path}",
              "cpus": os.cpu_count(), "rows": rows, "ratios": ratios}
    (args.cache_dir / f"project_bench_{args.n}.json").write_text(json.dumps(result, indent=2))
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"{args.n} KJV verses x {x.shape[1]} (MiniLM); one fresh process per run; cold = empty numba cache; "
          f"T, R = trustworthiness, kNN recall @{K} vs the exact cosine graph; ratios vs embedding-atlas "
          f"{first or '-'} in the same phase")

    def f(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    print(f"{'tool':<16}{'method':<17}{'phase':<6}{'load':>5}{'graph s':>9}{'layout s':>9}{'e2e s':>8}"
          f"{'hot s':>7}{'peak MB':>8}{'T@15':>8}{'R@15':>7}{'e2e/at':>7}{'lay/at':>7}{'dT':>8}")
    for r in rows:
        q = r["quality"]
        print(f"{r['tool']:<16}{r['method']:<17}{r['phase']:<6}{r['load1']:>5.1f}{r['graph_s']:>9.1f}"
              f"{r['layout_s']:>9.1f}{r['total_s']:>8.1f}{f(r['hot_total_s'], '.1f'):>7}{r['peak_mb']:>8.0f}"
              f"{q['trustworthiness']:>8.4f}{q['knn_recall']:>7.3f}{f(r['total_vs_atlas'], '.2f'):>7}"
              f"{f(r['layout_vs_atlas'], '.2f'):>7}"
              f"{f(r['trust_minus_atlas'], '+.4f'):>8}")
    for z in ratios:
        print(f"embedscope {z['embedscope']} / embedding-atlas {z['atlas']}, {z['phase']}: end to end "
              f"{z['e2e']:.2f}x, graph reused {z['layout_only']:.2f}x, trustworthiness {z['trust_minus_atlas']:+.4f}")
    return result


if __name__ == "__main__":
    main()
