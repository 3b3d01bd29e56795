"""``embedscope train``: fine-tune a local sentence model on the workspace's data, embed every item into a new
space, and measure it honestly on items it never saw.

The order matters: the items are split into a training and a held-out part first (seeded, stratified by label:
:func:`embedscope.tune.split.split`), the model learns from the training part only
(:func:`embedscope.tune.finetune.finetune`, checkpoints as data in ``staging/``), then every item is embedded
with the tuned model, and the base and tuned spaces are compared on the held-out items, neighbours searched
among those items only (:func:`embedscope.analyses.heldout.before_after`); the training part's figures are
measured the same way on as many training items, and shown beside them.

Nothing is recorded until the end: a killed run leaves the workspace as it was (a checkpoint in ``staging/``),
and a rerun resumes from the last checkpoint; a rerun with the same inputs after success does nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from ..analyses.heldout import before_after, warnings_for
from ..embedders.tuned import TunedEmbedder, base_path_arg, state_arrays, weights_hash
from ..engines import get_engine
from ..errors import InputError
from ..io.modelfiles import save_state
from ..results import Progress
from ..store.manifest import Record
from ..store.tables import ITEMS, check_space_name, split_table, vectors_table
from ..tune.examples import Examples, from_labels, from_pairs, from_qrels
from ..tune.finetune import TrainConfig, finetune, require_torch
from ..tune.split import split
from .base import ScopeLike

#: Called after each training step with (done, total, loss).
StepCallback = Callable[[int, int, float], None]
#: Points of the loss curve kept in the record (the steps' losses averaged into at most this many).
CURVE_POINTS = 200
PARTS = ("train", "held_out")


class TrainScope(ScopeLike, Protocol):
    """What :func:`train` uses of a scope beyond :class:`.base.ScopeLike`."""

    def embed(self, space: str | None = None, model: str | None = None, *,
              progress: Progress | None = None) -> Any:
        """Embed every item into ``space`` with ``model``."""
        ...


def held_out(scope: ScopeLike, space: str) -> list[str] | None:
    """The ids of ``space``'s held-out items, or ``None`` when ``space`` is not a tuned space."""
    rec = scope.store.record(split_table(space))
    if rec is None:
        return None
    t = scope.store.read(split_table(space))
    ids, parts = t.column("id").to_pylist(), t.column("part").to_pylist()
    return [i for i, p in zip(ids, parts, strict=True) if p == "held_out"]


def train(scope: TrainScope, *, base: str = "local", label: str | None = None, pairs: str | Path | None = None,
          qrels: str | Path | None = None, space: str = "tuned", epochs: int = 1, batch_size: int = 32,
          lr: float = 2e-5, held_out_share: float = 0.2, seed: int = 0, checkpoint_every: int = 100,
          progress: Progress | None = None, on_step: StepCallback | None = None) -> dict[str, Any]:
    """Fine-tune ``base`` on the training part, embed every item into ``space``, compare on the held-out part.

    Parameters
    ----------
    base
        ``local`` (the bundled all-MiniLM-L6-v2) or ``local:PATH`` (a sentence-transformers model outside the
        workspace).
    label, pairs, qrels
        Exactly one: a metadata column of labels; a file of similar text pairs (:mod:`embedscope.io.pairs`;
        a value that is an item id stands for its text); a qrels file (:mod:`embedscope.io.qrels`).
    space
        The new space.
    epochs, batch_size, lr, seed, checkpoint_every
        Training parameters (:class:`embedscope.tune.finetune.TrainConfig`).
    held_out_share
        Share of the items held out (split before training).
    progress
        ``(stage, done, total)`` for ``train`` (steps) and ``embed`` (texts).
    on_step
        ``(done, total, loss)`` after every training step.

    Returns
    -------
    dict
        ``{"space", "base", "base_space", "epochs", "steps", "loss", "loss_curve", "split": {...},
        "held_out": {...}, "train_part": {...}, "warnings": [...], "seconds": {...}, "skipped": bool}``;
        ``held_out`` and ``train_part`` as :func:`embedscope.analyses.heldout.before_after`.
    """
    require_torch()
    if sum(v is not None for v in (label, pairs, qrels)) != 1:
        raise InputError("give exactly one of --label COL, --pairs FILE or --qrels FILE")
    check_space_name(space)
    if epochs < 1 or batch_size < 2 or lr <= 0 or checkpoint_every < 1:
        raise InputError("--epochs must be >= 1, --batch-size >= 2 and --lr > 0")
    if not 0.0 < held_out_share < 1.0:
        raise InputError(f"--held-out must lie between 0 and 1 (a share of the items), got {held_out_share}")
    base_path_arg(base)
    old = scope.store.record(vectors_table(space))
    if old is not None and not str(old.params.get("model", "")).startswith("tuned:"):
        raise InputError(f"space {space!r} already holds vectors from {old.params.get('model')!r}; choose "
                         "another --space for the tuned model")

    items = scope.store.items()
    if "text" not in items.column_names:
        raise InputError(f"{scope.path} has no texts to fine-tune on")
    mask = items.column("text").is_valid().to_numpy(zero_copy_only=False)
    ids = [s for s, m in zip(items.column("id").to_pylist(), mask, strict=True) if m]
    texts = [t for t in items.column("text").to_pylist() if t is not None]
    labels = None
    if label is not None:
        if label not in items.column_names or label in ("id", "text"):
            cols = [c for c in items.column_names if c not in ("id", "text")]
            raise InputError(f"--label {label!r} is not a metadata column of {scope.path}; columns: "
                             f"{', '.join(cols) or 'none'}")
        raw = [v for v, m in zip(items.column(label).to_pylist(), mask, strict=True) if m]
        labels = np.asarray(["" if v is None else str(v) for v in raw])
        if len(np.unique(labels[labels != ""])) < 2:
            raise InputError(f"--label {label!r} needs at least two distinct values to learn from")
    held = split(len(ids), labels, held_out=held_out_share, seed=seed)
    examples, data_fp = _examples(ids, texts, labels, held, label, pairs, qrels)
    if len(examples) < 2:
        raise InputError("fewer than two training examples in the training part; give more data")

    emb = TunedEmbedder(base, batch_size=batch_size * 4)
    emb.model_spec = f"tuned:{base}"
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, checkpoint_every=checkpoint_every)
    items_fp = scope.store.require(ITEMS).fingerprint
    split_info = {"seed": seed, "held_out": held_out_share, "by": label, "n_train": int((~held).sum()),
                  "n_held_out": int(held.sum())}
    run_fp = _digest({"base": emb.base_key, "data": data_fp, "items": items_fp, "split": split_info,
                      "config": {k: v for k, v in config.__dict__.items() if k != "checkpoint_every"}})
    if old is not None and old.params.get("run") == run_fp and not scope.store.space_is_stale(old) \
            and "summary" in old.metrics \
            and scope.store.record(split_table(space)) is not None \
            and scope.store.model_path(str(old.params.get("model_file"))).is_file():
        return {**old.metrics.get("summary", {}), "skipped": True}

    base_space = _base_space(scope, base, progress)
    staging = scope.store.staging_path(f"train-{space}-{run_fp[:16]}")
    model = emb.model
    t0 = time.perf_counter()
    result = finetune(model, examples, config, checkpoint=staging / "checkpoint.safetensors", fingerprint=run_fp,
                      progress=_steps(progress, on_step))
    train_s = time.perf_counter() - t0
    arrays = state_arrays(model)
    digest = weights_hash(arrays)
    emb.use(model, digest)
    file = f"{space}__tuned-{digest}.npz"

    t1 = time.perf_counter()
    with scope.store.writing():
        path = scope.store.model_path(file)
        if not path.is_file():  # the same name holds the same weights
            save_state(path, "tuned-sentence-transformer", arrays,
                       {"base": base, "base_key": emb.base_key, "weights": digest})
        del arrays
        cache = scope.store.lance_cache(emb.key)
        cb = (lambda d, t: progress("embed", d, t)) if progress else None
        vecs, _stats = get_engine("local").embed_texts(texts, emb, cache, model=emb.model_spec, options={},
                                                       staging=staging, batch_size=emb.batch_size, on_batch=cb)
        embed_s = time.perf_counter() - t1
        summary = _summary(scope, space, base, base_space, ids, vecs, labels, held, seed)
        summary.update({"epochs": epochs, "steps": result.steps, "loss": result.loss,
                        "loss_curve": _curve(result.loss_curve), "split": split_info,
                        "seconds": {"train": round(train_s, 2), "embed": round(embed_s, 2),
                                    "epochs": [round(s, 2) for s in result.epoch_seconds]},
                        "resumed_from": result.resumed_from})
        params = {"source": "embedded", **emb.spec(), "model": emb.model_spec, "modality": "text",
                  "base": base, "base_space": base_space, "model_file": file, "data": data_fp, "run": run_fp,
                  "split": split_info, "train": {"epochs": epochs, "batch_size": batch_size, "lr": lr,
                                                 "loss": result.loss, "steps": result.steps, "seed": seed},
                  "loss_curve": summary["loss_curve"]}
        part = ["held_out" if h else "train" for h in held]
        table = pa.table({"id": pa.array(ids, pa.string()), "part": pa.array(part, pa.string())})
        srec = Record(table=split_table(space), kind="split", params={"space": space, **split_info},
                      inputs={ITEMS: items_fp}, fingerprint=_digest({"ids": ids, "part": part}))
        scope.store.record_version(srec, scope.store.commit(srec.table, table), table.num_rows, save=False)
        scope.store.write_space(space, ids, vecs, params, {ITEMS: items_fp}, metrics={"summary": summary})
        for other in path.parent.glob(f"{space}__tuned-*.npz"):  # earlier fits, no longer recorded
            if other.name != file:
                other.unlink(missing_ok=True)
        cache.compact()
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    scope.forget_embedder(space)
    return {**summary, "skipped": False}


def _examples(ids: list[str], texts: list[str], labels: np.ndarray | None, held: np.ndarray, label: str | None,
              pairs: str | Path | None, qrels: str | Path | None) -> tuple[Examples, dict[str, Any]]:
    """The training examples (training part only) and the fingerprint of the data they come from."""
    if labels is not None:
        keep = ~held & (labels != "")
        rows = np.flatnonzero(keep)
        fp = _digest({"label": label, "values": labels.tolist()})
        return from_labels([texts[r] for r in rows], labels[rows]), {"label": label, "fingerprint": fp}
    text_of = dict(zip(ids, texts, strict=True))
    held_ids = {i for i, h in zip(ids, held, strict=True) if h}
    if pairs is not None:
        from ..io.pairs import read_pairs

        got = read_pairs(pairs)
        use = [(text_of.get(a, a), text_of.get(b, b)) for a, b in got if a not in held_ids and b not in held_ids]
        return from_pairs(use), {"pairs": str(pairs), "fingerprint": _file_digest(Path(pairs)),
                                 "used": len(use), "left_out": len(got) - len(use)}
    from ..io.qrels import read_qrels

    q = read_qrels(str(qrels))
    queries, relevant = [], []
    for query, rel in zip(q.queries, q.relevant, strict=True):
        if query in held_ids:
            continue
        good = [text_of[i] for i, g in rel.items() if g > 0 and i in text_of and i not in held_ids]
        if good:
            queries.append(text_of.get(query, query))
            relevant.append(good)
    return from_qrels(queries, relevant), {"qrels": str(qrels), "fingerprint": _file_digest(Path(str(qrels)))}


def _base_space(scope: TrainScope, base: str, progress: Progress | None) -> str:
    """The space embedded by the base model (the first such), embedded now when there is none."""
    for s in scope.spaces():
        rec = scope.store.record(vectors_table(s))
        if rec is not None and rec.params.get("source") == "embedded" and rec.params.get("model") == base \
                and not scope.store.space_is_stale(rec):
            return s
    report = scope.embed(model=base, progress=progress)
    return str(report.space)


def _summary(scope: ScopeLike, space: str, base: str, base_space: str, ids: list[str], vecs: np.ndarray,
             labels: np.ndarray | None, held: np.ndarray, seed: int) -> dict[str, Any]:
    """The before / after on the held-out part and on as many training items (seeded sample)."""
    _bids, bx, bpos = scope.store.arrays(base_space)
    rows_b = np.asarray([bpos.get(i, -1) for i in ids])
    usable = rows_b >= 0
    if labels is not None:
        usable &= labels != ""
    h = np.flatnonzero(held & usable)
    t = np.flatnonzero(~held & usable)
    rng = np.random.default_rng(seed)
    t = np.sort(rng.permutation(t)[:len(h)])
    lab = labels if labels is not None else None

    def measure(rows: np.ndarray) -> dict[str, Any]:
        return before_after(np.asarray(bx)[rows_b[rows]], vecs[rows], None if lab is None else lab[rows],
                            seed=seed)

    held_doc, train_doc = measure(h), measure(t)
    return {"space": space, "base": base, "base_space": base_space, "held_out": held_doc,
            "train_part": train_doc, "warnings": warnings_for(held_doc, train_doc)}


def _steps(progress: Progress | None, on_step: StepCallback | None) -> StepCallback | None:
    if progress is None and on_step is None:
        return None

    def cb(done: int, total: int, loss: float) -> None:
        if progress is not None:
            progress("train", done, total)
        if on_step is not None:
            on_step(done, total, loss)

    return cb


def _curve(losses: list[float]) -> list[float]:
    """The steps' losses averaged into at most :data:`CURVE_POINTS` points."""
    if len(losses) <= CURVE_POINTS:
        return [round(v, 5) for v in losses]
    parts = np.array_split(np.asarray(losses), CURVE_POINTS)
    return [round(float(p.mean()), 5) for p in parts]


def _digest(obj: Any) -> str:
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
