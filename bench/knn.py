"""Exact kNN graph: embedscope's blocked ``knn_graph`` against a naive full-matrix numpy version.

What is measured:

- ``blocked``: ``embedscope.search.exact.knn_graph(x, k, metric="cosine")`` (row blocks of at most
  ``BLOCK_BYTES`` of scores, never an ``n x n`` matrix), at every size in ``--sizes``;
- ``naive``: normalise, ``s = x @ x.T`` (``n*n`` float32), diagonal set to -inf, ``argpartition`` per row,
  sort the k best; only at ``--n`` (default 20,000: ``s`` is 1.6 GB). For larger sizes the script prints the
  matrix it would need (40 GB at 100,000) instead of running it.

Each run is a fresh ``spawn`` child process that loads its vectors from a ``.npy`` file, reads
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the baseline: interpreter, numpy and the data), runs the method
once, and reads it again; "peak MB" is the difference, so runs do not pollute each other. Time is wall clock
of the method alone. At ``--n`` the blocked neighbours are checked against the naive ones: recall as sets,
and recall up to ties (a blocked neighbour counts if its similarity is at least the naive k-th one - 1e-5).

Data: seeded random unit vectors with a cluster structure (a shared direction plus 200 cluster centres of
Zipf-like sizes plus noise, so neighbourhoods look like an embedding space rather than Gaussian noise), or
``--vectors FILE.npy`` (its first rows are used for each size).

Run::

    .venv/bin/python bench/knn.py [--n 20000] [--k 15] [--sizes 20000,100000] [--vectors FILE.npy] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def clustered_vectors(n: int, d: int = 384, *, clusters: int = 200, seed: int = 0) -> np.ndarray:
    """Unit vectors ``(n, d)`` float32: shared direction + cluster centre + noise (generated in chunks)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(d).astype(np.float32)
    common /= np.linalg.norm(common)
    centres = rng.standard_normal((clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.8
    weights /= weights.sum()
    out = np.empty((n, d), np.float32)
    for start in range(0, n, 10_000):
        stop = min(n, start + 10_000)
        lab = rng.choice(clusters, size=stop - start, p=weights)
        noise = rng.standard_normal((stop - start, d), dtype=np.float32) * np.float32(1.2 / np.sqrt(d))
        out[start:stop] = 0.5 * common + centres[lab] + noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def naive_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine kNN graph through the full ``n x n`` similarity matrix."""
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = xn @ xn.T
    np.fill_diagonal(s, -np.inf)
    part = np.argpartition(s, -k, axis=1)[:, -k:]
    ps = np.take_along_axis(s, part, axis=1)
    order = np.argsort(-ps, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int32), np.take_along_axis(ps, order, axis=1)


def _child(path: str, k: int, method: str) -> dict[str, Any]:
    import resource

    from embedscope.search.exact import knn_graph

    x = np.load(path)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if method == "naive":
        idx, sc = naive_knn(x, k)
    else:
        g = knn_graph(x, k=k, metric="cosine")
        idx, sc = g.indices, g.scores
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"time_s": dt, "peak_mb": (peak - base) / 1024, "baseline_mb": base / 1024, "data_mb": x.nbytes / 2**20,
            "indices": idx, "scores": sc}


def _run(path: Path, k: int, method: str) -> dict[str, Any]:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_child, (str(path), k, method))


def _recall(blocked: dict[str, Any], naive: dict[str, Any]) -> tuple[float, float, float]:
    bi, ni = blocked["indices"], naive["indices"]
    k = ni.shape[1]
    exact = np.mean([len(set(a) & set(b)) / k for a, b in zip(bi.tolist(), ni.tolist(), strict=True)])
    kth = naive["scores"][:, -1:]
    ties = float(np.mean(blocked["scores"] >= kth - 1e-5))
    return float(exact), ties, float(np.max(np.abs(blocked["scores"] - naive["scores"])))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="size of the naive-vs-blocked comparison")
    ap.add_argument("--k", type=int, default=15)
    ap.add_argument("--sizes", default="20000,100000", help="comma-separated sizes for the blocked run")
    ap.add_argument("--dim", type=int, default=384, help="dimensions of the generated vectors")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vectors", type=Path, help="a .npy of shape (N, d) to use instead of generated vectors")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")} | {args.n})

    src = np.load(args.vectors, mmap_mode="r") if args.vectors else None
    rows: list[dict[str, Any]] = []
    dim = args.dim
    check: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="embedscope-knn-") as tmp:
        for n in sizes:
            if src is not None:
                if n > src.shape[0]:
                    raise SystemExit(f"--vectors has {src.shape[0]} rows, fewer than size {n}")
                x = np.ascontiguousarray(src[:n], dtype=np.float32)
            else:
                x = clustered_vectors(n, args.dim, seed=args.seed)
            dim = x.shape[1]
            path = Path(tmp) / f"x{n}.npy"
            np.save(path, x)
            del x
            blocked = _run(path, args.k, "blocked")
            rows.append({"n": n, "method": "blocked", **blocked})
            if n == args.n:
                naive = _run(path, args.k, "naive")
                rows.append({"n": n, "method": "naive", **naive})
                exact, ties, dmax = _recall(blocked, naive)
                check = {"n": n, "recall_sets": exact, "recall_up_to_ties": ties, "max_abs_score_diff": dmax}
            path.unlink()

    ref_naive = next(r for r in rows if r["method"] == "naive")
    ref_blocked = next(r for r in rows if r["method"] == "blocked" and r["n"] == args.n)
    not_run = [{"n": n, "naive_matrix_gb": n * n * 4 / 1e9} for n in sizes if n > args.n]
    for r in rows:
        r.pop("indices")
        r.pop("scores")
        r["time_vs_naive"] = r["time_s"] / ref_naive["time_s"] if r["n"] == args.n else None
        r["peak_vs_naive"] = r["peak_mb"] / ref_naive["peak_mb"] if r["n"] == args.n else None
        r["time_vs_blocked_at_n"] = r["time_s"] / ref_blocked["time_s"]
    result = {"k": args.k, "dim": dim,
              "data": str(args.vectors) if args.vectors else f"clustered, seed {args.seed}",
              "rows": rows, "check": check, "naive_not_run": not_run}
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"cosine kNN graph, k={args.k}, d={dim}, data: {result['data']}; "
          "one spawned process per run; peak = ru_maxrss increase over the loaded data")
    print(f"{'n':>8} {'method':<8}{'time s':>9}{'peak MB':>10}{'data MB':>9}{'t/naive':>9}{'mem/naive':>10}"
          f"{'t/blocked@' + str(args.n):>18}")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for r in rows:
        print(f"{r['n']:>8} {r['method']:<8}{r['time_s']:>9.2f}{r['peak_mb']:>10.0f}{r['data_mb']:>9.0f}"
              f"{fmt(r['time_vs_naive']):>9}{fmt(r['peak_vs_naive']):>10}{fmt(r['time_vs_blocked_at_n']):>18}")
    for nr in not_run:
        print(f"{nr['n']:>8} naive   not run: s = x @ x.T alone would be {nr['naive_matrix_gb']:.1f} GB (n*n float32); "
              f"for scale, (n/{args.n})^2 = {(nr['n'] / args.n) ** 2:.0f}")
    print(f"check at n={check['n']}: recall of blocked vs naive {check['recall_sets']:.6f} (sets), "
          f"{check['recall_up_to_ties']:.6f} (up to ties); max |score diff| {check['max_abs_score_diff']:.1e}")
    return result


if __name__ == "__main__":
    main()
