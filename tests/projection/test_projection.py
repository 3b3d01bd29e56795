"""Projections keep neighbourhoods, the sphere is a sphere, and the honesty metrics are right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

import embedscope
from embedscope.projection import project
from embedscope.projection.quality import layout_quality
from embedscope.projection.sphere import lonlat_from_xyz, naive_wrap, xyz_from_lonlat
from embedscope.search.exact import knn_graph
from tests.helpers import blobs, run_cli_subprocess


def slow_quality(x: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float, float]:
    """Reference: full rank matrices, the textbook formulas, no shortcuts."""
    n = len(x)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    dh = 1 - xn @ xn.T
    dl = np.sqrt(((y[:, None] - y[None]) ** 2).sum(-1))
    np.fill_diagonal(dh, -np.inf)
    np.fill_diagonal(dl, -np.inf)
    rh = np.argsort(np.argsort(dh, axis=1, kind="stable"), axis=1)  # 0 = self, 1 = nearest
    rl = np.argsort(np.argsort(dl, axis=1, kind="stable"), axis=1)
    t = c = rec = 0.0
    for i in range(n):
        nh = set(np.where((rh[i] >= 1) & (rh[i] <= k))[0])
        nl = set(np.where((rl[i] >= 1) & (rl[i] <= k))[0])
        t += sum(rh[i, j] - k for j in nl - nh)
        c += sum(rl[i, j] - k for j in nh - nl)
        rec += len(nh & nl) / k
    norm = 2.0 / (n * k * (2 * n - 3 * k - 1))
    return 1 - norm * t, 1 - norm * c, rec / n


@pytest.mark.parametrize("k", [3, 10])
def test_honesty_metrics_match_slow_reference(k: int) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(150, 12)).astype(np.float32)
    y = x[:, :2] + rng.normal(size=(150, 2)).astype(np.float32) * 0.5
    q = layout_quality(x, y, k=k)
    t, c, r = slow_quality(x, y, k)
    assert q.trustworthiness == pytest.approx(t, abs=1e-5)
    assert q.continuity == pytest.approx(c, abs=1e-5)
    assert q.knn_recall == pytest.approx(r, abs=1e-6)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert q.trustworthiness == pytest.approx(trustworthiness(xn, y, n_neighbors=k), abs=1e-5)
    assert q.per_item["trustworthiness"].shape == (150,)
    assert np.nanmean(q.per_item["trustworthiness"]) == pytest.approx(q.trustworthiness, abs=1e-5)
    # sampling estimates the same figure
    qs = layout_quality(x, y, k=k, sample=100, seed=1)
    assert qs.sampled == 100 and np.isnan(qs.per_item["continuity"]).sum() == 50
    assert abs(qs.trustworthiness - q.trustworthiness) < 0.05


def test_perfect_and_random_layouts() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32) + 5
    y = x / np.linalg.norm(x, axis=1, keepdims=True)  # cosine geometry of x, exactly, on the unit circle
    q = layout_quality(x, y, k=10)
    assert q.trustworthiness > 0.999 and q.knn_recall > 0.99 and q.rank_correlation > 0.99
    bad = layout_quality(rng.normal(size=(200, 30)).astype(np.float32), rng.normal(size=(200, 2)), k=10)
    assert bad.trustworthiness < 0.7 and bad.knn_recall < 0.15


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_methods_keep_well_separated_clusters(method: str) -> None:
    x, _ = blobs()
    knn = knn_graph(x, 90)
    res = project(x, method, knn=knn, seed=0)
    assert res.coords.shape == (360, 2) and np.isfinite(res.coords).all()
    q = layout_quality(x, res.coords, k=10, high_knn=knn)
    assert q.trustworthiness >= 0.9, (method, q.summary())
    again = project(x, method, knn=knn, seed=0)
    assert np.allclose(again.coords, res.coords, atol=1e-4), "seeded and reproducible"


def test_pca_recovers_a_plane() -> None:
    rng = np.random.default_rng(1)
    plane = rng.normal(size=(300, 2)) * [5.0, 2.0]
    basis, _ = np.linalg.qr(rng.normal(size=(40, 2)))
    x = (plane @ basis.T + rng.normal(size=(300, 40)) * 0.01).astype(np.float32)
    res = project(x, "pca")
    assert res.metrics["explained_variance_2d"] > 0.999
    # the layout is the plane up to a rotation/reflection: orthogonal Procrustes leaves ~no residual
    a = plane - plane.mean(0)
    b = res.coords - res.coords.mean(0)
    u, _, vt = np.linalg.svd(b.T @ a)
    resid = np.linalg.norm(b @ (u @ vt) - a) / np.linalg.norm(a)
    assert resid < 0.01


@pytest.mark.slow
def test_sphere_is_on_the_unit_sphere_and_beats_the_naive_wrap() -> None:
    x, _ = blobs(n_per=50, n_clusters=8)
    knn = knn_graph(x, 50)
    res = project(x, "sphere", knn=knn, seed=0)
    xyz = res.extra["xyz"]
    assert np.allclose(np.linalg.norm(xyz, axis=1), 1.0, atol=1e-5)
    assert (np.abs(res.coords[:, 0]) <= 180).all() and (np.abs(res.coords[:, 1]) <= 90).all()
    assert np.allclose(xyz_from_lonlat(res.coords[:, 0], res.coords[:, 1]), xyz, atol=1e-4)
    cmp = res.metrics["comparison"]
    chosen = layout_quality(x, xyz, k=15, high_knn=knn)
    assert chosen.trustworthiness >= cmp["wrap"]["trustworthiness"] - 1e-6
    assert chosen.trustworthiness >= 0.9


def test_lonlat_roundtrip_and_wrap_on_sphere() -> None:
    rng = np.random.default_rng(2)
    v = rng.normal(size=(50, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    ll = lonlat_from_xyz(v.astype(np.float32))
    assert np.allclose(xyz_from_lonlat(ll[:, 0], ll[:, 1]), v, atol=1e-5)
    w = naive_wrap(rng.normal(size=(50, 2)))
    assert np.allclose(np.linalg.norm(w, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_thirty_items_project_with_every_method_and_quality_cli(tmp_path: Path) -> None:
    from tests.helpers import topic_frame

    s = embedscope.create(tmp_path / "t.scope")
    s.ingest(topic_frame(1))
    s.embed(model="tfidf:16")
    for m in ("pca", "umap", "tsne", "sphere"):
        lay = s.project(method=m)
        assert lay.coords.shape == (30, 2) and np.isfinite(lay.coords).all()
        assert lay.quality["k"] <= 14 and 0 <= lay.quality["knn_recall"] <= 1
        assert set(lay.per_item) == {"trustworthiness", "continuity", "knn_recall"}
    assert s.layout(None, "sphere").xyz is not None
    assert s.layout(None, "pca").xyz is not None
    assert not any(s.layout(None, m).stale for m in ("pca", "umap", "tsne", "sphere")), \
        "growing the kNN graph for t-SNE leaves the other layouts fresh"
    import json

    code, out, _ = run_cli_subprocess(["quality", str(s.path), "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["space"] == "tfidf-16"
    assert sorted(lay["method"] for lay in doc["layouts"]) == ["pca", "sphere", "tsne", "umap"]
    for lay in doc["layouts"]:
        assert {"method", "k", "trustworthiness", "continuity", "knn_recall"} <= set(lay)


@pytest.mark.slow
def test_large_space_path_fits_a_sample_and_places_new_items(tmp_path: Path) -> None:
    """Above the threshold UMAP fits a sample and transforms the rest; items added later are placed into
    the stored layout without moving the others."""
    import embedscope.projection.base as projection_base
    import embedscope.projection.umap as um

    x, truth = blobs(n_per=100, n_clusters=5, dim=32)
    perm = np.random.default_rng(0).permutation(len(x))
    x, truth = x[perm], truth[perm]
    s = embedscope.create(tmp_path / "big.scope")
    s.add_vectors("v", [f"p{i}" for i in range(400)], x[:400])
    old_min, old_size = projection_base.SAMPLE_FIT_MIN, um.SAMPLE_SIZE
    projection_base.SAMPLE_FIT_MIN, um.SAMPLE_SIZE = 200, 150
    try:
        lay = s.project("v", "umap")
        assert lay.params["fit_sample"] == 150 and lay.params["placed_by_transform"] == 250
        assert lay.quality["trustworthiness"] >= 0.9, lay.quality
        s.add_vectors("v", [f"p{i}" for i in range(400, 500)], x[400:])
        again = s.project("v", "umap")
        assert again.params["placed_later"] == 100 and len(again.ids) == 500
        assert np.array_equal(again.coords[:400], lay.coords), "existing items keep their coordinates"
        # the new items land with their own cluster: their map-nearest old neighbours share their label
        d = ((again.coords[400:, None] - again.coords[None, :400]) ** 2).sum(-1)
        assert (truth[:400][d.argmin(1)] == truth[400:]).mean() > 0.9
    finally:
        projection_base.SAMPLE_FIT_MIN, um.SAMPLE_SIZE = old_min, old_size


def test_the_compiled_rank_counts_equal_the_numpy_ones() -> None:
    """quality.py counts ranks with a numba kernel when numba is there; without it, with numpy: the same figures."""
    from embedscope.projection import quality as q

    rng = np.random.default_rng(4)
    x = rng.normal(size=(700, 24)).astype(np.float32)
    y = x[:, :2] + rng.normal(scale=0.5, size=(700, 2))
    compiled = q.layout_quality(x, y, k=10)
    saved = list(q._KERNEL)
    try:
        q._KERNEL[:] = [None]
        plain = q.layout_quality(x, y, k=10)
    finally:
        q._KERNEL[:] = saved
    for name in ("trustworthiness", "continuity"):
        assert np.array_equal(compiled.per_item[name], plain.per_item[name], equal_nan=True)
    assert compiled.trustworthiness == plain.trustworthiness and 0.5 < compiled.trustworthiness < 1.0


def test_spearman_equals_scipys_with_ties() -> None:
    from scipy.stats import spearmanr

    from embedscope.projection.quality import spearman

    rng = np.random.default_rng(1)
    a = rng.normal(size=2000)
    b = a + rng.normal(size=2000)
    a[:300] = 0.25  # ties on both sides
    b[100:400] = -1.0
    assert abs(spearman(a, b) - float(spearmanr(a, b).statistic)) < 1e-12
    assert np.isnan(spearman(np.ones(10), np.arange(10.0)))
