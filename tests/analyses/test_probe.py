"""Probes: a planted label is found in the informative dimensions and not in noise; the shuffled control sits at
chance; small classes are named and left out; numeric labels by ridge R²; any scale, two classes, any script."""

from __future__ import annotations

import numpy as np
import pytest

from embedscope.analyses.probe import label_kind, macro_f1, probe
from embedscope.errors import InputError


def _planted(rng: np.random.Generator, n: int = 600, classes: int = 4, informative: int = 3,
             noise: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classes apart in ``informative`` dimensions (centres 8 apart, unit noise), then ``noise`` pure-noise
    dimensions. Returns the full vectors, the noise-only vectors and the labels."""
    y = rng.integers(0, classes, n)
    centres = np.eye(classes, informative) * 8.0 if classes <= informative else rng.normal(0, 4, (classes, informative))
    signal = centres[y] + rng.normal(size=(n, informative))
    junk = rng.normal(size=(n, noise))
    names = np.array([f"class {c}" for c in y], dtype=object)
    return np.hstack([signal, junk]), junk, names


def test_planted_classes_are_found_and_the_control_sits_at_chance() -> None:
    rng = np.random.default_rng(0)
    x, junk, y = _planted(rng, classes=3)
    r = probe(x, y, boot=200)
    assert r["kind"] == "classes" and r["n"] == len(y) and r["folds"] == 5 and r["sample"] is None
    assert r["logreg"]["accuracy"] > 0.97 and r["knn"]["accuracy"] > 0.95
    assert r["logreg"]["macro_f1"] > 0.97
    lo, hi = r["logreg"]["accuracy_ci95"]
    assert lo <= r["logreg"]["accuracy"] <= hi and hi - lo < 0.05
    # the control (shuffled labels, same folds) is at chance: near the base rate, far below the probe
    assert abs(r["control"] - r["base_rate"]) < 0.1
    assert r["base_rate"] < 0.45
    # the noise dimensions alone know nothing: the probe there falls to chance, its interval holds the base rate
    n = probe(junk, y, boot=200)
    assert n["logreg"]["accuracy"] < 0.45 and n["knn"]["accuracy"] < 0.45
    assert n["logreg"]["accuracy_ci95"][0] < n["base_rate"] + 0.05


def test_per_class_figures_and_confusion_add_up() -> None:
    rng = np.random.default_rng(1)
    x, _, y = _planted(rng, n=400, classes=4, informative=4)
    r = probe(x, y, boot=100)
    assert r["classes"] == sorted(set(y.tolist()))
    conf = np.array(r["logreg"]["confusion"])
    assert conf.shape == (4, 4) and conf.sum() == r["n"]
    assert [c["support"] for c in r["logreg"]["per_class"]] == conf.sum(axis=1).tolist()
    assert r["logreg"]["accuracy"] == pytest.approx(np.trace(conf) / conf.sum())
    assert np.mean([c["f1"] for c in r["logreg"]["per_class"]]) == pytest.approx(r["logreg"]["macro_f1"])
    # the misclassified items are wrong, most confident first, and point at their rows
    wrong = r["misclassified"]
    assert all(m["label"] != m["predicted"] and y[m["row"]] == m["label"] for m in wrong)
    assert [m["confidence"] for m in wrong] == sorted((m["confidence"] for m in wrong), reverse=True)


def test_macro_f1_matches_sklearn() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    p[p == 4] = 0  # a class never predicted
    assert macro_f1(y, p, 5) == pytest.approx(f1_score(y, p, average="macro", zero_division=0))


def test_small_classes_are_named_and_left_out() -> None:
    rng = np.random.default_rng(3)
    x, _, y = _planted(rng, n=300, classes=2, informative=2)
    y[:3] = "rare"
    y[3] = "once"
    y[4] = None
    y[5] = ""
    r = probe(x, y, boot=100)
    assert r["left_out"] == [{"label": "rare", "count": 3}, {"label": "once", "count": 1}]
    assert "rare" not in r["classes"] and len(r["classes"]) == 2
    assert r["n"] == 300 - 6
    assert all(m["row"] >= 6 for m in r["misclassified"])


def test_numeric_labels_give_ridge_r2() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(500, 40))
    value = 3 * x[:, 0] - 2 * x[:, 5] + rng.normal(0, 0.3, 500)
    assert label_kind(value) == "numeric"
    r = probe(x, value, boot=200)
    assert r["kind"] == "numeric" and r["n"] == 500
    assert r["ridge"]["r2"] > 0.95
    assert r["ridge"]["r2_ci95"][0] > 0.9
    assert r["control"] < 0.05
    # few distinct numbers are classes, and so are booleans
    assert label_kind(np.array([1, 2, 3, 1, 2, 3])) == "classes"
    assert label_kind(np.array([True, False] * 40, dtype=object)) == "classes"
    years = probe(x, (x[:, 0] > 0).astype(int) + 1990, boot=50)
    assert years["kind"] == "classes" and years["classes"] == ["1990", "1991"]


def test_unnormalised_two_classes_non_ascii() -> None:
    rng = np.random.default_rng(5)
    x, _, _ = _planted(rng, n=200, classes=2, informative=2, noise=300)
    y = np.where(x[:, 0] > x[:, 1], "Évangiles", "預言者").astype(object)
    r = probe(x * 1e5 + 1e6, y, boot=100)
    assert set(r["classes"]) == {"Évangiles", "預言者"}
    assert r["logreg"]["accuracy"] > 0.9 and r["knn"]["k"] == 10


def test_sampling_is_stratified_and_seeded() -> None:
    rng = np.random.default_rng(6)
    x, _, y = _planted(rng, n=1200, classes=3)
    y[:6] = "small"
    a = probe(x, y, sample=300, boot=50)
    b = probe(x, y, sample=300, boot=50)
    assert a == b
    assert a["sample"] == a["n"] and 290 <= a["n"] <= 320
    assert "small" in a["classes"]  # a class with as many items as folds stays in the sample


def test_too_little_to_probe_is_an_input_error() -> None:
    x = np.random.default_rng(7).normal(size=(4, 3))
    with pytest.raises(InputError, match="fewer than the 5 folds"):
        probe(x, np.array(["a", "b", "a", "b"], dtype=object))
    x = np.random.default_rng(7).normal(size=(12, 3))
    with pytest.raises(InputError, match="a probe needs two"):
        probe(x, np.array(["a"] * 10 + ["b", "b"], dtype=object))
    with pytest.raises(InputError, match="non-finite"):
        probe(np.full((12, 3), np.nan), np.array(["a", "b"] * 6, dtype=object))
