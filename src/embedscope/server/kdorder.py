"""The order of a map's points in its spatial index, computed once on the server instead of in every browser.

The page finds the points under the mouse (hover, click, lasso) with a KDBush index: the points sorted so that
every node ``[left, right]`` of an implicit kd-tree has its median ``m = (left + right) >> 1`` on one axis
(x at even depths, y at odd ones), everything in ``[left, m - 1]`` at or below it and everything in
``[m + 1, right]`` at or above it, down to leaves of at most ``node_size + 1`` points. Building that order in
JavaScript takes about half a second a million points, on a thread that competes with the first draw; here it
is a compiled kernel, cached with the layout's bytes, and the page only gathers its coordinates in this order
(``web/src/data/spatial.ts``).

The order is valid for the page's own coordinates too: the page maps ``x`` and ``y`` through the same
increasing affine function (``normalise`` in ``web/src/views/map.ts``) and sends non-finite coordinates to the
centre, which :func:`kd_order` does as well; an increasing map keeps every ``<=`` the tree relies on.
"""

from __future__ import annotations

import numpy as np

#: KDBush's node size as the page builds its index (``NODE_SIZE`` in web/src/data/spatialIndex.ts).
NODE_SIZE = 16

_SORT = None


def _kernel():  # type: ignore[no-untyped-def]
    """The numba kd-sort (compiled on first use, cached on disk where numba can write)."""
    global _SORT
    if _SORT is None:
        from numba import njit

        @njit(nogil=True, cache=True)
        def kd_sort(ids, coords, node_size):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
            n = ids.shape[0]
            stack = np.empty((3 * 64 + 3) * 4, np.int64)
            top = 0
            stack[0], stack[1], stack[2] = 0, n - 1, 0
            top = 3
            while top > 0:
                axis = stack[top - 1]
                right = stack[top - 2]
                left = stack[top - 3]
                top -= 3
                if right - left <= node_size:
                    continue
                k = (left + right) >> 1
                # select: the k-th smallest on `axis` at k, smaller ones left of it, larger ones right of it
                lo, hi = left, right
                while hi > lo:
                    # median of three as the pivot, moved to k
                    a, b, c = coords[lo, axis], coords[k, axis], coords[hi, axis]
                    p = k
                    if (a <= b) == (b <= c):
                        p = k
                    elif (b <= a) == (a <= c):
                        p = lo
                    else:
                        p = hi
                    if p != k:
                        ids[p], ids[k] = ids[k], ids[p]
                        for t in range(2):
                            coords[p, t], coords[k, t] = coords[k, t], coords[p, t]
                    pivot = coords[k, axis]
                    i, j = lo, hi
                    # KDBush's partition (Hoare, the pivot parked at lo)
                    ids[lo], ids[k] = ids[k], ids[lo]
                    for t in range(2):
                        coords[lo, t], coords[k, t] = coords[k, t], coords[lo, t]
                    if coords[hi, axis] > pivot:
                        ids[lo], ids[hi] = ids[hi], ids[lo]
                        for t in range(2):
                            coords[lo, t], coords[hi, t] = coords[hi, t], coords[lo, t]
                    while i < j:
                        ids[i], ids[j] = ids[j], ids[i]
                        for t in range(2):
                            coords[i, t], coords[j, t] = coords[j, t], coords[i, t]
                        i += 1
                        j -= 1
                        while coords[i, axis] < pivot:
                            i += 1
                        while coords[j, axis] > pivot:
                            j -= 1
                    if coords[lo, axis] == pivot:
                        ids[lo], ids[j] = ids[j], ids[lo]
                        for t in range(2):
                            coords[lo, t], coords[j, t] = coords[j, t], coords[lo, t]
                    else:
                        j += 1
                        ids[j], ids[hi] = ids[hi], ids[j]
                        for t in range(2):
                            coords[j, t], coords[hi, t] = coords[hi, t], coords[j, t]
                    if j <= k:
                        lo = j + 1
                    if k <= j:
                        hi = j - 1
                stack[top], stack[top + 1], stack[top + 2] = left, k - 1, 1 - axis
                stack[top + 3], stack[top + 4], stack[top + 5] = k + 1, right, 1 - axis
                top += 6
            return ids

        _SORT = kd_sort
    return _SORT


def kd_order(x: np.ndarray, y: np.ndarray, node_size: int = NODE_SIZE) -> np.ndarray:
    """Point rows in KDBush order (see the module docstring).

    Parameters
    ----------
    x, y
        Shape ``(n,)``: the map's coordinates in point order (float32 as sent to the page).
    node_size
        Leaves hold at most ``node_size + 1`` points.

    Returns
    -------
    numpy.ndarray
        uint32, shape ``(n,)``: a permutation of ``0 .. n - 1``.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(f"x and y must have the same shape (n,), not {xs.shape} and {ys.shape}")
    n = xs.shape[0]
    if n >= 2**32:
        raise ValueError(f"{n} points do not fit uint32 rows")
    coords = np.stack([_centred(xs), _centred(ys)], axis=1)
    ids = np.arange(n, dtype=np.uint32)
    if n > 1:
        _kernel()(ids, coords, int(node_size))
    return ids


def _centred(v: np.ndarray) -> np.ndarray:
    """``v`` with non-finite values at the middle of the finite ones' range (where the page draws them)."""
    finite = np.isfinite(v)
    if finite.all():
        return v.copy()
    mid = (float(v[finite].min()) + float(v[finite].max())) / 2 if finite.any() else 0.0
    return np.where(finite, v, mid)
