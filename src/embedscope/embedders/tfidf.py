"""TF-IDF + truncated SVD (latent semantic analysis): a classic, fast baseline space.

Fitted on the workspace's own texts; the fitted model is kept so queries land in the same space. The model is
stored as data (:mod:`embedscope.io.modelfiles`): the vocabulary (UTF-8 text and offsets), the idf weights and the
SVD's term loadings as int8 with one float32 scale per term. The loadings are rounded at fit time, so the
vectors stored for the items and those of later queries come from the same numbers. A space never has more
dimensions than the TF-IDF matrix has rank (two texts give at most two; a smaller space is said on stderr
and recorded as ``dim`` with ``dim_requested``).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, WorkspaceError
from ..io.modelfiles import load_state, pack_strings, save_state, unpack_strings
from .base import Embedder

#: Model format written by :meth:`TfidfEmbedder.save` (bumped when the fitted numbers change meaning).
FORMAT_VERSION = 2
#: The vectorizer's settings; a model file with other settings was fitted by another version.
VECTORIZER = {"sublinear_tf": True, "ngram_range": [1, 2], "strip_accents": "unicode",
              "token_pattern": r"(?u)\b\w+\b", "lowercase": True, "norm": "l2"}
#: Largest vocabulary kept (the most frequent terms).
MAX_FEATURES = 200_000
#: Singular values below this fraction of the largest are numerical noise: the rank ends there.
RANK_TOL = 1e-8
#: Dense exact SVD up to this many matrix cells (texts x terms); randomized SVD above.
DENSE_SVD_CELLS = 2_000_000


def _vectorizer(**extra: Any) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    opts = {**VECTORIZER, "ngram_range": tuple(VECTORIZER["ngram_range"])}  # type: ignore[arg-type]
    return TfidfVectorizer(**opts, **extra)


class TfidfEmbedder(Embedder):
    """TF-IDF (sublinear, word 1-2 grams) followed by a truncated SVD to ``dim`` and L2 normalisation.

    Parameters
    ----------
    dim
        Output dimension asked for; the fitted space has ``min(dim, rank of the TF-IDF matrix)`` (at most the
        number of texts and of distinct terms), and :attr:`dim` is that number after :meth:`fit`.
    seed
        Random state of the (randomized) SVD.
    """

    needs_fit = True

    def __init__(self, dim: int = 256, *, seed: int = 0, batch_size: int | None = None) -> None:
        if dim < 1:
            raise InputError(f"tfidf:DIM needs a positive dimension, got {dim}")
        self.dim = dim
        self.dim_requested = dim
        self.seed = seed
        self.batch_size = batch_size or 4096
        self.default_space = f"tfidf-{dim}"
        self.key = f"tfidf:{dim}:seed{seed}"
        self._vec: Any = None
        self._codes: np.ndarray | None = None  # int8 (terms, dim)
        self._scale: np.ndarray | None = None  # float32 (terms,)
        self._dense: np.ndarray | None = None  # float32 (terms, dim), made once a batch uses many terms

    # ------------------------------------------------------------------------------------------ fit
    def fit(self, texts: list[str]) -> None:
        n = len(texts)
        vec = _vectorizer(min_df=2 if n >= 1000 else 1, max_features=MAX_FEATURES)
        try:
            x = vec.fit_transform(texts)
        except ValueError as exc:
            raise InputError(f"TF-IDF found no words in the texts ({exc})") from None
        vt, s = _truncated_svd(x, min(self.dim_requested, *x.shape), self.seed)
        rank = max(1, int((s > s[0] * RANK_TOL).sum())) if s.size and s[0] > 0 else 1
        loadings = vt[:rank].T  # (terms, rank)
        scale = np.abs(loadings).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        self._codes = np.rint(loadings / scale[:, None]).astype(np.int8)
        self._scale = scale.astype(np.float32)
        self._vec, self._dense = vec, None
        self.dim = rank
        if rank < self.dim_requested:
            dims = f"{rank} dimension{'s' if rank != 1 else ''}"
            print(f"tfidf:{self.dim_requested}: {n} text{'s' if n != 1 else ''} with {x.shape[1]} distinct terms "
                  f"support only {dims} (the rank of their TF-IDF matrix); the space has {dims}", file=sys.stderr)
        h = hashlib.blake2b(digest_size=8)
        for t in texts:
            h.update(t.encode())
            h.update(b"\0")
        self.key = f"tfidf:{self.dim_requested}:seed{self.seed}:v{FORMAT_VERSION}:corpus{h.hexdigest()}"

    # ---------------------------------------------------------------------------------------- embed
    def embed(self, texts: list[str]) -> np.ndarray:
        if self._vec is None or self._codes is None or self._scale is None:
            raise InputError("the TF-IDF model is not fitted")
        x = self._vec.transform(texts).tocsr()
        cols = np.unique(x.indices)
        if self._dense is None and 4 * len(cols) > len(self._codes):
            self._dense = self._codes.astype(np.float32) * self._scale[:, None]
        if self._dense is not None:
            z = np.asarray(x @ self._dense, dtype=np.float64)
        else:
            load = self._codes[cols].astype(np.float32) * self._scale[cols, None]
            z = np.asarray(x[:, cols] @ load, dtype=np.float64)
        norm = np.linalg.norm(z, axis=1)
        # a text whose words are all outside the kept components projects to (numerically) zero: no direction
        # is better than rounding noise blown up to unit length
        z[np.abs(z) <= 1e-9 * np.maximum(norm, 1e-300)[:, None]] = 0.0
        norm = np.linalg.norm(z, axis=1)
        zero = norm <= 1e-9
        out = np.zeros_like(z, dtype=np.float32)
        out[~zero] = (z[~zero] / norm[~zero, None]).astype(np.float32)
        if zero.any():  # no known word: give it a tiny constant direction instead of a zero vector
            out[zero, 0] = 1.0
        return out

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "dim_requested": self.dim_requested}

    # ----------------------------------------------------------------------------------------- file
    def save(self, path: Path) -> str:
        """Write the fitted model as data (``.npz`` of arrays + a JSON header; no pickle)."""
        if self._vec is None or self._codes is None or self._scale is None:
            raise InputError("the TF-IDF model is not fitted")
        terms = sorted(self._vec.vocabulary_, key=self._vec.vocabulary_.__getitem__)
        packed = pack_strings(terms)
        arrays = {"terms": packed["bytes"], "offsets": packed["offsets"],
                  "idf": np.asarray(self._vec.idf_, np.float64), "codes": self._codes, "scale": self._scale}
        header = {"format_version": FORMAT_VERSION, "key": self.key, "dim": self.dim,
                  "dim_requested": self.dim_requested, "seed": self.seed, "vectorizer": VECTORIZER}
        return save_state(path, "tfidf", arrays, header)

    def load(self, path: Path) -> None:
        """Read a model written by :meth:`save` (plain arrays and JSON: never unpickles anything)."""
        arrays, head = load_state(path, "tfidf")
        if head.get("format_version") != FORMAT_VERSION or head.get("vectorizer") != VECTORIZER:
            raise WorkspaceError(f"{path}: a TF-IDF model of another embedscope version; embed the space again")
        try:
            terms = unpack_strings(arrays["terms"], arrays["offsets"])
            idf, codes, scale = arrays["idf"].astype(np.float64), arrays["codes"], arrays["scale"].astype(np.float32)
            dim = int(head["dim"])
            n_terms = len(terms)
            if codes.dtype != np.int8 or codes.shape != (n_terms, dim) or idf.shape != (n_terms,) or \
                    scale.shape != (n_terms,) or not (np.isfinite(idf).all() and np.isfinite(scale).all()):
                raise ValueError("array shapes do not agree")
            vocab = {t: i for i, t in enumerate(terms)}
            if len(vocab) != n_terms:
                raise ValueError("repeated terms")
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"{path}: a damaged TF-IDF model ({exc}); embed the space again") from None
        vec = _vectorizer(vocabulary=vocab)
        vec.idf_ = idf
        self._vec, self._codes, self._scale, self._dense = vec, codes, scale, None
        self.key, self.dim = str(head["key"]), dim
        self.dim_requested, self.seed = int(head["dim_requested"]), int(head["seed"])


def _truncated_svd(x: Any, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` right singular vectors ``(k, terms)`` and singular values of the sparse matrix ``x``."""
    n, t = x.shape
    if n * t <= DENSE_SVD_CELLS:
        _, s, vt = np.linalg.svd(x.toarray(), full_matrices=False)
    else:
        from sklearn.decomposition import TruncatedSVD

        svd = TruncatedSVD(n_components=k, random_state=seed, algorithm="randomized", n_iter=7).fit(x)
        vt, s = svd.components_, svd.singular_values_
        order = np.argsort(-s, kind="stable")
        vt, s = vt[order], s[order]
    # a fixed sign per component (largest loading positive) so refits give the same vectors
    flip = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    flip[flip == 0] = 1.0
    return (vt * flip[:, None])[:k], s[:k]
