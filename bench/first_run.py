"""A new user's first map (issue 22, item 1): a fresh ``HOME`` with empty caches, timed from "command typed".

Two measurements, each in its own fresh ``HOME`` (so ``~/.cache/embedscope`` -- the ONNX export and numba's
kernel cache -- starts empty; ``NUMBA_CACHE_DIR`` and ``XDG_CACHE_HOME`` are removed from the environment):

- **demo**: ``embedscope demo WS --n N --port P`` from spawn until ``GET /api/spaces/minilm/layouts/umap``
  answers 200 (the map served). Skipped with ``--skip-demo``.
- **project**: 10,000 real MiniLM vectors (``--vectors``, a ``.npy``; the first ``--project-n`` rows) ingested
  with ``embedscope ingest WS FILE --space v --ids IDS`` and their kNN graph stored (``embedscope knn``), then
  ``embedscope project WS --space v`` timed from spawn to exit, twice in one run: ``cold`` in a ``HOME``
  where nothing was compiled, ``compiled`` in a ``HOME`` where an earlier command of the install compiled
  the kernels (``python -c 'from embedscope.projection.warm import warm_up; warm_up()'``, what ``make``
  runs; ``embedscope demo`` does the same in a background thread while it embeds). The two alternate
  ``--repeat`` times; medians reported, with the 1-min load average before and after each run.

Run::

    .venv/bin/python bench/first_run.py [--n 10000] [--skip-demo] [--repeat 3]
        [--vectors /tmp/embedscope-bench/bible20000_minilm.npy] [--project-n 10000] [--skip-project] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def fresh_env(home: Path) -> dict[str, str]:
    """The environment of a new user: ``HOME`` empty, no cache variables, offline, this source tree first."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", EMBEDSCOPE_PROGRESS="0",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return env


def cli(env: dict[str, str], *args: str) -> float:
    """Run ``embedscope ARGS`` to completion; seconds from spawn to exit."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "embedscope", *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"embedscope {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_demo(n: int, home: Path) -> float:
    """Seconds from ``embedscope demo`` spawned to its UMAP map served."""
    env = fresh_env(home)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/spaces/minilm/layouts/umap"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "embedscope", "demo", str(home / "demo.scope"), "--n", str(n),
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"demo exited ({proc.returncode}): {proc.stderr.read().decode()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.25)
    finally:
        proc.terminate()
        proc.wait(30)


def prepare_vectors(home: Path, vectors: Path, n: int) -> Path:
    """A workspace in ``home`` holding the first ``n`` rows of ``vectors`` as space ``v`` with its kNN graph."""
    x = np.load(vectors, mmap_mode="r")[:n]
    np.save(home / "v.npy", np.ascontiguousarray(x, dtype=np.float32))
    (home / "v.ids").write_text("\n".join(f"v{i}" for i in range(len(x))) + "\n")
    env = fresh_env(home)
    ws = home / "v.scope"
    cli(env, "ingest", str(ws), str(home / "v.npy"), "--space", "v", "--ids", str(home / "v.ids"))
    cli(env, "knn", str(ws), "--space", "v")
    return ws


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="verses of the demo")
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-project", action="store_true", help="time the demo only (no --vectors needed)")
    ap.add_argument("--vectors", type=Path, default=Path("/tmp/embedscope-bench/bible20000_minilm.npy"))
    ap.add_argument("--project-n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not args.skip_project and not args.vectors.is_file():
        ap.error(f"{args.vectors}: no such file; give --vectors FILE.npy (real MiniLM vectors, e.g. from "
                 "bench/project.py's cache) or --skip-project")
    out: dict[str, Any] = {"cpus": os.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        for r in range(args.repeat):
            run: dict[str, Any] = {}
            if not args.skip_demo:
                home = Path(tmp) / f"demo{r}"
                home.mkdir()
                load0 = os.getloadavg()[0]
                run["demo_s"] = time_demo(args.n, home)
                run["demo_load"] = [load0, os.getloadavg()[0]]
                print(f"demo {run['demo_s']:.1f} s, load {run['demo_load']}", file=sys.stderr, flush=True)
            for phase in () if args.skip_project else ("cold", "compiled"):
                home = Path(tmp) / f"{phase}{r}"
                home.mkdir()
                ws = prepare_vectors(home, args.vectors, args.project_n)
                env = fresh_env(home)
                if phase == "compiled":
                    subprocess.run([sys.executable, "-c", "from embedscope.projection.warm import warm_up; warm_up()"],
                                   env=env, check=True, capture_output=True)
                load0 = os.getloadavg()[0]
                run[f"project_{phase}_s"] = cli(env, "project", str(ws), "--space", "v", "--method", "umap")
                run[f"project_{phase}_load"] = [load0, os.getloadavg()[0]]
            out["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
    keys = [k for k in out["runs"][0] if k.endswith("_s")]
    out["median"] = {k: statistics.median(r[k] for r in out["runs"]) for k in keys}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"fresh HOME, empty caches; {args.repeat} run(s); {os.cpu_count()} CPUs; medians (1-min load before/after)")
        for k in keys:
            loads = [r[k[:-2] + "_load"] for r in out["runs"]]
            print(f"{k:<22}{out['median'][k]:>8.1f} s   load {loads}")
        if "project_cold_s" in out["median"]:
            m = out["median"]
            print(f"first project, kernels compiled earlier / cold: {m['project_compiled_s'] / m['project_cold_s']:.2f}x")
    return out


if __name__ == "__main__":
    main()
