"""Real texts in bulk from the bundled sample data, and their embeddings, shared by the benchmarks.

``bible_texts(n)`` takes, in this order and without duplicates: the King James verses (30,834 distinct texts); their clauses
(a verse split at ``;`` and ``:``, parts of at least 3 words, when a verse has several); consecutive verse pairs
within a chapter ("verse + space + next verse"); then comma phrases of at least 4 words. That gives about
100,000 distinct real English texts (93,869 from the first three kinds) from the ``samples`` extra alone.

``bible_vectors(n)`` embeds them with the bundled MiniLM (``embedscope embed --model local``) in a workspace
under ``/tmp/embedscope-bench`` (resumable: a rerun reuses every finished batch) and returns ``(ids, x)``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path("/tmp/embedscope-bench")


def bible_texts(n: int) -> pd.DataFrame:
    """``n`` distinct texts (columns ``id``, ``text``, ``kind``: verse, clause, pair or phrase)."""
    from embedscope.io.samples import bible

    df = bible()
    verses = df["text"].tolist()
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()

    def add(i: str, t: str, kind: str) -> bool:
        if t not in seen:
            seen.add(t)
            out.append((i, t, kind))
        return len(out) >= n

    for i, t in zip(df["id"], verses, strict=True):
        if add(i, t, "verse"):
            break
    for i, v in zip(df["id"], verses, strict=True):
        parts = [p.strip() for p in re.split(r"[;:]", v) if len(p.split()) >= 3]
        if len(out) >= n or (len(parts) > 1 and any(add(f"{i} c{j}", p, "clause") for j, p in enumerate(parts))):
            break
    same = (df["book"].to_numpy()[1:] == df["book"].to_numpy()[:-1]) & \
           (df["chapter"].to_numpy()[1:] == df["chapter"].to_numpy()[:-1])
    for j in np.flatnonzero(same):
        if len(out) >= n or add(f"{df['id'].iat[j]}+", f"{verses[j]} {verses[j + 1]}", "pair"):
            break
    for i, v in zip(df["id"], verses, strict=True):
        parts = [p.strip() for p in re.split(r"[,;:]", v) if len(p.split()) >= 4]
        if len(out) >= n or (len(parts) > 1 and any(add(f"{i} p{j}", p, "phrase") for j, p in enumerate(parts))):
            break
    if len(out) < n:
        raise SystemExit(f"the sample data gives only {len(out)} distinct texts; ask for fewer")
    return pd.DataFrame(out[:n], columns=["id", "text", "kind"])


def bible_vectors(n: int, *, log=print) -> tuple[list[str], np.ndarray]:
    """MiniLM vectors ``(n, 384)`` of :func:`bible_texts` ``(n)``, embedded once and kept in a workspace."""
    import embedscope

    CACHE.mkdir(parents=True, exist_ok=True)
    npy = CACHE / f"bible-{n}-minilm.npy"
    ids_file = CACHE / f"bible-{n}-minilm.ids"
    if npy.exists() and ids_file.exists():
        return ids_file.read_text(encoding="utf-8").split("\n"), np.load(npy)
    path = CACHE / f"bible-{n}.scope"
    scope = embedscope.open(path) if path.exists() else embedscope.create(path)
    if not scope.has_items():
        scope.ingest(bible_texts(n))
    log(f"embedding {n} texts with the bundled MiniLM into {path} (resumable) ...")
    scope.embed("minilm", "local", progress=lambda stage, done, total: None)
    ids, x = scope.vectors("minilm")
    np.save(npy, np.asarray(x, dtype=np.float32))
    ids_file.write_text("\n".join(ids), encoding="utf-8")
    return list(ids), np.asarray(x, dtype=np.float32)
