"""Images at scale through the real CLI: ``embedscope ingest WS FOLDER`` (decoding, thumbnails, the images and items
tables), its rerun (nothing decoded), and ``embedscope embed WS`` (the default image model), each in a child
process under ``/usr/bin/time`` (wall clock, CPU time, peak resident memory: the maximum RSS).

References, measured in the same run, in child processes of their own:

- ``plain thumbnails``: the minimum work of an ingest without a workspace: read each file, SHA-256 it, decode it
  (Pillow, ``RGB``) and save a 128 px WebP thumbnail (``Image.thumbnail``, LANCZOS, quality 80), on the same number
  of threads as the ingest (:data:`embedscope.pipeline.images.WORKERS`), results dropped;
- ``plain embed``: ``ImageEmbedder().embed(paths)`` of the bundled model in slices of 64 files, vectors kept in one
  array, no workspace and no cache (what ``embed`` adds on top of the model: the cache, the space, the commit).

Images: ``--n`` (10,000) JPEGs of 640 x 480, built once into ``--cache`` (default
``~/.cache/embedscope/bench/images-640x480``) from sklearn's two sample photos (seeded crops, flips, colour and
brightness jitter) with one to three Noto Emoji of the sample data pasted on at random sizes and places, plus
Gaussian noise; ten sub-folders of ``n / 10``. ``--sizes`` runs the steps at several sizes (the first ``k`` files
of the same folder, hard-linked into a folder of their own) to see whether peak memory grows with the number of images.

Run::

    nice -n 5 .venv/bin/python bench/ingest_images.py [--n 10000] [--sizes 1000,10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Version of the generated corpus (a change rebuilds the cache).
CORPUS = 1
SIZE = (640, 480)


def corpus_dir(cache: Path, n: int, seed: int) -> Path:
    return cache / f"v{CORPUS}-n{n}-seed{seed}"


def build_corpus(cache: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` JPEGs of 640 x 480 in ``cache`` (built once; a ``done.json`` marks a complete set)."""
    from PIL import Image, ImageEnhance, ImageOps
    from sklearn.datasets import load_sample_images

    from embedscope.io.sample_images import emoji

    out = corpus_dir(cache, n, seed)
    per = max(1, -(-n // 10))
    paths = [out / f"part{i // per:02d}" / f"img{i:05d}.jpg" for i in range(n)]
    if (out / "done.json").is_file():
        return paths
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(a) for a in load_sample_images().images]
    glyphs = []
    for p in emoji()["image"].tolist():
        with Image.open(p) as im:
            glyphs.append(im.convert("RGBA"))
    t0 = time.perf_counter()
    for i, path in enumerate(paths):
        photo = photos[int(rng.integers(len(photos)))]
        w, h = photo.size
        s = float(rng.uniform(0.35, 1.0))
        cw, ch = int(w * s), int(h * s)
        left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        img = photo.crop((left, top, left + cw, top + ch)).resize(SIZE, Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            img = ImageOps.mirror(img)
        img = ImageEnhance.Color(img).enhance(float(rng.uniform(0.4, 1.6)))
        img = ImageEnhance.Brightness(img).enhance(float(rng.uniform(0.7, 1.3)))
        for _ in range(int(rng.integers(1, 4))):
            g = glyphs[int(rng.integers(len(glyphs)))]
            side = int(rng.integers(64, 321))
            g = g.resize((side, side), Image.Resampling.BICUBIC).rotate(float(rng.uniform(-30, 30)))
            img.paste(g, (int(rng.integers(0, SIZE[0] - side // 2)), int(rng.integers(0, SIZE[1] - side // 2))), g)
        a = np.asarray(img, dtype=np.int16) + rng.normal(0, float(rng.uniform(2, 12)), (SIZE[1], SIZE[0], 3))
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, quality=int(rng.integers(75, 96)))
        if (i + 1) % 1000 == 0:
            print(f"  built {i + 1} / {n} images ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    (out / "done.json").write_text(json.dumps({"n": n, "seed": seed, "version": CORPUS, "size": SIZE}))
    return paths


def subset(paths: list[Path], k: int, into: Path) -> Path:
    """A folder of hard links (copies across file systems) to the first ``k`` files, same sub-folders (not
    symlinks: ingest refuses a link that leads outside the folder)."""
    root = paths[0].parent.parent
    for p in paths[:k]:
        link = into / p.relative_to(root)
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(p, link)
        except OSError:
            shutil.copy2(p, link)
    return into


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` under ``/usr/bin/time``; its wall time, CPU time, peak RSS and the JSON it printed (if any).

    The peak comes from ``/usr/bin/time`` (a small process), not from ``os.wait4`` here: Linux carries the peak RSS
    of the forking process over ``execve``, so a child of this (large) process would report at least our size.
    """
    load = os.getloadavg()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *cmd], stdout=out, stderr=err,
                              env=env, check=False)
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(), err.read().decode()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{etext[-3000:]}")
        wall, user, sys_s, rss_kb = tf.read().split()[-4:]
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    return {"wall_s": float(wall), "cpu_s": round(float(user) + float(sys_s), 2),
            "peak_rss_mb": round(int(rss_kb) / 1024, 1), "load_before": [round(v, 2) for v in load],
            "load_after": [round(v, 2) for v in os.getloadavg()], "output": payload}


def plain_thumbnails(folder: str, threads: int) -> None:
    """Reference (child): read, hash, decode, thumbnail every JPEG under ``folder``; nothing kept."""
    import hashlib
    import io
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    paths = sorted(Path(folder).rglob("*.jpg"))

    def one(p: Path) -> int:
        data = p.read_bytes()
        hashlib.sha256(data).hexdigest()
        with Image.open(io.BytesIO(data)) as im:
            img = im.convert("RGB")
        img.thumbnail((128, 128), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="WEBP", quality=80, method=4)
        return len(buf.getvalue())

    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(one, paths))
    print(json.dumps({"files": len(paths), "thumb_bytes": total}))


def plain_embed(folder: str) -> None:
    """Reference (child): the bundled embedder on every JPEG under ``folder``, slices of 64, no workspace."""
    from embedscope.embedders.effnet import ImageEmbedder

    paths = sorted(str(p) for p in Path(folder).rglob("*.jpg"))
    emb = ImageEmbedder()
    out = np.empty((len(paths), 1280), np.float32)
    for i in range(0, len(paths), 64):
        out[i:i + 64] = emb.embed(paths[i:i + 64])
    print(json.dumps({"files": len(paths), "dim": int(out.shape[1])}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="images in the generated corpus")
    ap.add_argument("--sizes", default="", help="comma-separated sizes to run (default: --n)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "embedscope" / "bench" / "images-640x480"))
    ap.add_argument("--no-embed", action="store_true", help="ingest only")
    ap.add_argument("--no-reference", action="store_true", help="skip the plain references")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=["thumbs", "embed"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    from embedscope.pipeline.images import WORKERS

    if args.child == "thumbs":
        return plain_thumbnails(args.folder, WORKERS)
    if args.child == "embed":
        return plain_embed(args.folder)

    t0 = time.perf_counter()
    paths = build_corpus(Path(args.cache).expanduser(), args.n, args.seed)
    built = time.perf_counter() - t0
    sizes = [int(s) for s in args.sizes.split(",") if s] or [args.n]
    py = sys.executable
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cli = [py, "-m", "embedscope"]
    results: list[dict[str, Any]] = []
    for k in sizes:
        with tempfile.TemporaryDirectory(prefix="embedscope-bench-") as tmp:
            folder = subset(paths, k, Path(tmp) / "images") if k < len(paths) else paths[0].parent.parent
            ws = str(Path(tmp) / "bench.scope")
            steps: dict[str, dict[str, Any]] = {}
            if not args.no_reference:
                steps["plain thumbnails"] = run_child([py, __file__, "--child", "thumbs", "--folder", str(folder)], env)
            steps["ingest"] = run_child([*cli, "ingest", ws, str(folder), "--json"], env)
            steps["ingest again"] = run_child([*cli, "ingest", ws, str(folder), "--json"], env)
            if not args.no_embed:
                if not args.no_reference:
                    steps["plain embed"] = run_child([py, __file__, "--child", "embed", "--folder", str(folder)], env)
                steps["embed"] = run_child([*cli, "embed", ws, "--json"], env)
            ws_mb = sum(f.stat().st_size for f in Path(ws).rglob("*") if f.is_file()) / 2**20
        results.append({"images": k, "steps": steps, "workspace_mb": round(ws_mb, 1)})
    doc = {"corpus": str(corpus_dir(Path(args.cache).expanduser(), args.n, args.seed)), "built_s": round(built, 1),
           "cpus": os.cpu_count(), "workers": WORKERS, "runs": results}
    if args.json:
        print(json.dumps(doc, indent=1))
        return
    print(f"corpus {doc['corpus']} ({args.n} JPEGs 640x480; made or found in {built:.1f} s), {os.cpu_count()} CPUs, "
          f"ingest threads {WORKERS}")
    for r in results:
        print(f"{r['images']} images (workspace after embed: {r['workspace_mb']} MB)")
        st = r["steps"]
        for name, s in st.items():
            rate = r["images"] / s["wall_s"]
            ratio = ""
            ref = {"ingest": "plain thumbnails", "embed": "plain embed", "ingest again": "ingest"}.get(name)
            if ref and ref in st:
                ratio = f"  time x{s['wall_s'] / st[ref]['wall_s']:.2f} of {ref}"
            o = s["output"] or {}
            extra = f"  decoded {o['decoded']} reused {o['reused']}" if "decoded" in o else ""
            print(f"  {name:<17} {s['wall_s']:>8.1f} s {rate:>8.1f} images/s  cpu {s['cpu_s']:>7.1f} s  "
                  f"peak RSS {s['peak_rss_mb']:>7.1f} MB  load {s['load_before'][0]:.2f}->{s['load_after'][0]:.2f}"
                  f"{ratio}{extra}")
    print("time ratio = step wall time / reference wall time (same run); peak RSS = maximum resident set size of "
          "the step's process (/usr/bin/time)")


if __name__ == "__main__":
    main()
