"""What a space knows about a label: cross-validated linear and k-NN probes.

A *probe* trains a simple classifier on the vectors to predict a metadata label and measures it on items it was
not trained on. High accuracy means the space separates the label (linearly, for the logistic regression; by
neighbourhood, for k-NN); the **control** (the same classifier on shuffled labels, same folds) measures the
chance level on this data, and the **base rate** is what always guessing the largest class would score.

- categorical labels: logistic regression (columns standardised inside each fold) and cosine k-NN, both with
  out-of-fold predictions over stratified, seeded folds: accuracy and macro-F1 with a bootstrap 95% interval
  over items, per-class precision / recall / F1, the confusion matrix, the most confidently misclassified items;
- numeric labels (a numeric column with many distinct values): ridge regression, out-of-fold R² with a
  bootstrap interval and the shuffled-label control.

Classes with fewer items than folds cannot be stratified: they are named in ``left_out`` and left out. Above
``sample`` items, a seeded sample (stratified by class) is probed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import InputError

#: A numeric label with more distinct values than this is probed by regression (fewer: as classes).
NUMERIC_ABOVE = 20


# --------------------------------------------------------------------------------------- labels


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return bool(np.isnan(v))
    return isinstance(v, str) and v.strip() == ""


def _label_text(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return str(bool(v)).lower()
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def label_kind(labels: np.ndarray) -> str:
    """``"numeric"`` for numbers (not booleans) with more than :data:`NUMERIC_ABOVE` distinct values, else
    ``"classes"``. Missing values (``None``, NaN, empty text) are ignored.

    Parameters
    ----------
    labels
        Shape ``(n,)``, any dtype (an object array of Python values too).
    """
    vals = [v for v in np.asarray(labels, dtype=object).tolist() if not _missing(v)]
    if not vals or not all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
                           for v in vals):
        return "classes"
    return "numeric" if len(set(vals)) > NUMERIC_ABOVE else "classes"


# --------------------------------------------------------------------------------------- figures


def _confusion(y: np.ndarray, p: np.ndarray, c: int) -> np.ndarray:
    return np.bincount(y * c + p, minlength=c * c).reshape(c, c)


def _per_class(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(conf).astype(np.float64)
    pred, true = conf.sum(axis=0).astype(np.float64), conf.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1


def macro_f1(y: np.ndarray, p: np.ndarray, c: int) -> float:
    """Macro-averaged F1 of predictions ``p`` of true classes ``y`` (ints in ``0..c-1``, shape ``(n,)``),
    averaged over the classes present in ``y``; a class never predicted has precision 0."""
    conf = _confusion(y, p, c)
    present = conf.sum(axis=1) > 0
    return float(_per_class(conf)[2][present].mean())


def _interval(values: np.ndarray) -> list[float]:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [float(lo), float(hi)]


def _classifier_doc(y: np.ndarray, p: np.ndarray, classes: list[str], boot: int,
                    rng: np.random.Generator) -> dict[str, Any]:
    c, n = len(classes), len(y)
    conf = _confusion(y, p, c)
    precision, recall, f1 = _per_class(conf)
    correct = (y == p).astype(np.float64)
    accs, f1s = np.empty(boot), np.empty(boot)
    for b in range(boot):
        idx = rng.integers(0, n, n)
        accs[b] = correct[idx].mean()
        f1s[b] = macro_f1(y[idx], p[idx], c)
    support = conf.sum(axis=1)
    return {"accuracy": float(correct.mean()), "accuracy_ci95": _interval(accs),
            "macro_f1": macro_f1(y, p, c), "macro_f1_ci95": _interval(f1s),
            "per_class": [{"label": classes[i], "precision": float(precision[i]), "recall": float(recall[i]),
                           "f1": float(f1[i]), "support": int(support[i])} for i in range(c)],
            "confusion": conf.astype(int).tolist()}


# --------------------------------------------------------------------------------------- models


def _logreg() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))


def _out_of_fold_logreg(x: np.ndarray, y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]],
                        c: int) -> np.ndarray:
    """Out-of-fold class probabilities, float64 ``(n, c)``."""
    from sklearn.exceptions import ConvergenceWarning

    proba = np.zeros((len(y), c))
    for train, test in splits:
        model = _logreg()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x[train], y[train])
        cols = model.classes_
        proba[np.ix_(test, cols)] = model.predict_proba(x[test])
    return proba


def _out_of_fold_knn(xn: np.ndarray, y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]], c: int,
                     k: int) -> np.ndarray:
    """Out-of-fold k-NN votes (cosine, on unit rows ``xn``), float64 ``(n, c)``: the share of the ``k``
    nearest training items in each class."""
    votes = np.zeros((len(y), c))
    for train, test in splits:
        kk = min(k, len(train))
        for start in range(0, len(test), 1024):
            rows = test[start:start + 1024]
            sims = xn[rows] @ xn[train].T
            near = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            lab = y[train][near]
            for j in range(c):
                votes[rows, j] = (lab == j).mean(axis=1)
    return votes


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


# --------------------------------------------------------------------------------------- probe


def _stratified_sample(y: np.ndarray, sample: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of a seeded sample of about ``sample`` items, each class in proportion (at least
    ``folds`` of a class that has them)."""
    keep = []
    n = len(y)
    for cls in np.unique(y):
        where = np.flatnonzero(y == cls)
        take = min(len(where), max(folds, round(len(where) * sample / n)))
        keep.append(rng.choice(where, take, replace=False))
    return np.sort(np.concatenate(keep))


def probe(x: np.ndarray, labels: np.ndarray, *, folds: int = 5, seed: int = 0, k: int = 10, boot: int = 1000,
          sample: int = 5000, top: int = 10) -> dict[str, Any]:
    """Probe how well the vectors ``x`` predict ``labels``, cross-validated.

    Parameters
    ----------
    x
        Shape ``(n, d)``, any scale (columns are standardised inside each fold; k-NN uses cosine).
    labels
        Shape ``(n,)``: the label of each row; ``None``, NaN and empty text mark an item without one (left out).
        Numbers with more than :data:`NUMERIC_ABOVE` distinct values are probed by ridge regression.
    folds
        Number of cross-validation folds (stratified by class, shuffled with ``seed``).
    seed
        Seed of the folds, the sample, the shuffled control and the bootstrap.
    k
        Neighbours of the k-NN probe.
    boot
        Bootstrap resamples of the intervals.
    sample
        Probe a seeded (stratified) sample of this many items when there are more.
    top
        How many confidently misclassified items to list.

    Returns
    -------
    dict
        JSON-ready. Classes: ``{"kind": "classes", "n", "sample", "folds", "classes", "left_out": [{"label",
        "count"}], "base_rate", "control", "logreg": {"accuracy", "accuracy_ci95", "macro_f1", "macro_f1_ci95",
        "per_class", "confusion"}, "knn": {..., "k"}, "misclassified": [{"row", "label", "predicted",
        "confidence"}]}`` (``row`` indexes ``x``). Numeric: ``{"kind": "numeric", "n", "sample", "folds",
        "ridge": {"r2", "r2_ci95"}, "control"}``.

    Raises
    ------
    InputError
        Fewer labelled items than folds, fewer than two classes with at least ``folds`` items, or non-finite
        vectors.
    """
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels, dtype=object).reshape(-1)
    if x.ndim != 2 or x.shape[0] != labels.shape[0]:
        raise InputError(f"{x.shape[0] if x.ndim else 0} vectors but {labels.shape[0]} labels")
    if folds < 2:
        raise InputError(f"--folds must be at least 2, got {folds}")
    if not np.isfinite(x).all():
        raise InputError("the vectors hold non-finite values")
    rng = np.random.default_rng(seed)
    have = np.array([not _missing(v) for v in labels.tolist()], dtype=bool)
    rows = np.flatnonzero(have)
    if len(rows) < folds:
        raise InputError(f"{len(rows)} items have a label, fewer than the {folds} folds")
    if label_kind(labels[rows]) == "numeric":
        return _probe_numeric(x, labels, rows, folds=folds, seed=seed, boot=boot, sample=sample, rng=rng)
    text = np.array([_label_text(v) for v in labels[rows].tolist()], dtype=object)
    names, counts = np.unique(text, return_counts=True)
    small = counts < folds
    left_out = [{"label": str(names[i]), "count": int(counts[i])}
                for i in sorted(np.flatnonzero(small), key=lambda i: (-counts[i], names[i]))]
    classes = [str(v) for v in names[~small]]
    if len(classes) < 2:
        raise InputError(f"{len(classes)} class{'' if len(classes) == 1 else 'es'} with at least {folds} items "
                         f"(the folds); a probe needs two" +
                         (f" ({len(left_out)} smaller class{'es' if len(left_out) != 1 else ''} left out)"
                          if left_out else ""))
    index = {c: i for i, c in enumerate(classes)}
    keep = np.array([t in index for t in text.tolist()], dtype=bool)
    rows, text = rows[keep], text[keep]
    y = np.array([index[t] for t in text.tolist()], dtype=np.int64)
    sampled: int | None = None
    if len(rows) > sample:
        pick = _stratified_sample(y, sample, folds, rng)
        rows, y = rows[pick], y[pick]
        sampled = len(rows)
    from sklearn.model_selection import StratifiedKFold

    c = len(classes)
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    xs = x[rows]
    proba = _out_of_fold_logreg(xs, y, splits, c)
    pred = proba.argmax(axis=1)
    votes = _out_of_fold_knn(_unit(xs), y, splits, c, k)
    knn_pred = votes.argmax(axis=1)
    shuffled = rng.permutation(y)
    control_pred = _out_of_fold_logreg(xs, shuffled, splits, c).argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    conf = proba[wrong, pred[wrong]]
    order = wrong[np.argsort(-conf, kind="stable")][:top]
    counts_used = np.bincount(y, minlength=c)
    return {
        "kind": "classes", "n": len(rows), "sample": sampled, "folds": int(folds), "classes": classes,
        "left_out": left_out, "base_rate": float(counts_used.max() / len(y)),
        "control": float((control_pred == shuffled).mean()),
        "logreg": _classifier_doc(y, pred, classes, boot, rng),
        "knn": {**_classifier_doc(y, knn_pred, classes, boot, rng), "k": int(min(k, *(len(t) for t, _ in splits)))},
        "misclassified": [{"row": int(rows[i]), "label": classes[y[i]], "predicted": classes[pred[i]],
                           "confidence": float(proba[i, pred[i]])} for i in order]}


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    sst = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - p) ** 2).sum()) / sst if sst > 0 else 0.0


def _out_of_fold_ridge(x: np.ndarray, y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pred = np.zeros(len(y))
    for train, test in splits:
        model = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
        model.fit(x[train], y[train])
        pred[test] = model.predict(x[test])
    return pred


def _probe_numeric(x: np.ndarray, labels: np.ndarray, rows: np.ndarray, *, folds: int, seed: int, boot: int,
                   sample: int, rng: np.random.Generator) -> dict[str, Any]:
    from sklearn.model_selection import KFold

    sampled: int | None = None
    if len(rows) > sample:
        rows = np.sort(rng.choice(rows, sample, replace=False))
        sampled = len(rows)
    y = np.array([float(v) for v in labels[rows].tolist()], dtype=np.float64)
    splits = list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(y))))
    xs = x[rows]
    pred = _out_of_fold_ridge(xs, y, splits)
    shuffled = rng.permutation(y)
    control = _r2(shuffled, _out_of_fold_ridge(xs, shuffled, splits))
    r2s = np.empty(boot)
    for b in range(boot):
        idx = rng.integers(0, len(y), len(y))
        r2s[b] = _r2(y[idx], pred[idx])
    return {"kind": "numeric", "n": len(rows), "sample": sampled, "folds": int(folds),
            "ridge": {"r2": _r2(y, pred), "r2_ci95": _interval(r2s)}, "control": float(control)}
