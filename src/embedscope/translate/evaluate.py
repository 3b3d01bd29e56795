"""Honest evaluation of translators: held-out pairs (or cross-validation), baselines, a learning curve.

Protocol
--------
- With at least :data:`HOLDOUT_MIN` pairs, a random held-out set of ``min(1000, n // 5)`` pairs (or
  ``test_size``) is kept aside; every map is fitted on the rest (hyperparameters by inner cross-validation on
  the training pairs only) and scored on the held-out pairs.
- With fewer pairs, k-fold cross-validation: every item is predicted by a map fitted without it, and the
  pooled out-of-fold predictions are scored together (ranks among all ``n`` targets). Below
  :data:`TRUSTWORTHY_MIN` pairs, or with fewer training pairs than dimensions, ``warning`` says so in a plain
  sentence. No figure is ever computed on the pairs a map was fitted on.

Metrics (per method)
--------------------
``mean_cosine``
    Mean cosine between the translated vector and the item's true target vector.
``mean_baseline_cosine``, ``gain_over_mean_baseline``
    The same for the target space's mean vector (of the training targets), and the difference: mean cosine
    alone flatters anisotropic spaces, where the mean vector is already close to everything.
``top1``, ``top10``, ``mean_rank``, ``median_rank``
    Rank of the true target among all evaluated targets when searching with the translated vector (cosine).
``recall@10``
    Native target vectors of the evaluated items used as queries: overlap of their 10 nearest translated
    vectors with their 10 nearest native vectors (the item itself left out of both).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .maps import LINEAR, METHODS, Translator, available_methods, check_vectors, fit_map
from .ridge import kfold, normalize

#: Below this many pairs, k-fold cross-validation instead of a held-out set.
HOLDOUT_MIN = 500
#: Below this many pairs, the evaluation warns that its figures are not trustworthy.
TRUSTWORTHY_MIN = 200
#: Fewest pairs an evaluation accepts.
MIN_PAIRS = 5
#: Training sizes of the learning curve (those below the available training pairs, plus all of them).
CURVE_SIZES: tuple[int, ...] = (50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000)

Progress = Callable[[str, int, int], None]


@dataclass
class Score:
    """How well one method's predictions match the true targets of ``m`` evaluated items."""

    method: str
    mean_cosine: float
    mean_baseline_cosine: float
    gain_over_mean_baseline: float
    top1: float
    top10: float
    mean_rank: float
    median_rank: float
    recall_at_10: float
    mean_cosine_se: float
    baseline: bool = False
    gain_over_best_linear: float | None = None
    fit_s: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["recall@10"] = d.pop("recall_at_10")
        return d


@dataclass
class CurvePoint:
    """One method scored on the held-out pairs after fitting on ``n_train`` pairs."""

    n_train: int
    method: str
    mean_cosine: float
    gain_over_mean_baseline: float
    top1: float
    top10: float
    recall_at_10: float
    mean_rank: float

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["recall@10"] = d.pop("recall_at_10")
        return d


@dataclass
class Evaluation:
    """The outcome of :func:`evaluate`.

    Attributes
    ----------
    pairs
        Paired items available.
    n_train, n_test
        Training pairs per fit and evaluated pairs (with cross-validation: ``n_test == pairs``).
    protocol
        ``"held-out"`` or ``"k-fold cross-validation"``.
    dims
        ``(d_s, d_t)``.
    warning
        A plain sentence when the figures are not trustworthy, else ``None``.
    methods
        Scores, baselines included, best first among the maps then the baselines.
    curve
        Learning curve on the held-out set (empty with cross-validation).
    best, best_linear
        The best map (by mean cosine) and the best linear map.
    """

    pairs: int
    n_train: int
    n_test: int
    protocol: str
    folds: int | None
    dims: tuple[int, int]
    warning: str | None
    methods: list[Score]
    curve: list[CurvePoint]
    best: str | None
    best_linear: str | None
    seed: int = 0

    def score(self, method: str) -> Score:
        """The score of one method."""
        for s in self.methods:
            if s.method == method:
                return s
        raise KeyError(method)

    def to_json(self, src: str | None = None, tgt: str | None = None) -> dict[str, Any]:
        """The ``translate eval`` JSON document (DESIGN.md section 9)."""
        return {"from": src, "to": tgt, "pairs": self.pairs, "warning": self.warning,
                "methods": [s.to_json() for s in self.methods], "n_train": self.n_train, "n_test": self.n_test,
                "protocol": self.protocol, "folds": self.folds, "dims": list(self.dims), "best": self.best,
                "best_linear": self.best_linear, "seed": self.seed,
                "curve": [c.to_json() for c in self.curve]}


# ------------------------------------------------------------------------------------------ metrics
def score(pred: np.ndarray, y: np.ndarray, base: np.ndarray, *, method: str = "", k: int = 10,
          block: int = 1024) -> Score:
    """Score predictions of ``m`` targets.

    Parameters
    ----------
    pred
        Translated vectors, shape ``(m, d_t)``.
    y
        True target vectors, shape ``(m, d_t)``.
    base
        The mean-vector baseline's prediction for each item, shape ``(m, d_t)`` (rows may repeat).
    k
        Neighbourhood size of the retrieval recall (10; fewer when ``m <= 10``).

    Returns
    -------
    Score
    """
    m = len(y)
    p = normalize(np.asarray(pred, np.float32))
    t = normalize(np.asarray(y, np.float32))
    b = normalize(np.asarray(base, np.float32))
    cos = (p * t).sum(1).astype(np.float64)
    bcos = (b * t).sum(1).astype(np.float64)
    ranks = np.empty(m, np.int64)
    kk = max(1, min(k, m - 1))
    hits = 0
    for s in range(0, m, block):
        e = min(s + block, m)
        sim = p[s:e] @ t.T                                     # translated -> all true targets
        own = sim[np.arange(e - s), np.arange(s, e)]
        ranks[s:e] = 1 + (sim > own[:, None]).sum(1)
        if m > 1:
            nat = t[s:e] @ t.T                                 # native queries -> native vectors
            tra = t[s:e] @ p.T                                 # native queries -> translated vectors
            rows = np.arange(e - s)
            nat[rows, np.arange(s, e)] = -np.inf
            tra[rows, np.arange(s, e)] = -np.inf
            a = np.argpartition(-nat, kk - 1, axis=1)[:, :kk]
            c = np.argpartition(-tra, kk - 1, axis=1)[:, :kk]
            hits += int((a[:, :, None] == c[:, None, :]).any(-1).sum())
    recall = hits / (m * kk) if m > 1 else 0.0
    return Score(method, float(cos.mean()), float(bcos.mean()), float(cos.mean() - bcos.mean()),
                 float((ranks == 1).mean()), float((ranks <= 10).mean()), float(ranks.mean()),
                 float(np.median(ranks)), float(recall), float(cos.std(ddof=1) / np.sqrt(m)) if m > 1 else 0.0)


# ---------------------------------------------------------------------------------------- protocol
def check_pairs(x: np.ndarray, y: np.ndarray, src: str = "source", tgt: str = "target") -> tuple[np.ndarray, np.ndarray]:
    """Validate paired vectors; raises :class:`InputError` naming the space and row."""
    x = check_vectors(x, what=f"space {src!r}")
    y = check_vectors(y, what=f"space {tgt!r}")
    if len(x) != len(y):
        raise InputError(f"{len(x)} vectors in {src!r} but {len(y)} in {tgt!r}; pairs must match row for row")
    if len(x) < MIN_PAIRS:
        raise InputError(f"{src!r} and {tgt!r} share {len(x)} item(s); a translator needs at least {MIN_PAIRS} "
                         "paired items to be fitted and checked (better 1,000): embed the same items in both spaces")
    return x, y


def _warning(n: int, n_train: int, dims: tuple[int, int], protocol: str, folds: int | None) -> str | None:
    notes = []
    if n < TRUSTWORTHY_MIN:
        notes.append(f"Only {n} paired items: too few for a trustworthy figure. The figures below are "
                     f"{folds}-fold cross-validated (no item is scored by a map fitted on it) but will move a lot "
                     f"with other items; embed at least {TRUSTWORTHY_MIN}, better 1,000, items in both spaces.")
    d = min(dims)
    if n_train < d:
        notes.append(f"Each map was fitted on {n_train} pairs, fewer than the {d} dimensions it has to "
                     "determine, so it leans on regularisation; more pairs will give a better map than these "
                     "figures show.")
    return " ".join(notes) or None


def evaluate(x: np.ndarray, y: np.ndarray, methods: Sequence[str] | None = None, *, test_size: int | None = None,
             folds: int = 5, curve: bool = True, curve_sizes: Sequence[int] | None = None, seed: int = 0,
             params: dict[str, dict[str, Any]] | None = None, progress: Progress | None = None,
             names: tuple[str, str] = ("source", "target")) -> Evaluation:
    """Evaluate translators from ``x`` to ``y`` on pairs they were not fitted on, with baselines.

    Parameters
    ----------
    x, y
        Paired source ``(n, d_s)`` and target ``(n, d_t)`` vectors, row for row.
    methods
        Maps to evaluate (see :data:`~embedscope.translate.maps.METHODS`; default: all that can run here,
        ``mlp`` only with torch); the ``mean`` baseline and, for equal dimensions, ``identity`` are always added.
    test_size
        Held-out pairs (default ``min(1000, n // 5)``); ignored below :data:`HOLDOUT_MIN` pairs.
    folds
        Folds of the cross-validation used below :data:`HOLDOUT_MIN` pairs.
    curve
        Also fit on nested subsets of the training pairs (:data:`CURVE_SIZES`) and score them on the same
        held-out pairs (held-out protocol only).
    seed
        Seeds the split and the fits.
    params
        Fixed hyperparameters per method (see :func:`~embedscope.translate.maps.fit_map`).
    progress
        Called with (stage, done, total).
    names
        Source and target names used in error messages.

    Returns
    -------
    Evaluation
    """
    x, y = check_pairs(x, y, *names)
    methods = list(available_methods() if methods is None else methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise InputError(f"unknown translation method {', '.join(bad) or '(none)'}; use some of {', '.join(METHODS)}")
    methods = list(dict.fromkeys(methods))
    n, ds, dt = len(x), x.shape[1], y.shape[1]
    params = params or {}
    all_methods = [*methods, "mean", *(["identity"] if ds == dt else [])]
    if n >= HOLDOUT_MIN:
        m_test = int(test_size) if test_size else min(1000, n // 5)
        if not 2 <= m_test <= n - 2:
            raise InputError(f"test size {m_test} does not fit {n} pairs")
        perm = np.random.default_rng(seed).permutation(n)
        splits = [(perm[m_test:], perm[:m_test])]
        protocol, nfolds = "held-out", None
    else:
        splits = kfold(n, folds, seed)
        protocol, nfolds = "k-fold cross-validation", len(splits)
    n_train = min(len(tr) for tr, _ in splits)
    sizes = []
    if curve and protocol == "held-out":
        sizes = [s for s in (curve_sizes or CURVE_SIZES) if s < n_train]
    total = len(splits) * len(all_methods) + len(sizes) * (len(methods) + 1)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress("translate eval", done, total)

    if progress:
        progress("translate eval", 0, total)
    eval_rows = np.concatenate([va for _, va in splits])
    preds = {mth: np.empty((len(eval_rows), dt), np.float32) for mth in all_methods}
    fit_s = dict.fromkeys(all_methods, 0.0)
    chosen: dict[str, dict[str, Any]] = {}
    pos = 0
    for tr, va in splits:
        for mth in all_methods:
            t0 = time.perf_counter()
            tl = fit_map(x[tr], y[tr], mth, seed=seed, folds=folds, params=params.get(mth))
            fit_s[mth] += time.perf_counter() - t0
            preds[mth][pos:pos + len(va)] = tl.transform(x[va])
            chosen.setdefault(mth, tl.meta.get("params", {}))
            step()
        pos += len(va)
    y_eval = y[eval_rows]
    base = preds["mean"]
    scores = []
    for mth in all_methods:
        s = score(preds[mth], y_eval, base, method=mth)
        s.baseline = mth not in METHODS
        s.fit_s = round(fit_s[mth] / len(splits), 3)
        s.params = chosen.get(mth, {}) if protocol == "held-out" else {}
        scores.append(s)
    maps = [s for s in scores if not s.baseline]
    linear = [s for s in maps if s.method in LINEAR]
    best_linear = max(linear, key=lambda s: s.mean_cosine) if linear else None
    best = max(maps, key=lambda s: s.mean_cosine) if maps else None
    for s in scores:
        if best_linear is not None:
            s.gain_over_best_linear = s.mean_cosine - best_linear.mean_cosine
    scores = sorted(maps, key=lambda s: -s.mean_cosine) + [s for s in scores if s.baseline]

    points: list[CurvePoint] = []
    if sizes:
        tr, va = splits[0]
        for size in sizes:
            sub = tr[:size]
            mean_tl = fit_map(x[sub], y[sub], "mean")
            base_s = mean_tl.transform(x[va])
            step()
            for mth in [*methods, "mean"]:
                if mth == "mean":
                    pred = base_s
                else:
                    pred = fit_map(x[sub], y[sub], mth, seed=seed, folds=folds, params=params.get(mth)).transform(x[va])
                    step()
                sc = score(pred, y[va], base_s, method=mth)
                points.append(CurvePoint(size, mth, sc.mean_cosine, sc.gain_over_mean_baseline, sc.top1, sc.top10,
                                         sc.recall_at_10, sc.mean_rank))
        for s in scores:
            if s.method in (*methods, "mean"):
                points.append(CurvePoint(n_train, s.method, s.mean_cosine, s.gain_over_mean_baseline, s.top1, s.top10,
                                         s.recall_at_10, s.mean_rank))
    return Evaluation(n, n_train, len(eval_rows), protocol, nfolds, (ds, dt), _warning(n, n_train, (ds, dt), protocol, nfolds),
                      scores, points, best.method if best else None, best_linear.method if best_linear else None, seed)


#: What ``auto`` may maximise on the held-out pairs.
SELECT: tuple[str, ...] = ("mean_cosine", "top1", "top10", "recall@10")


def fit(x: np.ndarray, y: np.ndarray, method: str = "auto", *, seed: int = 0, evaluate_first: bool = True,
        select: str = "mean_cosine", methods: Sequence[str] | None = None, test_size: int | None = None,
        params: dict[str, dict[str, Any]] | None = None, meta: dict[str, Any] | None = None, progress: Progress | None = None,
        names: tuple[str, str] = ("source", "target")) -> tuple[Translator, Evaluation | None]:
    """Fit a translator on all pairs, after measuring it on pairs it did not see.

    Parameters
    ----------
    x, y
        Paired source ``(n, d_s)`` and target ``(n, d_t)`` vectors.
    method
        A method of :data:`~embedscope.translate.maps.METHODS`, or ``auto``: the one with the best held-out
        mean cosine among ``methods``.
    evaluate_first
        Measure before fitting (required for ``auto``); the held-out figures of the chosen method and the
        baselines are stored in ``translator.meta["evaluation"]``.
    select
        What ``auto`` maximises (:data:`SELECT`): ``mean_cosine`` (default), or a retrieval figure: with
        fewer than ~1,000 pairs Procrustes often ranks better while ridge has the better cosine.

    Returns
    -------
    translator : Translator
        Fitted on all ``n`` pairs.
    evaluation : Evaluation or None
    """
    x, y = check_pairs(x, y, *names)
    if method != "auto" and method not in METHODS:
        raise InputError(f"unknown --method {method!r}; use one of {', '.join(METHODS)} or auto")
    if select not in SELECT:
        raise InputError(f"unknown --select {select!r}; use one of {', '.join(SELECT)}")
    ev = None
    auto = method == "auto"
    if evaluate_first or auto:
        ev = evaluate(x, y, methods if method == "auto" else [method], test_size=test_size, curve=False, seed=seed,
                      params=params, progress=progress, names=names)
        if auto:
            key = "recall_at_10" if select == "recall@10" else select
            method = max((sc for sc in ev.methods if not sc.baseline), key=lambda sc: getattr(sc, key)).method
    tl = fit_map(x, y, method, seed=seed, params=(params or {}).get(method),
                 meta={"source": names[0], "target": names[1], **(meta or {})})
    if ev is not None:
        keep = {method, "mean", "identity"}
        tl.meta["evaluation"] = {k: v for k, v in ev.to_json(*names).items() if k not in ("methods", "curve")}
        tl.meta["evaluation"]["methods"] = [s.to_json() for s in ev.methods if s.method in keep]
        tl.meta["metrics"] = ev.score(method).to_json()
        tl.meta["evaluation"]["selected_by"] = select if auto else None
    return tl, ev
