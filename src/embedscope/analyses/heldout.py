"""Before / after of a fine-tuned space on the same items: same-label precision@k with a paired bootstrap
interval, kNN agreement, and the linear probe when it is available (arrays only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..search.exact import knn_graph
from .compare import jaccard, label_retrieval, paired_bootstrap
from .probe import probe as run_probe

#: Below this many items a held-out part is too small to tell a gain from noise.
MIN_HELD_OUT = 200
#: A training-part gain larger than the held-out gain by more than this is called overfitting.
OVERFIT_GAP = 0.1


def before_after(base: np.ndarray, tuned: np.ndarray, labels: np.ndarray | None, *, k: int = 10,
                 seed: int = 0, boot: int = 1000, probe: bool = True) -> dict[str, Any]:
    """Compare the base and the tuned vectors of the same items, neighbours searched among these items only.

    Parameters
    ----------
    base, tuned
        Shape ``(n, d_base)`` and ``(n, d_tuned)``, rows the same items.
    labels
        Shape ``(n,)`` (strings), or ``None`` (then only the kNN agreement is measured).
    k
        Neighbourhood size.
    seed, boot
        Seed and resamples of the paired bootstrap.
    probe
        Also run the cross-validated linear probe (:mod:`embedscope.analyses.probe`).

    Returns
    -------
    dict
        ``{"items": n, "k", "jaccard": mean Jaccard@k of the two neighbour lists,
        "precision": {"base", "tuned", "gain", "ci95": [lo, hi], "queries"} | None,
        "probe": {"base": {"accuracy", "accuracy_ci95", "macro_f1"}, "tuned": {...}} | None}``.
    """
    n = len(base)
    kk = min(k, n - 1)
    out: dict[str, Any] = {"items": int(n), "k": int(kk), "jaccard": None, "precision": None, "probe": None}
    if kk < 1:
        return out
    gb = knn_graph(np.asarray(base, np.float32), kk).indices
    gt = knn_graph(np.asarray(tuned, np.float32), kk).indices
    out["jaccard"] = float(jaccard(gb, gt).mean())
    if labels is None:
        return out
    lab = np.asarray(labels)
    rb, rt = label_retrieval(gb, lab), label_retrieval(gt, lab)
    if len(rb["precision"]):
        lo, hi = paired_bootstrap(rt["precision"], rb["precision"], n=boot, seed=seed)
        pb, pt = float(rb["precision"].mean()), float(rt["precision"].mean())
        out["precision"] = {"base": pb, "tuned": pt, "gain": pt - pb, "ci95": [lo, hi],
                            "queries": len(rb["precision"])}
    if probe:
        out["probe"] = probe_both(base, tuned, lab, seed=seed)
    return out


def probe_both(base: np.ndarray, tuned: np.ndarray, labels: np.ndarray, *, seed: int = 0
               ) -> dict[str, Any] | None:
    """The linear probe's accuracy and macro-F1 (with intervals, :func:`embedscope.analyses.probe.probe`) on
    both spaces, same folds, or ``None`` when the labels cannot be probed (too few items per class)."""
    out: dict[str, Any] = {}
    for name, x in (("base", base), ("tuned", tuned)):
        try:
            res = run_probe(np.asarray(x, np.float32), labels, seed=seed)
        except InputError:
            return None
        lr = res.get("logreg") or {}
        out[name] = {"accuracy": lr.get("accuracy"), "accuracy_ci95": lr.get("accuracy_ci95"),
                     "macro_f1": lr.get("macro_f1"), "control": res.get("control"),
                     "base_rate": res.get("base_rate")}
    return out


def warnings_for(held: dict[str, Any], train: dict[str, Any] | None) -> list[str]:
    """Plain-words warnings on a before / after: held-out part too small, a gain inside its interval, a
    loss, a training-part gain far above the held-out one (overfitting)."""
    out = []
    if held["items"] < MIN_HELD_OUT:
        out.append(f"the held-out part has only {held['items']} items: too few to tell a gain from noise "
                   f"(at least {MIN_HELD_OUT} are needed; use more items or a larger --held-out)")
    p = held.get("precision")
    if p is not None:
        lo, hi = p["ci95"]
        if hi < 0:
            out.append(f"the tuned space is worse than the base on held-out items: same-label precision@"
                       f"{held['k']} {p['gain']:+.3f} (95% interval [{lo:+.3f}, {hi:+.3f}])")
        elif lo <= 0:
            out.append(f"the held-out gain in same-label precision@{held['k']} ({p['gain']:+.3f}) is inside "
                       f"the noise: its 95% interval [{lo:+.3f}, {hi:+.3f}] holds 0")
        tp = (train or {}).get("precision")
        if tp is not None and tp["gain"] - p["gain"] > OVERFIT_GAP:
            out.append(f"overfitting: the gain on the training part ({tp['gain']:+.3f}) is far larger than on "
                       f"held-out items ({p['gain']:+.3f}); fewer epochs or more data")
    return out
