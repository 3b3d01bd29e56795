"""Compiled int8 x int8 scan kernels (numba) for :class:`embedscope.search.scan.QueryScan`.

Both the items and the queries are int8 codes (one float32 scale a row / a query); a score is the exact integer
dot product of the codes times the two scales. Two kernels compute the same integers:

- :func:`scan_avx2`: 32 products per instruction with AVX2 (``vpsignb`` moves each code's sign onto the query
  byte, ``vpmaddubsw`` multiplies ``|code|`` (unsigned) by that signed byte and adds pairs into int16 (at most
  2 x 127 x 127, no saturation), ``vpmaddwd`` by ones adds pairs into int32), four queries per row so each row's
  codes are loaded once for four dot products (the last one to three queries: two, then one);
- :func:`scan_portable`: plain loops, any CPU (and the reference the AVX2 kernel is tested against).

The integer sums are exact (at most ``d x 127 x 127``), so both give bit-identical scores. :func:`kernel` picks
the AVX2 one when numba compiles for a host CPU that has it. Imported lazily (importing embedscope does not
import numba).
"""

from __future__ import annotations

import platform
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_V32I8 = ir.VectorType(ir.IntType(8), 32)
_V16I16 = ir.VectorType(ir.IntType(16), 16)
_V8I32 = ir.VectorType(ir.IntType(32), 8)


def _declare(builder: Any, name: str, ret: Any, args: list[Any]) -> Any:
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


def _int8_c2d(ty: Any) -> bool:
    return isinstance(ty, types.Array) and ty.dtype == types.int8 and ty.ndim == 2 and ty.layout == "C"


def _dots(m: int) -> Any:
    """An intrinsic ``(codes, r, qs, j) -> m x int32``: dot products of ``codes[r, :d32]`` with
    ``qs[j + t, :d32]`` for ``t < m``, where ``d32`` is ``d`` rounded down to a multiple of 32 (AVX2 only)."""

    @intrinsic
    def dots(typingctx: Any, codes: Any, r: Any, qs: Any, j: Any) -> Any:  # pragma: no cover - compiled
        if not (_int8_c2d(codes) and _int8_c2d(qs)):
            return None
        sig = types.UniTuple(types.int32, m)(codes, r, qs, j)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            intp = context.get_value_type(types.intp)
            ca = context.make_array(signature.args[0])(context, builder, args[0])
            qa = context.make_array(signature.args[2])(context, builder, args[2])
            row = context.cast(builder, args[1], signature.args[1], types.intp)
            first = context.cast(builder, args[3], signature.args[3], types.intp)
            d = builder.extract_value(ca.shape, 1)
            rowp = builder.gep(ca.data, [builder.mul(row, d)])
            qps = [builder.gep(qa.data, [builder.mul(builder.add(first, ir.Constant(intp, t)), d)]) for t in range(m)]
            absb = _declare(builder, "llvm.abs.v32i8", _V32I8, [_V32I8, ir.IntType(1)])
            signb = _declare(builder, "llvm.x86.avx2.psign.b", _V32I8, [_V32I8, _V32I8])
            maddubs = _declare(builder, "llvm.x86.avx2.pmadd.ub.sw", _V16I16, [_V32I8, _V32I8])
            maddwd = _declare(builder, "llvm.x86.avx2.pmadd.wd", _V8I32, [_V16I16, _V16I16])
            hsum = _declare(builder, "llvm.vector.reduce.add.v8i32", ir.IntType(32), [_V8I32])
            ones = ir.Constant(_V16I16, [1] * 16)
            accs = [cgutils.alloca_once_value(builder, ir.Constant(_V8I32, [0] * 8)) for _ in range(m)]

            def load(ptr: Any, off: Any) -> Any:
                return builder.load(builder.bitcast(builder.gep(ptr, [off]), _V32I8.as_pointer()), align=1)

            with cgutils.for_range(builder, builder.udiv(d, ir.Constant(intp, 32))) as loop:
                off = builder.mul(loop.index, ir.Constant(intp, 32))
                a = load(rowp, off)
                mag = builder.call(absb, [a, ir.Constant(ir.IntType(1), 0)])
                for t in range(m):
                    signed = builder.call(signb, [load(qps[t], off), a])  # q * sign(a), 0 where a == 0
                    pairs = builder.call(maddwd, [builder.call(maddubs, [mag, signed]), ones])
                    builder.store(builder.add(builder.load(accs[t]), pairs), accs[t])
            sums = [builder.call(hsum, [builder.load(acc)]) for acc in accs]
            return context.make_tuple(builder, signature.return_type, sums)

        return sig, codegen

    return dots


_dots4 = _dots(4)
_dots2 = _dots(2)
_dots1 = _dots(1)


#: The rows are scanned in this many chunks at most (a few per thread; each keeps its own min and max a query).
CHUNKS = 64


@numba.njit(nogil=True, cache=True, inline="always")
def _put(out: Any, lows: Any, highs: Any, c: int, i: int, j: int, v: Any) -> None:  # pragma: no cover - compiled
    """Score ``v`` of row ``i`` for query ``j``, kept in the chunk ``c``'s minimum and maximum too."""
    out[j, i] = v
    if v < lows[c, j]:
        lows[c, j] = v
    if v > highs[c, j]:
        highs[c, j] = v


@numba.njit(nogil=True, cache=True)
def _spans(lows: Any, highs: Any, span: Any) -> None:  # pragma: no cover - compiled
    """``span[j] = (min, max)`` over the chunks' minima and maxima ``(chunks, b)``."""
    for j in range(span.shape[0]):
        lo, hi = np.inf, -np.inf
        for c in range(lows.shape[0]):
            lo = min(lo, lows[c, j])
            hi = max(hi, highs[c, j])
        span[j, 0] = lo
        span[j, 1] = hi


@numba.njit(parallel=True, nogil=True, cache=True)
def scan_avx2(codes: Any, scale: Any, qcodes: Any, qscale: Any, out: Any, span: Any) -> None:  # pragma: no cover
    """``out[j, i] = (codes[i] . qcodes[j]) * qscale[j] * scale[i]`` with AVX2, and each query's smallest and
    largest score.

    ``codes`` int8 ``(n, d)`` and ``qcodes`` int8 ``(b, d)``, C-contiguous, codes in ``[-127, 127]``;
    ``scale`` float32 ``(n,)``, ``qscale`` float32 ``(b,)``; ``out`` float32 ``(b, n)``; ``span`` float32
    ``(b, 2)``: ``min(out[j]), max(out[j])`` (``inf, -inf`` when ``n == 0``).
    """
    n, d = codes.shape
    b = qcodes.shape[0]
    d32 = (d // 32) * 32
    chunks = max(1, min(CHUNKS, n))
    step = (n + chunks - 1) // chunks
    lows = np.full((chunks, b), np.inf, np.float32)
    highs = np.full((chunks, b), -np.inf, np.float32)
    for c in numba.prange(chunks):
        for i in range(c * step, min(n, (c + 1) * step)):
            sc = scale[i]
            j = 0
            while j + 4 <= b:
                a0, a1, a2, a3 = _dots4(codes, i, qcodes, j)
                for t in range(d32, d):
                    x = np.int32(codes[i, t])
                    a0 += x * np.int32(qcodes[j, t])
                    a1 += x * np.int32(qcodes[j + 1, t])
                    a2 += x * np.int32(qcodes[j + 2, t])
                    a3 += x * np.int32(qcodes[j + 3, t])
                _put(out, lows, highs, c, i, j, np.float32(a0) * (qscale[j] * sc))
                _put(out, lows, highs, c, i, j + 1, np.float32(a1) * (qscale[j + 1] * sc))
                _put(out, lows, highs, c, i, j + 2, np.float32(a2) * (qscale[j + 2] * sc))
                _put(out, lows, highs, c, i, j + 3, np.float32(a3) * (qscale[j + 3] * sc))
                j += 4
            if j + 2 <= b:
                a0, a1 = _dots2(codes, i, qcodes, j)
                for t in range(d32, d):
                    x = np.int32(codes[i, t])
                    a0 += x * np.int32(qcodes[j, t])
                    a1 += x * np.int32(qcodes[j + 1, t])
                _put(out, lows, highs, c, i, j, np.float32(a0) * (qscale[j] * sc))
                _put(out, lows, highs, c, i, j + 1, np.float32(a1) * (qscale[j + 1] * sc))
                j += 2
            if j < b:
                (a0,) = _dots1(codes, i, qcodes, j)
                for t in range(d32, d):
                    a0 += np.int32(codes[i, t]) * np.int32(qcodes[j, t])
                _put(out, lows, highs, c, i, j, np.float32(a0) * (qscale[j] * sc))
    _spans(lows, highs, span)


@numba.njit(parallel=True, nogil=True, cache=True)
def scan_portable(codes: Any, scale: Any, qcodes: Any, qscale: Any, out: Any, span: Any) -> None:  # pragma: no cover
    """:func:`scan_avx2` on any CPU (the same integer sums, so the same float32 scores)."""
    n, d = codes.shape
    b = qcodes.shape[0]
    chunks = max(1, min(CHUNKS, n))
    step = (n + chunks - 1) // chunks
    lows = np.full((chunks, b), np.inf, np.float32)
    highs = np.full((chunks, b), -np.inf, np.float32)
    for c in numba.prange(chunks):
        for i in range(c * step, min(n, (c + 1) * step)):
            sc = scale[i]
            for j in range(b):
                acc = np.int32(0)
                for t in range(d):
                    acc += np.int32(codes[i, t]) * np.int32(qcodes[j, t])
                _put(out, lows, highs, c, i, j, np.float32(acc) * (qscale[j] * sc))
    _spans(lows, highs, span)


def has_avx2() -> bool:
    """Whether numba compiles for an x86-64 host CPU with AVX2 (not for a fixed ``NUMBA_CPU_NAME``)."""
    if platform.machine().lower() not in ("x86_64", "amd64") or getattr(numba.config, "CPU_NAME", None):
        return False
    from llvmlite import binding

    return bool(binding.get_host_cpu_features().get("avx2", False))


def kernel() -> Any:
    """The fastest scan kernel this CPU runs: :func:`scan_avx2` or :func:`scan_portable`."""
    return scan_avx2 if has_avx2() else scan_portable


def quantise(queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit query rows as int8 codes (each row's largest magnitude maps to 127) and float32 scales.

    Parameters
    ----------
    queries
        float32, shape ``(b, d)``, rows of norm 1 (or 0).

    Returns
    -------
    codes : numpy.ndarray
        int8, shape ``(b, d)``, C-contiguous.
    scale : numpy.ndarray
        float32, shape ``(b,)``: ``queries[j] ~= scale[j] * codes[j]``.
    """
    q = np.asarray(queries, dtype=np.float32)
    peak = np.abs(q).max(axis=1) if q.shape[1] else np.zeros(q.shape[0], np.float32)
    peak[peak == 0] = 1.0
    codes = np.ascontiguousarray(np.rint(q * (127.0 / peak)[:, None]).astype(np.int8))
    return codes, (peak / 127.0).astype(np.float32)
