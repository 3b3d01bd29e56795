"""word2vec (gensim) trained on a corpus split by the one tokeniser: the ``word2vec`` space of a words
workspace and the word vectors of the ``avg:word2vec`` embedder.

Training is seeded and, with one worker (the default), deterministic: the same texts and parameters give the
same vectors in every process (the initial vectors are seeded by a fixed hash of each word, not by Python's
per-process ``hash``). More workers train faster but gensim's threads then race, so vectors differ run to run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from .tokens import words as split_words

#: The default parameters (``embedscope words`` and ``--model avg:word2vec`` share them).
DEFAULTS: dict[str, Any] = {"sg": 1, "dim": 100, "window": 5, "min_count": 5, "epochs": 5, "seed": 42,
                            "workers": 1, "negative": 5, "sample": 1e-3}


@dataclass
class WordVectors:
    """Words and their vectors.

    Attributes
    ----------
    words
        ``n`` words.
    vectors
        float32 ``(n, d)``, as trained (not normalised).
    params
        What made them (JSON-ready; for word2vec: ``sg``, ``dim``, ``window``, ``min_count``, ``epochs``,
        ``seed``, ``workers``, ``negative``, ``sample``, ``corpus`` fingerprint, ``gensim`` version).
    """

    words: list[str]
    vectors: np.ndarray
    params: dict[str, Any]


class Sentences:
    """The texts as lists of words, tokenised anew on each pass (gensim reads the corpus once per epoch), so
    no second copy of the corpus is held."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts

    def __iter__(self) -> Iterator[list[str]]:
        for t in self.texts:
            ws = split_words(t)
            if ws:
                yield ws


def gensim_version() -> str:
    """The installed gensim's version (:class:`~embedscope.errors.MissingDependencyError` when it is missing)."""
    try:
        import gensim
    except ImportError:
        raise MissingDependencyError("word2vec", "words", "gensim") from None
    return str(gensim.__version__)


def stable_hash(text: str) -> int:
    """A hash of a string that is the same in every process (gensim seeds each word's first vector with it)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")


def corpus_fingerprint(texts: Sequence[str]) -> str:
    """A short hash of the texts, in order (recorded with the vectors trained on them)."""
    h = hashlib.blake2b(digest_size=8)
    for t in texts:
        h.update(t.encode())
        h.update(b"\0")
    return h.hexdigest()


def train_word2vec(texts: Sequence[str], *, sg: int = DEFAULTS["sg"], dim: int = DEFAULTS["dim"],
                   window: int = DEFAULTS["window"], min_count: int = DEFAULTS["min_count"],
                   epochs: int = DEFAULTS["epochs"], seed: int = DEFAULTS["seed"], workers: int = DEFAULTS["workers"],
                   negative: int = DEFAULTS["negative"], sample: float = DEFAULTS["sample"],
                   keep: Callable[[str], bool] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> WordVectors:
    """Train word2vec on ``texts``.

    Parameters
    ----------
    texts
        The corpus; every word of it (stop words too) is context for training.
    sg
        1: skip-gram (default), 0: CBOW.
    dim, window, min_count, epochs, negative, sample
        gensim's ``vector_size``, ``window``, ``min_count``, ``epochs``, ``negative``, ``sample``.
    seed
        gensim's ``seed`` (with ``workers=1`` the vectors are reproducible).
    workers
        Training threads (1: deterministic).
    keep
        Which trained words to return (default: all of them).
    progress
        Called with (epochs done, epochs).

    Returns
    -------
    WordVectors
        The words gensim kept (seen at least ``min_count`` times) and ``keep`` accepts, by descending count.
    """
    try:
        import gensim
        from gensim.models import Word2Vec
    except ImportError:
        raise MissingDependencyError("word2vec", "words", "gensim") from None
    params: dict[str, Any] = {"sg": int(sg), "dim": int(dim), "window": int(window), "min_count": int(min_count),
                              "epochs": int(epochs), "seed": int(seed), "workers": int(workers),
                              "negative": int(negative), "sample": float(sample),
                              "corpus": corpus_fingerprint(texts), "gensim": gensim.__version__}
    sentences = Sentences(texts)
    model = Word2Vec(vector_size=dim, window=window, min_count=min_count, sg=sg, seed=seed, workers=workers,
                     negative=negative, sample=sample, epochs=epochs, hashfxn=stable_hash)
    model.build_vocab(sentences)
    if len(model.wv) == 0:
        return WordVectors([], np.zeros((0, dim), np.float32), params)
    callbacks = [_epoch_progress(progress, epochs)] if progress is not None else []
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs, callbacks=callbacks)
    words = list(model.wv.index_to_key)
    rows = [i for i, w in enumerate(words) if keep is None or keep(w)]
    return WordVectors([words[i] for i in rows], np.asarray(model.wv.vectors[rows], dtype=np.float32), params)


def _epoch_progress(progress: Callable[[int, int], None], epochs: int) -> Any:
    """A gensim callback that reports epochs done."""
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochProgress(CallbackAny2Vec):  # type: ignore[misc]
        done = 0

        def on_epoch_end(self, model: Any) -> None:
            self.done += 1
            progress(self.done, epochs)

    return EpochProgress()
