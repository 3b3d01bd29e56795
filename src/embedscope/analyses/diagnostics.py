"""Space health: what is wrong with a space before anyone trusts its similarities.

Each check returns a value, the threshold it is judged by, and a verdict in plain words:

- **distance concentration** (Beyer et al. 1999; Aggarwal et al. 2001): relative contrast
  ``(d_max - d_min) / d_min`` of cosine distances from sampled queries; near 0, "nearest" means little;
- **hubness** (Radovanović et al. 2010): skewness of the k-occurrence ``N_k`` (how often each item is among
  the others' k nearest), the hubs (largest ``N_k``) and the anti-hubs (``N_k = 0``);
- **anisotropy** (Ethayarajh 2019): mean cosine of random pairs, and the variance share of the top principal
  component;
- **rogue dimensions** (Timkey & van Schijndel 2021): dimensions that carry a large share of every cosine
  because they hold nearly the same large value in all vectors (text-embedding-ada-002's coordinate near
  -0.67);
- **intrinsic dimension** by TwoNN (Facco et al. 2017): from the ratio of each point's second to first
  nearest-neighbour distance;
- **duplicates**: identical vectors, and near duplicates (cosine at or above a threshold);
- **outliers**: items whose k-th neighbour is far beyond the usual (robust z-score of the k-NN similarity).

Everything runs on the stored kNN graph and on samples of stated size, never on an n x n matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..search.exact import KNN, normalize, search

#: Sizes of the random samples (queries, pairs, rows for PCA).
SAMPLE_QUERIES = 2_000
SAMPLE_PAIRS = 50_000
SAMPLE_ROWS = 20_000


@dataclass
class Check:
    """One health figure with its verdict.

    Attributes
    ----------
    name
        Short name (``hubness``, ``rogue_dimensions``, ...).
    value
        The figure (a number, or a list for rogue dimensions).
    verdict
        Plain words: what the value means for this space.
    threshold
        The value at which the verdict changes.
    ok
        Whether the space passes this check.
    details
        Supporting figures (items, samples used, ...).
    """

    name: str
    value: Any
    verdict: str
    threshold: Any
    ok: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "verdict": self.verdict, "threshold": self.threshold,
                "ok": self.ok, **self.details}


def _pairs(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n - 1, size=m)
    return a, b + (b >= a)


def concentration(x: np.ndarray, *, rng: np.random.Generator, threshold: float = 0.5) -> Check:
    """Relative contrast of cosine distances, mean over sampled queries."""
    xn = normalize(x)
    n = len(xn)
    q = rng.choice(n, size=min(n, SAMPLE_QUERIES), replace=False)
    rc = []
    for s in range(0, len(q), 256):
        d = 1.0 - xn[q[s:s + 256]] @ xn.T
        d[np.arange(len(d)), q[s:s + 256]] = np.nan
        dmin = np.nanmin(d, axis=1)
        dmax = np.nanmax(d, axis=1)
        rc.append((dmax - dmin) / np.maximum(dmin, 1e-9))
    value = float(np.median(np.concatenate(rc)))
    ok = value >= threshold
    verdict = (f"distances discriminate: the farthest item is {1 + value:.1f}x as far as the nearest" if ok
               else "distances concentrate: nearest and farthest items are almost equally far, so rankings are fragile")
    return Check("distance_concentration", value, verdict, threshold, ok, {"queries": len(q),
                                                                             "measure": "median relative contrast"})


def hubness(graph: KNN, ids: list[str], *, k: int = 10, threshold: float = 1.2, top: int = 10) -> Check:
    """Skewness of the k-occurrence from the stored graph; hubs and anti-hubs."""
    from scipy.stats import skew

    k = min(k, graph.k)
    n = len(ids)
    occ = np.bincount(graph.indices[:, :k].ravel(), minlength=n)
    value = float(skew(occ)) if n > 2 and occ.std() > 0 else 0.0
    order = np.argsort(-occ, kind="stable")[:top]
    hubs = [{"id": ids[i], "k_occurrence": int(occ[i])} for i in order]
    anti = int((occ == 0).sum())
    ok = value <= threshold
    verdict = ("no strong hubs" if ok else
               f"hubby: a few items appear in many neighbour lists (the top one in {int(occ[order[0]])} of {n})")
    return Check("hubness", value, verdict, threshold, ok,
                 {"k": k, "hubs": hubs, "anti_hubs": anti, "anti_hub_share": anti / max(n, 1)})


def anisotropy(x: np.ndarray, *, rng: np.random.Generator, threshold: float = 0.2) -> Check:
    """Mean cosine of random pairs and the variance share of the top principal component."""
    xn = normalize(x)
    n = len(xn)
    a, b = _pairs(n, min(SAMPLE_PAIRS, n * (n - 1) // 2), rng)
    cos = np.einsum("ij,ij->i", xn[a], xn[b])
    value = float(cos.mean())
    rows = xn[rng.choice(n, size=min(n, SAMPLE_ROWS), replace=False)]
    c = rows - rows.mean(0)
    sv = np.linalg.svd(c, compute_uv=False) if len(c) > 1 else np.ones(1)
    var = sv**2
    top = float(var[0] / var.sum()) if var.sum() > 0 else 0.0
    ok = value <= threshold
    verdict = ("isotropic enough: random pairs are not similar" if ok else
               f"anisotropic: two random items already have cosine {value:.2f}; judge similarities relative to that")
    return Check("anisotropy", value, verdict, threshold, ok,
                 {"measure": "mean cosine of random pairs", "pairs": len(a), "cosine_p05": float(np.quantile(cos, 0.05)),
                  "cosine_p95": float(np.quantile(cos, 0.95)), "top_pc_variance_share": top,
                  "top10_pc_variance_share": float(var[:10].sum() / var.sum()) if var.sum() > 0 else 0.0})


def rogue_verdict(rogue: np.ndarray, part: float, total: float) -> str:
    """Plain words on rogue dimensions that add ``part`` to a mean cosine of ``total`` between random items.

    Shares are signed: when the other dimensions together pull the mean cosine down, the rogue ones carry more
    than all of it, and a percentage above 100% would mislead; the verdict then gives both sums instead.
    """
    named = ", ".join(str(int(i)) for i in rogue[:5]) + (", ..." if len(rogue) > 5 else "")
    what = f"{len(rogue)} rogue dimension(s) ({named})"
    fix = "centre the vectors (subtract the mean) before comparing"
    if 0 < part <= total:
        return (f"{what} carry {part / total:.0%} of the mean cosine between random items ({part:.2f} of "
                f"{total:.2f}); {fix}")
    return (f"{what} add {part:+.2f} to the mean cosine between random items, more than all of it ({total:.2f}: "
            f"the other dimensions together {total - part:+.2f}); {fix}")


def rogue_dimensions(x: np.ndarray, *, rng: np.random.Generator, share: float = 0.05, dominance: float = 2.0
                     ) -> Check:
    """Dimensions that carry at least ``share`` of the mean cosine and hold nearly the same value everywhere.

    A dimension's contribution to the cosine of a pair is ``u_i v_i`` (``u``, ``v`` unit vectors); its share
    is the mean contribution over random pairs divided by the mean cosine. It is rogue when the share is at
    least ``share`` and ``|mean| >= dominance * std`` of that coordinate (a constant offset, not signal).
    """
    xn = normalize(x)
    n, d = xn.shape
    a, b = _pairs(n, min(SAMPLE_PAIRS, max(1, n * (n - 1) // 2)), rng)
    contrib = (xn[a] * xn[b]).mean(0)
    total = float(contrib.sum())
    mean, std = xn.mean(0), xn.std(0)
    shares = contrib / total if abs(total) > 1e-9 else np.zeros(d)
    rogue = np.flatnonzero((shares >= share) & (np.abs(mean) >= dominance * np.maximum(std, 1e-12)))
    rogue = rogue[np.argsort(-shares[rogue])]
    dims = [{"dim": int(i), "share_of_cosine": float(shares[i]), "mean": float(mean[i]), "std": float(std[i])}
            for i in rogue]
    ok = len(rogue) == 0
    verdict = "no rogue dimensions" if ok else rogue_verdict(rogue, float(contrib[rogue].sum()), total)
    return Check("rogue_dimensions", [int(i) for i in rogue], verdict,
                 {"share_of_cosine": share, "abs_mean_over_std": dominance}, ok,
                 {"dimensions": dims, "top_shares": [{"dim": int(i), "share_of_cosine": float(shares[i])}
                                                      for i in np.argsort(-shares)[:5]]})


def intrinsic_dimension(x: np.ndarray, *, rng: np.random.Generator, discard: float = 0.1) -> Check:
    """TwoNN estimate (Facco et al. 2017) in the space's own Euclidean geometry, on sampled points."""
    n, d = x.shape
    if n < 4:
        return Check("intrinsic_dimension", None, "too few items", None, True)
    q = rng.choice(n, size=min(n, SAMPLE_QUERIES * 2), replace=False)
    res = search(x, x[q], 3, "euclidean")
    r = res.scores
    # drop the item itself (distance 0 at its own row) and exact duplicates, which TwoNN cannot use
    keep = np.ones(len(q), bool)
    r1, r2 = np.empty(len(q)), np.empty(len(q))
    for j in range(len(q)):
        others = [(s, i) for s, i in zip(r[j], res.indices[j], strict=True) if i != q[j]][:2]
        if len(others) < 2 or others[0][0] <= 0:
            keep[j] = False
            continue
        r1[j], r2[j] = others[0][0], others[1][0]
    mu = np.sort(r2[keep] / r1[keep])
    # Facco et al.: F(mu) = 1 - mu^-d, so -log(1 - F) = d log(mu); fit a line through the origin on the
    # empirical CDF, leaving out the largest ``discard`` share of ratios (they come from outliers and noise).
    m = len(mu)
    f = np.arange(1, m + 1) / m
    use = slice(0, max(2, int(m * (1 - discard))))
    lx, ly = np.log(mu[use]), -np.log(1 - f[use])
    est = float((lx * ly).sum() / (lx * lx).sum()) if m > 2 and (lx * lx).sum() > 0 else float("nan")
    verdict = (f"the vectors live on a manifold of about {est:.0f} dimensions out of {d}" if np.isfinite(est)
               else "not measurable (too many duplicates)")
    return Check("intrinsic_dimension", est if np.isfinite(est) else None, verdict, None, True,
                 {"method": "TwoNN (line fit on the CDF, top 10% of ratios left out)", "points": int(keep.sum()),
                  "ambient": d})


def duplicates(x: np.ndarray, ids: list[str], graph: KNN, *, threshold: float = 0.98, top: int = 20) -> Check:
    """Groups of identical vectors, and near-duplicate pairs (cosine >= threshold) from the stored graph."""
    xc = np.ascontiguousarray(x)
    view = xc.view(np.dtype((np.void, xc.dtype.itemsize * xc.shape[1]))).ravel()
    _, inv, counts = np.unique(view, return_inverse=True, return_counts=True)
    groups = [np.flatnonzero(inv == g) for g in np.flatnonzero(counts > 1)]
    exact = sum(len(g) - 1 for g in groups)
    i_idx, j_idx = np.nonzero(graph.scores >= threshold)
    pairs: set[tuple[int, int]] = set()
    for i, j in zip(i_idx.tolist(), j_idx.tolist(), strict=True):
        other = int(graph.indices[i, j])
        pairs.add((min(i, other), max(i, other)))
    same = {(int(g[a]), int(g[b])) for g in groups for a in range(len(g)) for b in range(a + 1, len(g))}
    near: list[tuple[int, int]] = sorted(pairs - same)
    ok = exact == 0 and not near
    verdict = ("no duplicates" if ok else
               f"{exact} exact duplicate vector(s) in {len(groups)} group(s), {len(near)} near-duplicate pair(s) "
               f"at cosine >= {threshold}")
    return Check("duplicates", {"exact": exact, "near_pairs": len(near)}, verdict, threshold, ok,
                 {"exact_groups": [[ids[i] for i in g[:10]] for g in groups[:top]],
                  "near_pairs_sample": [[ids[a], ids[b]] for a, b in near[:top]]})


def outliers(graph: KNN, ids: list[str], *, k: int = 10, z: float = 3.5, top: int = 10) -> Check:
    """Items whose k-th nearest neighbour is unusually far (robust z-score of the k-NN similarity)."""
    k = min(k, graph.k)
    if k == 0:
        return Check("outliers", 0, "too few items", z, True)
    s = graph.scores[:, k - 1].astype(np.float64)
    med = np.median(s)
    mad = np.median(np.abs(s - med)) * 1.4826 or 1e-9
    score = (med - s) / mad
    out = np.flatnonzero(score > z)
    order = out[np.argsort(-score[out])][:top]
    ok = len(out) <= 0.01 * len(s)
    verdict = (f"{len(out)} item(s) have no close neighbours ({len(out) / len(s):.1%})")
    return Check("outliers", len(out), verdict, {"robust_z": z, "k": k}, ok,
                 {"items": [{"id": ids[i], "kth_similarity": float(s[i])} for i in order]})


def normalisation(x: np.ndarray) -> Check:
    """Whether vectors are unit length (then cosine, dot and euclidean rank neighbours the same)."""
    norms = np.linalg.norm(x, axis=1)
    spread = float(norms.std() / max(norms.mean(), 1e-12))
    unit = bool(np.allclose(norms, 1.0, atol=1e-3))
    verdict = ("unit vectors: cosine, dot and euclidean give the same neighbours" if unit else
               f"not normalised (norms {norms.min():.3g} to {norms.max():.3g}): dot and euclidean favour long "
               "vectors; cosine ignores length")
    return Check("normalised", unit, verdict, {"abs_tolerance": 1e-3}, True,
                 {"norm_mean": float(norms.mean()), "norm_relative_spread": spread})


#: Each check's name and its title for people (the explorer's Health sheet shows the title), in the order
#: :func:`health` runs them. A new check adds a line here.
CHECKS: dict[str, str] = {
    "normalised": "unit length",
    "distance_concentration": "distance concentration",
    "hubness": "hubness",
    "anisotropy": "anisotropy",
    "rogue_dimensions": "rogue dimensions",
    "intrinsic_dimension": "intrinsic dimension",
    "duplicates": "duplicates",
    "outliers": "outliers",
}


def health(x: np.ndarray, ids: list[str], graph: KNN, *, seed: int = 0) -> list[Check]:
    """Every check, in a fixed order (the order of :data:`CHECKS`).

    Parameters
    ----------
    x
        Vectors, shape ``(n, d)``.
    ids
        Their ids, length ``n``.
    graph
        The cosine kNN graph (at least 10 neighbours per item where ``n`` allows).
    """
    rng = np.random.default_rng(seed)
    return [
        normalisation(x),
        concentration(x, rng=rng),
        hubness(graph, ids),
        anisotropy(x, rng=rng),
        rogue_dimensions(x, rng=rng),
        intrinsic_dimension(x, rng=rng),
        duplicates(x, ids, graph),
        outliers(graph, ids),
    ]
