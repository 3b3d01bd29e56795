"""Embedding throughput: embedscope's default embedder against plain sentence-transformers, same run.

What is measured (texts/s, wall clock, one process, torch's CPU threads as ``LocalEmbedder`` sets them):

- ``embedscope``: ``embed_texts(texts, LocalEmbedder(batch_size=B), MemoryCache())`` with a fresh cache,
  i.e. the bundled all-MiniLM-L6-v2 plus embedscope's content hashing, dedup, batching (one
  ``encode`` call per batch of B texts) and the token count used to report truncated texts;
- ``plain encode``: ``SentenceTransformer(str(default_model_path())).encode(texts, batch_size=B)`` on the
  same texts (the reference: every ratio is against it);
- two diagnostic rows that split the difference: embedscope without the truncation count
  (``count_truncated=False``) and plain ``encode`` called on chunks of B texts, as ``embed_texts`` does
  (sentence-transformers sorts texts by length only within one ``encode`` call);
- ``embedscope, all cached``: a second ``embed_texts`` call on a cache that already holds every text.

Texts: ``embedscope.samples.bible(n)``, King James Bible verses spread over the whole book (~25 words each).
Both models are loaded and warmed up on a few texts before timing; model load is excluded. Each variant runs
``--repeat`` times, interleaved, and the median is reported. The two outputs are compared (max abs
difference, min row cosine).

Run::

    .venv/bin/python bench/embed.py --n 2000 [--batch-size 128] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _timed(fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def padded_tokens(token_lens: list[int], char_lens: list[int], bs: int, sort_all: bool) -> int:
    """Token positions the model processes, padding included, for batches of ``bs``.

    ``sort_all``: one ``encode`` call sorting every text by character length (sentence-transformers);
    else chunks of ``bs`` in input order, as ``embed_texts`` calls ``encode``.
    """
    order = np.argsort(-np.asarray(char_lens), kind="stable") if sort_all else np.arange(len(token_lens))
    lens = np.asarray(token_lens)[order]
    return int(sum(len(lens[i:i + bs]) * int(lens[i:i + bs].max()) for i in range(0, len(lens), bs)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="number of KJV verses (default 2000)")
    ap.add_argument("--batch-size", type=int, default=None, help="texts per batch (default: LocalEmbedder's)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (median reported)")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    from embedscope.embedders.local import LocalEmbedder, default_model_path
    from embedscope.embedding import MemoryCache, embed_texts
    from embedscope.samples import bible

    texts: list[str] = bible(args.n)["text"].tolist()
    embedder = LocalEmbedder(batch_size=args.batch_size)
    bs = embedder.batch_size
    _ = embedder.model  # load (sets torch threads)
    plain = SentenceTransformer(str(default_model_path()), device="cpu")
    warm = texts[:16]
    embed_texts(warm, embedder, MemoryCache())
    plain.encode(warm, batch_size=bs)

    def run_es(count_truncated: bool = True) -> np.ndarray:
        return embed_texts(texts, embedder, MemoryCache(), batch_size=bs, count_truncated=count_truncated)[0]

    def run_plain() -> np.ndarray:
        return np.asarray(plain.encode(texts, batch_size=bs, show_progress_bar=False), np.float32)

    def run_plain_chunked() -> np.ndarray:
        parts = [plain.encode(texts[i:i + bs], batch_size=bs, show_progress_bar=False)
                 for i in range(0, len(texts), bs)]
        return np.concatenate(parts).astype(np.float32)

    variants: dict[str, Callable[[], np.ndarray]] = {
        "plain encode (reference)": run_plain,
        "embedscope embed_texts": run_es,
        "  without truncation count": lambda: run_es(count_truncated=False),
        "  plain encode in chunks of B": run_plain_chunked,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    outs: dict[str, np.ndarray] = {}
    for _rep in range(args.repeat):
        for name, fn in variants.items():
            dt, outs[name] = _timed(fn)
            times[name].append(dt)

    cache = MemoryCache()
    _, stats = embed_texts(texts, embedder, cache, batch_size=bs)
    cached_times = [_timed(lambda: embed_texts(texts, embedder, cache, batch_size=bs)[0])[0]
                    for _ in range(args.repeat)]
    times["embedscope, all cached"] = cached_times

    a, b = outs["embedscope embed_texts"], outs["plain encode (reference)"]
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    ref = statistics.median(times["plain encode (reference)"])
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append({"variant": name, "median_s": med, "texts_per_s": len(texts) / med,
                     "time_vs_reference": med / ref, "runs_s": ts})
    words = [len(t.split()) for t in texts]
    unique = list(dict.fromkeys(texts))
    tok = plain.tokenizer(unique, truncation=True, max_length=plain.max_seq_length)["input_ids"]
    tlens, clens = [len(t) for t in tok], [len(t) for t in unique]
    pad_plain = padded_tokens(tlens, clens, bs, sort_all=True)
    pad_es = padded_tokens(tlens, clens, bs, sort_all=False)
    result: dict[str, Any] = {
        "texts": len(texts), "unique": stats.unique, "truncated": stats.truncated,
        "mean_words": float(np.mean(words)), "batch_size": bs, "repeat": args.repeat,
        "torch_threads": torch.get_num_threads(), "rows": rows,
        "max_abs_diff": float(np.max(np.abs(a - b))), "min_cosine": float(np.min(cos)),
        "real_tokens": sum(tlens), "padded_tokens_plain": pad_plain, "padded_tokens_embedscope": pad_es,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"{len(texts)} KJV verses ({stats.unique} unique, mean {result['mean_words']:.1f} words, "
          f"{stats.truncated} truncated), batch size {bs}, torch threads {result['torch_threads']}, "
          f"median of {args.repeat}; model load and warm-up excluded")
    print(f"{'variant':<32}{'median s':>10}{'texts/s':>12}{'time / ref':>12}")
    for r in rows:
        print(f"{r['variant']:<32}{r['median_s']:>10.4f}{r['texts_per_s']:>12.1f}{r['time_vs_reference']:>12.2f}")
    print(f"token positions incl. padding (unique texts): plain {pad_plain}, embedscope {pad_es} "
          f"({pad_es / pad_plain:.2f}x); real tokens {sum(tlens)}")
    print(f"embedscope vs plain output: max abs diff {result['max_abs_diff']:.2e}, "
          f"min cosine {result['min_cosine']:.6f}")
    return result


if __name__ == "__main__":
    main()
