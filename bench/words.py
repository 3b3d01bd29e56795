"""Words (issue 20): a words workspace of 50,000 words, time and peak memory per stage; and ``compare`` of
averaged word vectors (``avg:word2vec``, ``avg:glove``) against the sentence model on the labelled KJV sample.

1. **Scale.** The King James Bible has 12,756 distinct words (5,070 seen 5 times or more): too few. The corpus is
   the text of the installed Python packages' files (``.py``, ``.rst``, ``.md``, ``.txt`` under the virtualenv's
   ``site-packages``, sorted by path; every ``--every``-th line of 3 words or more): technical English and code
   identifiers, millions of words, nothing downloaded. It is ingested as a workspace (one text a line), then
   ``embedscope words WS --json`` runs once per stage in a child process under ``/usr/bin/time`` (wall clock, CPU
   time, peak RSS): ``--spaces word2vec --no-layout`` (vocabulary + training), ``--spaces glove --no-layout``,
   ``--spaces minilm --no-layout`` (MiniLM on every word alone), then all three with layouts (the spaces are
   reused: this child builds the three kNN graphs and UMAP layouts), then the same command again (the no-op).
2. **Quality.** ``--verses`` King James verses (evenly spread) embedded with ``local`` (MiniLM), ``avg:word2vec``
   (trained on those verses) and ``avg:glove``; ``embedscope compare --spaces avg-word2vec,avg-glove,minilm
   --label division --json`` (precision, recall, nDCG at 10 of same-division retrieval, best against runner-up
   with a paired bootstrap 95% interval), and the two-space verdict line ``avg-word2vec`` vs ``minilm``.

Run::

    nice -n 5 .venv/bin/python bench/words.py [--every 5] [--verses 5000] [--parts scale,quality] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_images import run_child

SUFFIXES = (".py", ".rst", ".md", ".txt")


def package_lines(every: int) -> pd.DataFrame:
    """Every ``every``-th line of 3 words or more of the installed packages' text files, in path order."""
    from embedscope.words.tokens import words

    root = Path(sysconfig.get_paths()["purelib"])
    rows, seen = [], 0
    for p in sorted(root.rglob("*")):
        if p.suffix not in SUFFIXES or not p.is_file():
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for line in text.splitlines():
            if len(words(line)) >= 3:
                if seen % every == 0:
                    rows.append(line.strip()[:2000])
                seen += 1
    return pd.DataFrame({"id": [f"l{i}" for i in range(len(rows))], "text": rows})


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "embedscope", *args]


def scale(tmp: Path, every: int) -> dict[str, Any]:
    import embedscope

    t0 = time.perf_counter()
    df = package_lines(every)
    ws = tmp / "packages.scope"
    embedscope.create(ws).ingest(df)
    out: dict[str, Any] = {"corpus_lines": len(df), "ingest_s": round(time.perf_counter() - t0, 1), "stages": {}}
    for name, extra in (("vocabulary + word2vec", ["--spaces", "word2vec", "--no-layout"]),
                        ("glove", ["--spaces", "glove", "--no-layout"]),
                        ("minilm", ["--spaces", "minilm", "--no-layout"]),
                        ("kNN graphs + UMAP layouts (3 spaces)", []),
                        ("rerun (no-op)", [])):
        r = run_child(cli("words", str(ws), "--json", *extra))
        doc = r.pop("output")
        r["spaces"] = doc["spaces"]
        r["vocabulary_seconds"] = doc["vocabulary_seconds"]
        out["stages"][name] = r
        out.update({k: doc[k] for k in ("texts", "tokens", "distinct", "words", "glove_known")})
        print(f"{name}: {r['wall_s']} s, peak {r['peak_rss_mb']} MB", file=sys.stderr)
    return out


def quality(tmp: Path, verses: int) -> dict[str, Any]:
    import embedscope
    from embedscope.io.samples import bible

    ws = tmp / "kjv.scope"
    s = embedscope.create(ws)
    s.ingest(bible(verses))
    timings = {}
    for space, model in (("minilm", "local"), ("avg-word2vec", "avg:word2vec"), ("avg-glove", "avg:glove")):
        t0 = time.perf_counter()
        s.embed(space, model)
        timings[space] = round(time.perf_counter() - t0, 1)
    r = run_child(cli("compare", str(ws), "--spaces", "avg-word2vec,avg-glove,minilm", "--label", "division",
                      "--json"))
    two = run_child(cli("compare", str(ws), "--spaces", "avg-word2vec,minilm", "--label", "division", "--json"))
    from embedscope.ops.compare import verdict

    return {"verses": verses, "embed_s": timings, "retrieval": r["output"]["retrieval"],
            "verdict": verdict(two["output"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--verses", type=int, default=5000)
    ap.add_argument("--parts", default="scale,quality", help="scale, quality or both (comma-separated)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-words-") as d:
        doc: dict[str, Any] = {"machine": {"cores": os.cpu_count(),
                                           "load_start": [round(v, 2) for v in os.getloadavg()]}}
        if "scale" in parts:
            doc["scale"] = scale(Path(d), args.every)
        if "quality" in parts:
            doc["quality"] = quality(Path(d), args.verses)
    doc["machine"]["load_end"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(doc, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
