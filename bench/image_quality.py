"""Quality of the image sample (``embedscope demo --images``, 1,906 Noto Emoji): do neighbours in the image space
share a category more often than chance, and how well does the kept translator names -> images search?

Steps:

1. ``embedscope demo --images --no-serve WS`` in a child process under ``/usr/bin/time`` (wall clock, CPU time,
   peak resident memory), unless ``--ws`` names a workspace already built (then nothing is timed).
2. Same-category precision@10 of each space (``image``: the bundled EfficientNet-Lite0; ``minilm``: the emoji's
   names with the bundled MiniLM) and of a control of random Gaussian vectors (seeded, 384-d): for each item, the
   share of its 10 nearest other items (exact cosine) in the same category, averaged over items; against the
   category base rate, the chance that a random other item shares the category,
   ``sum_c p_c * (n_c - 1) / (n - 1)``. Also for the ~100 subcategories.
3. The translator ``minilm -> image`` the demo keeps: its held-out recall@10 and top-10 as recorded in
   ``scope.json`` (fitted on a split, measured on held-out items), against the mean-vector baseline recorded with it.

Run::

    nice -n 5 .venv/bin/python bench/image_quality.py [--ws BUILT.scope] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_images import run_child

K = 10


def precision_at_k(x: np.ndarray, labels: np.ndarray, k: int = K) -> float:
    """Mean share of each row's ``k`` nearest other rows (cosine) that carry its label."""
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    hits = 0
    for start in range(0, len(x), 1024):
        sims = x[start:start + 1024] @ x.T
        rows = np.arange(start, min(start + 1024, len(x)))
        sims[rows - start, rows] = -np.inf  # not itself
        nn = np.argpartition(-sims, k, axis=1)[:, :k]
        hits += int((labels[nn] == labels[rows, None]).sum())
    return hits / (len(x) * k)


def base_rate(labels: np.ndarray) -> float:
    """The chance that a random other item shares the label: ``sum_c p_c * (n_c - 1) / (n - 1)``."""
    _, counts = np.unique(labels, return_counts=True)
    n = len(labels)
    return float(np.sum(counts / n * (counts - 1) / (n - 1)))


def measure(ws: str, seed: int = 0) -> dict[str, Any]:
    from embedscope.scope import Scope
    from embedscope.store.tables import translator_table

    scope = Scope.open(ws)
    out: dict[str, Any] = {"spaces": {}}
    rng = np.random.default_rng(seed)
    for col in ("category", "subcategory"):
        rows: dict[str, Any] = {}
        for space in ("image", "minilm", "random"):
            if space == "random":
                ids, _ = scope.vectors("image")
                x = rng.standard_normal((len(ids), 384)).astype(np.float32)
            else:
                ids, x = scope.vectors(space)
            items = scope.items_for(space if space != "random" else "image", ["id", col])
            label = dict(zip(items.column("id").to_pylist(), items.column(col).to_pylist(), strict=True))
            labels = np.array([label[i] for i in ids], dtype=object)
            p = precision_at_k(np.asarray(x, np.float32), labels)
            b = base_rate(labels)
            rows[space] = {"items": len(ids), "dim": int(x.shape[1]), "labels": len(set(labels)),
                           "p@10": round(p, 4), "base_rate": round(b, 4), "lift": round(p / b, 2)}
        out["spaces"][col] = rows
    rec = scope.store.record(translator_table("minilm", "image"))
    if rec is not None:
        m = rec.metrics
        out["translator"] = {"from": "minilm", "to": "image", "method": rec.params.get("method"),
                             **{k: m.get(k) for k in ("recall@10", "baseline_recall@10", "top10", "baseline_top10",
                                                      "mean_cosine", "protocol", "n_test", "n_train")}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ws", help="a workspace demo --images already built (default: build one, timed)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="embedscope-bench-") as tmp:
        build = None
        ws = args.ws
        if ws is None:
            ws = str(Path(tmp) / "images.scope")
            build = run_child([sys.executable, "-m", "embedscope", "demo", "--images", "--no-serve", ws], env)
            build.pop("output")
        load = os.getloadavg()
        doc = {"build": build, **measure(ws), "load_measure": [round(v, 2) for v in load]}
    if args.json:
        print(json.dumps(doc, indent=1))
        return
    if build:
        print(f"demo --images --no-serve: {build['wall_s']:.1f} s wall, cpu {build['cpu_s']:.1f} s, peak RSS "
              f"{build['peak_rss_mb']:.0f} MB; load (1/5/15 min) before {build['load_before']}, after "
              f"{build['load_after']}")
    for col, rows in doc["spaces"].items():
        first = next(iter(rows.values()))
        print(f"same-{col} precision@10 ({first['items']} items, {first['labels']} {col} labels; base rate "
              f"{first['base_rate']:.4f})")
        for space, r in rows.items():
            print(f"  {space:<8} {r['dim']:>5}-d  p@10 {r['p@10']:.4f}  x{r['lift']:.2f} the base rate")
    t = doc.get("translator")
    if t:
        print(f"translator {t['from']} -> {t['to']} ({t['method']}, {t['protocol']}, {t['n_test']} test items): "
              f"recall@10 {t['recall@10']:.4f} vs mean-vector baseline {t['baseline_recall@10']:.4f} "
              f"(x{t['recall@10'] / max(t['baseline_recall@10'], 1e-12):.1f}); top-10 {t['top10']:.4f} vs "
              f"{t['baseline_top10']:.4f}")


if __name__ == "__main__":
    main()
