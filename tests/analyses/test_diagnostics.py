"""Space health on planted structure, and vector arithmetic on real word2vec vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.analyses import diagnostics as dg
from embedscope.search.exact import knn_graph
from tests.helpers import run_cli_subprocess

W2V = Path(__file__).resolve().parents[3] / "shared/data/vectors-comparison/word2vec_1000.json"


def ids_of(n: int) -> list[str]:
    return [f"i{i}" for i in range(n)]


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_isotropic_gaussian_is_reported_isotropic(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2000, 64)).astype(np.float32)
    checks = {c.name: c for c in dg.health(x, ids_of(2000), knn_graph(x, 10))}
    assert checks["anisotropy"].ok and abs(checks["anisotropy"].value) < 0.02
    assert checks["anisotropy"].details["top_pc_variance_share"] < 0.05
    assert checks["rogue_dimensions"].value == []
    assert checks["duplicates"].ok
    assert not checks["normalised"].value


def test_planted_rogue_dimension_is_found_and_named(rng: np.random.Generator) -> None:
    x = rng.normal(size=(1500, 48)).astype(np.float32) * 0.1
    x[:, 7] = -0.67 + rng.normal(size=1500) * 0.01  # one coordinate near -0.67 in every vector (ada-002)
    c = dg.rogue_dimensions(x, rng=rng)
    assert c.value == [7] and not c.ok
    assert "7" in c.verdict and c.details["dimensions"][0]["share_of_cosine"] > 0.5
    assert not dg.anisotropy(x, rng=rng).ok


def test_rogue_verdict_never_says_more_than_all_of_the_cosine() -> None:
    """Signed shares: a rogue dimension adding 0.31 to a mean cosine of 0.22 "carried 143% of every cosine"
    (issue 24 item 8); the verdict gives both sums instead."""
    over = dg.rogue_verdict(np.array([7]), 0.31, 0.217)
    assert "%" not in over and "+0.31" in over and "0.22" in over and "-0.09" in over
    under = dg.rogue_verdict(np.array([7, 9]), 0.15, 0.2)
    assert "75% of the mean cosine" in under and "(7, 9)" in under


def test_planted_hubs_and_duplicates(rng: np.random.Generator) -> None:
    x = (rng.normal(size=(1000, 32)) + 0.5).astype(np.float32)  # a cloud off the origin
    x[:5] = 0.5 + rng.normal(size=(5, 32)) * 0.01  # five items along its mean direction: near everyone, hubs
    x[10] = x[11]  # an exact duplicate
    x[20] = x[21] + rng.normal(size=32).astype(np.float32) * 1e-3  # a near duplicate
    ids = ids_of(1000)
    g = knn_graph(x, 10)
    hub = dg.hubness(g, ids)
    assert hub.value > 1.2 and not hub.ok
    assert {h["id"] for h in hub.details["hubs"][:5]} == {"i0", "i1", "i2", "i3", "i4"}
    dup = dg.duplicates(x, ids, g)
    assert dup.value == {"exact": 1, "near_pairs": 1 + 10}, "i20~i21, and the 5 planted hubs are near-identical"
    assert dup.details["exact_groups"] == [["i10", "i11"]] and ["i20", "i21"] in dup.details["near_pairs_sample"]


@pytest.mark.parametrize("true_dim", [3, 6])
def test_intrinsic_dimension_of_a_known_manifold(true_dim: int, rng: np.random.Generator) -> None:
    z = rng.uniform(size=(4000, true_dim))
    basis, _ = np.linalg.qr(rng.normal(size=(80, true_dim)))
    x = (z @ basis.T).astype(np.float32)  # a flat true_dim-dimensional patch in 80 dimensions
    est = dg.intrinsic_dimension(x, rng=rng).value
    assert abs(est - true_dim) <= 0.2 * true_dim, est


def test_concentration_separates_structure_from_noise(rng: np.random.Generator) -> None:
    noise = rng.normal(size=(1000, 512)).astype(np.float32)
    assert not dg.concentration(noise, rng=rng).ok
    centers = rng.normal(size=(10, 512))
    clustered = (centers[rng.integers(0, 10, 1000)] + rng.normal(size=(1000, 512)) * 0.2).astype(np.float32)
    assert dg.concentration(clustered, rng=rng).ok


def test_metrics_agree_on_unit_vectors(rng: np.random.Generator) -> None:
    x = rng.normal(size=(500, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ref = knn_graph(x, 10, "cosine").indices
    for metric in ("dot", "euclidean"):
        assert (knn_graph(x, 10, metric).indices == ref).mean() > 0.99
    assert dg.normalisation(x).value is True


def test_word2vec_analogy_and_hubness(tmp_path: Path) -> None:
    if not W2V.exists():
        pytest.skip("shared data not present")
    ws = tmp_path / "w2v.scope"
    code, _, err = run_cli_subprocess(["ingest", str(ws), str(W2V), "--space", "w2v"])
    assert code == 0, err
    code, out, err = run_cli_subprocess(["similar", str(ws), "king", "woman", "--minus", "man", "--json"])
    assert code == 0, err
    assert json.loads(out)[0]["id"] == "queen"
    code, out, err = run_cli_subprocess(["health", str(ws), "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["space"] == "w2v"
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["hubness"]["value"] > 1.2
    assert isinstance(checks["rogue_dimensions"]["value"], list)
    assert {"name", "value", "verdict", "threshold"} <= set(checks["anisotropy"])
    s = embedscope.open(ws)
    with pytest.raises(embedscope.InputError, match="no item with id"):
        s.arithmetic(["king", "nosuchword"])


def test_every_check_has_a_title_in_the_order_health_runs_them(rng: np.random.Generator) -> None:
    x = rng.normal(size=(80, 8)).astype(np.float32)
    names = [c.name for c in dg.health(x, [str(i) for i in range(80)], knn_graph(x, 10))]
    assert names == list(dg.CHECKS) and all(dg.CHECKS.values())
