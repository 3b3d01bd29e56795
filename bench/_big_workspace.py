"""A big served workspace for the scale benchmarks: ``build(n, path, seed)``.

Data: ``n`` unit vectors made from the 100,000 real MiniLM embeddings of ``bench/_corpus.py`` (King James
verses, clauses, verse pairs, phrases) as in ``bench/layout_1m.py``: vector ``i`` is real vector
``i mod 100,000`` plus seeded Gaussian noise (0.03 per dimension), re-normalised. Item ``i`` carries the real
text of its source vector (with ``[copy c]`` appended after the first copy), a ``kind`` column and a ``copy``
number, so the map can be coloured and hovered like any workspace.

What is stored, through the public API, each step timed (wall clock) with the process's peak memory so far:

1. ``Scope.ingest`` of the items (a DataFrame) and ``Scope.add_vectors`` of the vectors (one Lance table);
2. ``Scope.knn``: the stored cosine kNN graph (k=50); above 200,000 items the approximate path (usearch HNSW,
   recall@10 measured on 1,000 sampled items and stored with the graph);
3. ``Scope.project(space, "pca")``: a PCA layout stored like any other, with its honesty figures.

The timings are written to ``bench-build.json`` next to the workspace's ``scope.json``; a second ``build`` with
the same ``n`` and ``seed`` reuses the workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))

import embedscope
from _corpus import bible_texts, bible_vectors

SPACE = "minilm"
REAL = 100_000
NOISE = 0.03


def vm_hwm_mb() -> float:
    """Peak resident memory of this process so far (MB), from /proc/self/status."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_vectors(n: int, seed: int = 0, noise: float = NOISE) -> tuple[list[str], np.ndarray]:
    """Ids of the real source vectors and ``(n, 384)`` float32 unit vectors: real vector ``i mod 100,000`` + noise."""
    ids, base = bible_vectors(REAL, log=_log)
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), np.float32)
    for lo in range(0, n, REAL):
        hi = min(n, lo + REAL)
        block = base[np.arange(lo, hi) % len(base)] + noise * rng.standard_normal((hi - lo, base.shape[1]),
                                                                                  dtype=np.float32)
        out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return ids, out


def items_frame(n: int, real_ids: list[str]) -> pd.DataFrame:
    """Ids, texts, kind and copy number of ``n`` items whose vectors come from :func:`make_vectors`."""
    texts = bible_texts(REAL)
    if texts["id"].tolist() != real_ids:
        raise SystemExit("the cached bible vectors do not match bible_texts(100000); delete /tmp/embedscope-bench/bible-*")
    src = np.arange(n) % REAL
    copy = np.arange(n) // REAL
    text = texts["text"].to_numpy()[src]
    suffix = np.where(copy > 0, np.char.add(" [copy ", np.char.add(copy.astype(str), "]")), "")
    return pd.DataFrame({"id": [f"{real_ids[s]}#{c}" for s, c in zip(src.tolist(), copy.tolist(), strict=True)],
                         "text": np.char.add(text.astype(str), suffix).tolist(),
                         "kind": texts["kind"].to_numpy()[src], "copy": copy.astype(np.int32)})


def as_minilm_space(path: str | Path) -> None:
    """Record the space as made by the bundled MiniLM model on the default backend (its vectors are MiniLM
    vectors plus a little noise), so the server embeds queries as it would in a workspace embedded today;
    the vectors table and its fingerprint are untouched, so the stored graph and layout stay valid. Embedding
    a million texts here would take hours."""
    from embedscope.embedders import get_embedder

    scope = embedscope.open(path)
    spec = get_embedder("local").spec()  # the default backend's: what a workspace embedded today records
    with scope.store.writing():
        rec = scope.manifest.records[f"vectors__{SPACE}"]
        if rec.params.get("source") == "embedded" and rec.params.get("key") == spec["key"]:
            return
        for stale in ("key", "backend"):  # recorded by an older default (torch had no backend entry)
            rec.params.pop(stale, None)
        rec.params.update({"source": "embedded", "model": "local", **spec,
                           "note": "MiniLM vectors of the texts' source verses plus noise (bench/_big_workspace.py)"})
        rec.inputs = {"items": scope.manifest.records["items"].fingerprint}
        scope.manifest.save(scope.path)


def _pca_layout_without_graph(scope: Any) -> dict[str, Any]:
    """Store a PCA layout the way ``Scope.project`` does, with honesty from sampled exact neighbours."""
    import pyarrow as pa

    from embedscope.pipeline.layouts import write_layout
    from embedscope.projection import project as _project
    from embedscope.projection.quality import layout_quality

    with scope.store.writing():
        ids, x, _ = scope.store.arrays(SPACE)
        res = _project(x, "pca", knn=None, seed=42)
        q = layout_quality(x, res.extra.get("xyz", res.coords), k=15, high_knn=None, seed=42)
        cols: dict[str, Any] = {"id": pa.array(ids, pa.string()), "x": pa.array(res.coords[:, 0]),
                                "y": pa.array(res.coords[:, 1])}
        if "z" in res.extra:
            cols["z"] = pa.array(res.extra["z"])
        want = {"method": "pca", "space": SPACE, "seed": 42, "k": 15}
        write_layout(scope, SPACE, "pca", ids, res.coords, cols, q, {"request": want, **res.params}, res.metrics)
    return dict(q.summary())


def build(n: int = 1_000_000, path: str | Path = "/tmp/embedscope-bench/serve-1000000.scope", seed: int = 0,
          *, graph: bool = True, force: bool = False) -> dict[str, Any]:
    """Build (or reuse) a workspace of ``n`` points at ``path``; returns the step timings (see the module doc).

    With ``graph=False`` no kNN graph is stored and the PCA layout is stored without one: its honesty is measured
    on a 5,000-item sample with exact neighbours among all items, as ``Scope.project`` does for big UMAP
    layouts (``Scope.project(space, "pca")`` would build the graph first).
    """
    path = Path(path)
    stamp = path / "bench-build.json"
    if not force and stamp.exists():
        doc = json.loads(stamp.read_text())
        if doc.get("n") == n and doc.get("seed") == seed:
            _log(f"reusing {path} ({n:,} points, built {doc.get('built')})")
            as_minilm_space(path)
            return dict(doc)
    if path.exists():
        shutil.rmtree(path)
    steps: dict[str, dict[str, float]] = {}

    def mark(name: str, t0: float) -> None:
        steps[name] = {"s": round(time.perf_counter() - t0, 2), "peak_mb": round(vm_hwm_mb())}
        _log(f"{name}: {steps[name]['s']:.1f} s, peak {steps[name]['peak_mb']:,.0f} MB")

    t0 = time.perf_counter()
    real_ids, x = make_vectors(n, seed)
    frame = items_frame(n, real_ids)
    mark("make_data", t0)
    scope = embedscope.create(path)
    t0 = time.perf_counter()
    scope.ingest(frame)
    ids = frame["id"].tolist()
    del frame
    mark("ingest_items", t0)
    t0 = time.perf_counter()
    scope.add_vectors(SPACE, ids, x)
    del x, ids
    as_minilm_space(path)
    scope.reload()
    mark("store_vectors", t0)

    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done:,}/{total:,}", end="", file=sys.stderr, flush=True)

    if graph:
        t0 = time.perf_counter()
        scope.knn(SPACE, progress=progress)
        print(file=sys.stderr)
        mark("knn_graph", t0)
        t0 = time.perf_counter()
        layout = scope.project(SPACE, "pca", progress=progress)
        quality = layout.quality
    else:
        t0 = time.perf_counter()
        quality = _pca_layout_without_graph(scope)
    print(file=sys.stderr)
    mark("pca_layout", t0)
    doc = {"n": n, "seed": seed, "dim": 384, "noise": NOISE, "space": SPACE, "built": time.strftime("%Y-%m-%d %H:%M"),
           "cpus": os.cpu_count(), "load_average": os.getloadavg(), "steps": steps,
           "graph": scope.graph_info(SPACE), "layout_quality": quality}
    stamp.write_text(json.dumps(doc, indent=2, default=str))
    return doc


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Build a big workspace for bench/serve.py and bench/knn_1m.py.")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--path", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--no-graph", action="store_true", help="store no kNN graph (build it later with Scope.knn)")
    a = ap.parse_args()
    print(json.dumps(build(a.n, a.path or f"/tmp/embedscope-bench/serve-{a.n}.scope", a.seed, graph=not a.no_graph,
                           force=a.force),
                     indent=2, default=str))
