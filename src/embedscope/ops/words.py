"""The words workspace of a workspace (``embedscope words WS``): the vocabulary of its texts as items, with word
spaces over them: ``word2vec`` (trained on the texts), ``glove`` (GloVe 6B 50d, for the words it knows) and
``minilm`` (the bundled sentence model applied to each word alone). An ordinary workspace: every tool works on it.

Items: id = text = the word; columns ``count`` (occurrences), ``docs`` (texts it occurs in), ``rank`` (1 = most
frequent), ``glove`` (whether GloVe knows it). The items record's params hold the provenance: the source
workspace and its items' fingerprint, the vocabulary options and the corpus counts. Each word space records its
parameters (word2vec: sg, dim, window, min_count, epochs, seed, workers, corpus fingerprint).

Every step is skipped when its result is stored from the same inputs (a rerun is a no-op) and each step commits
on its own (a kill leaves the workspace consistent: a space made from an older vocabulary is stale and rebuilt
by the next run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from ..errors import InputError, MissingDependencyError
from ..store.items import items_fingerprint
from ..store.manifest import Record
from ..store.tables import ITEMS, vectors_table
from ..words.glove import SOURCE as GLOVE_SOURCE
from ..words.glove import glove
from ..words.vocab import MAX_WORDS, MIN_COUNT, Vocabulary, build_vocabulary
from ..words.word2vec import DEFAULTS, corpus_fingerprint, gensim_version, train_word2vec
from .base import ScopeLike

#: The word spaces ``embedscope words`` can build, in build order.
SPACES = ("word2vec", "glove", "minilm")
#: The sentence model of the ``minilm`` space.
MINILM_MODEL = "local"

Progress = Callable[[str, int, int], None]


class WordsScope(ScopeLike, Protocol):
    """What building a words workspace does to the target beyond :class:`~embedscope.ops.base.ScopeLike`."""

    def embed(self, space: str | None = ..., model: str | None = ..., *,
              progress: Progress | None = ...) -> object:
        """Embed the items' texts into a space."""
        ...

    def project(self, space: str | None = ..., method: str = ..., *, progress: Progress | None = ...) -> object:
        """Compute (or reuse) and store a layout of a space."""
        ...

    def layouts(self, space: str | None = ...) -> list[str]:
        """Stored layout methods of a space."""
        ...


def target_path(source: str | Path, to: str | Path | None) -> Path:
    """Where the words workspace of ``source`` goes: ``to``, default ``source/words``. An
    :class:`~embedscope.errors.InputError` when ``to`` is the source itself or a non-empty folder that is not a
    workspace."""
    path = Path(to) if to is not None else Path(source) / "words"
    if path.resolve() == Path(source).resolve():
        raise InputError(f"--to {path} is the workspace itself; give another folder for its words")
    if path.exists() and not (path / "scope.json").exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError(f"--to {path} exists and is not an embedscope workspace; give a new or empty folder, "
                         "or a words workspace made before")
    return path


def check_spaces(spaces: Sequence[str]) -> list[str]:
    """The asked spaces in build order (an :class:`~embedscope.errors.InputError` for an unknown one)."""
    wanted = [s.strip() for s in spaces if s.strip()]
    bad = [s for s in wanted if s not in SPACES]
    if bad or not wanted:
        raise InputError(f"--spaces takes a comma-separated list of {', '.join(SPACES)}; got "
                         f"{','.join(spaces) or 'nothing'}")
    return [s for s in SPACES if s in wanted]


def source_texts(source: ScopeLike) -> list[str]:
    """The texts of the source workspace's items (one line naming the workspace when it has none)."""
    if not source.has_items() or "text" not in source.store.item_columns():
        raise InputError(f"{source.path} has no texts to make words of; ingest texts first: "
                         f"embedscope ingest {source.path} FILE")
    texts = [t for t in source.store.read_columns(ITEMS, ["text"]).column("text").to_pylist() if t]
    if not texts:
        raise InputError(f"{source.path} has no texts to make words of (every item's text is empty)")
    return texts


def build_words(source: ScopeLike, make_target: Callable[[], WordsScope], *, spaces: Sequence[str] = SPACES,
                min_count: int = MIN_COUNT, max_words: int = MAX_WORDS, keep_stop_words: bool = False,
                cbow: bool = False, dim: int = DEFAULTS["dim"], window: int = DEFAULTS["window"],
                epochs: int = DEFAULTS["epochs"], seed: int = DEFAULTS["seed"], layout: bool = True,
                progress: Progress | None = None, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Build (or complete) the words workspace ``target`` of ``source``.

    Parameters
    ----------
    source
        The workspace whose texts are read (``text`` column of its items).
    make_target
        Opens the words workspace, new or partly built (``lambda: Scope.create(path, exist_ok=True)``); called
        once the vocabulary is known, so bad input leaves no workspace behind.
    spaces
        Which of :data:`SPACES` to build.
    min_count, max_words, keep_stop_words
        The vocabulary (:func:`embedscope.words.vocab.build_vocabulary`); numbers alone are left out.
    cbow, dim, window, epochs, seed
        word2vec (:func:`embedscope.words.word2vec.train_word2vec`; skip-gram unless ``cbow``, one worker).
    layout
        Build each space's kNN graph and UMAP layout.
    progress, log
        Progress ``(stage, done, total)`` and one-line notes.

    Returns
    -------
    dict
        ``{"workspace", "source", "texts", "tokens", "distinct", "words", "vocabulary": {options},
        "vocabulary_seconds", "glove_known", "spaces": [{"space", "items", "dim", "built", "seconds",
        "layout_seconds"}], "layouts": [space, ...]}`` (``layout_seconds`` only with ``layout``).
    """
    wanted = check_spaces(spaces)
    texts = source_texts(source)
    started = time.perf_counter()
    vocab = build_vocabulary(texts, min_count=min_count, max_words=max_words, keep_stop_words=keep_stop_words,
                             progress=(lambda n: progress("vocabulary", n, len(texts))) if progress else None)
    if not len(vocab):
        raise InputError(f"{source.path}: no word of its {len(texts)} texts occurs {min_count} times or more "
                         f"(stop words and numbers left out); lower --min-count"
                         + ("" if keep_stop_words else " or add --keep-stop-words"))
    vocab_s = round(time.perf_counter() - started, 2)
    log(f"vocabulary: {len(vocab):,} words of {vocab.distinct:,} distinct in {vocab.texts:,} texts "
        f"({vocab.tokens:,} words read, {vocab_s:.1f} s)")
    known = glove_known(vocab.words, required="glove" in wanted)
    target = make_target()
    items = words_table(vocab, known)
    corpus = corpus_fingerprint(texts)
    provenance = {"source": "words", "corpus": str(source.path), "corpus_items": source.store.require(ITEMS).fingerprint,
                  "corpus_fingerprint": corpus, "vocabulary": vocab.options, "texts": vocab.texts,
                  "tokens": vocab.tokens, "distinct": vocab.distinct}
    items_fp = store_items(target, items, provenance)
    report: list[dict[str, Any]] = []
    for space in wanted:
        t0 = time.perf_counter()
        if space == "word2vec":
            built, n, d = word2vec_space(target, texts, vocab, items_fp, corpus, cbow=cbow, dim=dim, window=window,
                                         epochs=epochs, seed=seed, min_count=min_count, progress=progress, log=log)
        elif space == "glove":
            built, n, d = glove_space(target, vocab, known, items_fp, log=log)
        else:
            built, n, d = minilm_space(target, progress=progress, log=log)
        report.append({"space": space, "items": n, "dim": d, "built": built,
                       "seconds": round(time.perf_counter() - t0, 2)})
    layouts: list[str] = []
    if layout:
        for space, row in zip(wanted, report, strict=True):
            t0 = time.perf_counter()
            if "umap" not in target.layouts(space):
                log(f"{space}: kNN graph and UMAP layout")
            target.knn(space)
            target.project(space, "umap", progress=progress)
            layouts.append(space)
            row["layout_seconds"] = round(time.perf_counter() - t0, 2)
    return {"workspace": str(target.path), "source": str(source.path), "texts": vocab.texts, "tokens": vocab.tokens,
            "distinct": vocab.distinct, "words": len(vocab), "vocabulary": vocab.options, "vocabulary_seconds": vocab_s,
            "glove_known": int(known.sum()) if known is not None else None, "spaces": report, "layouts": layouts}


def glove_known(words: list[str], *, required: bool) -> np.ndarray | None:
    """bool ``(n,)``: whether GloVe knows each word; ``None`` when the GloVe package is missing and not
    ``required`` (else its :class:`~embedscope.errors.MissingDependencyError`)."""
    try:
        g = glove()
    except MissingDependencyError:
        if required:
            raise
        return None
    return g.rows(words) >= 0


def words_table(vocab: Vocabulary, known: np.ndarray | None) -> pa.Table:
    """The items of the words workspace: ``id``, ``text`` (the word), ``count``, ``docs``, ``rank``, ``glove``."""
    cols: dict[str, pa.Array] = {"id": pa.array(vocab.words, pa.string()), "text": pa.array(vocab.words, pa.string()),
                                 "count": pa.array(vocab.counts, pa.int64()), "docs": pa.array(vocab.docs, pa.int64()),
                                 "rank": pa.array(vocab.ranks, pa.int64())}
    if known is not None:
        cols["glove"] = pa.array(known, pa.bool_())
    return pa.table(cols)


def store_items(target: WordsScope, items: pa.Table, provenance: dict[str, Any]) -> str:
    """Write the vocabulary as the target's items, replacing the old vocabulary (skipped when the stored items
    come from the same corpus and options); returns the items' fingerprint."""
    fp = items_fingerprint(items)
    rec = target.store.record(ITEMS)
    if rec is not None and rec.params == provenance and rec.fingerprint == fp and rec.rows == items.num_rows:
        return fp
    with target.store.writing():
        target.store.write(Record(table=ITEMS, kind="items", params=provenance, fingerprint=fp), items)
    return fp


def space_is_current(target: WordsScope, space: str, params: dict[str, Any], items_fp: str) -> bool:
    """Whether ``space`` is stored from these parameters and the current vocabulary."""
    rec = target.store.record(vectors_table(space))
    if rec is None or rec.inputs.get(ITEMS) != items_fp:
        return False
    def drop_dim(p: dict[str, Any]) -> dict[str, Any]:  # the store adds the vectors' dimension to the params
        return {k: v for k, v in p.items() if k != "dim"}

    return drop_dim(rec.params) == drop_dim(params) and rec.params.get("dim") == params.get("dim", rec.params.get("dim"))


def word2vec_space(target: WordsScope, texts: list[str], vocab: Vocabulary, items_fp: str, corpus: str, *,
                   cbow: bool, dim: int, window: int, epochs: int, seed: int, min_count: int,
                   progress: Progress | None, log: Callable[[str], Any]) -> tuple[bool, int, int]:
    """The ``word2vec`` space: gensim trained on every word of the texts, kept for the vocabulary's words."""
    opts = {"sg": 0 if cbow else 1, "dim": dim, "window": window, "min_count": min_count, "epochs": epochs,
            "seed": seed, "workers": DEFAULTS["workers"], "negative": DEFAULTS["negative"],
            "sample": DEFAULTS["sample"]}
    params = {"source": "words", "words": "word2vec", "model": "word2vec (gensim)", **opts, "corpus": corpus,
              "gensim": gensim_version(), "vocabulary": vocab.options}
    if space_is_current(target, "word2vec", params, items_fp):
        return False, len(vocab), dim
    log(f"word2vec: training {'CBOW' if cbow else 'skip-gram'} ({dim} dimensions, window {window}, {epochs} "
        f"epochs, seed {seed}, one worker) on {len(texts):,} texts")
    wv = train_word2vec(texts, **opts, progress=(lambda d, t: progress("word2vec epochs", d, t)) if progress else None)
    index = {w: i for i, w in enumerate(wv.words)}
    missing = [w for w in vocab.words if w not in index]
    if missing:  # cannot happen with one tokeniser and one min_count; said plainly if it ever does
        raise InputError(f"word2vec did not learn {len(missing)} vocabulary words (e.g. {missing[0]!r})")
    x = wv.vectors[[index[w] for w in vocab.words]]
    with target.store.writing():
        target.store.write_space("word2vec", vocab.words, x, params, {ITEMS: items_fp})
    return True, len(vocab), int(x.shape[1])


def glove_space(target: WordsScope, vocab: Vocabulary, known: np.ndarray | None, items_fp: str, *,
                log: Callable[[str], Any]) -> tuple[bool, int, int]:
    """The ``glove`` space: GloVe 6B 50d vectors of the vocabulary's words GloVe knows (a subset of items)."""
    params = {"source": "words", "words": "glove", "model": "glove-6B-50d", **GLOVE_SOURCE,
              "vocabulary": vocab.options}
    assert known is not None
    ids = [w for w, k in zip(vocab.words, known, strict=True) if k]
    if not ids:
        raise InputError("GloVe knows none of the vocabulary's words; build the other spaces: --spaces word2vec,minilm")
    if space_is_current(target, "glove", params, items_fp):
        return False, len(ids), 50
    _, x = glove().lookup(ids)
    log(f"glove: {len(ids):,} of {len(vocab):,} words known to GloVe 6B 50d")
    with target.store.writing():
        target.store.write_space("glove", ids, x, params, {ITEMS: items_fp})
    return True, len(ids), int(x.shape[1])


def minilm_space(target: WordsScope, *, progress: Progress | None, log: Callable[[str], Any]
                 ) -> tuple[bool, int, int]:
    """The ``minilm`` space: the bundled sentence model on each word alone, through the normal embed pipeline."""
    if "minilm" in target.spaces():
        info = target.space_info("minilm")
        if not info.stale:
            return False, int(info.count), int(info.dim)
    log("minilm: the bundled all-MiniLM-L6-v2 applied to each word alone")
    target.embed("minilm", MINILM_MODEL, progress=progress)
    info = target.space_info("minilm")
    return True, int(info.count), int(info.dim)
