"""The spatial index order the server sends the page (KDBush's kd-sort): a valid kd-tree, so box queries find
exactly the points a brute-force scan finds."""

from __future__ import annotations

import numpy as np
import pytest

from embedscope.server.kdorder import NODE_SIZE, kd_order
from tests.server.kdtree import check_kd_tree


def _range(x: np.ndarray, y: np.ndarray, ids: np.ndarray, box: tuple[float, float, float, float],
           node_size: int) -> set[int]:
    """KDBush's ``range`` over the sorted points (a port of its loop)."""
    x0, y0, x1, y1 = box
    cx, cy = x[ids], y[ids]
    out: set[int] = set()
    stack = [(0, len(ids) - 1, 0)]
    while stack:
        left, right, axis = stack.pop()
        if right - left <= node_size:
            inside = (cx[left:right + 1] >= x0) & (cx[left:right + 1] <= x1) & (cy[left:right + 1] >= y0) \
                & (cy[left:right + 1] <= y1)
            out.update(int(i) for i in ids[left:right + 1][inside])
            continue
        m = (left + right) >> 1
        if x0 <= cx[m] <= x1 and y0 <= cy[m] <= y1:
            out.add(int(ids[m]))
        v = cx[m] if axis == 0 else cy[m]
        if (x0 if axis == 0 else y0) <= v:
            stack.append((left, m - 1, 1 - axis))
        if (x1 if axis == 0 else y1) >= v:
            stack.append((m + 1, right, 1 - axis))
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 17, 18, 1000, 60_000])
def test_kd_order_is_a_permutation_and_a_valid_tree(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    y = (rng.standard_normal(n) * 3).astype(np.float32)
    ids = kd_order(x, y)
    assert ids.dtype == np.uint32 and ids.shape == (n,)
    assert np.array_equal(np.sort(ids), np.arange(n))
    check_kd_tree(x.astype(np.float64), y.astype(np.float64), ids, NODE_SIZE)


def test_box_queries_find_what_a_scan_finds_with_ties_clusters_and_nan() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    # many exact ties (a grid), a tight cluster, duplicates and a few NaN coordinates
    x = np.concatenate([np.round(rng.uniform(-1, 1, n // 2), 2), rng.normal(0.3, 1e-4, n // 2)]).astype(np.float32)
    y = np.concatenate([np.round(rng.uniform(-1, 1, n // 2), 1), rng.normal(-0.2, 1e-4, n // 2)]).astype(np.float32)
    x[:5] = x[5]
    y[:5] = y[5]
    x[100:103] = np.nan
    ids = kd_order(x, y)
    # the page draws non-finite coordinates at the middle of the range; the tree must hold for that too
    xm = np.where(np.isfinite(x), x, (np.nanmin(x) + np.nanmax(x)) / 2).astype(np.float64)
    ym = y.astype(np.float64)
    check_kd_tree(xm, ym, ids, NODE_SIZE)
    for _ in range(200):
        a, b = np.sort(rng.uniform(-1.1, 1.1, 2))
        c, d = np.sort(rng.uniform(-1.1, 1.1, 2))
        if rng.random() < 0.3:  # small boxes around the cluster
            a, b, c, d = 0.3 - 2e-4, 0.3 + 1e-4, -0.2 - 1e-4, -0.2 + 2e-4
        want = set(np.flatnonzero((xm >= a) & (xm <= b) & (ym >= c) & (ym <= d)).tolist())
        assert _range(xm, ym, ids, (a, c, b, d), NODE_SIZE) == want


def test_order_survives_the_pages_normalisation() -> None:
    """The page scales and shifts the coordinates (float32); an increasing map keeps the tree valid."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(50_000) * 40 + 1000).astype(np.float32)
    y = (rng.standard_normal(50_000) * 0.01).astype(np.float32)
    ids = kd_order(x, y)
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    half = max(x1 - x0, y1 - y0) / 2
    s = 0.95 / half
    nx = ((x.astype(np.float64) - (x0 + x1) / 2) * s).astype(np.float32)
    ny = ((y.astype(np.float64) - (y0 + y1) / 2) * s).astype(np.float32)
    check_kd_tree(nx.astype(np.float64), ny.astype(np.float64), ids, NODE_SIZE)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="same shape"):
        kd_order(np.zeros(3), np.zeros(4))
