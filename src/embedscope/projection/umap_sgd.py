"""UMAP's optimisation on both cores with a result that does not depend on the threads: blocks of points.

umap-learn optimises with plain SGD over the graph's edges; with a seed it runs single-threaded (its
parallel loop lets threads race on shared points, so the map changes run to run). Here the points are cut
into ``blocks`` slabs along the first axis of the initial layout, each holding about the same number of edges,
and each block is one task. Within an epoch a task moves only its own points: it reads its own points as they
move (the same sequential SGD as umap-learn's) and the other blocks' points as they were at the start of the
epoch (a snapshot). Nothing a task reads depends on when another task runs, so the map is the same for the
same seed whatever the number of threads (1 or 64), while ``blocks`` tasks run at once.

An edge between two blocks is seen from both ends (the graph is symmetric) and each end moves only itself;
umap-learn moves both ends of every directed edge, so such an edge's pull is applied twice to its own end to
keep the same force. Negative samples are drawn from every point by a per-block random stream (umap-learn's
Tausworthe generator) seeded from ``seed``.

Geometry: the plane (umap-learn's euclidean output) or a sphere of radius ``R`` embedded in 3-D, where the
distance is the chord and each step is followed by a projection back onto the sphere (used to relax the naive
wrap of a flat map into a seamless globe, :mod:`embedscope.projection.sphere`).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .kernels import compile_kernel

#: Blocks of points optimised as separate tasks (the map depends on this number, not on the threads).
BLOCKS = 4


def _tau(state: np.ndarray) -> int:
    """umap-learn's Tausworthe generator (``tau_rand_int``) on a 3-word state; a non-negative int."""
    state[0] = (((state[0] & 4294967294) << 12) & 0xFFFFFFFF) ^ ((((state[0] << 13) & 0xFFFFFFFF) ^ state[0]) >> 19)
    state[1] = (((state[1] & 4294967288) << 4) & 0xFFFFFFFF) ^ ((((state[1] << 2) & 0xFFFFFFFF) ^ state[1]) >> 25)
    state[2] = (((state[2] & 4294967280) << 17) & 0xFFFFFFFF) ^ ((((state[2] << 3) & 0xFFFFFFFF) ^ state[2]) >> 11)
    return state[0] ^ state[1] ^ state[2]


def _block_epoch(y: np.ndarray, snap: np.ndarray, head: np.ndarray, tail: np.ndarray, first: int, last: int,
                 lo: int, hi: int, eps: np.ndarray, next_s: np.ndarray, eps_neg: np.ndarray,
                 next_neg: np.ndarray, n: int, a: float, b: float, gamma: float, alpha: float, rng: np.ndarray,
                 radius: float) -> None:
    dim = y.shape[1]
    nv = y.shape[0]
    a32, b32 = np.float32(a), np.float32(b)
    attract, repel = np.float32(-2.0 * a * b), np.float32(2.0 * gamma * b)
    one, eps0, lim, al = np.float32(1.0), np.float32(0.001), np.float32(4.0), np.float32(alpha)
    cur = np.empty(dim, np.float32)
    state = rng.copy()  # a task-local state: the blocks' states share a cache line
    for e in range(lo, hi):
        if next_s[e] > n:
            continue
        j = head[e]
        k = tail[e]
        same = first <= k < last
        d2 = _offset(y, snap, j, k, same, cur)
        if d2 > 0.0:
            p = d2 ** b32
            g = attract * (p / d2) / (a32 * p + one)
            for d in range(dim):
                step = min(lim, max(-lim, g * cur[d])) * al
                if same:
                    y[j, d] += step
                    y[k, d] -= step
                else:
                    y[j, d] += step + step
            if radius > 0.0:
                _to_sphere(y, j, radius)
                if same:
                    _to_sphere(y, k, radius)
        next_s[e] += eps[e]
        n_neg = int((n - next_neg[e]) / eps_neg[e])
        for _ in range(n_neg):
            k = (_tau(state) * nv) >> 32  # uniform in [0, nv) without a division
            if k == j:
                continue
            same = first <= k < last
            d2 = _offset(y, snap, j, k, same, cur)
            if d2 <= 0.0:
                continue
            g = repel / ((eps0 + d2) * (a32 * d2 ** b32 + one))
            for d in range(dim):
                y[j, d] += min(lim, max(-lim, g * cur[d])) * al
            if radius > 0.0:
                _to_sphere(y, j, radius)
        next_neg[e] += n_neg * eps_neg[e]
    rng[:] = state


def _offset(y: np.ndarray, snap: np.ndarray, j: int, k: int, same: bool, cur: np.ndarray) -> np.float32:
    """``cur = y[j] - y[k]`` (``y[k]`` read from ``snap`` when ``k`` is another block's point); its squared norm."""
    d2 = np.float32(0.0)
    for d in range(y.shape[1]):
        o = y[k, d] if same else snap[k, d]
        cur[d] = y[j, d] - o
        d2 += cur[d] * cur[d]
    return d2


def _to_sphere(y: np.ndarray, i: int, radius: float) -> None:
    s = 0.0
    for d in range(y.shape[1]):
        s += y[i, d] * y[i, d]
    if s > 0.0:
        f = radius / np.sqrt(s)
        for d in range(y.shape[1]):
            y[i, d] *= f


def _optimise(y: np.ndarray, head: np.ndarray, tail: np.ndarray, points: np.ndarray, starts: np.ndarray,
              eps: np.ndarray, a: float, b: float, gamma: float, alpha0: float, negative_rate: int, n_epochs: int,
              rngs: np.ndarray, radius: float) -> None:
    n_blocks = len(starts) - 1
    next_s = eps.copy()
    eps_neg = eps / negative_rate
    next_neg = eps_neg.copy()
    snap = np.empty_like(y)
    for n in range(n_epochs):
        alpha = alpha0 * (1.0 - n / n_epochs)
        snap[:] = y
        for blk in prange(n_blocks):
            _block_epoch(y, snap, head, tail, points[blk], points[blk + 1], starts[blk], starts[blk + 1], eps, next_s, eps_neg,
                         next_neg, n, a, b, gamma, alpha, rngs[blk], radius)


def prange(n: int) -> range:  # replaced by numba.prange when compiled
    return range(n)


_KERNEL: Any = None
_LOCK = threading.Lock()


def _kernel() -> Any:
    """The compiled optimiser (numba, on-disk cache in ``NUMBA_CACHE_DIR``), compiled on first use
    (:func:`~embedscope.projection.kernels.compile_kernel`)."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = compile_kernel(globals(), _optimise, parallel=True, helpers={
            "_tau": {}, "_to_sphere": {}, "_offset": {"fastmath": True, "inline": "always"},
            "_block_epoch": {"fastmath": True}})
    return _KERNEL


def blocks_of(order_key: np.ndarray, head: np.ndarray, n_blocks: int) -> np.ndarray:
    """Cut the points into ``n_blocks`` slabs along ``order_key`` (n,) with about equal numbers of edges.

    Returns
    -------
    numpy.ndarray
        int32, shape ``(n,)``: each point's block.
    """
    n = len(order_key)
    degree = np.bincount(head, minlength=n).astype(np.float64)
    order = np.argsort(order_key, kind="stable")
    cum = np.cumsum(degree[order])
    cut = np.minimum((cum * n_blocks / max(cum[-1], 1.0)).astype(np.int64), n_blocks - 1)
    out = np.empty(n, np.int32)
    out[order] = cut
    return out


def optimise(y: np.ndarray, head: np.ndarray, tail: np.ndarray, epochs_per_sample: np.ndarray, *, a: float,
             b: float, n_epochs: int, seed: int, blocks: int = BLOCKS, gamma: float = 1.0,
             initial_alpha: float = 1.0, negative_sample_rate: int = 5, radius: float = 0.0) -> np.ndarray:
    """Run UMAP's SGD on ``y`` in place, ``blocks`` tasks at a time; returns ``y``.

    Parameters
    ----------
    y
        float32, shape ``(n, dim)``: the start (for ``radius > 0``, points on the sphere of that radius).
    head, tail
        int, shape ``(m,)``: the edges of the symmetric fuzzy graph (both directions present).
    epochs_per_sample
        float64, shape ``(m,)``: umap-learn's ``make_epochs_per_sample`` of the edge weights.
    a, b
        The low-dimensional similarity ``1 / (1 + a d^(2b))``.
    n_epochs
        Epochs; the learning rate falls linearly from ``initial_alpha`` to 0.
    seed
        Seeds the negative sampling (the result is a function of the inputs, ``seed`` and ``blocks``).
    blocks
        Number of slabs optimised as separate tasks (along the first coordinate of ``y``).
    radius
        0 for the plane; else the sphere's radius (distances are chords).
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    head = np.ascontiguousarray(head, dtype=np.int64)
    tail = np.ascontiguousarray(tail, dtype=np.int64)
    eps = np.ascontiguousarray(epochs_per_sample, dtype=np.float64)
    n_blocks = int(max(1, min(blocks, len(y))))
    block_of = blocks_of(y[:, 0], head, n_blocks)
    # each block's points contiguous in memory (no cache line written by two tasks) and its edges contiguous
    perm = np.argsort(block_of, kind="stable")
    rank = np.empty_like(perm)
    rank[perm] = np.arange(len(perm))
    yb = np.ascontiguousarray(y[perm])
    block_of = np.ascontiguousarray(block_of[perm])
    head, tail = rank[head].astype(np.int32), rank[tail].astype(np.int32)
    order = np.argsort(head, kind="stable")
    head, tail, eps = head[order], tail[order], eps[order]
    points = np.searchsorted(block_of, np.arange(n_blocks + 1)).astype(np.int64)  # block b: points[b]:points[b+1]
    starts = np.searchsorted(head, points).astype(np.int64)  # its edges: starts[b]:starts[b+1]
    rs = np.random.default_rng(seed)
    rngs = rs.integers(1, 2**31 - 1, size=(n_blocks, 3)).astype(np.int64) + np.array([2, 8, 16], np.int64)
    with _LOCK:  # one optimisation at a time in a process: numba's thread pool is shared
        kernel = _kernel()
        kernel(yb, head, tail, points, starts, eps, float(a), float(b), float(gamma), float(initial_alpha),
               int(negative_sample_rate), int(n_epochs), rngs, float(radius))
    y[perm] = yb
    return y
