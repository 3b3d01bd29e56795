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

This is the one query-against-every-item path of embedscope: :meth:`QueryScan.scores` (cosine as above; dot,
euclidean and manhattan exactly in float32 row blocks) and :meth:`QueryScan.top` (the ranked hits, ties by row,
with exact scores; items left out or kept by a mask) answer the CLI and Python API (``Scope.neighbors``,
``Scope.arithmetic``, the similarity analyses) and the server (search, filtered neighbours) alike;
:func:`rescore` is the exact rescoring of candidates that the int8 scan and the ``binary+rescore`` codec share.
Many queries at once (kNN graphs, evaluation ground truth, qrels) go through :func:`embedscope.search.exact.search`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .exact import check_metric, higher_is_closer

#: Spaces with more items than this are scanned with int8 codes; smaller ones exactly in float32.
INT8_ABOVE = 200_000
#: Rows quantised per block when building the codes (bounds the float32 temporaries).
BLOCK = 65_536
#: Rows per block of an exact dot, euclidean or manhattan scan (bounds the ``(block, d)`` temporaries).
EXACT_BLOCK = 65_536


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
    """One query against every row of ``vectors``: its scores and its ranked hits, under any metric.

    Cosine runs on int8 codes above :data:`INT8_ABOVE` rows (exact float32 below); dot, euclidean and manhattan
    always run exactly in float32. The ranked hits (:meth:`top`) carry exact scores either way.

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
        self._norms: np.ndarray | None = None
        if self.int8:
            self.codes, self.scale = int8_codes(vectors)
            self.scores_many(np.ones((1, vectors.shape[1]), np.float32))  # compile (or load) now, not at a query

    @property
    def norms(self) -> np.ndarray:
        """float32, shape ``(n,)``: each row's L2 norm (1 for a zero row), computed on first use (cosine only)."""
        if self._norms is None:
            self._norms = _row_norms(self.vectors)
        return self._norms

    @property
    def precision(self) -> str:
        """``int8`` or ``float32``: how :meth:`scores` computes cosine similarities."""
        return "int8" if self.int8 else "float32"

    def scores(self, query: np.ndarray, metric: str = "cosine") -> np.ndarray:
        """float32, shape ``(n,)``: the score of ``query`` (shape ``(d,)``) against every row.

        Cosine similarity (int8 scan: to ~1e-3), dot product, euclidean or manhattan distance (exact float32,
        in row blocks).
        """
        check_metric(metric)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        x = self.vectors
        if x.ndim != 2 or q.shape[0] != x.shape[1]:
            raise ValueError(f"the query has {q.shape[0]} dimensions, the vectors have shape {x.shape}")
        if metric == "cosine":
            if self.int8:
                return self.scores_many(q[None, :])[0]
            qn = q / max(float(np.linalg.norm(q)), 1e-30)
            return np.asarray(np.asarray(x @ qn, dtype=np.float32) / self.norms, dtype=np.float32)
        out = np.empty(len(x), np.float32)
        for lo in range(0, len(x), EXACT_BLOCK):
            b = np.asarray(x[lo:lo + EXACT_BLOCK], dtype=np.float32)
            if metric == "dot":
                out[lo:lo + len(b)] = b @ q
            elif metric == "euclidean":
                diff = b - q
                out[lo:lo + len(b)] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            else:
                out[lo:lo + len(b)] = np.abs(b - q).sum(1)
        return out

    def scores_many(self, queries: np.ndarray) -> np.ndarray:
        """float32, shape ``(b, n)``: cosine :meth:`scores` of each of ``queries`` (shape ``(b, d)``), in one pass.

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

    def top(self, query: np.ndarray, k: int, scores: np.ndarray | None = None, *, metric: str = "cosine",
            exclude: Sequence[int] = (), keep: np.ndarray | None = None, least: bool = False, extra: int = 256
            ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows closest to ``query`` (or farthest, with ``least``), in order, with exact scores.

        Ties are broken by row. Cosine hits of the int8 scan, and euclidean and manhattan hits, are the best
        ``k + extra`` candidates by :meth:`scores` rescored exactly (:func:`rescore`: float32 cosine, float64
        distances, as :func:`embedscope.search.exact.search` gives them); float32 cosine and dot scores are exact
        as they are.

        Parameters
        ----------
        query
            Shape ``(d,)``.
        k
            How many (capped at the rows that may be returned).
        metric
            ``cosine``, ``dot`` (higher is closer), ``euclidean`` or ``manhattan`` (lower is closer).
        scores
            The result of :meth:`scores` for this query and metric, if already computed.
        exclude
            Rows never returned (the queried item, the words of an analogy).
        keep
            bool, shape ``(n,)``: only these rows may be returned (``None``: all).
        least
            The least similar rows, farthest first.
        extra
            Candidates beyond ``k`` rescored exactly (when the hits are rescored).

        Returns
        -------
        rows : numpy.ndarray
            int64, shape ``(k',)``, ``k' = min(k, rows allowed)``.
        scores : numpy.ndarray
            float32, shape ``(k',)``: exact similarity (cosine, dot) or distance (euclidean, manhattan).
        """
        check_metric(metric)
        s = self.scores(query, metric) if scores is None else scores
        n = s.shape[0]
        high_first = higher_is_closer(metric) != least  # the wanted end holds the largest scores
        v = s if high_first else -s  # largest first
        allowed = None
        if keep is not None or len(exclude):
            allowed = np.ones(n, bool) if keep is None else np.array(keep, dtype=bool, copy=True)
            if len(exclude):
                allowed[np.asarray(list(exclude), dtype=np.int64)] = False
            v = np.where(allowed, v, -np.inf).astype(np.float32)
        k = min(int(k), n if allowed is None else int(allowed.sum()))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        again = (metric == "cosine" and self.int8) or metric in ("euclidean", "manhattan")
        cand = _top_candidates(v, min(n, k + extra) if again else k)
        if allowed is not None:
            cand = cand[allowed[cand]]
        if again:
            return rescore(self.vectors, query, cand, k, metric, least=least,
                           norms=self.norms if metric == "cosine" else None)
        exact = np.asarray(s[cand], dtype=np.float32)
        key = -exact.astype(np.float64) if high_first else exact.astype(np.float64)
        order = np.lexsort((cand, key))[:k]
        return cand[order].astype(np.int64), exact[order]


def rescore(vectors: np.ndarray, query: np.ndarray, cand: np.ndarray, k: int, metric: str = "cosine", *,
            least: bool = False, norms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of a query scored exactly and the best ``k`` kept, in order (ties by row).

    Cosine and dot in float32 (as :func:`embedscope.search.exact.search`), euclidean and manhattan distances in
    float64 (returned as float32). The int8 scan of :class:`QueryScan` and the ``binary+rescore`` codec of
    :mod:`embedscope.analyses.compress` rescore their candidates here.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``: the full-precision rows.
    query
        Shape ``(d,)``, or ``(m, d)`` for ``m`` queries at once.
    cand
        Candidate rows, shape ``(c,)`` (or ``(m, c)``: row ``j`` for query ``j``), any order, no repeats.
    k
        How many to keep (capped at ``c``).
    metric
        ``cosine``, ``dot``, ``euclidean`` or ``manhattan``.
    least
        Keep the farthest instead of the closest, farthest first.
    norms
        float32, shape ``(n,)``: the rows' norms, if known (cosine; else computed for the candidates).

    Returns
    -------
    rows : numpy.ndarray
        int64, shape ``(k,)`` (or ``(m, k)``), closest first (farthest first with ``least``).
    scores : numpy.ndarray
        float32, same shape: exact similarity (cosine, dot) or distance (euclidean, manhattan).
    """
    check_metric(metric)
    one = np.ndim(query) == 1
    q = np.asarray(query, dtype=np.float32).reshape(1, -1) if one else np.asarray(query, dtype=np.float32)
    c = np.asarray(cand, dtype=np.int64).reshape(1, -1) if one else np.asarray(cand, dtype=np.int64)
    if one:  # rows in storage order: the gather reads memory forwards
        c = np.sort(c, axis=1)
    g = np.asarray(vectors[c.reshape(-1)], dtype=np.float32).reshape(c.shape[0], c.shape[1], -1)
    if metric in ("cosine", "dot"):
        qq = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30) if metric == "cosine" else q
        exact = np.einsum("mcd,md->mc", g, qq) if not one else (g[0] @ qq[0])[None, :]
        if metric == "cosine":
            if norms is not None:
                div = np.asarray(norms, dtype=np.float32)[c]
            else:
                div = np.linalg.norm(g, axis=2)
                div[div == 0] = 1.0
            exact = exact / div
        exact = np.asarray(exact, dtype=np.float32)
        key = exact.astype(np.float64)
        key = key if least else -key
    else:
        diff = g.astype(np.float64) - q[:, None, :].astype(np.float64)
        dist = np.sqrt(np.einsum("mcd,mcd->mc", diff, diff)) if metric == "euclidean" else np.abs(diff).sum(2)
        key = -dist if least else dist
        exact = dist.astype(np.float32)
    kk = min(int(k), c.shape[1])
    order = np.lexsort((c, key), axis=1)[:, :kk]
    rows, out = np.take_along_axis(c, order, axis=1), np.take_along_axis(exact, order, axis=1)
    return (rows[0], out[0]) if one else (rows, out)


def scan_for_scope(previous: QueryScan | None, vectors: np.ndarray, metric: str = "cosine") -> QueryScan:
    """The scan a :class:`~embedscope.workspace.Scope` answers its next query of a space with.

    The first query of a space scans it exactly in float32 (``int8=False``): a one-off query (one CLI call)
    would pay more for building the int8 codes (a pass over every vector, and loading the compiled kernel)
    than for one float32 scan (~137 ms at 1M x 384). From the second cosine query of the same space (the same
    handle, the same vectors) on, a space above :data:`INT8_ABOVE` items gets its int8 codes, built once and
    kept, as the server's scan; the hits are rescored exactly either way.

    Parameters
    ----------
    previous
        The scan that answered the last query of this space (same vectors), or ``None``.
    vectors
        Shape ``(n, d)``.
    metric
        The metric of the next query (only cosine runs on the int8 codes).
    """
    if previous is None or previous.vectors is not vectors:
        return QueryScan(vectors, int8=False)
    if metric == "cosine" and not previous.int8 and vectors.shape[0] > INT8_ABOVE:
        return QueryScan(vectors)
    return previous


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
