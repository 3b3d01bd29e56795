"""A query's cosine similarity to every item, fast enough for a million items: a reduced-precision scan with
exact rescoring of the ranked hits.

One float32 scan of 1M x 384 reads 1.5 GB (about 137 ms on this machine at best). :class:`QueryScan` keeps
the unit vectors as int8 codes with one float32 scale per row (``x / |x| ~= scale * codes``, 385 bytes a row
instead of 1,536); a query is quantised the same way, and a multi-threaded numba kernel takes the exact integer
dot products of the codes (32 byte products an instruction with AVX2, :mod:`embedscope.search.kernels.int8`). The per-item
similarities it returns (for colouring a map or a histogram) are accurate to about 1e-3. The ranked hits are not taken from those
scores as they are: the best ``k + extra`` candidates by the int8 scores are rescored exactly in float32 from
the original vectors and sorted, so the top ``k`` carry exact cosine similarities (a true hit is missed only
if more than ``extra`` items overtake it by the int8 error).

Small spaces (up to :data:`INT8_ABOVE` items) are scanned exactly in float32, where the scan costs little.
"""

from __future__ import annotations

import numpy as np

#: Spaces with more items than this are scanned with int8 codes; smaller ones exactly in float32.
INT8_ABOVE = 200_000
#: Rows quantised per block when building the codes (bounds the float32 temporaries).
BLOCK = 65_536


def _scan_kernel():  # type: ignore[no-untyped-def]
    """The int8 x int8 scan kernel for this CPU (:mod:`embedscope.search.kernels.int8`), imported on first use."""
    from .kernels.int8 import kernel

    return kernel()


def _scan(codes: np.ndarray, scale: np.ndarray, qcodes: np.ndarray, qscale: np.ndarray, out: np.ndarray,
          spans: np.ndarray, threads: int | None) -> None:
    """The int8 scan kernel on ``threads`` threads (numba's thread count is per calling thread)."""
    import numba

    before = numba.get_num_threads()
    limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    want = before if threads is None else max(1, min(int(threads), limit))
    if want != before:
        numba.set_num_threads(want)
    try:
        _scan_kernel()(codes, scale, qcodes, qscale, out, spans)
    finally:
        if want != before:
            numba.set_num_threads(before)


_SUMMARY = None


def _kernel_summary():  # type: ignore[no-untyped-def]
    """The numba kernels of :func:`score_histogram`: masked min/max, then the counts.

    One thread each (``nogil``, so concurrent requests run side by side): on a loaded 2-core machine a parallel
    version of the same loops took 60 ms instead of 1 ms, waiting for descheduled workers.
    """
    global _SUMMARY
    if _SUMMARY is None:
        from numba import njit

        @njit(nogil=True, cache=True)
        def span(s, keep, use_keep):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
            lo, hi, c = np.inf, -np.inf, 0
            for i in range(s.shape[0]):
                if use_keep and not keep[i]:
                    continue
                v = np.float64(s[i])
                if v < lo:
                    lo = v
                if v > hi:
                    hi = v
                c += 1
            return lo, hi, c

        @njit(nogil=True, cache=True)
        def counts(s, keep, use_keep, edges):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
            bins = edges.shape[0] - 1
            lo, hi = edges[0], edges[bins]
            norm = bins / (hi - lo)
            out = np.zeros(bins, np.int64)
            for i in range(s.shape[0]):
                if use_keep and not keep[i]:
                    continue
                v = np.float64(s[i])
                if v < lo or v > hi:
                    continue
                b = min(int((v - lo) * norm), bins - 1)
                if v < edges[b]:  # numpy's own correction of the float rounding at the edges
                    b -= 1
                elif b + 1 < bins and v >= edges[b + 1]:
                    b += 1
                out[b] += 1
            return out

        _SUMMARY = (span, counts)
    return _SUMMARY


def score_histogram(scores: np.ndarray, bins: int, keep: np.ndarray | None = None, *,
                    span: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Histogram of ``scores`` between their min and max, as ``np.histogram(scores[keep], bins, (min, max))``.

    Two passes of a compiled kernel (one when ``span`` is given), no copy of the kept scores: ~6 ms over a million scores where
    ``np.histogram`` (with the copy, min and max) took ~18 ms on a loaded machine, once per search request.

    Parameters
    ----------
    scores
        float32, shape ``(n,)``, finite.
    bins
        Number of bins (>= 1).
    keep
        bool, shape ``(n,)``: only these items are counted (``None``: all).
    span
        ``scores.min(), scores.max()`` when already known (as :meth:`QueryScan.scores_spans` gives them):
        one pass instead of two. Only without ``keep``.

    Returns
    -------
    counts : numpy.ndarray
        int64, shape ``(bins,)``.
    edges : numpy.ndarray
        float32, shape ``(bins + 1,)``: from the smallest to the largest kept score (a range of 1e-6 when they
        are equal; ``[0, 1]`` when nothing is kept).
    total : int
        Items counted.
    """
    s = np.ascontiguousarray(scores, dtype=np.float32)
    use_keep = keep is not None
    k = np.ascontiguousarray(keep, dtype=np.bool_) if keep is not None else np.ones(1, np.bool_)
    find_span, counts = _kernel_summary()
    if span is not None and keep is None:
        lo, hi, total = float(span[0]), float(span[1]), s.shape[0]
    else:
        lo, hi, total = find_span(s, k, use_keep)
    if total == 0:
        lo, hi = 0.0, 1.0
    # np.histogram's edges for range=(lo, hi) of float32 scores: float32 (compared exactly in float64)
    edges = np.linspace(float(lo), float(hi) if hi > lo else float(lo) + 1e-6, bins + 1, dtype=np.float32)
    return counts(s, k, use_keep, edges.astype(np.float64)), edges, int(total)


def int8_codes(vectors: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Unit-normalised rows as int8 codes and float32 scales: ``x[i] / |x[i]| ~= scale[i] * codes[i]``.

    Returns
    -------
    codes : numpy.ndarray
        int8, shape ``(n, d)``; each row's largest magnitude maps to 127.
    scale : numpy.ndarray
        float32, shape ``(n,)``.
    """
    x = np.asarray(vectors)
    n, d = x.shape
    codes = np.empty((n, d), np.int8)
    scale = np.empty(n, np.float32)
    for lo in range(0, n, block):
        b = np.asarray(x[lo:lo + block], dtype=np.float32)
        norm = np.linalg.norm(b, axis=1)
        peak = np.abs(b).max(axis=1)
        peak[peak == 0] = 1.0
        codes[lo:lo + block] = np.rint(b * (127.0 / peak)[:, None]).astype(np.int8)
        norm[norm == 0] = 1.0
        scale[lo:lo + block] = peak / (127.0 * norm)
    return codes, scale


class QueryScan:
    """Cosine similarity of a query to every row of ``vectors``; int8 codes above :data:`INT8_ABOVE` rows.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``, kept by reference (used to rescore hits exactly); not copied.
    int8
        Force the int8 scan on (``True``) or off (``False``); default by size.
    """

    def __init__(self, vectors: np.ndarray, *, int8: bool | None = None) -> None:
        self.vectors = vectors
        n = vectors.shape[0]
        self.int8 = n > INT8_ABOVE if int8 is None else int8
        self.norms = _row_norms(vectors)
        if self.int8:
            self.codes, self.scale = int8_codes(vectors)
            self.scores_many(np.ones((1, vectors.shape[1]), np.float32))  # compile (or load) now, not at a query

    @property
    def precision(self) -> str:
        """``int8`` or ``float32``: how :meth:`scores` computes."""
        return "int8" if self.int8 else "float32"

    def scores(self, query: np.ndarray) -> np.ndarray:
        """float32, shape ``(n,)``: cosine similarity of ``query`` (shape ``(d,)``) to every row (int8: ~1e-3)."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.int8:
            return self.scores_many(q[None, :])[0]
        qn = q / max(float(np.linalg.norm(q)), 1e-30)
        return np.asarray(self.vectors @ qn, dtype=np.float32) / self.norms

    def scores_many(self, queries: np.ndarray) -> np.ndarray:
        """float32, shape ``(b, n)``: :meth:`scores` of each of ``queries`` (shape ``(b, d)``), in one pass.

        Several concurrent queries cost little more than one: the rows are read once (int8: each row's codes
        are scored against all ``b`` queries while in cache; float32: one matrix product).
        """
        return self.scores_spans(queries)[0]

    def scores_spans(self, queries: np.ndarray, *, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores_many` and each query's smallest and largest score (the int8 kernel keeps them as it
        scores, so a histogram of the scores needs one pass instead of two, see :func:`score_histogram`).

        Parameters
        ----------
        queries
            Shape ``(b, d)``.
        threads
            Threads of the int8 scan (default: numba's); for this call only, other threads' calls unaffected.

        Returns
        -------
        scores : numpy.ndarray
            float32, shape ``(b, n)``.
        spans : numpy.ndarray
            float32, shape ``(b, 2)``: ``scores.min(axis=1)`` and ``scores.max(axis=1)`` (``inf, -inf`` when
            ``n == 0``).
        """
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim != 2:
            raise ValueError(f"queries must have shape (b, d), not {q.shape}")
        qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
        spans = np.empty((q.shape[0], 2), np.float32)
        if self.int8:
            from .kernels.int8 import quantise

            qcodes, qscale = quantise(qn)
            out = np.empty((q.shape[0], self.codes.shape[0]), np.float32)
            _scan(self.codes, self.scale, qcodes, qscale, out, spans, threads)
            return out, spans
        out = np.ascontiguousarray((np.asarray(self.vectors @ qn.T, dtype=np.float32) / self.norms[:, None]).T)
        if out.shape[1]:
            spans[:, 0], spans[:, 1] = out.min(axis=1), out.max(axis=1)
        else:
            spans[:, 0], spans[:, 1] = np.inf, -np.inf
        return out, spans

    def top(self, query: np.ndarray, k: int, scores: np.ndarray | None = None, *, extra: int = 256
            ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows most similar to ``query``, best first (ties by row), with exact cosine similarities.

        Parameters
        ----------
        query
            Shape ``(d,)``.
        k
            How many (capped at ``n``).
        scores
            The result of :meth:`scores` for this query, if already computed.
        extra
            Candidates beyond ``k`` rescored exactly (int8 scan only).

        Returns
        -------
        rows : numpy.ndarray
            int64, shape ``(k,)``.
        sims : numpy.ndarray
            float32, shape ``(k,)``: exact float32 cosine similarity.
        """
        s = self.scores(query) if scores is None else scores
        n = s.shape[0]
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        m = min(n, k + extra) if self.int8 else k
        cand = _top_candidates(s, m)
        if self.int8:
            q = np.asarray(query, dtype=np.float32).reshape(-1)
            qn = q / max(float(np.linalg.norm(q)), 1e-30)
            cand = np.sort(cand)
            exact = (np.asarray(self.vectors[cand], dtype=np.float32) @ qn) / self.norms[cand]
        else:
            exact = s[cand]
        order = np.lexsort((cand, -exact))[:k]
        return cand[order].astype(np.int64), exact[order].astype(np.float32)


def _row_norms(x: np.ndarray, block: int = BLOCK) -> np.ndarray:
    out = np.empty(x.shape[0], np.float32)
    for lo in range(0, x.shape[0], block):
        out[lo:lo + block] = np.linalg.norm(np.asarray(x[lo:lo + block], dtype=np.float32), axis=1)
    out[out == 0] = 1.0
    return out


def _top_candidates(s: np.ndarray, m: int) -> np.ndarray:
    """Indices of the ``m`` largest entries of ``s`` (any order; ties broken by lower index).

    Above a million entries ``argpartition`` over everything costs tens of milliseconds; a threshold from a
    strided sample first keeps the few thousand entries that can be in the top ``m`` (falling back to the full
    partition when the sample's guess keeps too few).
    """
    n = s.shape[0]
    if m >= n:
        return np.arange(n)
    if n > 200_000 and m < n // 100:
        step = max(1, n // 20_000)
        sample = s[::step]
        want = min(len(sample) - 1, max(1, (m * 4) // step + 8))
        thresh = np.partition(sample, len(sample) - 1 - want)[len(sample) - 1 - want]
        keep = np.flatnonzero(s >= thresh)
        if len(keep) >= m:
            part = np.argpartition(-s[keep], m - 1)[:m]
            cand = keep[part]
            kth = s[cand].min()
            return _with_ties(s, cand, keep, kth, m)
    part = np.argpartition(-s, m - 1)[:m]
    return part


def _with_ties(s: np.ndarray, cand: np.ndarray, keep: np.ndarray, kth: float, m: int) -> np.ndarray:
    """``cand`` with ties at the cut resolved toward lower indices (as a full stable sort would)."""
    tied = keep[s[keep] == kth]
    if len(tied) <= 1:
        return cand
    above = cand[s[cand] > kth]
    return np.concatenate([above, np.sort(tied)[: m - len(above)]])
