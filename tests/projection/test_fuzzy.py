"""UMAP's graph and start without umap-learn (projection/fuzzy.py): each step equals umap-learn's own, and a flat
layout on a stored graph no longer imports umap-learn (3-6 s of a one-shot ``embedscope project``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedscope.projection import fuzzy
from embedscope.projection.umap import precomputed_knn
from embedscope.search.exact import knn_graph
from tests.helpers import blobs

pytest.importorskip("umap")


def _pre(nn: int = 15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, _ = blobs(n_per=70, n_clusters=5, dim=24, seed=11)
    x = np.concatenate([x, x[:12]])  # exact duplicates: distance 0 beside the item itself
    pre = precomputed_knn(knn_graph(x, k=nn), len(x), nn)
    assert pre is not None
    return x, pre[0], pre[1]


def test_smooth_knn_dist_and_the_fuzzy_union_equal_umap_learns() -> None:
    from umap.umap_ import fuzzy_simplicial_set, smooth_knn_dist

    x, idx, dist = _pre()
    sig, rho = fuzzy.smooth_knn_dist(dist, 15.0)
    ref_sig, ref_rho = smooth_knn_dist(dist.astype(np.float32), 15.0)
    assert np.allclose(rho, ref_rho) and np.allclose(sig, ref_sig, rtol=1e-5)
    ours = fuzzy.fuzzy_union(idx, dist, 15).tocsr()
    ref, _, _ = fuzzy_simplicial_set(x, 15, np.random.RandomState(0), "cosine", knn_indices=idx, knn_dists=dist)
    ref = ref.tocsr()
    assert (ours != ref).nnz == 0 or np.abs((ours - ref).toarray()).max() < 1e-6
    assert abs(ours - ours.T).max() < 1e-7  # symmetric


def test_schedule_curve_and_spectral_start_equal_umap_learns() -> None:
    from umap.spectral import spectral_layout
    from umap.umap_ import find_ab_params, make_epochs_per_sample

    _, idx, dist = _pre()
    w = fuzzy.fuzzy_union(idx, dist, 15)
    assert np.allclose(fuzzy.epochs_per_sample(w.data, 200), make_epochs_per_sample(w.data, 200))
    for spread, min_dist in ((1.0, 0.1), (1.0, 0.5), (0.5, 0.05)):
        assert np.allclose(fuzzy.find_ab(spread, min_dist), find_ab_params(spread, min_dist), rtol=1e-6)
    x1, _ = blobs(n_per=150, n_clusters=1, dim=16, seed=2)  # one component
    pre = precomputed_knn(knn_graph(x1, k=15), len(x1), 15)
    assert pre is not None
    g = fuzzy.fuzzy_union(pre[0], pre[1], 15).tocsr()
    ours = fuzzy.spectral_start(g, x1, np.random.RandomState(0))
    ref = spectral_layout(x1, g, 2, np.random.RandomState(0), metric="cosine")
    for c in range(2):  # eigenvectors up to sign
        assert abs(np.corrcoef(ours[:, c], ref[:, c])[0, 1]) > 0.999


def test_a_flat_layout_on_a_stored_graph_does_not_import_umap_learn(tmp_path: Path) -> None:
    script = (
        "import sys, numpy as np\n"
        "from embedscope.projection.umap import umap_layout\n"
        "from embedscope.search.exact import knn_graph\n"
        "x = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)\n"
        "r = umap_layout(x, knn=knn_graph(x, k=20), seed=0, n_epochs=20)\n"
        "assert np.isfinite(r.coords).all()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('umap', 'pynndescent', 'sklearn')))\n"
    )
    root = Path(__file__).parents[2]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout
