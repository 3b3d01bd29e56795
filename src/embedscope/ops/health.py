"""The health of a space: every check of :mod:`embedscope.analyses.diagnostics` on a workspace's space."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analyses.diagnostics import health as health_checks
from ..errors import InputError
from ..search.graph import GRAPH_ON_DEMAND_MAX
from ..store.tables import neighbors_table
from .base import ScopeLike

#: Fewest points a space's health checks can measure (pairs of items, a neighbour for each).
HEALTH_MIN_ITEMS = 2


def health(scope: ScopeLike, space: str | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
    """Every space-health check (see :mod:`embedscope.analyses.diagnostics`) as JSON-ready dicts.

    Parameters
    ----------
    scope
        The workspace.
    space
        Space name (default: the default space).
    seed
        Seed of the checks' random samples.

    Returns
    -------
    list of dict
        One ``check.to_json()`` per check, in the checks' order.
    """
    space = scope.resolve_space(space)
    ids, x, _ = scope.store.arrays(space)
    if len(ids) < HEALTH_MIN_ITEMS:
        raise InputError(f"too few items: health needs at least {HEALTH_MIN_ITEMS} items ({scope.path} has "
                         f"{len(ids)} in space {space!r}); add items with embedscope ingest")
    graph = scope.knn(space) if len(ids) <= GRAPH_ON_DEMAND_MAX or \
        scope.store.record(neighbors_table(space)) is not None else None
    if graph is None:
        raise InputError(f"space {space!r} has {len(ids)} items; build its kNN graph first "
                         f"(embedscope neighbors computes it) to check its health")
    return [c.to_json() for c in health_checks(np.asarray(x), ids, graph, seed=seed)]
