"""A 2D layout of 1,000,000 x 384 vectors on this machine: UMAP fitted on a sample, the rest placed by transform.

Data: ``--n`` (default 1,000,000) unit vectors made from the 100,000 real MiniLM embeddings of
``bench/_corpus.py`` (King James verses, clauses, verse pairs, phrases): vector ``i`` is real vector
``i mod 100,000`` plus Gaussian noise (``--noise`` per dimension, default 0.03, i.e. a noise vector of norm
~0.59), re-normalised. Ten noisy copies of each real text: copies are about as similar to each other (cosine
~0.74) as real near neighbours are, so neighbourhoods mix copies and genuine neighbours. Seeded.

What runs, through the public API, with the times of each stage and the process's peak memory (VmHWM):

1. ``Scope.add_vectors`` stores the vectors as a space of a fresh workspace (one Lance table);
2. ``Scope.project(space, "umap")``: above 100,000 items embedscope fits UMAP on a 50,000-item random sample
   (its own NN-descent index; no exact graph of 1M, which would take hours here) and places the other 950,000
   with ``transform`` in batches of 20,000, then measures honesty on a 5,000-item sample (exact
   high-dimensional neighbours of the sample against all items).

Run::

    .venv/bin/python bench/layout_1m.py [--n 1000000] [--noise 0.03] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import embedscope
from _corpus import CACHE, bible_vectors


def vm_hwm_mb() -> float:
    """Peak resident memory of this process so far (MB), from /proc/self/status."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_vectors(n: int, noise: float, seed: int = 0) -> np.ndarray:
    """``(n, 384)`` float32 unit vectors: real MiniLM vectors (cycled) plus seeded Gaussian noise."""
    _, base = bible_vectors(100_000, log=lambda m: print(m, file=sys.stderr))
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), np.float32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        block = base[np.arange(lo, hi) % len(base)] + noise * rng.standard_normal((hi - lo, base.shape[1]),
                                                                                  dtype=np.float32)
        out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--noise", type=float, default=0.03)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    x = make_vectors(args.n, args.noise)
    t_data = time.perf_counter() - t0
    path = CACHE / f"layout-{args.n}.scope"
    if path.exists():
        shutil.rmtree(path)
    scope = embedscope.create(path)
    ids = [f"v{i}" for i in range(args.n)]
    t0 = time.perf_counter()
    scope.add_vectors("big", ids, x)
    t_store = time.perf_counter() - t0
    del x
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - start
        if stage == "umap" and done > 0 and "fit" not in marks:
            marks["fit"] = now
        if stage == "umap" and done == total:
            marks.setdefault("transform", now)
        if stage == "honesty" and "honesty_start" not in marks:
            marks["honesty_start"] = now
        print(f"\r{stage}: {done:,}/{total:,} at {now:.0f} s", end="", file=sys.stderr)

    layout = scope.project("big", "umap", progress=progress)
    total = time.perf_counter() - start
    print(file=sys.stderr)
    q = layout.quality
    fit = marks.get("fit", float("nan"))
    placed = marks.get("transform", float("nan"))
    doc = {"n": args.n, "dim": 384, "noise": args.noise, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
           "make_vectors_s": t_data, "store_s": t_store, "fit_sample_s": fit, "transform_s": placed - fit,
           "honesty_s": total - placed, "layout_total_s": total, "peak_mb": vm_hwm_mb(),
           "params": {k: v for k, v in layout.params.items() if k not in ("request",)}, "quality": q}
    if args.json:
        print(json.dumps(doc, default=str))
        return
    print(f"{args.n:,} x 384 vectors (real MiniLM + noise {args.noise}); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"  make vectors      {t_data:8.1f} s")
    print(f"  store (Lance)     {t_store:8.1f} s")
    print(f"  UMAP fit sample   {fit:8.1f} s   ({layout.params.get('fit_sample')} items)")
    print(f"  transform rest    {placed - fit:8.1f} s   ({layout.params.get('placed_by_transform')} items)")
    print(f"  honesty (sample)  {total - placed:8.1f} s")
    print(f"  layout total      {total:8.1f} s   ({total / 60:.1f} min)")
    print(f"  peak memory       {vm_hwm_mb():8.0f} MB")
    print(f"  quality           {json.dumps(q)}")


if __name__ == "__main__":
    main()
