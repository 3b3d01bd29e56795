"""Space health at scale: time and peak memory of the full health check, sampled vs naive.

Data: ``--n`` (default 100,000) distinct texts of the bundled sample data (King James verses, clauses, verse
pairs, comma phrases: ``bench/_corpus.py``) embedded once with the bundled MiniLM (384 dims, unit length) and
reused from ``/tmp/embedscope-bench``.

What runs, in one process, each step timed with its peak resident memory (``VmHWM`` from
``/proc/self/status``, reset before every step by writing ``5`` to ``/proc/self/clear_refs``; reported as
the peak above the resident size at the start of the step):

1. at ``n``: the cosine kNN graph (k=50, exact, blocked; what ``embedscope health`` builds once and stores),
   then :func:`embedscope.analyses.diagnostics.health` on it, each check timed alone, then the pair-similarity
   histogram and the same- vs different-label separation by text kind (verse / clause / pair / phrase).
   Sampling, as in ``embedscope.analyses.diagnostics`` and ``embedscope.analyses.similarity``: distance concentration on 2,000
   query items against all items; anisotropy on 50,000 random pairs and PCA of 20,000 rows; rogue dimensions
   on 50,000 random pairs; TwoNN on 4,000 points (exact neighbours among all items); hubness, duplicates
   and outliers on the full kNN graph (no sampling); pair histogram on 200,000 random pairs; label
   separation on 100,000 same-label + 100,000 different-label pairs;
2. at ``--naive-n`` (default 20,000, a seeded random subset): the same pipeline, then the same checks
   computed naively with full ``n x n`` matrices: the cosine similarity matrix (kNN by ``argpartition`` of
   every row, relative contrast of every item, mean cosine of every pair, near duplicates by thresholding
   it), the full Euclidean distance matrix for TwoNN, exact PCA of all rows, and the exact all-pairs
   rogue-dimension shares; with the difference between each sampled and naive figure.

Run::

    .venv/bin/python bench/diagnostics.py [--n 100000] [--naive-n 20000] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import bible_texts, bible_vectors
from embedscope.analyses import diagnostics as dg
from embedscope.analyses.distributions import label_separation, pair_histogram
from embedscope.search.exact import knn_graph, normalize


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def measure(name: str, fn: Callable[[], Any], log: list[dict[str, Any]]) -> Any:
    """Run ``fn`` and record wall time and peak RSS above the RSS at the start."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    rss0 = _status("VmRSS")
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = _status("VmHWM")
    rec = {"step": name, "seconds": round(dt, 3), "peak_above_start_mb": round((peak - rss0) / 2**20, 1),
           "peak_rss_mb": round(peak / 2**20, 1), "hwm_reset": reset}
    log.append(rec)
    print(f"{name:<38} {dt:8.2f} s  peak +{rec['peak_above_start_mb']:8.1f} MB  (RSS peak {rec['peak_rss_mb']:.0f} MB)",
          file=sys.stderr)
    return out


def sampled_pipeline(x: np.ndarray, ids: list[str], labels: list[str], tag: str, log: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    graph = measure(f"{tag}: kNN graph k=50 (exact, blocked)", lambda: knn_graph(x, 50), log)
    rng = np.random.default_rng(0)
    checks: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], dg.Check]]] = [
        ("normalised", lambda: dg.normalisation(x)),
        ("distance_concentration", lambda: dg.concentration(x, rng=rng)),
        ("hubness", lambda: dg.hubness(graph, ids)),
        ("anisotropy", lambda: dg.anisotropy(x, rng=rng)),
        ("rogue_dimensions", lambda: dg.rogue_dimensions(x, rng=rng)),
        ("intrinsic_dimension", lambda: dg.intrinsic_dimension(x, rng=rng)),
        ("duplicates", lambda: dg.duplicates(x, ids, graph)),
        ("outliers", lambda: dg.outliers(graph, ids)),
    ]
    t0 = time.perf_counter()
    for name, fn in steps:
        checks[name] = measure(f"{tag}:   {name}", fn, log)
    log.append({"step": f"{tag}: all checks (graph given)", "seconds": round(time.perf_counter() - t0, 3)})
    measure(f"{tag}: all checks in one call", lambda: dg.health(x, ids, graph), log)
    ph = measure(f"{tag}: pair histogram", lambda: pair_histogram(x, bins=50), log)
    sep = measure(f"{tag}: label separation (kind)", lambda: label_separation(x, labels, bins=50), log)
    top = checks["anisotropy"].details
    return {"hubness": checks["hubness"].value, "concentration": checks["distance_concentration"].value,
            "mean_cosine": checks["anisotropy"].value, "top_pc_share": top["top_pc_variance_share"],
            "rogue": checks["rogue_dimensions"].value,
            "rogue_top_share": checks["rogue_dimensions"].details["top_shares"][0]["share_of_cosine"],
            "twonn": checks["intrinsic_dimension"].value, "duplicates": checks["duplicates"].value,
            "outliers": checks["outliers"].value, "pair_hist_mean": ph.stats["mean"], "pair_hist_exact": ph.exact,
            "label_auc": sep.auc, "label_exact": sep.exact}


def naive_pipeline(x: np.ndarray, log: list[dict[str, Any]]) -> dict[str, Any]:
    """The same figures from full n x n matrices (what a notebook would do)."""
    from scipy.stats import skew

    out: dict[str, Any] = {}

    def cosine_block() -> None:
        xn = normalize(x)
        s = xn @ xn.T  # n x n float32
        np.fill_diagonal(s, -np.inf)
        n = len(s)
        nn = np.argpartition(-s, 50, axis=1)[:, :50]  # n x 50 of an n x n int64 argpartition
        kth = -np.partition(-s, 9, axis=1)[:, 9]
        top10 = np.take_along_axis(nn, np.argsort(-np.take_along_axis(s, nn, 1), axis=1)[:, :10], 1)
        occ = np.bincount(top10.ravel(), minlength=n)
        out["hubness"] = float(skew(occ))
        iu = np.triu_indices(n, 1)
        vals = s[iu]
        out["mean_cosine"] = float(vals.mean())
        out["near_dup_pairs"] = int((vals >= 0.98).sum())
        del vals, iu
        np.fill_diagonal(s, np.nan)
        d = 1.0 - s
        dmin, dmax = np.nanmin(d, 1), np.nanmax(d, 1)
        out["concentration"] = float(np.median((dmax - dmin) / np.maximum(dmin, 1e-9)))
        med = np.median(kth)
        mad = np.median(np.abs(kth - med)) * 1.4826
        out["outliers"] = int(((med - kth) / mad > 3.5).sum())

    measure("naive: cosine n x n (kNN, hubness, mean cosine, contrast, duplicates, outliers)", cosine_block, log)

    def twonn() -> None:
        from scipy.spatial.distance import cdist

        d = cdist(x, x).astype(np.float32)  # n x n
        np.fill_diagonal(d, np.inf)
        two = np.partition(d, 1, axis=1)[:, :2]
        r1, r2 = two[:, 0], two[:, 1]
        ok = r1 > 0
        mu = np.sort(r2[ok] / r1[ok])
        m = len(mu)
        f = np.arange(1, m + 1) / m
        use = slice(0, int(m * 0.9))
        lx, ly = np.log(mu[use]), -np.log(1 - f[use])
        out["twonn"] = float((lx * ly).sum() / (lx * lx).sum())

    measure("naive: TwoNN on the full distance matrix", twonn, log)

    def pca_rogue() -> None:
        xn = normalize(x).astype(np.float64)
        c = xn - xn.mean(0)
        sv = np.linalg.svd(c, compute_uv=False)
        out["top_pc_share"] = float(sv[0] ** 2 / (sv**2).sum())
        n = len(xn)
        col = xn.sum(0)
        contrib = (col**2 - (xn**2).sum(0)) / (n * (n - 1))  # mean of u_i v_i over all ordered pairs i != j
        out["rogue_top_share"] = float((contrib / contrib.sum()).max())

    measure("naive: exact PCA and all-pairs rogue shares", pca_rogue, log)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--naive-n", type=int, default=20_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    ids, x = bible_vectors(args.n, log=lambda m: print(m, file=sys.stderr))
    texts = bible_texts(args.n)
    kind = dict(zip(texts["id"], texts["kind"], strict=True))
    labels = [kind[i] for i in ids]
    x = np.ascontiguousarray(x, dtype=np.float32)
    print(f"{len(ids)} x {x.shape[1]}, load {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus", file=sys.stderr)
    log: list[dict[str, Any]] = []
    big = sampled_pipeline(x, ids, labels, f"{len(ids) // 1000}k", log)
    sub = np.sort(np.random.default_rng(0).choice(len(x), size=min(args.naive_n, len(x)), replace=False))
    xs = np.ascontiguousarray(x[sub])
    small = sampled_pipeline(xs, [ids[i] for i in sub], [labels[i] for i in sub], f"{len(sub) // 1000}k", log)
    naive = naive_pipeline(xs, log)
    doc = {"n": len(ids), "naive_n": len(sub), "dim": int(x.shape[1]), "cpus": os.cpu_count(),
           "load_average_end": os.getloadavg(), "steps": log, "figures": {"big": big, "small_sampled": small,
                                                                           "small_naive": naive}}
    if args.json:
        print(json.dumps(doc, default=float))
        return
    print(json.dumps(doc["figures"], indent=1, default=float))


if __name__ == "__main__":
    main()
