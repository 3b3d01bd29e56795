"""Image embedding throughput: the bundled embedder (``--model image``, ONNX Runtime) against a plain torch forward
of the same EfficientNet-Lite0 weights, same run, same threads.

What is measured (images/s, wall clock, one process, ``cpu_threads()`` threads for torch and ONNX Runtime):

- ``plain torch forward`` (the reference: every ratio and cosine is against it): the decoded, preprocessed images
  (one float32 array, made once, outside every timing) through ``effnet.torch_model()`` in batches of ``B``;
- ``onnx forward``: the same array through the cached ONNX export (``ImageEmbedder().features``) in batches of
  ``effnet.CHUNK``;
- ``image embed (files)``: ``ImageEmbedder().embed(paths)``: decoding (``io.images.open_rgb``), preprocessing in a
  thread pool, the ONNX model, normalisation: what ``embedscope embed --model image`` runs per batch;
- ``torch embed (files)``: the same end to end with ``ImageEmbedder(backend="torch")``.

Images: every image file under ``FOLDER`` (recursive), or ``--n`` (500) JPEGs built from sklearn's sample photos
(random crops, rotations, colour changes, sizes 160-900 px) and its digits (upsampled), in a temporary folder.
Models are loaded (the ONNX file exported if not cached) and warmed up before timing. Each variant runs
``--repeat`` times, interleaved; the median is reported, with the load average before and after.

Run::

    nice -n 5 .venv/bin/python bench/images.py [FOLDER] [--n 500] [--batch-size 16] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def build_images(folder: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` JPEGs of varied content and size from sklearn's sample photos and digits."""
    from PIL import Image, ImageEnhance
    from sklearn.datasets import load_digits, load_sample_images

    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(a) for a in load_sample_images().images]
    digits = load_digits().images
    out = []
    for i in range(n):
        if i % 4 == 3:
            g = (255 - digits[i % len(digits)] * 16).clip(0, 255).astype(np.uint8)
            side = int(rng.integers(64, 256))
            img = Image.fromarray(g).resize((side, side), Image.Resampling.BILINEAR).convert("RGB")
        else:
            im = photos[i % 2]
            w, h = im.size
            s = int(min(w, h) * rng.uniform(0.4, 1.0))
            left, top = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
            img = im.crop((left, top, left + s, top + s)).rotate(float(rng.uniform(-25, 25)))
            img = ImageEnhance.Color(img).enhance(float(rng.uniform(0.5, 1.5)))
            side = int(rng.integers(160, 900))
            img = img.resize((side, int(side * rng.uniform(0.6, 1.4))), Image.Resampling.BICUBIC)
        p = folder / f"img{i:05d}.jpg"
        img.save(p, quality=90)
        out.append(str(p))
    return out


def _timed(fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", help="images to embed (default: build --n)")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=16, help="images per torch forward (reference)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import torch

    from embedscope.embedders import effnet, imageprep, onnxrt
    from embedscope.io.images import is_image_file

    threads = onnxrt.cpu_threads()
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.folder:
            paths = sorted(str(p) for p in Path(args.folder).rglob("*") if p.is_file() and is_image_file(p))
        else:
            paths = build_images(Path(tmp), args.n)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            x = imageprep.load_batch(paths, effnet.preprocess, pool)  # the same decoded images for both forwards
        ref_model = effnet.torch_model()
        onnx_emb, torch_emb = effnet.ImageEmbedder(), effnet.ImageEmbedder(backend="torch")

        def plain() -> np.ndarray:
            with torch.no_grad():
                return np.concatenate([ref_model(torch.from_numpy(x[i:i + args.batch_size])).numpy()
                                       for i in range(0, len(x), args.batch_size)])

        def onnx() -> np.ndarray:
            return np.concatenate([onnx_emb.features(x[i:i + effnet.CHUNK]) for i in range(0, len(x), effnet.CHUNK)])

        variants: dict[str, Callable[[], np.ndarray]] = {
            "plain torch forward": plain, "onnx forward": onnx,
            "image embed (files)": lambda: onnx_emb.embed(paths), "torch embed (files)": lambda: torch_emb.embed(paths)}
        onnx_emb.embed(paths[:4])  # load (export the ONNX file if not cached), warm up
        torch_emb.embed(paths[:4])
        with torch.no_grad():
            ref_model(torch.from_numpy(x[:4]))
        load_before = os.getloadavg()
        times: dict[str, list[float]] = {k: [] for k in variants}
        outs: dict[str, np.ndarray] = {}
        for _ in range(args.repeat):
            for name, fn in variants.items():
                dt, out = _timed(fn)
                times[name].append(dt)
                outs[name] = out
        load_after = os.getloadavg()
    ref = outs["plain torch forward"]
    base = len(paths) / statistics.median(times["plain torch forward"])
    rows: list[dict[str, Any]] = []
    for name in variants:
        rate = len(paths) / statistics.median(times[name])
        cos = _cos(outs[name], ref)
        rows.append({"variant": name, "images_per_s": round(rate, 1), "ratio": round(rate / base, 2),
                     "cos_min": round(float(cos.min()), 7), "cos_mean": round(float(cos.mean()), 7)})
    result = {"images": len(paths), "threads": threads, "repeat": args.repeat, "batch_size": args.batch_size,
              "load_before": [round(v, 2) for v in load_before], "load_after": [round(v, 2) for v in load_after],
              "rows": rows}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{len(paths)} images, {threads} threads, median of {args.repeat}; load {result['load_before']} -> "
          f"{result['load_after']}")
    for r in rows:
        print(f"  {r['variant']:<22} {r['images_per_s']:>8.1f} images/s  x{r['ratio']:<5} "
              f"cosine to plain torch min {r['cos_min']:.7f} mean {r['cos_mean']:.7f}")


if __name__ == "__main__":
    main()
