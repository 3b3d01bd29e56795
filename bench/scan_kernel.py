"""The int8 query scan's kernel: time per query by batch size, and accuracy against exact float32 cosine.

    python bench/scan_kernel.py [--workspace WS] [--space minilm] [--threads 1] [--repeat 3]

Times, per query, one pass of ``b`` queries over every row's int8 codes (``b`` = 1, 2, 4, 8, 16): today's kernel
(:mod:`embedscope.search.kernels.int8`, int8 x int8 with AVX2 where the CPU has it, keeping each query's min and max
score too) against the float32 kernel of
session 5 (each 128-row block of codes converted to float32 once, four queries a pass; copied here as it was).
With ``--workspace`` the rows are the space's own vectors and the accuracy of both against exact float32 cosine
is printed (queries: 20 items plus noise); without it, 1,000,000 random codes (speed only).
``--threads`` sets numba's threads (1: the cost on one core).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numba
import numpy as np

from embedscope.search import scan
from embedscope.search.kernels.int8 import kernel, quantise, scan_portable


@numba.njit(parallel=True, fastmath=True, nogil=True)
def float_blocks(codes: Any, scale: Any, qs: Any, out: Any) -> None:  # pragma: no cover - compiled
    """Session 5's kernel (``scan._kernel_many`` before the int8 x int8 one)."""
    n, d = codes.shape
    b = qs.shape[0]
    rows = 128
    for blk in numba.prange((n + rows - 1) // rows):
        lo = blk * rows
        hi = min(n, lo + rows)
        buf = np.empty((hi - lo, d), np.float32)
        for r in range(hi - lo):
            for t in range(d):
                buf[r, t] = np.float32(codes[lo + r, t])
        j = 0
        while j + 4 <= b:
            for r in range(hi - lo):
                a0 = np.float32(0.0)
                a1 = np.float32(0.0)
                a2 = np.float32(0.0)
                a3 = np.float32(0.0)
                for t in range(d):
                    v = buf[r, t]
                    a0 += v * qs[j, t]
                    a1 += v * qs[j + 1, t]
                    a2 += v * qs[j + 2, t]
                    a3 += v * qs[j + 3, t]
                sc = scale[lo + r]
                out[j, lo + r] = a0 * sc
                out[j + 1, lo + r] = a1 * sc
                out[j + 2, lo + r] = a2 * sc
                out[j + 3, lo + r] = a3 * sc
            j += 4
        while j < b:
            for r in range(hi - lo):
                acc = np.float32(0.0)
                for t in range(d):
                    acc += buf[r, t] * qs[j, t]
                out[j, lo + r] = acc * scale[lo + r]
            j += 1


def _best_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace")
    ap.add_argument("--space", default="minilm")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = None
    if args.workspace:
        import embedscope

        _, x = embedscope.open(args.workspace).vectors(args.space)
        codes, scale = scan.int8_codes(x)
    else:
        codes = rng.integers(-127, 128, (1_000_000, 384), dtype=np.int8)
        scale = rng.uniform(0.004, 0.006, 1_000_000).astype(np.float32)
    n, d = codes.shape
    fast = kernel()
    print(f"{n:,} x {d} codes, numba threads {numba.get_num_threads()}, kernel {fast.__name__}", flush=True)
    for b in (1, 2, 4, 8, 16):
        src = x[rng.choice(n, b)] if x is not None else rng.standard_normal((b, d))
        qs = np.asarray(src, dtype=np.float32) + 0.05 * rng.standard_normal((b, d)).astype(np.float32)
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)
        qcodes, qscale = quantise(qs)
        out_f, out_i = np.empty((b, n), np.float32), np.empty((b, n), np.float32)
        float_blocks(codes[:64], scale[:64], qs, out_f[:, :64])  # compile
        span = np.empty((b, 2), np.float32)
        fast(codes[:64], scale[:64], qcodes, qscale, out_i[:, :64], span)
        ms_f = _best_ms(lambda: float_blocks(codes, scale, qs, out_f), args.repeat) / b  # noqa: B023
        ms_i = _best_ms(lambda: fast(codes, scale, qcodes, qscale, out_i, span), args.repeat) / b  # noqa: B023
        line = f"b={b:2d}: float32 blocks {ms_f:6.1f} ms a query, int8 x int8 {ms_i:6.1f} ms a query ({ms_f / ms_i:.2f}x)"
        if x is not None:
            sample = rng.choice(n, 100_000, replace=False)
            exact = (np.asarray(x[sample], np.float32) / np.linalg.norm(x[sample], axis=1, keepdims=True)) @ qs.T
            err_f = np.abs(out_f[:, sample] - exact.T)
            err_i = np.abs(out_i[:, sample] - exact.T)
            line += (f"; |error| vs exact float32 cosine (100k rows): float32 blocks mean {err_f.mean():.1e} "
                     f"max {err_f.max():.1e}, int8 x int8 mean {err_i.mean():.1e} max {err_i.max():.1e}")
        print(line, flush=True)
    check = np.empty((2, min(n, 5000)), np.float32)
    qcodes, qscale = quantise(rng.standard_normal((2, d)).astype(np.float32) / np.sqrt(d))
    scan_portable(codes[:5000], scale[:5000], qcodes, qscale, check, np.empty((2, 2), np.float32))
    fast(codes[:5000], scale[:5000], qcodes, qscale, out := np.empty_like(check), np.empty((2, 2), np.float32))
    print(f"portable kernel bit-identical to {fast.__name__}: {bool(np.array_equal(check, out))}")


if __name__ == "__main__":
    main()
