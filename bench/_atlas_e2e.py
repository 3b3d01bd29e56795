"""embedding-atlas's own pipeline from a text file to a served viewer, run by ``bench/e2e.py`` with the *other*
virtualenv's python. Imports nothing from embedscope: it runs where embedscope is not installed.

Runs the ``embedding-atlas`` command itself, in this process (``embedding_atlas.cli.main``, ``standalone_mode=False``):

    embedding-atlas DATA.parquet --text text --model MODEL_DIR --host 127.0.0.1 --port PORT --no-auto-port

which loads the file (pandas), embeds the text column with sentence-transformers (``compute_projection``,
modality ``text``, batch size 32, float32 torch), builds its kNN graph (umap-learn's ``nearest_neighbors``,
NN-descent, 15 neighbours with self), fits UMAP on it, then builds its DuckDB data source and serves the viewer
with uvicorn until SIGINT/SIGTERM. The result cache lives under ``$XDG_CACHE_HOME/embedding_atlas/cache``:
``bench/e2e.py`` points ``XDG_CACHE_HOME`` at a fresh empty directory so everything is computed.

Nothing is changed; four functions are wrapped to time them: ``cli.load_datasets``, ``projection.create_embedder``
(loading the model), ``projection._run_embedding`` and ``umap.umap_.nearest_neighbors`` (inside
``projection._run_umap``). Each wrapper appends ``{"event", "t" (time.time()), "vmhwm_mb"}`` to
``OUT/events.jsonl`` as it happens. The server's readiness is measured by the caller (it polls the port). After
the server stops, the vectors, the 2-D layout and the kNN indices it computed are written to ``OUT/`` (outside
every timing).

Usage::

    ATLAS_PY _atlas_e2e.py DATA.parquet OUT_DIR --model MODEL_DIR --port PORT [--seed N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from _atlas_project import peak_rss_mb  # the same VmHWM reader (this directory is sys.path[0])


def main() -> None:
    t_start = time.time()
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out", type=Path)
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seed", type=int, default=None, help="--umap-random-state (default: none, its default)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log = open(args.out / "events.jsonl", "a", buffering=1)  # kept open for the whole run

    def event(name: str, **extra: Any) -> None:
        log.write(json.dumps({"event": name, "t": time.time(), "vmhwm_mb": peak_rss_mb(), **extra}) + "\n")

    event("process_start", t_process=t_start)
    import umap.umap_ as uu
    from embedding_atlas import cli
    from embedding_atlas import projection as ea
    from embedding_atlas.version import __version__

    event("imported")
    kept: dict[str, np.ndarray] = {}

    orig_load = cli.load_datasets

    def load_datasets(*a: Any, **k: Any) -> Any:
        event("load_start")
        df = orig_load(*a, **k)
        event("load_end", rows=len(df))
        return df

    orig_create = ea.create_embedder

    def create_embedder(*a: Any, **k: Any) -> Any:
        event("model_start")
        fn = orig_create(*a, **k)
        event("model_end")
        return fn

    orig_embed = ea._run_embedding

    async def run_embedding(*a: Any, **k: Any) -> np.ndarray:
        event("embed_start", batch_size=k.get("batch_size"))
        x = await orig_embed(*a, **k)
        event("embed_end")
        kept["vectors"] = x
        return x

    orig_nn = uu.nearest_neighbors

    def nearest_neighbors(*a: Any, **k: Any) -> Any:
        event("knn_start")
        r = orig_nn(*a, **k)
        event("knn_end", n_neighbors=k.get("n_neighbors"))
        kept["knn"] = r[0]
        return r

    orig_umap = ea._run_umap

    def run_umap(*a: Any, **k: Any) -> Any:
        p = orig_umap(*a, **k)
        event("umap_end", umap_args=k.get("umap_args"))
        kept["coords"] = np.asarray(p.projection, dtype=np.float32)
        return p

    cli.load_datasets = load_datasets
    ea.create_embedder = create_embedder
    ea._run_embedding = run_embedding
    uu.nearest_neighbors = nearest_neighbors
    ea._run_umap = run_umap

    argv = [args.data, "--text", "text", "--model", args.model, "--host", "127.0.0.1", "--port", str(args.port),
            "--no-auto-port"]
    if args.seed is not None:
        argv += ["--umap-random-state", str(args.seed)]
    event("cli_start", argv=argv, embedding_atlas=__version__)
    cli.main(argv, standalone_mode=False)  # blocks in uvicorn.run until SIGINT/SIGTERM
    event("server_stopped")
    for name, arr in kept.items():
        np.save(args.out / f"{name}.npy", arr)
    import sentence_transformers
    import umap

    event("done", embedding_atlas=__version__, umap_learn=umap.__version__,
          sentence_transformers=sentence_transformers.__version__)


if __name__ == "__main__":
    main()
