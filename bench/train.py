"""Fine-tuning (issue 21): ``Scope.train`` on the bundled King James sample with the bundled MiniLM, ``--label
division``.

Two parts:

1. **run N LR**: a workspace of N verses (evenly spread), the base space embedded (``local``: MiniLM, ONNX int8
   by default), then ``scope.train(base="local", label="division", epochs=1, lr=LR)``: wall time of the epoch,
   of embedding every item with the tuned model, peak RSS of the process, the load average, and the held-out
   before / after (same-label precision@10 with its paired bootstrap interval, kNN agreement, the probe) beside
   the training part's.
2. **steps N STOP**: the first STOP optimiser steps of an epoch on N verses (same examples, batch 32): seconds per
   step and peak RSS, for an epoch too long to run in full on a shared machine (epoch time = steps x median).

Run::

    nice .venv/bin/python bench/train.py run 2000 1e-4
    nice .venv/bin/python bench/train.py steps 10000 15
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, lr: float) -> dict:
    import embedscope
    from embedscope.io.samples import bible

    ws = Path(tempfile.mkdtemp()) / f"kjv{n}.scope"
    try:
        scope = embedscope.create(ws)
        scope.ingest(bible(n))
        load0, t0 = os.getloadavg(), time.time()
        scope.embed(model="local")
        base_s = time.time() - t0
        doc = scope.train(base="local", label="division", epochs=1, lr=lr)
        return {"n": n, "lr": lr, "base_embed_s": round(base_s, 1), "seconds": doc["seconds"], "steps": doc["steps"],
                "peak_rss_mb": round(peak_mb()), "load_before": load0, "load_after": os.getloadavg(),
                "split": doc["split"], "held_out": doc["held_out"], "train_part": doc["train_part"],
                "warnings": doc["warnings"], "loss_first_last": [doc["loss_curve"][0], doc["loss_curve"][-1]]}
    finally:
        shutil.rmtree(ws.parent, ignore_errors=True)


class _Stop(Exception):
    pass


def steps(n: int, stop: int) -> dict:
    from embedscope.embedders.tuned import TunedEmbedder
    from embedscope.io.samples import bible
    from embedscope.tune.examples import from_labels
    from embedscope.tune.finetune import TrainConfig, finetune
    from embedscope.tune.split import split

    df = bible(n)
    labels = df["division"].astype(str).to_numpy()
    held = split(n, labels, seed=0)
    ex = from_labels(df["text"][~held].tolist(), labels[~held])
    model = TunedEmbedder("local").model
    times: list[float] = []
    last = [time.perf_counter()]

    def cb(done: int, total: int, loss: float) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now
        if done >= stop:
            raise _Stop

    folder = Path(tempfile.mkdtemp())
    try:
        finetune(model, ex, TrainConfig(lr=1e-4, checkpoint_every=10**9), checkpoint=folder / "c.safetensors",
                 fingerprint="bench", progress=cb)
    except _Stop:
        pass
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    per_epoch = len(ex.batches(32, 0, 0))
    med = float(np.median(times[1:]))
    return {"n": n, "steps_per_epoch": per_epoch, "steps_timed": len(times), "step_s_median": round(med, 2),
            "epoch_s_estimate": round(med * per_epoch), "peak_rss_mb": round(peak_mb()), "load": os.getloadavg()}


if __name__ == "__main__":
    what, n, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(json.dumps(run(n, float(arg)) if what == "run" else steps(n, int(arg)), default=str))
