"""The layout kernels (ours and umap-learn's) are compiled once per install: the disk cache is written, and a new
process that loads it lays out the same points at the same coordinates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = """
import sys
import numpy as np
from embedscope.projection.umap import umap_layout, numba_cache
from embedscope.search.exact import knn_graph
from tests.helpers import blobs
x, _ = blobs(n_per=60, n_clusters=4, dim=24, seed=3)
res = umap_layout(x, knn=knn_graph(x, k=15), seed=7, n_epochs=60)
np.save(sys.argv[1], res.coords)
"""


def run(tmp: Path, cache: Path, out: str) -> np.ndarray:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), str(Path(__file__).parents[2])])}
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp / out)], env=env, check=True, timeout=600)
    return np.load(tmp / out)


def test_umap_kernels_are_cached_on_disk_and_give_the_same_layout(tmp_path: Path) -> None:
    cache = tmp_path / "numba"
    first = run(tmp_path, cache, "a.npy")
    cached = {p.name for p in cache.rglob("*.nbi")}
    # our optimiser (the flat layout on a stored graph uses no umap-learn kernel: projection/fuzzy.py)
    assert any(name.startswith("umap_sgd._optimise") for name in cached), sorted(cached)[:20]
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*.nbi")}
    second = run(tmp_path, cache, "b.npy")
    assert np.array_equal(first, second)  # loaded kernels: the same coordinates, bit for bit
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.nbi")} == before  # read, not compiled again
