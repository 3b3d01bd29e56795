"""The kd-tree property the page's spatial index relies on (shared by test_kdorder and test_server)."""

from __future__ import annotations

import numpy as np


def check_kd_tree(x: np.ndarray, y: np.ndarray, ids: np.ndarray, node_size: int) -> None:
    """Every node's median splits its range on its axis (what KDBush's range query relies on)."""
    coords = (x[ids], y[ids])
    stack = [(0, len(ids) - 1, 0)]
    while stack:
        left, right, axis = stack.pop()
        if right - left <= node_size:
            continue
        m = (left + right) >> 1
        c = coords[axis]
        assert (c[left:m] <= c[m]).all() and (c[m + 1:right + 1] >= c[m]).all()
        stack += [(left, m - 1, 1 - axis), (m + 1, right, 1 - axis)]
