"""Embedding throughput: embedscope's default embedder against plain sentence-transformers, same run.

What is measured (texts/s, wall clock, one process):

- ``plain encode`` (the reference: every ratio and cosine is against it):
  ``SentenceTransformer(str(default_model_path())).encode(texts, batch_size=B)``, float32 on torch's CPU threads;
- ``default embed_texts``: ``embed_texts(texts, LocalEmbedder(), MemoryCache())`` with a fresh cache, i.e. the
  default backend (``onnx-int8`` when onnxruntime is installed: ONNX Runtime, int8 weights) plus embedscope's
  content hashing, dedup, batching and the token count that reports truncated texts (what ``embedscope embed``
  runs);
- ``default embed``: ``LocalEmbedder().embed(texts)``, one call (batches of similar token length);
- ``onnx float32 embed``: ``LocalEmbedder(backend="onnx").embed(texts)`` (the export without int8);
- ``torch embed_texts``: ``embed_texts`` with ``LocalEmbedder(backend="torch")`` (the default before onnx-int8);
- ``default, all cached``: a second ``embed_texts`` call on a cache that already holds every text.

Texts: ``embedscope.io.samples.bible(n)``, King James Bible verses spread over the whole book (~25 words each).
Every model is loaded (and the ONNX file exported, if not cached yet) and warmed up on a few texts before
timing; model load is excluded. Each variant runs ``--repeat`` times, interleaved, and the median is reported,
with the load average before and after the timed runs. Cosines: per row against the reference's vectors.

Run::

    nice -n 5 .venv/bin/python bench/embed.py --n 2000 [--batch-size 128] [--repeat 3] [--json]
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


def padded_tokens(token_lens: list[int], char_lens: list[int], bs: int, *, budget: int | None = None) -> int:
    """Token positions the model processes, padding included: texts sorted by character length (as both
    sentence-transformers and ``embed_texts`` do) and cut into batches of ``bs``; with ``budget``, each batch is
    sorted by tokens and cut again so that texts x longest <= budget (``onnxrt.MAX_BATCH_TOKENS``)."""
    order = np.argsort(-np.asarray(char_lens), kind="stable")
    lens = np.asarray(token_lens)[order]
    total = 0
    for i in range(0, len(lens), bs):
        chunk = np.sort(lens[i:i + bs])[::-1]
        j = 0
        while j < len(chunk):
            size = len(chunk) - j if budget is None else max(1, min(len(chunk) - j, budget // int(chunk[j])))
            total += size * int(chunk[j:j + size].max())
            j += size
    return total


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="number of KJV verses (default 2000)")
    ap.add_argument("--batch-size", type=int, default=None, help="texts per batch (default: LocalEmbedder's)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (median reported)")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)

    import os

    import torch
    from sentence_transformers import SentenceTransformer

    from embedscope.embedders import onnxrt
    from embedscope.embedders.local import LocalEmbedder, default_model_path
    from embedscope.embedders.run import MemoryCache, embed_texts
    from embedscope.io.samples import bible

    texts: list[str] = bible(args.n)["text"].tolist()
    default = LocalEmbedder(batch_size=args.batch_size)
    bs = default.batch_size
    fp32 = LocalEmbedder(batch_size=bs, backend="onnx")
    torch_emb = LocalEmbedder(batch_size=bs, backend="torch")
    for e in (default, fp32, torch_emb):
        _ = e.model  # load (and export to ONNX if not cached)
    plain = SentenceTransformer(str(default_model_path()), device="cpu")
    warm = texts[:16]
    for e in (default, fp32, torch_emb):
        embed_texts(warm, e, MemoryCache())
    plain.encode(warm, batch_size=bs)

    def run_plain() -> np.ndarray:
        return np.asarray(plain.encode(texts, batch_size=bs, show_progress_bar=False), np.float32)

    variants: dict[str, Callable[[], np.ndarray]] = {
        "plain encode (reference)": run_plain,
        f"default ({default.backend}) embed_texts": lambda: embed_texts(texts, default, MemoryCache(), batch_size=bs)[0],
        f"default ({default.backend}) embed": lambda: default.embed(texts),
        "onnx float32 embed": lambda: fp32.embed(texts),
        "torch embed_texts": lambda: embed_texts(texts, torch_emb, MemoryCache(), batch_size=bs)[0],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    outs: dict[str, np.ndarray] = {}
    load_before = os.getloadavg()
    for _rep in range(args.repeat):
        for name, fn in variants.items():
            dt, outs[name] = _timed(fn)
            times[name].append(dt)
    load_after = os.getloadavg()

    cache = MemoryCache()
    _, stats = embed_texts(texts, default, cache, batch_size=bs)
    times["default, all cached"] = [_timed(lambda: embed_texts(texts, default, cache, batch_size=bs)[0])[0]
                                    for _ in range(args.repeat)]

    ref_vecs = outs["plain encode (reference)"]
    ref = statistics.median(times["plain encode (reference)"])
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        row: dict[str, Any] = {"variant": name, "median_s": med, "texts_per_s": len(texts) / med,
                               "time_vs_reference": med / ref, "speedup": ref / med, "runs_s": ts}
        if name in outs:
            cos = np.sum(outs[name] * ref_vecs, axis=1) / (
                np.linalg.norm(outs[name], axis=1) * np.linalg.norm(ref_vecs, axis=1))
            row.update(min_cosine=float(cos.min()), mean_cosine=float(cos.mean()))
        rows.append(row)
    words = [len(t.split()) for t in texts]
    unique = list(dict.fromkeys(texts))
    tok = plain.tokenizer(unique, truncation=True, max_length=plain.max_seq_length)["input_ids"]
    tlens, clens = [len(t) for t in tok], [len(t) for t in unique]
    pad_plain = padded_tokens(tlens, clens, bs)
    pad_es = padded_tokens(tlens, clens, bs, budget=onnxrt.MAX_BATCH_TOKENS)
    result: dict[str, Any] = {
        "texts": len(texts), "unique": stats.unique, "truncated": stats.truncated,
        "mean_words": float(np.mean(words)), "batch_size": bs, "repeat": args.repeat,
        "default_backend": default.backend, "torch_threads": torch.get_num_threads(),
        "onnx_threads": onnxrt.cpu_threads(), "load_before": load_before, "load_after": load_after, "rows": rows,
        "real_tokens": sum(tlens), "padded_tokens_plain": pad_plain, "padded_tokens_default": pad_es,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"{len(texts)} KJV verses ({stats.unique} unique, mean {result['mean_words']:.1f} words, "
          f"{stats.truncated} truncated), batch size {bs}, torch threads {result['torch_threads']}, "
          f"onnxruntime threads {result['onnx_threads']}, median of {args.repeat} interleaved runs; "
          "model load and warm-up excluded")
    print("load average (1/5/15 min) before the timed runs {:.1f} {:.1f} {:.1f}, after {:.1f} {:.1f} {:.1f}".format(
        *load_before, *load_after))
    print(f"{'variant':<34}{'median s':>10}{'texts/s':>11}{'speedup':>9}{'min cos':>10}{'mean cos':>10}")
    for r in rows:
        cos = f"{r['min_cosine']:>10.5f}{r['mean_cosine']:>10.5f}" if "min_cosine" in r else ""
        print(f"{r['variant']:<34}{r['median_s']:>10.4f}{r['texts_per_s']:>11.1f}{r['speedup']:>8.2f}x{cos}")
    print("speedup = reference time / variant time; cosines against the reference (float32 torch) vectors")
    print(f"token positions incl. padding (unique texts): plain {pad_plain}, default {pad_es} "
          f"({pad_es / pad_plain:.2f}x); real tokens {sum(tlens)}")
    return result


if __name__ == "__main__":
    main()
