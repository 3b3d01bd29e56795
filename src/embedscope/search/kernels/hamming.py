"""Compiled Hamming top-k (numba): XOR + popcount over 64-bit words, with the query codes in registers.

The codes come transposed, ``(w, n)`` words, so one vector load holds the same word of eight rows. Four queries
share each load (``a0..a3`` below), and the word count ``w`` is a compile-time constant (the length of the
``shape`` tuple), so the loop over words unrolls and LLVM vectorises the loop over rows: with AVX-512 VPOPCNTDQ
that is one ``vpopcntq`` per word of eight rows, with AVX2 its nibble-lookup (``vpshufb``) expansion of the
``llvm.ctpop`` intrinsic. Nothing of length ``n`` is written per query: each block of :data:`CHUNK` rows keeps
only its smallest distance per query, and the block is looked at row by row only when that minimum beats the
query's current threshold (the distance of its ``k``-th best so far), which after the first few blocks is rare.
The candidates are kept in a small buffer and cut back to the best ``k`` when it fills (a counting selection:
distances are small integers), so the answer is exact, ties in row order.

Imported lazily by :func:`embedscope.search.hamming.hamming_topk`, so importing embedscope does not import numba.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: Rows whose minimum distance is checked against each query's threshold at once.
CHUNK = 64
#: Query rows a parallel task takes (a multiple of 4: four share each load of the codes).
TILE = 16
#: Rows of codes a task scans before moving to its next four queries (``ROWS x w x 8`` bytes stay in L2).
ROWS = 2048


def _popcount64(typingctx: Any, x: Any) -> Any:
    """``llvm.ctpop.i64``: one ``popcnt`` (or a vector ``vpopcntq``) instruction where the CPU has it."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return sig, codegen


popcount64: Any = intrinsic(_popcount64)


@numba.njit(cache=True, nogil=True)
def _cut_to_k(cd: Any, ci: Any, c: int, k: int, hist: Any) -> Any:
    """Keep the ``k`` best of the ``c`` candidates ``(cd, ci)`` (distance, row; rows ascending) in place.

    Returns the number kept and the new threshold: a later row (higher row number) enters only if its
    distance is strictly below it. With fewer than ``k`` candidates all are kept and the threshold is open.
    """
    top = hist.shape[0] - 1
    for dd in range(top + 1):
        hist[dd] = 0
    for j in range(c):
        hist[cd[j]] += 1
    below = 0
    cut = top
    for dd in range(top):
        if below + hist[dd] >= k:
            cut = dd
            break
        below += hist[dd]
    if cut == top:  # fewer than k: nothing to drop
        return c, top
    room = k - below
    o = 0
    for j in range(c):
        d = cd[j]
        if d < cut or (d == cut and room > 0):
            if d == cut:
                room -= 1
            cd[o] = d
            ci[o] = ci[j]
            o += 1
    return o, cut


@numba.njit(cache=True, nogil=True, inline="always")
def _take(codes_t: Any, qv: Any, a: int, c0: int, c1: int, cd: Any, ci: Any, c: int, th: int, cap: int, k: int,
          hist: Any, shape: Any) -> Any:
    """Rows ``c0..c1`` of query ``a`` of ``qv`` that beat the threshold ``th``, added to its candidates."""
    for j in range(c0, c1):
        acc = np.uint64(0)
        for t in range(len(shape)):
            acc += popcount64(codes_t[t, j] ^ qv[a, t])
        d = np.int64(acc)
        if d < th:
            if c == cap:
                c, th = _cut_to_k(cd, ci, c, k, hist)
                if d >= th:
                    continue
            cd[c] = d
            ci[c] = j
            c += 1
    return c, th


@numba.njit(parallel=True, cache=True, nogil=True)
def hamming_topk_kernel(codes_t: Any, queries: Any, k: int, shape: Any) -> Any:  # pragma: no cover - compiled
    """Rows ``(m, k)`` of the ``k`` nearest codes per query by Hamming distance, nearest first (ties in row order).

    ``codes_t`` is uint64 ``(w, n)`` (the codes transposed), ``queries`` uint64 ``(m, w)``, ``0 <= k <= n``,
    ``shape`` any tuple of length ``w`` (it makes ``w`` a constant of the compiled code).
    """
    w = len(shape)
    n = codes_t.shape[1]
    m = queries.shape[0]
    maxd = 64 * w
    out = np.empty((m, k), np.int64)
    cap = 2 * k + 256
    for ti in numba.prange((m + TILE - 1) // TILE):
        q0 = ti * TILE
        nq = min(m, q0 + TILE) - q0
        cd = np.empty((nq, cap), np.int64)
        ci = np.empty((nq, cap), np.int64)
        cnt = np.zeros(nq, np.int64)
        thr = np.full(nq, maxd + 1, np.int64)
        hist = np.zeros(maxd + 2, np.int64)
        qv = np.empty((4, w), np.uint64)
        mins = np.empty(4, np.int64)
        for lo in range(0, n, ROWS):
            hi = min(n, lo + ROWS)
            for g in range(0, nq, 4):
                for a in range(4):  # a short last group repeats its last query (its results are not kept)
                    for t in range(w):
                        qv[a, t] = queries[q0 + min(g + a, nq - 1), t]
                for c0 in range(lo, hi, CHUNK):
                    c1 = min(hi, c0 + CHUNK)
                    m0: Any = maxd + 1
                    m1: Any = m0
                    m2: Any = m0
                    m3: Any = m0
                    for j in range(c0, c1):
                        a0 = a1 = a2 = a3 = np.uint64(0)
                        for t in range(w):
                            c = codes_t[t, j]
                            a0 += popcount64(c ^ qv[0, t])
                            a1 += popcount64(c ^ qv[1, t])
                            a2 += popcount64(c ^ qv[2, t])
                            a3 += popcount64(c ^ qv[3, t])
                        m0 = min(m0, np.int64(a0))
                        m1 = min(m1, np.int64(a1))
                        m2 = min(m2, np.int64(a2))
                        m3 = min(m3, np.int64(a3))
                    mins[0] = m0
                    mins[1] = m1
                    mins[2] = m2
                    mins[3] = m3
                    for a in range(min(4, nq - g)):
                        qa = g + a
                        if mins[a] < thr[qa]:
                            cnt[qa], thr[qa] = _take(codes_t, qv, a, c0, c1, cd[qa], ci[qa], cnt[qa], thr[qa], cap,
                                                     k, hist, shape)
        for qq in range(nq):  # the best k, ordered by distance (counting sort, stable: ties in row order)
            c, _ = _cut_to_k(cd[qq], ci[qq], cnt[qq], k, hist)
            for dd in range(maxd + 2):
                hist[dd] = 0
            for j in range(c):
                hist[cd[qq, j] + 1] += 1
            for dd in range(1, maxd + 2):
                hist[dd] += hist[dd - 1]
            for j in range(c):
                d = cd[qq, j]
                out[q0 + qq, hist[d]] = ci[qq, j]
                hist[d] += 1
    return out
