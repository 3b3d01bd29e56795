"""``add_tuned``: a tuned space written to the contract of ``embedscope train`` (notes/TUNE.md), without training.

What the explorer reads of a tuned space: the record of ``vectors__{space}`` (params ``source: "embedded"``,
``model: "tuned:local"``, ``base``, ``base_space``, ``model_file``, ``data``, ``split`` {seed, held_out, by, n_train, n_held_out},
``train`` {epochs, batch_size, lr, loss, steps}, ``loss_curve``) and the table ``split__{space}`` (``id``, ``part``
in ``"train"``/``"held_out"``). The vectors are the base space's pulled towards their label's centroid (what
training on the label does to the training part), written in reverse point order so a reader that forgets the
space's own point order shows up.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import embedscope
from embedscope.store.manifest import Record


def planted_split(ids: list[str], labels: list[str], held_out: float, seed: int) -> dict[str, str]:
    """A seeded split of ``ids`` stratified by ``labels``: ``id -> "train" | "held_out"``."""
    rng = np.random.default_rng(seed)
    part = dict.fromkeys(ids, "train")
    for value in sorted(set(labels)):
        group = [i for i, v in zip(ids, labels, strict=True) if v == value]
        for i in rng.permutation(group)[: round(held_out * len(group))]:
            part[str(i)] = "held_out"
    return part


def add_tuned(scope: embedscope.Scope, *, base: str = "minilm", space: str = "tuned", label: str = "topic",
              base_param: str = "local", base_space: bool = True, held_out: float = 0.2, pull: float = 0.5,
              seed: int = 0) -> dict[str, str]:
    """Store ``space`` as if ``embedscope train --base local --label LABEL`` had made it from ``base``; return
    the split (``id -> part``). ``base_param`` is what the record's ``base`` says (a model spec or a space);
    ``base_space``: whether the record names the base space too (``train`` does)."""
    ids, x = scope.vectors(base)
    labels = [str(v) for v in scope.items_for(base, [label]).column(label).to_pylist()]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    centroid = {v: x[[lab == v for lab in labels]].mean(axis=0) for v in set(labels)}
    tuned = np.stack([(1 - pull) * row + pull * centroid[lab] for row, lab in zip(x, labels, strict=True)])
    part = planted_split(list(ids), labels, held_out, seed)
    n_held = sum(p == "held_out" for p in part.values())
    params = {"source": "embedded", "model": "tuned:local", "base": base_param, "base_space": base,
              "model_file": f"{space}__tuned-0123456789ab.safetensors", "data": "0123456789abcdef",
              "split": {"seed": seed, "held_out": held_out, "by": label, "n_train": len(ids) - n_held,
                        "n_held_out": n_held},
              "train": {"epochs": 1, "batch_size": 32, "lr": 2e-5, "loss": "BatchAllTripletLoss", "steps": 2},
              "loss_curve": [0.9, 0.6]}
    if not base_space:
        del params["base_space"]
    split = pa.table({"id": pa.array(list(ids), pa.string()), "part": pa.array([part[i] for i in ids], pa.string())})
    store = scope.store
    with store.writing():
        store.write_space(space, list(ids)[::-1], tuned[::-1].astype(np.float32), params)
        record = Record(table=f"split__{space}", kind="split", params={"space": space, "seed": seed})
        store.record_version(record, store.commit(record.table, split), split.num_rows)
    scope.reload()
    return part
