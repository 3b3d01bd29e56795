"""Distributions of similarities over a whole space: all pairs, same- against different-label pairs, dimensions.

- **pair histogram** (:func:`pair_histogram`): all pair similarities, exact for small spaces
  (``n <= EXACT_MAX_ITEMS``), otherwise a seeded uniform random sample of ``sample`` distinct-item pairs
  (stated in the result);
- **label separation** (:func:`label_separation`): same-label pairs against different-label pairs and the
  ROC AUC between them (the probability that a random same-label pair is closer than a random
  different-label pair; 0.5 is chance, 1 perfect);
- **per-dimension statistics** (:func:`dimension_stats`): mean and spread of each coordinate.

Scores as in :mod:`embedscope.analyses.similarity`; histograms are its :class:`~.similarity.Histogram`.
Arrays in, small dataclasses out; no workspace import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..search.exact import check_metric, higher_is_closer, normalize
from .similarity import Histogram, default_range, histogram

#: Largest space whose pair histogram is exact (all ``n (n - 1) / 2`` pairs: ~2 million at 2,000 items).
EXACT_MAX_ITEMS = 2_000
#: Pairs drawn (uniformly, with a seed) when the space is larger than ``EXACT_MAX_ITEMS``.
SAMPLE_PAIRS = 200_000
#: Cap on the number of values used for the ROC AUC (ranks of the pooled scores).
AUC_MAX_VALUES = 400_000


def _pair_values(xa: np.ndarray, xb: np.ndarray, metric: str) -> np.ndarray:
    """Row-wise score of pairs ``(xa[i], xb[i])``; shapes ``(m, d)`` -> ``(m,)`` float32."""
    if metric == "cosine":
        return np.einsum("ij,ij->i", normalize(xa), normalize(xb))
    if metric == "dot":
        return np.einsum("ij,ij->i", xa, xb).astype(np.float32)
    diff = xa.astype(np.float32) - xb.astype(np.float32)
    if metric == "euclidean":
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return np.abs(diff).sum(1)


def _pair_scores_at(x: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    out = np.empty(len(a), np.float32)
    step = 8_192  # two (step, d) gathers and their normalised copies: ~25 MB each at d=384
    for s in range(0, len(a), step):
        out[s:s + step] = _pair_values(x[a[s:s + step]], x[b[s:s + step]], metric)
    return out


# -------------------------------------------------------------------------------------- pairs
def pair_count(n: int) -> int:
    """Number of unordered pairs of distinct items."""
    return n * (n - 1) // 2


def sample_pairs(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``m`` pairs of distinct rows drawn uniformly (with replacement over pairs); two int64 arrays ``(m,)``."""
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n - 1, size=m)
    return a, b + (b >= a)


def pair_scores(x: np.ndarray, metric: str = "cosine", *, sample: int = SAMPLE_PAIRS, seed: int = 0,
                exact_max_items: int = EXACT_MAX_ITEMS) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Scores of all pairs (``n <= exact_max_items``) or of a seeded uniform sample of ``sample`` pairs.

    Returns
    -------
    a, b : numpy.ndarray
        int64, shape ``(m,)``: the rows of each pair (``a < b`` when exact).
    scores : numpy.ndarray
        float32, shape ``(m,)``.
    exact : bool
        Whether every pair was scored.
    """
    check_metric(metric)
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if n < 2:
        raise ValueError(f"pair similarities need at least 2 items, got {n}")
    if n <= exact_max_items:
        a, b = np.triu_indices(n, k=1)
        a, b = a.astype(np.int64), b.astype(np.int64)
        if metric in ("cosine", "dot"):
            base = normalize(x) if metric == "cosine" else x
            full = base @ base.T  # n <= exact_max_items: at most 16 MB
            return a, b, full[a, b].astype(np.float32), True
        return a, b, _pair_scores_at(x, a, b, metric), True
    rng = np.random.default_rng(seed)
    a, b = sample_pairs(n, int(sample), rng)
    return a, b, _pair_scores_at(x, a, b, metric), False


def pair_histogram(x: np.ndarray, metric: str = "cosine", *, bins: int = 50, sample: int = SAMPLE_PAIRS,
                   seed: int = 0, exact_max_items: int = EXACT_MAX_ITEMS) -> Histogram:
    """Histogram of pair similarities: exact for ``n <= exact_max_items``, else ``sample`` random pairs.

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``, ``n >= 2``.
    sample
        Pairs drawn when sampling (uniform over pairs of distinct items, with replacement, seeded).
    """
    _, _, s, exact = pair_scores(x, metric, sample=sample, seed=seed, exact_max_items=exact_max_items)
    return histogram(s, metric, bins=bins, exact=exact, population=pair_count(len(x)),
                     seed=None if exact else seed, kind="pairs")


# -------------------------------------------------------------------------------------- labels
def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random ``pos`` value exceeds a random ``neg`` value (ties count half).

    The Mann-Whitney U statistic over ``len(pos) * len(neg)``; shapes ``(p,)`` and ``(q,)``.
    """
    from scipy.stats import rankdata

    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    r = rankdata(np.concatenate([pos, neg]))
    u = r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


@dataclass
class LabelSeparation:
    """How well similarity separates same-label pairs from different-label pairs.

    Attributes
    ----------
    metric
        The metric used.
    same, different
        Histograms on common bin edges.
    auc
        ROC AUC of "same label" from the pair score (closer = more likely same); 0.5 chance, 1 perfect.
    labels
        Number of distinct labels among the items used.
    items
        Items with a label (missing labels are left out).
    exact
        Whether every pair was used.
    singletons
        Labels that name one item only (no same-label pair).
    """

    metric: str
    same: Histogram
    different: Histogram
    auc: float
    labels: int
    items: int
    exact: bool
    seed: int | None = None
    singletons: int = 0

    @property
    def warning(self) -> str | None:
        """Why the AUC says little: most labels name one item, so the few same-label pairs are mostly repeats
        (an id-like column such as a title; issue 24 item 8: AUC 1.000 from 2,042 mostly unique titles)."""
        if self.labels and self.singletons > MOSTLY_UNIQUE * self.labels:
            shared = self.labels - self.singletons
            return (f"{self.singletons:,} of {self.labels:,} labels name one item only; the same-label pairs come "
                    f"from the {shared:,} labels shared by two or more items (often repeated texts), so this "
                    "separation says little about the column; use a column of categories")
        return None

    @property
    def verdict(self) -> str:
        a = self.auc
        if not np.isfinite(a):
            return "not measurable"
        if self.warning:
            return f"not meaningful: most labels name one item (AUC {a:.3f} over the few shared ones)"
        word = ("strong" if a >= 0.9 else "good" if a >= 0.75 else "weak" if a >= 0.6 else "none beyond chance")
        return f"{word} separation: a same-label pair is closer than a different-label pair {a:.0%} of the time"

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "auc": self.auc, "verdict": self.verdict, "labels": self.labels,
                "items": self.items, "exact": self.exact, "seed": self.seed, "singletons": self.singletons,
                "warning": self.warning,
                "same": self.same.to_json(), "different": self.different.to_json()}


#: A label column is "mostly unique" (its separation not meaningful) when more than this share of its labels
#: name one item only.
MOSTLY_UNIQUE = 0.5


def label_separation(x: np.ndarray, labels: Sequence[Any], metric: str = "cosine", *, bins: int = 50,
                     sample: int = SAMPLE_PAIRS, seed: int = 0, exact_max_items: int = EXACT_MAX_ITEMS
                     ) -> LabelSeparation:
    """Same-label against different-label pair scores, and the ROC AUC between them.

    Small spaces use every pair. Larger ones draw ``sample // 2`` same-label pairs (a label chosen with
    probability proportional to its number of pairs, then two distinct items of it) and ``sample // 2``
    uniformly random pairs of different labels, so rare labels still get pairs. Items whose label is
    ``None`` or NaN are left out.

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    labels
        One label per row, length ``n``.
    """
    check_metric(metric)
    x = np.asarray(x, dtype=np.float32)
    if len(labels) != len(x):
        raise ValueError(f"{len(labels)} labels for {len(x)} vectors")
    keep = np.array([lab is not None and not (isinstance(lab, float) and np.isnan(lab)) for lab in labels], bool)
    rows = np.flatnonzero(keep)
    codes_all, uniq = _codes([labels[int(i)] for i in rows])
    if len(uniq) < 2:
        raise ValueError(f"label separation needs at least 2 distinct labels, found {len(uniq)}")
    sizes = np.bincount(codes_all, minlength=len(uniq))
    same_pairs = int((sizes * (sizes - 1) // 2).sum())
    if same_pairs == 0:
        raise ValueError("no two items share a label")
    xs = x[rows]
    n = len(xs)
    if n <= exact_max_items:
        a, b, s, _ = pair_scores(xs, metric, exact_max_items=exact_max_items)
        same_mask = codes_all[a] == codes_all[b]
        s_same, s_diff, exact, used_seed = s[same_mask], s[~same_mask], True, None
    else:
        rng = np.random.default_rng(seed)
        half = max(1, int(sample) // 2)
        members = [np.flatnonzero(codes_all == c) for c in range(len(uniq))]
        w = (sizes * (sizes - 1) / 2).astype(np.float64)
        lab = rng.choice(len(uniq), size=half, p=w / w.sum())
        a = np.empty(half, np.int64)
        b = np.empty(half, np.int64)
        for c in np.unique(lab):
            idx = np.flatnonzero(lab == c)
            i, j = sample_pairs(len(members[c]), len(idx), rng)
            a[idx], b[idx] = members[c][i], members[c][j]
        s_same = _pair_scores_at(xs, a, b, metric)
        da, db = sample_pairs(n, half * 2, rng)
        ok = codes_all[da] != codes_all[db]
        da, db = da[ok][:half], db[ok][:half]
        s_diff = _pair_scores_at(xs, da, db, metric)
        exact, used_seed = False, seed
    pooled = np.concatenate([s_same, s_diff])
    rng_lo_hi = default_range(metric, pooled)
    same_h = histogram(s_same, metric, bins=bins, value_range=rng_lo_hi, exact=exact, population=same_pairs,
                       seed=used_seed, kind="same_label")
    diff_h = histogram(s_diff, metric, bins=bins, value_range=rng_lo_hi, exact=exact,
                       population=pair_count(n) - same_pairs, seed=used_seed, kind="different_label")
    sign = 1.0 if higher_is_closer(metric) else -1.0
    ps, ds = s_same, s_diff
    if len(ps) + len(ds) > AUC_MAX_VALUES:  # ranks of a sub-sample keep the AUC cheap and its error < 0.005
        r = np.random.default_rng(seed + 1)
        ps = r.choice(ps, size=min(len(ps), AUC_MAX_VALUES // 2), replace=False)
        ds = r.choice(ds, size=min(len(ds), AUC_MAX_VALUES // 2), replace=False)
    auc = roc_auc(sign * ps, sign * ds)
    return LabelSeparation(metric, same_h, diff_h, auc, len(uniq), n, exact, used_seed, int((sizes == 1).sum()))


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    keys = [str(v) for v in values]
    uniq = sorted(set(keys))
    pos = {k: i for i, k in enumerate(uniq)}
    return np.array([pos[k] for k in keys], dtype=np.int64), uniq


# ------------------------------------------------------------------------------------- dimensions
@dataclass
class DimensionStats:
    """Mean and spread of each coordinate across the space.

    Attributes
    ----------
    mean, std, min, max
        float64, shape ``(d,)``.
    abs_mean_over_std
        ``|mean| / std`` per dimension (large: the coordinate is a constant offset, see rogue dimensions).
    n
        Rows used (all, or a seeded sample of ``sample`` rows).
    """

    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    n: int

    @property
    def abs_mean_over_std(self) -> np.ndarray:
        return np.abs(self.mean) / np.maximum(self.std, 1e-12)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "dim": len(self.mean), "mean": self.mean.tolist(), "std": self.std.tolist(),
                "min": self.min.tolist(), "max": self.max.tolist()}


def dimension_stats(x: np.ndarray, *, sample: int | None = None, seed: int = 0) -> DimensionStats:
    """Per-dimension mean, standard deviation, min and max of ``x`` (shape ``(n, d)``), in row blocks."""
    x = np.asarray(x)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"need a non-empty (n, d) matrix, got shape {x.shape}")
    if sample is not None and len(x) > sample:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), size=sample, replace=False))]
    d = x.shape[1]
    s1, s2 = np.zeros(d), np.zeros(d)
    lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
    for s in range(0, len(x), 65_536):
        b = np.asarray(x[s:s + 65_536], dtype=np.float64)
        s1 += b.sum(0)
        s2 += (b * b).sum(0)
        lo = np.minimum(lo, b.min(0))
        hi = np.maximum(hi, b.max(0))
    n = len(x)
    mean = s1 / n
    var = np.maximum(s2 / n - mean**2, 0.0)
    return DimensionStats(mean, np.sqrt(var), lo, hi, n)
