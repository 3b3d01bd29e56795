"""Our own training loop around a sentence-transformers model and its loss modules, resumable from data.

Why not sentence-transformers' ``SentenceTransformerTrainer``: it needs ``datasets`` and ``accelerate`` (not
dependencies of embedscope), and its checkpoints are pickles (``torch.save`` of the optimizer and the RNG
states), while a workspace never holds a pickle (:mod:`embedscope.io.modelfiles`). This loop is small:
AdamW, a linear warm-up then linear decay of the learning rate, seeded batches (:meth:`.Examples.batches`)
and dropout seeded per step, so a run resumed from a checkpoint takes the same steps as one never stopped.

A checkpoint is one ``.safetensors`` file (written atomically: temporary file, then rename) holding the
model's state dict (``model.{name}``), AdamW's moments (``exp_avg.{i}``, ``exp_avg_sq.{i}``) and, as JSON in
its metadata, the step, the loss curve, the seed and the run's fingerprint. It is written every
``checkpoint_every`` steps and at the end of each epoch. A checkpoint of another run (another fingerprint)
is ignored.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError
from .examples import Examples

#: Called after each step with (steps done, steps in all, the step's loss).
StepCallback = Callable[[int, int, float], None]


@dataclass(frozen=True)
class TrainConfig:
    """The parameters of a run (all of them change the weights, so all are in the run's fingerprint)."""

    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    seed: int = 0
    warmup: float = 0.1
    weight_decay: float = 0.01
    checkpoint_every: int = 100


@dataclass
class TrainResult:
    """What a run did.

    Attributes
    ----------
    loss_curve
        The loss of every step, in order (a resumed run includes the steps before the stop).
    steps
        Optimiser steps in all.
    resumed_from
        The step the run resumed from (0: from the start).
    loss
        The loss module's name.
    seconds
        Wall time of the steps this call ran.
    epoch_seconds
        Wall time of each epoch this call ran in full.
    """

    loss_curve: list[float]
    steps: int
    resumed_from: int
    loss: str
    seconds: float
    epoch_seconds: list[float] = field(default_factory=list)


def require_torch() -> None:
    """Raise :class:`~embedscope.errors.MissingDependencyError` (naming ``pip install 'embedscope[local]'``)
    when torch or sentence-transformers is missing."""
    try:
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise MissingDependencyError("fine-tuning", "local", "sentence-transformers") from None


def loss_module(model: Any, examples: Examples) -> Any:
    """The sentence-transformers loss module for ``examples`` (see :mod:`.examples`)."""
    try:
        from sentence_transformers.sentence_transformer import losses
    except ImportError:  # sentence-transformers before 6
        from sentence_transformers import losses  # type: ignore[no-redef]
    if examples.kind == "labels":
        from sentence_transformers.losses import BatchHardTripletLossDistanceFunction as D

        return losses.BatchHardSoftMarginTripletLoss(model, distance_metric=D.cosine_distance)
    return losses.MultipleNegativesRankingLoss(model)


def learning_rate(step: int, total: int, config: TrainConfig) -> float:
    """Linear warm-up over the first ``warmup`` share of the steps, then linear decay to 0."""
    warm = max(1, int(config.warmup * total))
    if step < warm:
        return config.lr * (step + 1) / warm
    return config.lr * max(0.0, (total - step) / max(1, total - warm))


def finetune(model: Any, examples: Examples, config: TrainConfig, *, checkpoint: Path, fingerprint: str,
             progress: StepCallback | None = None) -> TrainResult:
    """Train ``model`` in place on ``examples``; resume from ``checkpoint`` when it holds this run.

    Parameters
    ----------
    model
        A ``sentence_transformers.SentenceTransformer`` (on the CPU).
    examples
        From :mod:`.examples`.
    config
        Epochs, batch size, learning rate, seed, checkpoint period.
    checkpoint
        The checkpoint file (its folder is created); read first if it exists, written while training.
    fingerprint
        Identity of the run (base model, data, split, config): a checkpoint of another run is ignored.
    progress
        Called after each step with (done, total, loss).

    Returns
    -------
    TrainResult
    """
    require_torch()
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    loss_fn = loss_module(model, examples)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW([p for _, p in named], lr=config.lr, weight_decay=config.weight_decay)
    plan = [examples.batches(config.batch_size, config.seed, e) for e in range(config.epochs)]
    total = sum(len(p) for p in plan)
    start, curve = load_checkpoint(checkpoint, fingerprint, model, opt, [p for _, p in named])
    model.train()
    t0 = time.perf_counter()
    epoch_seconds: list[float] = []
    step = 0
    try:
        for batches in plan:
            e0, full = time.perf_counter(), step >= start
            for i, rows in enumerate(batches):
                if step < start:
                    step += 1
                    continue
                for group in opt.param_groups:
                    group["lr"] = learning_rate(step, total, config)
                torch.manual_seed(config.seed * 1_000_003 + step)  # dropout: the same masks when resumed
                loss = loss_fn(*batch_features(model, examples, rows))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                curve.append(float(loss.detach()))
                step += 1
                if progress is not None:
                    progress(step, total, curve[-1])
                if step % config.checkpoint_every == 0 or i == len(batches) - 1:
                    save_checkpoint(checkpoint, fingerprint, model, opt, [p for _, p in named], step, curve, config)
            if full:
                epoch_seconds.append(time.perf_counter() - e0)
    finally:
        model.eval()
    return TrainResult(curve, total, start, type(loss_fn).__name__, time.perf_counter() - t0, epoch_seconds)


def batch_features(model: Any, examples: Examples, rows: Any) -> tuple[list[dict[str, Any]], Any]:
    """The loss module's inputs for one batch: tokenized texts (one dict per column) and the labels."""
    import torch

    device = model.device

    prep = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 6

    def tok(texts: list[str]) -> dict[str, Any]:
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in prep(texts).items()}

    if examples.kind == "labels":
        assert examples.labels is not None
        return [tok([examples.anchors[r] for r in rows])], torch.as_tensor(examples.labels[rows], device=device)
    assert examples.positives is not None
    return ([tok([examples.anchors[r] for r in rows]), tok([examples.positives[r] for r in rows])],
            torch.zeros(len(rows), device=device))


def save_checkpoint(path: Path, fingerprint: str, model: Any, opt: Any, params: list[Any], step: int,
                    curve: list[float], config: TrainConfig) -> None:
    """Write the model, the optimiser moments and the step to ``path`` as safetensors (atomically)."""
    import torch
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    steps = []
    for i, p in enumerate(params):
        st = opt.state.get(p, {})
        if "exp_avg" in st:
            tensors[f"exp_avg.{i}"] = st["exp_avg"].contiguous()
            tensors[f"exp_avg_sq.{i}"] = st["exp_avg_sq"].contiguous()
            steps.append(float(torch.as_tensor(st["step"]).item()))
        else:
            steps.append(0.0)
    header = {"fingerprint": fingerprint, "step": step, "loss_curve": curve, "adam_steps": steps,
              "config": asdict(config), "seed": config.seed}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata={"header": json.dumps(header)})
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: Path, fingerprint: str, model: Any, opt: Any, params: list[Any]
                    ) -> tuple[int, list[float]]:
    """Restore the model and optimiser from ``path`` if it holds this run; returns (step, loss curve so far),
    ``(0, [])`` when there is nothing to resume (no file, another run, or a file that does not read: it is
    removed and the run starts again)."""
    import torch
    from safetensors import safe_open

    if not path.is_file():
        return 0, []
    try:
        with safe_open(str(path), framework="pt") as f:
            header = json.loads((f.metadata() or {})["header"])
            if header.get("fingerprint") != fingerprint:
                return 0, []
            state = {k[len("model."):]: f.get_tensor(k) for k in f.keys() if k.startswith("model.")}
            moments = {k: f.get_tensor(k) for k in f.keys() if k.startswith("exp_avg")}
        own = model.state_dict()
        if set(own) != set(state) or any(own[k].shape != state[k].shape for k in own):
            raise ValueError("the checkpoint holds another architecture")
        model.load_state_dict(state, strict=True)
        for i, p in enumerate(params):
            if f"exp_avg.{i}" in moments:
                opt.state[p] = {"step": torch.tensor(float(header["adam_steps"][i])),
                                "exp_avg": moments[f"exp_avg.{i}"], "exp_avg_sq": moments[f"exp_avg_sq.{i}"]}
        return int(header["step"]), [float(v) for v in header["loss_curve"]]
    except Exception:  # a damaged staging file: ours, not the user's; start again
        path.unlink(missing_ok=True)
        return 0, []
