"""``--model avg:word2vec`` and ``--model avg:glove``: averaged word vectors, the classic sentence baseline.

A text's vector is the normalised mean of its known words' unit vectors (stop words count only when a text has
no other known word; a text with no known word gets the "average word" fallback vector, counted: see
:mod:`embedscope.words.average`). Words come from the one tokeniser (:mod:`embedscope.words.tokens`).

- ``avg:word2vec`` trains word2vec on the workspace's texts in :meth:`AvgWordsEmbedder.fit`, with the same
  function and default parameters as ``embedscope words`` (:func:`embedscope.words.word2vec.train_word2vec`:
  skip-gram, 100 dimensions, window 5, min count 5, 5 epochs, seed 42, one worker). The trained words and
  vectors are kept in the workspace's ``models/`` as data (:mod:`embedscope.io.modelfiles`, never a pickle),
  so queries are embedded with the same vectors.
- ``avg:glove`` uses GloVe 6B 50d (:mod:`embedscope.words.glove`); nothing is fitted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, WorkspaceError
from ..io.modelfiles import load_state, pack_strings, save_state, unpack_strings
from ..words.average import average, fallback_vector
from ..words.glove import DIM as GLOVE_DIM
from ..words.glove import SOURCE as GLOVE_SOURCE
from ..words.glove import glove
from ..words.vocab import stop_words
from ..words.word2vec import DEFAULTS, train_word2vec
from .base import Embedder

#: Model format written by :meth:`AvgWordsEmbedder.save`.
FORMAT_VERSION = 1
#: The word vectors an ``avg:`` model can average.
SOURCES = ("word2vec", "glove")


class AvgWordsEmbedder(Embedder):
    """Averaged word vectors of texts.

    Parameters
    ----------
    source
        ``word2vec`` (trained on the workspace's texts by :meth:`fit`) or ``glove`` (GloVe 6B 50d).
    """

    def __init__(self, source: str, *, batch_size: int | None = None) -> None:
        if source not in SOURCES:
            raise InputError(f"--model avg:SOURCE takes one of {', '.join(SOURCES)}, got avg:{source}")
        self.source = source
        self.needs_fit = source == "word2vec"
        self.batch_size = batch_size or 1024
        self.default_space = f"avg-{source}"
        self.stops = stop_words()
        self.fallback_texts = 0
        self._index: dict[str, int] = {}
        self._vectors: np.ndarray | None = None  # word2vec: float32 (words, d)
        self._fallback: np.ndarray | None = None
        self._params: dict[str, Any] = {}
        if source == "glove":
            self.key = "avg:glove:6B-50d:v1"
        else:
            self.key = ""  # set by fit or load (it names the corpus)

    # ------------------------------------------------------------------------------------------ fit
    def fit(self, texts: list[str]) -> None:
        """Train word2vec on ``texts`` (``avg:word2vec``; nothing to do for GloVe)."""
        if self.source != "word2vec":
            return
        wv = train_word2vec(texts, **DEFAULTS)
        if not wv.words:
            raise InputError(f"avg:word2vec: no word occurs {DEFAULTS['min_count']} times or more in the "
                             f"{len(texts)} texts; word2vec has nothing to learn from")
        self._set(wv.words, wv.vectors, wv.params)

    def _set(self, words: Sequence[str], vectors: np.ndarray, params: dict[str, Any]) -> None:
        self._index = {w: i for i, w in enumerate(words)}
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._fallback = fallback_vector(self._vectors)
        self._params = dict(params)
        self.key = f"avg:word2vec:v{FORMAT_VERSION}:sg{params['sg']}:d{params['dim']}:corpus{params['corpus']}"

    def _lookup(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.source == "glove":
            return glove().lookup(words)
        assert self._vectors is not None
        rows = np.array([self._index.get(w, -1) for w in words], dtype=np.int64)
        found = rows >= 0
        return found, self._vectors[rows[found]]

    # ---------------------------------------------------------------------------------------- embed
    def embed(self, texts: list[str]) -> np.ndarray:
        if self.source == "glove":
            if self._fallback is None:
                g = glove()
                self._fallback = fallback_vector(np.asarray(g.vectors, dtype=np.float32))
        elif self._vectors is None:
            raise InputError("avg:word2vec is not fitted")
        assert self._fallback is not None
        out = average(texts, self._lookup, fallback=self._fallback, stop_words=self.stops)
        if out.fallback:
            self.fallback_texts += out.fallback
            print(f"{self.model_spec or 'avg:' + self.source}: {out.fallback} of {len(texts)} texts have no word "
                  "the model knows; they get the fallback vector (the average word)", file=sys.stderr)
        return out.vectors

    def spec(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"words": self.source, "fallback_texts": self.fallback_texts}
        if self.source == "word2vec":
            extra["word2vec"] = self._params
        else:
            extra["glove"] = GLOVE_SOURCE
        return {**super().spec(), **extra}

    @property
    def dim(self) -> int:
        """The vectors' dimension."""
        return GLOVE_DIM if self.source == "glove" else int(DEFAULTS["dim"] if self._vectors is None
                                                            else self._vectors.shape[1])

    # ----------------------------------------------------------------------------------------- file
    def save(self, path: Path) -> str:
        """Write the trained word vectors as data (``.npz`` of arrays + a JSON header; no pickle)."""
        if self._vectors is None:
            raise InputError("avg:word2vec is not fitted")
        words = sorted(self._index, key=self._index.__getitem__)
        packed = pack_strings(words)
        arrays = {"words": packed["bytes"], "offsets": packed["offsets"], "vectors": self._vectors}
        header = {"format_version": FORMAT_VERSION, "key": self.key, "params": self._params}
        return save_state(path, "avg-word2vec", arrays, header)

    def load(self, path: Path) -> None:
        """Read word vectors written by :meth:`save` (plain arrays and JSON: never unpickles anything)."""
        arrays, head = load_state(path, "avg-word2vec")
        if head.get("format_version") != FORMAT_VERSION:
            raise WorkspaceError(f"{path}: averaged word vectors of another embedscope version; embed the space "
                                 "again")
        try:
            words = unpack_strings(arrays["words"], arrays["offsets"])
            vectors = arrays["vectors"]
            params = dict(head["params"])
            if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[0] != len(words) or \
                    not np.isfinite(vectors).all() or len(set(words)) != len(words):
                raise ValueError("the words and vectors do not agree")
            self._set(words, vectors, params)
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"{path}: damaged averaged word vectors ({exc}); embed the space again") from None
        if self.key != head.get("key"):
            raise WorkspaceError(f"{path}: averaged word vectors whose key does not match; embed the space again")
