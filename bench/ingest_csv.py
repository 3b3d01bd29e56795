"""Peak memory and wall time of ``embedscope ingest`` on a generated ~200 MB CSV (issue 23, item 11).

    python bench/ingest_csv.py [--rows 400000] [--json]

Writes ``/tmp/embedscope-bench/ingest-ROWS.csv`` (seeded: ids ``doc-N``, ~500-character texts of common words
with an accented word in one text of ten, a topic and a float column) if missing, then runs the real CLI in its
own process under ``/usr/bin/time -v`` into a fresh workspace and reports the maximum resident set size. Run it
with ``PYTHONPATH`` pointing at another ``src/`` to measure another version.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORDS = ("river stone light cloud north ember quiet harbour lantern meadow copper winter signal orchard "
         "caf\u00e9").split()


def make_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    words = np.array(WORDS)
    plain = len(WORDS) - 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "topic", "score"])
        for i in range(rows):
            text = " ".join(words[rng.integers(0, plain + (i % 10 == 0), 80)])[:500]
            w.writerow([f"doc-{i}", text, ["a", "b", "c"][i % 3], i * 0.5])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    src = Path(f"/tmp/embedscope-bench/ingest-{args.rows}.csv")
    if not src.exists():
        make_csv(src, args.rows)
    ws = src.with_suffix(".scope")
    shutil.rmtree(ws, ignore_errors=True)
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "embedscope", "ingest", str(ws), str(src)],
                       capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))  # type: ignore[union-attr]
    doc = {"rows": args.rows, "file_mb": round(src.stat().st_size / 2**20, 1), "peak_rss_mb": round(peak / 1024),
           "wall_s": round(wall, 1)}
    shutil.rmtree(ws, ignore_errors=True)
    print(json.dumps(doc) if args.json else
          f"{doc['rows']} rows, {doc['file_mb']} MB: peak RSS {doc['peak_rss_mb']} MB, {doc['wall_s']} s")


if __name__ == "__main__":
    main()
