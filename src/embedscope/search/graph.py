"""The kNN-graph policy: exact or approximate (HNSW), and what an approximate graph records about its recall.

Arrays in, a graph and its recorded parameters out; the builders are passed in (an engine's), so this module
knows nothing of where a graph is built or stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ann
from .exact import KNN

#: Neighbours per item a stored graph holds at least.
DEFAULT_K = 50
#: Above this many points, a single item's neighbours come from a scan instead of building the graph.
GRAPH_ON_DEMAND_MAX = 50_000

Build = Callable[[np.ndarray, int], KNN]


def wants_approximate(n: int, exact: bool | None) -> bool:
    """Whether a graph of ``n`` points is built approximately: ``exact=None`` chooses by size (above
    :data:`embedscope.search.ann.ANN_ABOVE`, read at call time), ``True``/``False`` force it."""
    return (not exact) if exact is not None else n > ann.ANN_ABOVE


def build_graph(x: np.ndarray, k: int, *, approximate: bool, exact_build: Build, ann_build: Build,
                engine: str | None = None) -> tuple[KNN, dict[str, Any]]:
    """Build a cosine kNN graph of ``x`` and the parameters a stored graph records about how it was made.

    Parameters
    ----------
    x
        Shape ``(n, d)``.
    k
        Neighbours per item.
    approximate
        Build with ``ann_build`` and measure recall@10 against exact search on sampled items
        (:func:`embedscope.search.ann.graph_recall`); else build with ``exact_build``.
    exact_build, ann_build
        ``(x, k) -> KNN`` builders (an engine's).
    engine
        Recorded as ``"engine"`` with an approximate graph (``None``: not recorded).

    Returns
    -------
    graph : KNN
        ``indices``/``scores`` of shape ``(n, min(k, n - 1))``.
    params : dict
        ``{"exact": bool, "method": str}`` and, approximate, ``"build_s"``, ``"recall@10"``, ``"recall_sample"``,
        ``"exact_estimate_s"`` (in the order the manifest has always stored them).
    """
    params: dict[str, Any] = {"exact": not approximate}
    if not approximate:
        graph = exact_build(x, k)
        params["method"] = "exact"
        return graph, params
    t0 = time.perf_counter()
    graph = ann_build(x, k)
    if engine is not None:
        params["engine"] = engine
    params["build_s"] = round(time.perf_counter() - t0, 2)
    recall, scan_s = ann.graph_recall(x, graph, 10)
    sample = min(ann.RECALL_SAMPLE, len(x))
    params.update({"method": ann.ANN_METHOD, "recall@10": round(recall, 4), "recall_sample": sample,
                   "exact_estimate_s": round(scan_s * len(x) / max(1, sample), 1)})
    return graph, params
