"""UMAP's optimisation on both cores (projection/umap_sgd.py): the map is a function of the inputs and the seed,
not of the threads; it keeps neighbours as umap-learn's does; the sphere's relaxation beats the naive wrap."""

from __future__ import annotations

import numpy as np
import pytest

from embedscope.projection.quality import layout_quality
from embedscope.search.exact import knn_graph
from tests.helpers import blobs

pytest.importorskip("umap")


def _graph(n_per: int = 80, k: int = 15, seed: int = 3) -> tuple[np.ndarray, object]:
    x, _ = blobs(n_per=n_per, n_clusters=6, dim=32, seed=seed)
    return x, knn_graph(x, k=k)


def test_the_map_does_not_depend_on_the_number_of_threads() -> None:
    import numba

    from embedscope.projection.umap import umap_layout

    x, knn = _graph()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = umap_layout(x, knn=knn, seed=5, n_epochs=120).coords
        numba.set_num_threads(max(2, before) if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        many = umap_layout(x, knn=knn, seed=5, n_epochs=120).coords
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, many)
    other_seed = umap_layout(x, knn=knn, seed=6, n_epochs=120).coords
    assert not np.array_equal(one, other_seed)


def test_blocks_keep_neighbours_as_umap_learn_does() -> None:
    """The same graph, start and schedule optimised by umap-learn (single-threaded, seeded) and by blocks:
    trustworthiness within 0.02 of each other, both far above a shuffled map's."""
    import umap

    from embedscope.projection.umap import precomputed_knn, umap_layout

    x, knn = _graph(n_per=120)
    ours = umap_layout(x, knn=knn, seed=1, n_epochs=200)
    ref = umap.UMAP(n_neighbors=15, metric="cosine", random_state=1, n_epochs=200,
                    precomputed_knn=precomputed_knn(knn, len(x), 15)).fit_transform(x)
    t_ours = layout_quality(x, ours.coords, k=10, high_knn=knn).trustworthiness
    t_ref = layout_quality(x, np.asarray(ref, np.float32), k=10, high_knn=knn).trustworthiness
    shuffled = ours.coords[np.random.default_rng(0).permutation(len(x))]
    t_shuffled = layout_quality(x, shuffled, k=10, high_knn=knn).trustworthiness
    assert ours.params["optimiser"] == "blocks" and ours.params["knn"] == "stored"
    assert abs(t_ours - t_ref) < 0.02, (t_ours, t_ref)
    assert t_ours > t_shuffled + 0.2


def test_blocks_of_cuts_equal_shares_of_edges() -> None:
    from embedscope.projection.umap_sgd import blocks_of

    rng = np.random.default_rng(0)
    key = rng.normal(size=1000)
    head = rng.integers(0, 1000, size=20_000)
    b = blocks_of(key, head, 4)
    per_block = np.bincount(b[head], minlength=4)
    assert per_block.min() > 0.9 * per_block.max()
    order = np.argsort(key)
    assert np.all(np.diff(b[order]) >= 0)  # slabs along the key


def test_the_relaxed_sphere_stays_on_the_sphere_and_beats_the_naive_wrap() -> None:
    from embedscope.projection.sphere import naive_wrap, relaxed_sphere, sphere_layout
    from embedscope.projection.umap import umap_layout

    x, knn = _graph(n_per=100, k=20)
    flat = umap_layout(x, knn=knn, seed=2, n_epochs=200).coords
    xyz, params = relaxed_sphere(x, flat, knn=knn, seed=2)
    assert np.allclose(np.linalg.norm(xyz, axis=1), 1.0, atol=1e-5)
    q_relaxed = layout_quality(x, xyz, k=15, high_knn=knn)
    q_wrap = layout_quality(x, naive_wrap(flat), k=15, high_knn=knn)
    assert q_relaxed.trustworthiness >= q_wrap.trustworthiness - 0.005, (q_relaxed, q_wrap)
    assert q_relaxed.continuity > q_wrap.continuity, (q_relaxed, q_wrap)  # the seam's neighbours come back
    assert params["radius"] > 0 and params["knn"] == "stored"
    res = sphere_layout(x, knn=knn, seed=2, flat=flat)
    assert res.params["chosen"] in ("relaxed", "wrap")
    assert set(res.metrics["comparison"]) == {"relaxed", "wrap"}
