"""TF-IDF + truncated SVD (latent semantic analysis): a classic, fast baseline space.

Fitted on the workspace's own texts; the fitted model is kept so queries land in the same space.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .base import Embedder


class TfidfEmbedder(Embedder):
    """TF-IDF (sublinear, word 1-2 grams) followed by TruncatedSVD to ``dim`` and L2 normalisation.

    Parameters
    ----------
    dim
        Output dimension (reduced automatically when the corpus is too small for it).
    seed
        Random state of the SVD.
    """

    needs_fit = True

    def __init__(self, dim: int = 256, *, seed: int = 0, batch_size: int | None = None) -> None:
        if dim < 1:
            raise InputError(f"tfidf:DIM needs a positive dimension, got {dim}")
        self.dim = dim
        self.seed = seed
        self.batch_size = batch_size or 4096
        self.default_space = f"tfidf-{dim}"
        self.key = f"tfidf:{dim}:seed{seed}"
        self._pipe: Any = None

    def fit(self, texts: list[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import Normalizer

        n = len(texts)
        vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2 if n >= 1000 else 1,
                              max_features=200_000, strip_accents="unicode", token_pattern=r"(?u)\b\w+\b")
        try:
            x = vec.fit_transform(texts)
        except ValueError as exc:
            raise InputError(f"TF-IDF found no words in the texts ({exc})") from None
        k = max(1, min(self.dim, x.shape[1] - 1, n - 1))
        svd = TruncatedSVD(n_components=k, random_state=self.seed, algorithm="randomized", n_iter=7)
        self._pipe = make_pipeline(vec, svd, Normalizer(copy=False))
        svd.fit(x)
        h = hashlib.blake2b(digest_size=8)
        for t in texts:
            h.update(t.encode())
            h.update(b"\0")
        self.key = f"tfidf:{self.dim}:seed{self.seed}:corpus{h.hexdigest()}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._pipe is None:
            raise InputError("the TF-IDF model is not fitted")
        out = np.asarray(self._pipe.transform(texts), dtype=np.float32)
        if out.shape[1] < self.dim:
            out = np.pad(out, ((0, 0), (0, self.dim - out.shape[1])))
        zero = ~out.any(axis=1)
        if zero.any():  # no known word: give it a tiny constant direction instead of a zero vector
            out[zero, 0] = 1.0
        return out

    def save(self, path: Path) -> None:
        """Write the fitted model (pickle) so queries can be embedded later."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(pickle.dumps({"pipe": self._pipe, "key": self.key, "dim": self.dim}))
            tmp.replace(path)
        finally:  # a failed write (a full disk) must not leave its temporary behind
            tmp.unlink(missing_ok=True)

    def load(self, path: Path) -> None:
        """Read a model written by :meth:`save` (only from a workspace you trust: it is a pickle)."""
        state = pickle.loads(path.read_bytes())
        self._pipe, self.key, self.dim = state["pipe"], state["key"], state["dim"]
