"""Bring-your-own vectors from a file to a served map, each CLI step in its own process: time and peak memory.

Data: ``n`` x 384 float32 vectors made like ``bench/_big_workspace.py``: vector ``i`` is real MiniLM vector
``i mod 100,000`` of ``bench/_corpus.py`` (``/tmp/embedscope-bench/bible-100000-minilm.npy``) plus seeded
Gaussian noise (0.03 per dimension), then scaled by a seeded length in [0.5, 2] so the file is *not*
normalised (as user vectors often are not). Written as Parquet in row groups of 50,000 (``id``: odd-looking
strings with leading zeros, a slash, a space and a non-ASCII letter; ``vector``: fixed-size list of float32;
``copy``: an int32 metadata column), or as ``.npy`` plus an ids file with ``--format npy``.

Then the real CLI, one subprocess a step, each under ``/usr/bin/time -v`` (wall clock and the process's
maximum resident set size):

1. ``embedscope ingest WS FILE --space byo``;
2. with ``--graph``: ``embedscope knn WS`` (the stored cosine kNN graph, k=50: exact up to 200,000 items, HNSW
   above, with its recall@10 measured on 1,000 items);
3. ``embedscope project WS --method M`` for each M of ``--layouts`` (default ``umap``; above 100,000 items UMAP
   fits a 50,000-item sample and places the rest; without a stored graph, honesty is measured on a sample of
   items, each ranked exactly against all items);
4. ``embedscope serve WS``, until the page's data has been fetched: ``/api/info``, the first layout of
   ``--layouts`` (Arrow x, y), its per-item honesty and the column list; peak memory of the server from
   ``/proc/PID/status`` (``VmHWM``) after those requests.

"Copies" is (peak - baseline) / (n * d * 4 bytes), the baseline being the peak of a process that imports what
the steps import (numpy, pyarrow, lancedb, pandas, sklearn, the CLI) and does nothing. Run::

    nice -n 5 .venv/bin/python bench/byo_1m.py --n 1000000 [--layouts pca,umap] [--graph] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SPACE = "byo"
REAL_NPY = Path("/tmp/embedscope-bench/bible-100000-minilm.npy")
NOISE = 0.03
ROW_GROUP = 50_000


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def odd_id(i: int) -> str:
    """An id that a careless reader would mangle: leading zeros, a slash, a space, a non-ASCII letter."""
    return f"00{i:07d}/é x{(i * 2654435761) % 9973:04d}"


def write_file(n: int, folder: Path, fmt: str, seed: int = 0) -> Path:
    """Write ``n`` x 384 unnormalised vectors (see the module doc) and return the file's path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = np.load(REAL_NPY, mmap_mode="r")
    real, d = base.shape
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"vectors-{n}.{fmt}"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    writer: Any = None
    out = None
    if fmt == "npy":
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, d))
    for lo in range(0, n, ROW_GROUP):
        hi = min(n, lo + ROW_GROUP)
        block = np.asarray(base[np.arange(lo, hi) % real], np.float32)
        block += NOISE * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        block *= rng.uniform(0.5, 2.0, size=(hi - lo, 1)).astype(np.float32)
        if out is not None:
            out[lo:hi] = block
            continue
        t = pa.table({"id": pa.array([odd_id(i) for i in range(lo, hi)], pa.string()),
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), d),
                      "copy": pa.array(np.arange(lo, hi) // real, pa.int32())})
        if writer is None:
            writer = pq.ParquetWriter(tmp, t.schema)
        writer.write_table(t, row_group_size=ROW_GROUP)
    if out is not None:
        out.flush()
        del out
        (folder / f"vectors-{n}.ids").write_text("\n".join(odd_id(i) for i in range(n)) + "\n", encoding="utf-8")
    else:
        writer.close()
    tmp.replace(path)
    return path


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd`` under ``/usr/bin/time -v``; wall seconds, peak RSS (MB), and its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    peak = int(m.group(1)) / 1024 if m else float("nan")
    return {"s": round(wall, 1), "peak_mb": round(peak), "load": [round(v, 2) for v in os.getloadavg()],
            "stdout": proc.stdout}


def serve_until_ready(ws: Path, port: int, env: dict[str, str], method: str) -> dict[str, Any]:
    """Start ``embedscope serve``, fetch what the page needs for its first paint, return time and peak RSS."""
    import httpx

    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "embedscope", "serve", str(ws), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    fetched = 0
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"serve exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            try:
                if httpx.get(url + "/api/info", timeout=600).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        up = time.perf_counter() - t0
        for path in (f"/api/spaces/{SPACE}/layouts/{method}", f"/api/spaces/{SPACE}/layouts/{method}/honesty",
                     f"/api/spaces/{SPACE}/columns"):
            r = httpx.get(url + path, timeout=600)
            r.raise_for_status()
            fetched += len(r.content)
        wall = time.perf_counter() - t0
        with open(f"/proc/{proc.pid}/status") as fh:
            hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    finally:
        proc.terminate()
        proc.wait(30)
    return {"s": round(wall, 1), "up_s": round(up, 1), "peak_mb": round(hwm), "bytes": fetched,
            "load": [round(v, 2) for v in os.getloadavg()]}


def baseline(env: dict[str, str]) -> dict[str, Any]:
    code = ("import numpy, pyarrow, pyarrow.parquet, pandas, lancedb, sklearn.decomposition, scipy.spatial, "
            "embedscope.cli, embedscope.workspace")
    return timed([sys.executable, "-c", code], env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dir", default=None, help="folder for the file and the workspace "
                    "(default /tmp/embedscope-bench/byo-N)")
    ap.add_argument("--format", choices=("parquet", "npy"), default="parquet")
    ap.add_argument("--graph", action="store_true", help="also build the kNN graph (+ PCA layout); at 1M the HNSW "
                    "graph takes 30-60+ min here")
    ap.add_argument("--layouts", default="umap", help="comma-separated layout methods, run in this order; "
                    "the first is the map served (default umap)")
    ap.add_argument("--reuse", action="store_true", help="keep the workspace of an earlier run and skip ingest")
    ap.add_argument("--port", type=int, default=8797)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    folder = Path(a.dir or f"/tmp/embedscope-bench/byo-{a.n}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    d = 384
    copy_mb = a.n * d * 4 / 2**20
    t0 = time.perf_counter()
    path = write_file(a.n, folder, a.format)
    _log(f"file {path} ({path.stat().st_size / 2**20:,.0f} MB) ready in {time.perf_counter() - t0:.1f} s; "
         f"one copy of the vectors = {copy_mb:,.0f} MB")
    ws = folder / f"ws-{a.format}.scope"
    if ws.exists() and not a.reuse:
        shutil.rmtree(ws)
    layouts = [m.strip() for m in a.layouts.split(",") if m.strip()]
    cli = [sys.executable, "-m", "embedscope"]
    steps: dict[str, dict[str, Any]] = {}
    steps["baseline"] = baseline(env)
    _log(f"baseline (imports only): peak {steps['baseline']['peak_mb']} MB")
    ingest = [*cli, "ingest", str(ws), str(path), "--space", SPACE, "--json"]
    if a.format == "npy":
        ingest += ["--ids", str(folder / f"vectors-{a.n}.ids")]
    plan: list[tuple[str, list[str]]] = [] if a.reuse else [("ingest", ingest)]
    if a.graph:
        plan.append(("knn_graph", [*cli, "knn", str(ws), "--json"]))
    plan += [(f"layout_{m}", [*cli, "project", str(ws), "--method", m, "--json"]) for m in layouts]
    for name, cmd in plan:
        _log(f"{name}: {' '.join(cmd[2:])}")
        steps[name] = timed(cmd, env)
        _log(f"  {steps[name]['s']:.1f} s, peak {steps[name]['peak_mb']:,} MB, load {steps[name]['load']}")
    _log("serve: until the map's data has been fetched")
    steps["serve"] = serve_until_ready(ws, a.port, env, layouts[0])
    _log(f"  {steps['serve']['s']:.1f} s, peak {steps['serve']['peak_mb']:,} MB")
    base = steps["baseline"]["peak_mb"]
    for name, st in steps.items():
        if name != "baseline":
            st["copies"] = round((st["peak_mb"] - base) / copy_mb, 2)
    info = json.loads(subprocess.run([*cli, "info", str(ws), "--json"], capture_output=True, text=True,
                                     env=env, check=True).stdout)
    doc = {"n": a.n, "d": d, "format": a.format, "file_mb": round(path.stat().st_size / 2**20),
           "one_copy_mb": round(copy_mb), "cpus": os.cpu_count(),
           "steps": {k: {kk: vv for kk, vv in v.items() if kk != "stdout"} for k, v in steps.items()},
           "quality": {r["method"]: {k: r.get(k) for k in ("trustworthiness", "continuity", "knn_recall",
                                                             "sampled")}
                       for r in json.loads(subprocess.run([*cli, "quality", str(ws), "--json"], capture_output=True,
                                                          text=True, env=env, check=True).stdout)["layouts"]},
           "space": next(s for s in info["spaces"] if s["name"] == SPACE)}
    if a.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"{a.n:,} x {d} bring-your-own vectors ({a.format}, {doc['file_mb']:,} MB); one copy = {copy_mb:,.0f} MB; "
          f"baseline process {base:,} MB")
    print(f"{'step':24s} {'wall s':>8s} {'peak MB':>9s} {'copies':>7s}  load")
    for name, st in steps.items():
        if name == "baseline":
            continue
        print(f"{name:24s} {st['s']:8.1f} {st['peak_mb']:9,} {st['copies']:7.2f}  {st['load']}")
    print(json.dumps(doc["quality"]))


if __name__ == "__main__":
    main()
