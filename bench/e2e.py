"""End to end on N sample texts: embedscope's CLI pipeline vs embedding-atlas's, file to served map.

Data: ``embedscope.io.samples.bible(N)`` (KJV verses spread evenly over the whole text) written to one Parquet file
with ``id``, ``text``, ``book`` and ``division``. Both tools start from that file, embed with the same model (the
bundled all-MiniLM-L6-v2, from its local directory, offline), build a kNN graph, fit UMAP and serve a map.

embedscope, as a user runs it: each step one CLI process in a fresh workspace, timed from spawn to exit:

    embedscope ingest WS DATA.parquet --text text --id id
    embedscope embed WS                    # default model and backend (ONNX int8 for the bundled model)
    embedscope knn WS                      # exact cosine graph, k = 50 (stored; neighbours and layouts read it)
    embedscope project WS --method umap    # UMAP on the stored graph + its honesty metrics, stored
    embedscope serve WS --port P           # "ready": spawn -> GET /api/info and the UMAP layout answered

embedding-atlas (``bench/_atlas_e2e.py``, run with ``--atlas-python``): its own command, in one process,
``embedding-atlas DATA.parquet --text text --model MODEL_DIR --host 127.0.0.1 --port P --no-auto-port`` with
``XDG_CACHE_HOME`` pointed at a fresh empty directory (its result cache, so it computes). Its phases, contiguous,
from spawn: "ingest" = start-up + imports + reading the file; "embed" = loading the model + encoding;
"kNN" = NN-descent (umap-learn's ``nearest_neighbors``); "layout" = the UMAP fit on it; "serve" = the rest
until ``GET /data/metadata.json`` and a DuckDB query of the coordinates (``/data/query``, Arrow) answer.

Quality: trustworthiness, continuity and kNN recall @15 of both layouts by embedscope's ``layout_quality``
against one reference, the exact cosine 15-NN graph of float32 (torch) MiniLM vectors: the cached
``CACHE/bible{N}_minilm.npy`` and its ``_knn15_*`` files (``bench/project.py``) when embedding-atlas's vectors
(also float32 torch) agree with them row by row (cosine >= 0.999), else atlas's vectors and a graph built here.
"same model" is checked: cosine of embedscope's stored vectors and atlas's, row by row (min/mean).

Peak MB: ``VmHWM`` of each embedscope process (polled every 50 ms, last value before exit); for embedding-atlas's
single process the peak so far at the end of each phase. ``nice -n 10`` the whole run on a shared machine; the
1-minute load average is printed at each step.

Setup of the embedding-atlas virtualenv: see ``bench/project.py``.

Run::

    nice -n 10 .venv/bin/python bench/e2e.py [--n 20000] [--onnx warm|cold] [--atlas-seed N] [--skip-atlas]
                                             [--cache-dir /tmp/embedscope-bench] [--keep] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

K = 15
SPACE = "minilm"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vmhwm_mb(pid: int) -> float | None:
    """Peak RSS (``VmHWM``) of a running process, in MB; ``None`` once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class PeakWatcher:
    """Polls a child's ``VmHWM`` every 50 ms; ``peak`` is the last value read (it only grows)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            v = vmhwm_mb(self.pid)
            if v is not None:
                self.peak = max(self.peak, v)
            self._stop.wait(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._t.join()
        return self.peak


def get(url: str, timeout: float = 30.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return bytes(r.read())


def wait_ready(proc: subprocess.Popen[bytes], urls: list[str], deadline_s: float) -> float:
    """Poll ``urls[0]`` until it answers 200, then fetch the others in order; time.time() when all answered."""
    end = time.time() + deadline_s
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering")
        try:
            get(urls[0], timeout=5)
            break
        except OSError:
            if time.time() > end:
                raise SystemExit(f"no answer from {urls[0]} after {deadline_s:.0f} s") from None
            time.sleep(0.05)
    for u in urls[1:]:
        get(u, timeout=120)
    return time.time()


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_step(name: str, cmd: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=fh)
        watch = PeakWatcher(proc.pid)
        rc = proc.wait()
    seconds = time.perf_counter() - t0
    peak = watch.stop()
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({rc}); see {log}:\n{log.read_text()[-3000:]}")
    print(f"embedscope {name}: {seconds:.1f} s, peak {peak:.0f} MB, load {load:.2f}", file=sys.stderr)
    return {"step": name, "seconds": seconds, "peak_mb": peak, "load1": load, "cmd": cmd}


def run_embedscope(exe: str, data: Path, work: Path, onnx: str) -> dict[str, Any]:
    ws, log = work / "e2e.scope", work / "embedscope.log"
    env = {**os.environ, **OFFLINE}
    embed_env = dict(env)
    onnx_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "embedscope" / "onnx"
    if onnx == "cold":  # an empty user cache dir for the embed step only: the ONNX export is redone
        embed_env["XDG_CACHE_HOME"] = str(work / "xdg-cold")
        onnx_dir = work / "xdg-cold" / "embedscope" / "onnx"
    onnx_before = sorted(p.name for p in onnx_dir.glob("*")) if onnx_dir.exists() else []
    numba_dir = Path(os.environ.get("NUMBA_CACHE_DIR") or Path.home() / ".cache" / "embedscope" / "numba")
    numba_files = sum(1 for _ in numba_dir.rglob("*.nbi")) if numba_dir.exists() else 0
    steps = [
        run_step("ingest", [exe, "ingest", str(ws), str(data), "--text", "text", "--id", "id"], env, log),
        run_step("embed", [exe, "embed", str(ws)], embed_env, log),
        run_step("knn", [exe, "knn", str(ws)], env, log),
        run_step("layout", [exe, "project", str(ws), "--method", "umap"], env, log),
    ]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load = os.getloadavg()[0]
    t0 = time.time()
    with open(log, "ab") as fh:
        proc = subprocess.Popen([exe, "serve", str(ws), "--port", str(port)], env=env, stdout=fh, stderr=fh)
        try:
            ready = wait_ready(proc, [f"{base}/api/info", f"{base}/api/spaces/{SPACE}/layouts/umap"], 600)
            peak = vmhwm_mb(proc.pid) or 0.0
        finally:
            stop(proc)
    steps.append({"step": "serve", "seconds": ready - t0, "peak_mb": peak, "load1": load,
                  "cmd": [exe, "serve", str(ws), "--port", str(port)]})
    print(f"embedscope serve: ready in {ready - t0:.1f} s, peak {peak:.0f} MB, load {load:.2f}", file=sys.stderr)
    return {"steps": steps, "total_s": sum(s["seconds"] for s in steps), "workspace": str(ws),
            "onnx_cache": "warm" if onnx_before else "cold", "onnx_cache_dir": str(onnx_dir),
            "numba_cache": f"{'warm' if numba_files else 'cold'} ({numba_files} index files in {numba_dir})"}


def run_atlas(python: str, data: Path, work: Path, model: str, seed: int | None, numba_dir: Path) -> dict[str, Any]:
    out = work / "atlas"
    xdg = work / "atlas-xdg"  # its result cache: empty, so it computes
    xdg.mkdir()
    numba_dir.mkdir(parents=True, exist_ok=True)
    numba_files = sum(1 for _ in numba_dir.rglob("*.nbi"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [python, str(Path(__file__).with_name("_atlas_e2e.py")), str(data), str(out), "--model", model,
           "--port", str(port)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    env = {**os.environ, **OFFLINE, "XDG_CACHE_HOME": str(xdg), "NUMBA_CACHE_DIR": str(numba_dir)}
    query = urllib.parse.quote(json.dumps({"sql": "SELECT projection_x, projection_y FROM dataset", "type": "arrow"}))
    load = os.getloadavg()[0]
    log = work / "atlas.log"
    loads: list[float] = []
    t0 = time.time()
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=fh)
        sampler = threading.Event()

        def sample_load() -> None:
            while not sampler.wait(30):
                loads.append(os.getloadavg()[0])

        threading.Thread(target=sample_load, daemon=True).start()
        try:
            ready = wait_ready(proc, [f"{base}/data/metadata.json", f"{base}/data/query?query={query}"], 7200)
            peak = vmhwm_mb(proc.pid) or 0.0
        finally:
            sampler.set()
            stop(proc)
    if proc.returncode not in (0, -signal.SIGINT):
        raise SystemExit(f"embedding-atlas run failed ({proc.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    ev = {e["event"]: e for e in map(json.loads, (out / "events.jsonl").read_text().splitlines())}
    if "done" not in ev:
        raise SystemExit(f"embedding-atlas helper did not finish; see {log}:\n{log.read_text()[-3000:]}")
    marks = [("ingest", "model_start"), ("embed", "embed_end"), ("knn", "knn_end"), ("layout", "umap_end")]
    steps, prev = [], t0
    for name, mark in marks:
        steps.append({"step": name, "seconds": ev[mark]["t"] - prev, "peak_mb": ev[mark]["vmhwm_mb"]})
        prev = ev[mark]["t"]
    steps.append({"step": "serve", "seconds": ready - prev, "peak_mb": peak})
    detail = {"startup_imports_s": ev["imported"]["t"] - t0, "read_file_s": ev["load_end"]["t"] - ev["load_start"]["t"],
              "model_load_s": ev["model_end"]["t"] - ev["model_start"]["t"],
              "encode_s": ev["embed_end"]["t"] - ev["embed_start"]["t"],
              "nn_descent_s": ev["knn_end"]["t"] - ev["knn_start"]["t"],
              "umap_fit_s": ev["umap_end"]["t"] - ev["knn_end"]["t"]}
    for s in steps:
        print(f"embedding-atlas {s['step']}: {s['seconds']:.1f} s, peak so far {s['peak_mb']:.0f} MB", file=sys.stderr)
    return {"steps": steps, "total_s": ready - t0, "load1": load, "load1_samples": loads, "detail": detail,
            "versions": {k: ev["done"][k] for k in ("embedding_atlas", "umap_learn", "sentence_transformers")},
            "argv": ev["cli_start"]["argv"], "batch_size": ev["embed_start"].get("batch_size"),
            "umap_args": ev["umap_end"].get("umap_args"), "n_neighbors": ev["knn_end"].get("n_neighbors"),
            "numba_cache": f"{'warm' if numba_files else 'cold'} ({numba_files} index files in {numba_dir})",
            "vectors": np.load(out / "vectors.npy"), "coords": np.load(out / "coords.npy"),
            "knn": np.load(out / "knn.npy")}


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray(np.einsum("ij,ij->i", a, b))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="number of verses (spread evenly over the KJV)")
    ap.add_argument("--onnx", choices=("warm", "cold"), default="warm",
                    help="warm: the user's ONNX export cache as it is; cold: an empty one for the embed step")
    ap.add_argument("--atlas-seed", type=int, default=None, help="--umap-random-state for embedding-atlas (default none)")
    ap.add_argument("--skip-atlas", action="store_true")
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/embedscope-bench"),
                    help="reference vectors and graph, atlas venv and numba cache (default /tmp/embedscope-bench)")
    ap.add_argument("--atlas-python", help="python of the embedding-atlas venv (default CACHE/atlas-venv/bin/python)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (workspace, logs, atlas arrays)")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)
    atlas_py = args.atlas_python or str(args.cache_dir / "atlas-venv" / "bin" / "python")
    if not args.skip_atlas and not Path(atlas_py).exists():
        raise SystemExit(f"{atlas_py} not found: create the embedding-atlas venv (see bench/project.py) or --skip-atlas")
    exe = str(Path(sys.executable).with_name("embedscope"))
    model = subprocess.run([sys.executable, "-c", "from embedscope.embedders.local import default_model_path as p; "
                            "print(p())"], capture_output=True, text=True, check=True).stdout.strip()

    work = Path(tempfile.mkdtemp(prefix=f"e2e-{args.n}-", dir=args.cache_dir))
    data = work / f"bible{args.n}.parquet"
    subprocess.run([sys.executable, "-c", "import sys; from embedscope.io.samples import bible; "
                    "bible(int(sys.argv[1]))[['id', 'text', 'book', 'division']].to_parquet(sys.argv[2], index=False)",
                    str(args.n), str(data)], check=True)
    print(f"data: {data} ({data.stat().st_size / 1e6:.1f} MB); work dir {work}", file=sys.stderr)
    load_start = os.getloadavg()
    try:
        es = run_embedscope(exe, data, work, args.onnx)
        at = None if args.skip_atlas else run_atlas(atlas_py, data, work, model, args.atlas_seed,
                                                      args.cache_dir / "numba-atlas-e2e")
        load_end = os.getloadavg()

        import pandas as pd

        from embedscope import Scope
        from embedscope.projection.quality import layout_quality
        from embedscope.search.exact import KNN, knn_graph

        ids = pd.read_parquet(data, columns=["id"])["id"].astype(str).tolist()
        scope = Scope.open(es["workspace"])
        sids, sx = scope.vectors(SPACE)
        lay = scope.layout(SPACE, "umap")
        pos = {i: r for r, i in enumerate(sids)}
        order = np.array([pos[i] for i in ids])
        sx = np.asarray(sx)[order]
        lpos = {i: r for r, i in enumerate(lay.ids)}
        s_coords = lay.coords[np.array([lpos[i] for i in ids])]
        from embedscope.workspace import vectors_table

        rec = scope.manifest.records[vectors_table(SPACE)]
        backend = rec.params.get("backend")

        cached = args.cache_dir / f"bible{args.n}_minilm.npy"
        ref_x, ref_src, truth = None, "", None
        if cached.exists():
            cx = np.load(cached)
            check = at["vectors"] if at else sx
            c = cosine_rows(cx, check) if cx.shape == check.shape else np.zeros(1)
            if c.min() >= (0.999 if at else 0.98):
                ref_x, ref_src = cx, f"{cached} (row cosine to {'atlas' if at else 'embedscope'} min {c.min():.5f})"
                ip, sp = (cached.with_name(f"{cached.stem}_knn{K}_{p}.npy") for p in ("indices", "scores"))
                if ip.exists() and sp.exists():
                    truth = KNN(np.load(ip), np.load(sp), "cosine")
            else:
                print(f"cached {cached} does not match (min row cosine {c.min():.4f}): not used", file=sys.stderr)
        if ref_x is None:
            if at is None:
                raise SystemExit("no float32 reference: run with embedding-atlas or bench/project.py first")
            ref_x, ref_src = at["vectors"].astype(np.float32), "embedding-atlas's float32 vectors (this run)"
        if truth is None:
            truth = knn_graph(np.ascontiguousarray(ref_x, dtype=np.float32), k=K, metric="cosine")
        quality = {"embedscope": layout_quality(ref_x, s_coords, k=K, high_knn=truth, sample=len(ref_x)).summary()}
        same: dict[str, Any] = {}
        if at:
            quality["embedding-atlas"] = layout_quality(ref_x, at["coords"], k=K, high_knn=truth,
                                                        sample=len(ref_x)).summary()
            c = cosine_rows(sx, at["vectors"])
            same = {"embedscope_vs_atlas_cos_min": float(c.min()), "embedscope_vs_atlas_cos_mean": float(c.mean())}
            nn = at.pop("knn")  # its 15 neighbours include the item itself (usually first)
            m = nn.shape[1] - 1
            own = [[j for j in row if j != i][:m] for i, row in enumerate(nn.tolist())]
            same["atlas_knn_recall"] = float(np.mean([len(set(a) & set(b)) / m
                                                      for a, b in zip(own, truth.indices[:, :m].tolist(), strict=True)]))
            at.pop("vectors"), at.pop("coords")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    result: dict[str, Any] = {
        "n": args.n, "k": K, "cpus": os.cpu_count(), "load_start": load_start, "load_end": load_end,
        "embedscope": {**es, "backend": backend},
        "embedding-atlas": at, "quality": quality, "same_model": same, "reference": ref_src,
        "model_dir": model, "data": f"embedscope.io.samples.bible({args.n}) -> Parquet (id, text, book, division)"}
    out = args.cache_dir / f"e2e_{args.n}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return result

    print(f"{args.n} KJV verses, file -> served UMAP map; {os.cpu_count()} CPUs; load average (1/5/15 min) "
          f"{'/'.join(f'{v:.2f}' for v in load_start)} at start, {'/'.join(f'{v:.2f}' for v in load_end)} at end")
    print(f"embedscope: one CLI process per step; ONNX export cache {es['onnx_cache']}; numba cache "
          f"{es['numba_cache'].split()[0]}")
    if at:
        print(f"embedding-atlas {at['versions']['embedding_atlas']} (umap-learn {at['versions']['umap_learn']}, "
              f"sentence-transformers {at['versions']['sentence_transformers']}): one process "
              f"(embedding-atlas CLI), numba cache {at['numba_cache'].split()[0]}")
    print(f"{'step':<9}{'embedscope s':>13}{'atlas s':>9}{'ratio':>7}{'es peak MB':>11}{'atlas peak MB':>14}")
    a_steps = {s["step"]: s for s in at["steps"]} if at else {}
    for s in es["steps"]:
        a = a_steps.get(s["step"])
        print(f"{s['step']:<9}{s['seconds']:>13.1f}{a['seconds'] if a else float('nan'):>9.1f}"
              f"{s['seconds'] / a['seconds'] if a else float('nan'):>7.2f}{s['peak_mb']:>11.0f}"
              f"{a['peak_mb'] if a else float('nan'):>14.0f}")
    a_total = at["total_s"] if at else float("nan")
    print(f"{'total':<9}{es['total_s']:>13.1f}{a_total:>9.1f}{es['total_s'] / a_total:>7.2f}")
    print(f"end to end: embedscope / embedding-atlas = {es['total_s'] / a_total:.2f}x")
    if at:
        d = at["detail"]
        print("atlas detail: " + ", ".join(f"{k} {v:.1f}" for k, v in d.items()))
    for tool, q in quality.items():
        print(f"{tool:<16} T@{K} {q['trustworthiness']:.4f}  C@{K} {q['continuity']:.4f}  R@{K} {q['knn_recall']:.3f}")
    if at:
        dt = quality["embedscope"]["trustworthiness"] - quality["embedding-atlas"]["trustworthiness"]
        print(f"dT (embedscope - atlas) {dt:+.4f}; vectors embedscope vs atlas: cosine min "
              f"{same['embedscope_vs_atlas_cos_min']:.4f}, mean {same['embedscope_vs_atlas_cos_mean']:.4f}; "
              f"atlas NN-descent graph recall@{K - 1} {same['atlas_knn_recall']:.4f} (embedscope's graph: exact)")
    print(f"reference: exact cosine {K}-NN of {ref_src}")
    return result


if __name__ == "__main__":
    main()
