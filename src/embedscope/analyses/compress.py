"""Compression lab: how small can the vectors get before search gets worse?

Every codec turns float32 vectors ``(n, d)`` into a smaller code, searches the codes for the cosine
neighbours of float32 queries, and can decode the codes back to float32 (to store a compressed copy as a
space the explorer can show). The codecs:

- ``float16``: half precision, ``2 d`` bytes.
- ``int8``: scalar quantisation with a range per dimension learned on the data (``min`` and ``step`` stored;
  values outside the learned range are clipped), ``d`` bytes. Round trip error at most half a step.
- ``binary``: one sign bit per dimension after subtracting the learned per-dimension mean (centring matters
  for anisotropic spaces, where raw signs are nearly constant), ``d / 8`` bytes; searched by Hamming
  distance (XOR + popcount, compiled with numba).
- ``binary+rescore``: the Hamming top ``rescore x k`` candidates re-ranked by exact cosine on the float32
  vectors (read only for the candidates; in memory the index is still ``d / 8`` bytes a vector).
- ``truncate-D``: the first ``D`` dimensions, re-normalised (Matryoshka-style), ``4 D`` bytes.
- ``pca-D``: the top ``D`` principal components (fitted on the data), re-normalised, ``4 D`` bytes.

Vectors are unit-normalised first: the reference is the exact cosine neighbours of float32 vectors.
:func:`evaluate` holds out queries, fits each codec on the rest, and measures recall@k of the exact
neighbours, query time and build time (see :class:`CodecResult`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..search.exact import normalize, search
from ..search.hamming import hamming_topk
from ..search.scan import rescore

#: Queries searched at once (bounds the score block: ``QUERY_BLOCK x n`` values).
QUERY_BLOCK = 256


# --------------------------------------------------------------------------------------------- codecs
class Codec:
    """A compression scheme; subclasses implement fit / encode / decode / scores.

    Attributes
    ----------
    name
        Row name in the compression table, e.g. ``"int8"`` or ``"pca-96"``.
    """

    name: str = ""

    def fit(self, x: np.ndarray) -> Codec:
        """Learn the codec's parameters from unit vectors ``x`` ``(n, d)``; returns ``self``."""
        self.dim = int(x.shape[1])
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Codes of unit vectors ``x`` ``(n, d)``: an array whose ``nbytes / n`` is the size per vector."""
        raise NotImplementedError

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Float32 approximations ``(n, d_out)`` of the encoded vectors (``d_out`` is ``D`` for truncate/PCA)."""
        raise NotImplementedError

    def bytes_per_vector(self) -> float:
        """Stored bytes per vector: everything a search needs per item (shared parameters are not counted)."""
        raise NotImplementedError

    def scan_bytes(self) -> float:
        """Bytes per vector a search scans (the codes; for rescoring codecs fewer than it keeps)."""
        return self.bytes_per_vector()

    def search(self, codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
        """Row numbers ``(m, k)`` of the ``k`` best codes for each unit query ``(m, d)``, best first."""
        q = self._query(queries)
        return search(self.decode(codes), q, k, metric="dot").indices

    def _query(self, queries: np.ndarray) -> np.ndarray:
        return queries

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters (for provenance and export)."""
        return {"codec": self.name}


class Float32(Codec):
    """The uncompressed reference (``4 d`` bytes)."""

    name = "float32"

    def encode(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=np.float32)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(codes, dtype=np.float32)

    def bytes_per_vector(self) -> float:
        return 4.0 * self.dim

    def search(self, codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
        return search(codes, queries, k, metric="dot").indices


class Float16(Codec):
    """Half precision (``2 d`` bytes); searched block by block in float32."""

    name = "float16"

    def encode(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float16)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(codes, dtype=np.float32)

    def bytes_per_vector(self) -> float:
        return 2.0 * self.dim

    def search(self, codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
        return _blocked_top(lambda lo, hi: codes[lo:hi].astype(np.float32), len(codes),
                            queries.astype(np.float32), k)


class Int8(Codec):
    """Scalar quantisation to 256 levels per dimension over the learned ``[min, max]`` range (``d`` bytes).

    Code ``c`` in ``0..255`` decodes to ``min + c * step`` with ``step = (max - min) / 255``; the search scores
    ``q . decode(c) = q . min + (q * step) . c`` without decoding the whole matrix at once.
    """

    name = "int8"

    def fit(self, x: np.ndarray) -> Int8:
        super().fit(x)
        self.lo = x.min(axis=0).astype(np.float32)
        hi = x.max(axis=0).astype(np.float32)
        self.step = np.maximum((hi - self.lo) / 255.0, np.float32(1e-12)).astype(np.float32)
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        c = np.rint((np.asarray(x, np.float32) - self.lo) / self.step)
        return np.clip(c, 0, 255).astype(np.uint8)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return (self.lo + codes.astype(np.float32) * self.step).astype(np.float32)

    def bytes_per_vector(self) -> float:
        return float(self.dim)

    def search(self, codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
        q = queries.astype(np.float32)
        qs = q * self.step
        offset = q @ self.lo
        return _blocked_top(lambda lo, hi: codes[lo:hi].astype(np.float32), len(codes), qs, k, offset=offset)

    def params(self) -> dict[str, Any]:
        return {"codec": self.name, "min": self.lo.tolist(), "step": self.step.tolist()}


class Binary(Codec):
    """Sign bits of the centred vectors, packed (``d / 8`` bytes), searched by Hamming distance.

    Parameters
    ----------
    rescore
        ``0`` for plain Hamming ranking; ``r > 0`` re-ranks the Hamming top ``r * k`` by exact cosine with the
        float32 vectors passed to :meth:`attach_full`.
    """

    def __init__(self, rescore: int = 0) -> None:
        self.rescore = int(rescore)
        self.name = "binary" if not rescore else ("binary+rescore" if rescore == 4 else f"binary+rescore-{rescore}x")
        self._full: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Binary:
        super().fit(x)
        self.mean = x.mean(axis=0).astype(np.float32)
        return self

    def attach_full(self, x: np.ndarray) -> None:
        """The float32 unit vectors ``(n, d)`` used to rescore candidates (same rows as the codes)."""
        self._full = x

    def encode(self, x: np.ndarray) -> np.ndarray:
        bits = np.asarray(x, np.float32) > self.mean
        packed = np.packbits(bits, axis=1)
        pad = (-packed.shape[1]) % 8  # whole 64-bit words for the popcount kernel
        if pad:
            packed = np.concatenate([packed, np.zeros((len(packed), pad), np.uint8)], axis=1)
        return np.ascontiguousarray(packed)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(codes, axis=1)[:, : self.dim].astype(np.float32)
        return ((2.0 * bits - 1.0) / np.sqrt(self.dim)).astype(np.float32)

    def bytes_per_vector(self) -> float:
        # rescoring re-ranks candidates with the float32 vectors, which are kept as well (on disk, say)
        return self.dim / 8.0 + (4.0 * self.dim if self.rescore else 0.0)

    def scan_bytes(self) -> float:
        return self.dim / 8.0

    def search(self, codes: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
        qc = self.encode(queries)
        k = min(k, len(codes))
        if not self.rescore:
            return hamming_topk(codes, qc, k)
        if self._full is None:
            raise ValueError("binary+rescore needs the full vectors: call attach_full(x) first")
        cand = hamming_topk(codes, qc, min(len(codes), self.rescore * k))
        full = self._full
        q = np.asarray(queries, np.float32)
        out = np.empty((len(q), k), np.int64)
        step = max(1, (32 * 2**20) // max(1, 4 * cand.shape[1] * full.shape[1]))
        for lo in range(0, len(q), step):  # dot of unit vectors: cosine, as the ground truth ranks them
            out[lo:lo + step] = rescore(full, q[lo:lo + step], cand[lo:lo + step], k, "dot")[0]
        return out

    def params(self) -> dict[str, Any]:
        return {"codec": self.name, "rescore": self.rescore, "mean": self.mean.tolist()}


class Truncate(Codec):
    """The first ``D`` dimensions, re-normalised (``4 D`` bytes); meaningful for Matryoshka-trained models."""

    def __init__(self, dims: int) -> None:
        self.out_dim = int(dims)
        self.name = f"truncate-{self.out_dim}"

    def fit(self, x: np.ndarray) -> Truncate:
        super().fit(x)
        if not 1 <= self.out_dim <= self.dim:
            raise ValueError(f"truncate-{self.out_dim}: the space has {self.dim} dimensions")
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if self.out_dim == x.shape[1]:  # already unit vectors: exactly the identity
            return np.array(x, copy=True)
        return normalize(np.ascontiguousarray(x[:, : self.out_dim]))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return codes

    def _query(self, queries: np.ndarray) -> np.ndarray:
        return self.encode(queries)

    def bytes_per_vector(self) -> float:
        return 4.0 * self.out_dim

    def params(self) -> dict[str, Any]:
        return {"codec": self.name, "dims": self.out_dim}


class PCA(Codec):
    """Projection on the top ``D`` principal components of the data, re-normalised (``4 D`` bytes)."""

    def __init__(self, dims: int) -> None:
        self.out_dim = int(dims)
        self.name = f"pca-{self.out_dim}"

    def fit(self, x: np.ndarray) -> PCA:
        super().fit(x)
        if not 1 <= self.out_dim <= self.dim:
            raise ValueError(f"pca-{self.out_dim}: the space has {self.dim} dimensions")
        self.mean = x.mean(axis=0).astype(np.float32)
        sample = x if len(x) <= 50_000 else x[np.random.default_rng(0).choice(len(x), 50_000, replace=False)]
        xc = sample.astype(np.float64) - self.mean
        _, s, vt = np.linalg.svd(xc, full_matrices=False)
        self.components = vt[: self.out_dim].astype(np.float32)
        var = s**2
        self.explained = float(var[: self.out_dim].sum() / max(var.sum(), 1e-30))
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float32) - self.mean) @ self.components.T
        return normalize(np.ascontiguousarray(z, dtype=np.float32))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return codes

    def _query(self, queries: np.ndarray) -> np.ndarray:
        return self.encode(queries)

    def bytes_per_vector(self) -> float:
        return 4.0 * self.out_dim

    def params(self) -> dict[str, Any]:
        return {"codec": self.name, "dims": self.out_dim, "explained_variance": self.explained}


def codec_from_name(name: str) -> Codec:
    """Build a codec from its table name: ``float32``, ``float16``, ``int8``, ``binary``, ``binary+rescore``
    (4x), ``binary+rescore-Rx``, ``truncate-D`` or ``pca-D``."""
    simple: dict[str, Callable[[], Codec]] = {"float32": Float32, "float16": Float16, "int8": Int8,
                                              "binary": Binary, "binary+rescore": lambda: Binary(4)}
    if name in simple:
        return simple[name]()
    try:
        if name.startswith("binary+rescore-") and name.endswith("x"):
            return Binary(int(name[len("binary+rescore-"):-1]))
        if name.startswith("truncate-"):
            return Truncate(int(name[len("truncate-"):]))
        if name.startswith("pca-"):
            return PCA(int(name[len("pca-"):]))
    except ValueError:
        pass
    raise ValueError(f"unknown codec {name!r}; use float32, float16, int8, binary, binary+rescore, "
                     "binary+rescore-Rx, truncate-D or pca-D")


def default_codecs(d: int) -> list[str]:
    """The codec names compared by default for a ``d``-dimensional space: every kind, and truncation and PCA
    to a half, a quarter and an eighth of ``d`` (at least 2 dimensions)."""
    dims = sorted({max(2, d // f) for f in (2, 4, 8) if max(2, d // f) < d}, reverse=True)
    return (["float32", "float16", "int8", "binary", "binary+rescore", "binary+rescore-10x"]
            + [f"truncate-{D}" for D in dims] + [f"pca-{D}" for D in dims])


# ------------------------------------------------------------------------------------------ search
def _blocked_top(block: Callable[[int, int], np.ndarray], n: int, queries: np.ndarray, k: int,
                 offset: np.ndarray | None = None) -> np.ndarray:
    """Top-k by dot product of ``queries`` against rows produced block by block; ``(m, k)`` row numbers."""
    k = min(k, n)
    rows = max(1, (64 * 2**20) // max(1, 4 * len(queries)))
    best_s = np.full((len(queries), 0), -np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        s = queries @ block(lo, hi).T
        if offset is not None:
            s += offset[:, None]
        kk = min(k, hi - lo)
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if kk < hi - lo else np.tile(np.arange(hi - lo), (len(s), 1))
        cand_s = np.concatenate([best_s, np.take_along_axis(s, part, axis=1)], axis=1)
        cand_i = np.concatenate([best_i, part + lo], axis=1)
        keep = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s = np.take_along_axis(cand_s, keep, axis=1)
        best_i = np.take_along_axis(cand_i, keep, axis=1)
    return best_i


# -------------------------------------------------------------------------------------- evaluation
@dataclass
class CodecResult:
    """One row of the compression table.

    Attributes
    ----------
    codec
        Codec name.
    bytes_per_vector
        Stored bytes per vector: everything its search needs (``binary+rescore`` keeps the float32 vectors
        besides its codes).
    recall
        ``{"recall@1": ..., "recall@10": ..., "recall@100": ...}``: mean share of each held-out query's exact
        float32 cosine neighbours (among the stored items) that the codec's search returns in its top k
        (k capped at the number of stored items).
    query_ms
        Mean wall time per query of a batch top-10 search of all held-out queries over all stored items
        (milliseconds; recall at larger k comes from a separate, untimed search).
    build_s
        Fit + encode time of the stored items (seconds).
    params
        Small codec parameters (e.g. explained variance of PCA).
    scan_bytes
        Bytes per vector the search scans (the codes; for ``binary+rescore`` ``d / 8``, the float32 vectors
        read only for the candidates).
    """

    codec: str
    bytes_per_vector: float
    recall: dict[str, float]
    query_ms: float
    build_s: float
    params: dict[str, Any] = field(default_factory=dict)
    scan_bytes: float | None = None

    def row(self) -> dict[str, Any]:
        """JSON-ready row, with the recall keys flattened (``recall@10`` etc.)."""
        d = asdict(self)
        rec = d.pop("recall")
        return {"codec": d["codec"], "bytes_per_vector": d["bytes_per_vector"],
                "scan_bytes": d["scan_bytes"] if d["scan_bytes"] is not None else d["bytes_per_vector"], **rec,
                "query_ms": d["query_ms"], "build_s": d["build_s"], **d["params"]}


@dataclass
class Evaluation:
    """A compression table for one space: rows, and how the test was set up."""

    rows: list[CodecResult]
    dim: int
    n_items: int
    n_queries: int
    ks: tuple[int, ...]
    seed: int


def split_queries(n: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of held-out queries and of stored items: ``min(queries, n // 5)`` queries (at least 1)."""
    if n < 3:
        raise ValueError(f"compression needs at least 3 vectors, got {n}")
    m = max(1, min(int(queries), n // 5))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:m]), np.sort(perm[m:])


def evaluate(x: np.ndarray, codecs: Sequence[str] | None = None, *, queries: int = 1000,
             ks: Sequence[int] = (1, 10, 100), seed: int = 0,
             progress: Callable[[str, int, int], None] | None = None) -> Evaluation:
    """Measure each codec on ``x``: recall@k of exact cosine neighbours on held-out queries, bytes, times.

    Parameters
    ----------
    x
        Vectors ``(n, d)``, any scale (unit-normalised here; the reference is cosine).
    codecs
        Codec names (see :func:`codec_from_name`); default :func:`default_codecs`.
    queries
        Held-out queries (at most a fifth of the items); the codecs are fitted on the other items only.
    ks
        Recall cut-offs.
    seed
        Seed of the query split.

    Returns
    -------
    Evaluation
        One :class:`CodecResult` per codec, in the order given.
    """
    xn = normalize(np.asarray(x, dtype=np.float32))
    qi, bi = split_queries(len(xn), queries, seed)
    q, base = xn[qi], np.ascontiguousarray(xn[bi])
    names = list(codecs) if codecs is not None else default_codecs(xn.shape[1])
    kmax = min(max(ks), len(base))
    truth = search(base, q, kmax, metric="dot").indices
    timed_k = min(10, len(base))
    rows = []
    for step, name in enumerate(names):
        if progress:
            progress("compress", step, len(names))
        codec = codec_from_name(name)
        t0 = time.perf_counter()
        codec.fit(base)
        codes = codec.encode(base)
        build = time.perf_counter() - t0
        if isinstance(codec, Binary):
            codec.attach_full(base)
            codec.search(codes[: min(len(codes), 64)], q[:1], 1)  # numba compiles once, outside the timing
        found = codec.search(codes, q, kmax)
        t0 = time.perf_counter()
        codec.search(codes, q, timed_k)
        elapsed = time.perf_counter() - t0
        recall = {f"recall@{k}": _recall(truth, found, min(k, len(base))) for k in ks}
        extra = {k: v for k, v in codec.params().items() if k in ("rescore", "dims", "explained_variance")}
        rows.append(CodecResult(name, codec.bytes_per_vector(), recall, 1000.0 * elapsed / len(q), build, extra,
                                codec.scan_bytes()))
    if progress:
        progress("compress", len(names), len(names))
    return Evaluation(rows, int(xn.shape[1]), len(base), len(q), tuple(int(k) for k in ks), seed)


def _recall(truth: np.ndarray, found: np.ndarray, k: int) -> float:
    """Mean over queries of ``|truth[:, :k] & found[:, :k]| / k``."""
    t, f = truth[:, :k], found[:, :k]
    hits = (t[:, :, None] == f[:, None, :]).any(axis=2).sum(axis=1)
    return float(hits.mean() / k)


def frontier(rows: Sequence[CodecResult], key: str = "recall@10") -> list[str]:
    """Names of the rows on the efficient frontier: no other row is as small and at least as accurate."""
    out = []
    for r in rows:
        dominated = any(o is not r and o.bytes_per_vector <= r.bytes_per_vector and o.recall[key] >= r.recall[key]
                        and (o.bytes_per_vector < r.bytes_per_vector or o.recall[key] > r.recall[key]) for o in rows)
        if not dominated:
            out.append(r.codec)
    return out


# ------------------------------------------------------------------------------------------- export
def export_codes(path: str, ids: Sequence[str], x: np.ndarray, codec_name: str) -> dict[str, Any]:
    """Fit ``codec_name`` on ``x`` ``(n, d)``, encode it, and write one ``.npz``: ``ids`` (strings), ``codes``
    (the compact codes, e.g. uint8 ``(n, d / 8)`` for binary) and ``meta`` (JSON: codec, its parameters, the
    input dimension, bytes per vector). Returns the metadata."""
    import json

    codec = codec_from_name(codec_name)
    xn = normalize(np.asarray(x, dtype=np.float32))
    codec.fit(xn)
    codes = codec.encode(xn)
    meta = {**codec.params(), "dim": int(xn.shape[1]), "n": len(xn), "bytes_per_vector": codec.bytes_per_vector(),
            "note": "vectors were unit-normalised before encoding"}
    for key in ("mean", "min", "step"):
        if key in meta:
            meta[key] = [float(v) for v in meta[key]]
    extra = {"components": codec.components, "pca_mean": codec.mean} if isinstance(codec, PCA) else {}
    with open(path, "wb") as fh:
        np.savez(fh, ids=np.asarray(list(ids), dtype=str), codes=codes, meta=np.asarray(json.dumps(meta)), **extra)
    return meta


def compressed_copy(x: np.ndarray, codec_name: str) -> tuple[np.ndarray, Codec]:
    """Fit ``codec_name`` on ``x`` ``(n, d)`` and return the decoded float32 vectors ``(n, d_out)`` (what search
    in the compressed space sees; for binary, ``+-1/sqrt(d)``, so cosine ranks by Hamming distance) and the
    fitted codec."""
    codec = codec_from_name(codec_name)
    xn = normalize(np.asarray(x, dtype=np.float32))
    codec.fit(xn)
    return codec.decode(codec.encode(xn)), codec


def codec_state(codec: Codec) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A fitted codec as plain arrays and JSON-ready fields (for :func:`codec_from_state`; no pickle)."""
    arrays = {key: np.asarray(getattr(codec, key), np.float32) for key in _STATE_ARRAYS.get(type(codec), ())}
    header: dict[str, Any] = {"codec": codec.name, "dim": int(codec.dim)}
    if isinstance(codec, PCA):
        header["explained"] = float(codec.explained)
    return arrays, header


def codec_from_state(arrays: dict[str, np.ndarray], header: dict[str, Any]) -> Codec:
    """The codec :func:`codec_state` described, checked (names, shapes, finite numbers).

    Raises
    ------
    ValueError
        The state does not describe a fitted codec.
    """
    codec = codec_from_name(str(header.get("codec")))
    dim = header.get("dim")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise ValueError(f"bad input dimension {dim!r}")
    codec.dim = dim
    out_dim = getattr(codec, "out_dim", dim)
    if not 1 <= out_dim <= dim:
        raise ValueError(f"{codec.name}: the space has {dim} dimensions")
    for key in _STATE_ARRAYS.get(type(codec), ()):
        arr = np.asarray(arrays.get(key, np.zeros(0)))
        want = (out_dim, dim) if key == "components" else (dim,)
        if arr.shape != want or arr.dtype.kind != "f" or not np.isfinite(arr).all():
            raise ValueError(f"{codec.name}: {key!r} is not {want} finite numbers")
        setattr(codec, key, arr.astype(np.float32))
    if isinstance(codec, PCA):
        codec.explained = float(header.get("explained", float("nan")))
    return codec


#: The fitted arrays of each codec class (the other codecs keep only their name and input dimension).
_STATE_ARRAYS: dict[type, tuple[str, ...]] = {Int8: ("lo", "step"), Binary: ("mean",), PCA: ("mean", "components")}


def query_transform(codec: Codec, queries: np.ndarray) -> np.ndarray:
    """Queries ``(m, d)`` of the source space in the stored copy's coordinates ``(m, d_out)``: unit-normalised,
    then truncated or projected for ``truncate-D`` / ``pca-D`` (the other codecs search full-dimension queries)."""
    q = normalize(np.asarray(queries, dtype=np.float32))
    return codec._query(q) if isinstance(codec, (Truncate, PCA)) else q
