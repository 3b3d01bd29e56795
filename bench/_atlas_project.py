"""One embedding-atlas projection, run by ``bench/project.py`` with the *other* virtualenv's python.

Loads ``VECTORS.npy``, puts it in a pandas column and calls embedding-atlas's public
``embedding_atlas.projection.compute_projection(df, inputs="vector", modality="vector", neighbors=None,
umap_args=..., cache_root=<fresh empty dir>)``: its own UMAP pipeline (``_run_umap``: umap-learn's
``nearest_neighbors``, i.e. NN-descent, then ``umap.UMAP(precomputed_knn=...)``). The result cache is pointed
at a fresh empty directory so the result is computed, not read back. ``_run_umap`` and ``nearest_neighbors``
are wrapped (not changed) to time them separately. With ``--repeat`` the same call is timed a second time in
the same process ("hot": nothing left to compile or import). Prints one JSON line; writes the 2-D coordinates to OUT.
This file imports nothing from embedscope: it runs where embedscope is not installed.

Usage::

    ATLAS_PY VECTORS.npy OUT.npy [--seed N] [--repeat]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

import numpy as np


def peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``) in MB (``ru_maxrss`` is inherited from the parent on Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=None, help="umap random_state (default: none, its default)")
    ap.add_argument("--repeat", action="store_true", help="then time the same call again in this process")
    args = ap.parse_args()

    x = np.load(args.vectors)
    import pandas as pd
    from embedding_atlas import projection as ea
    from embedding_atlas.version import __version__

    df = pd.DataFrame({"vector": list(x)})
    timing: dict[str, float] = {}
    orig = ea._run_umap

    def timed_run_umap(hidden: np.ndarray, *, umap_args: dict[str, Any] | None = None) -> Any:
        t0 = time.perf_counter()
        import umap.umap_ as uu

        nn = uu.nearest_neighbors

        def timed_nn(*a: Any, **k: Any) -> Any:
            t1 = time.perf_counter()
            r = nn(*a, **k)
            timing["knn_s"] = time.perf_counter() - t1
            return r

        uu.nearest_neighbors = timed_nn
        try:
            return orig(hidden, umap_args=umap_args)
        finally:
            uu.nearest_neighbors = nn
            timing["run_umap_s"] = time.perf_counter() - t0

    ea._run_umap = timed_run_umap
    umap_args: dict[str, Any] = {} if args.seed is None else {"random_state": args.seed}
    base = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="atlas-cache-") as cache_root:
        t0 = time.perf_counter()
        out = ea.compute_projection(df, inputs="vector", modality="vector", neighbors=None,
                                    umap_args=umap_args, cache_root=cache_root)
        total = time.perf_counter() - t0
    peak = peak_rss_mb()
    coords = out[["projection_x", "projection_y"]].to_numpy(np.float32)
    np.save(args.out, coords)
    first = dict(timing)
    hot: dict[str, float | None] = {"hot_total_s": None, "hot_knn_s": None}
    if args.repeat:
        with tempfile.TemporaryDirectory(prefix="atlas-cache-") as cache_root:
            t0 = time.perf_counter()
            ea.compute_projection(df, inputs="vector", modality="vector", neighbors=None,
                                  umap_args=umap_args, cache_root=cache_root)
            hot = {"hot_total_s": time.perf_counter() - t0, "hot_knn_s": timing.get("knn_s")}
    import umap

    print(json.dumps({"total_s": total, "knn_s": first.get("knn_s"), "run_umap_s": first.get("run_umap_s"), **hot,
                      "peak_mb": peak - base, "baseline_mb": base,
                      "umap_args": umap_args, "embedding_atlas": __version__, "umap_learn": umap.__version__,
                      "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR")}))


if __name__ == "__main__":
    main()
