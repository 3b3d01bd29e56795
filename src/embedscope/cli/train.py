"""``embedscope train``: fine-tune the bundled sentence model (or a local one) on the workspace's data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .common import JSON, WS, emit, err, open_scope, progress
from .console import Console


def _f(v: Any, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


def train(
    ws: WS,
    base: Annotated[str, typer.Option("--base", help="local (the bundled all-MiniLM-L6-v2) | local:PATH")] = "local",
    label: Annotated[str | None, typer.Option("--label", help="Learn this metadata column's labels.")] = None,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="A CSV/TSV/JSONL of similar text pairs "
                                               "(anchor,positive; an item id stands for its text).")] = None,
    qrels: Annotated[Path | None, typer.Option("--qrels", help="Relevance judgements (query -> relevant item).")]
    = None,
    space: Annotated[str, typer.Option("--space", help="The new space.")] = "tuned",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Passes over the training part.")] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2, help="Texts per step.")] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate (AdamW, warm-up then linear decay).")] = 2e-5,
    held_out: Annotated[float, typer.Option("--held-out", help="Share of the items held out (never trained on).")]
    = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split, the batches and dropout.")] = 0,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", min=1,
                                                  help="Steps between checkpoints (and one at each epoch's end).")]
    = 100,
    as_json: JSON = False,
) -> None:
    """Fine-tune a local sentence model on your data, embed every item into a new space, and measure it honestly.

    The items are split first (seeded, by label), the model learns on the training part only, then base and
    tuned are compared on the held-out items: same-label precision@10 with a 95% paired bootstrap interval, kNN
    agreement (Jaccard@10) and, when available, the linear probe; the training part's figures beside them,
    labelled. Killed, it leaves the workspace as it was and a rerun resumes from the last checkpoint; a rerun
    with the same inputs does nothing. JSON: {"space", "base", "base_space", "epochs", "steps", "loss",
    "loss_curve", "split", "held_out", "train_part", "warnings", "seconds", "skipped"}.
    """
    scope = open_scope(ws)
    state = {"next": 0}

    def on_step(done: int, total: int, loss: float) -> None:
        if done >= state["next"] or done == total:  # a line at every tenth of the way, with the loss
            state["next"] = done + max(1, total // 10)
            err.print(f"train: step {done}/{total}, loss {loss:.4f}", highlight=False)

    with progress(not as_json) as cb:
        doc = scope.train(base=base, label=label, pairs=pairs, qrels=qrels, space=space, epochs=epochs,
                          batch_size=batch_size, lr=lr, held_out=held_out, seed=seed,
                          checkpoint_every=checkpoint_every, progress=cb, on_step=on_step)
    if as_json:
        emit(doc)
        return
    if doc["skipped"]:
        err.print(f"space {doc['space']!r} is up to date (same base, data, split and parameters): nothing to do")
    con = Console()
    for title, part in (("held-out items (never trained on)", doc["held_out"]),
                        ("training part (seen in training; for comparison only)", doc["train_part"])):
        t = Table("figure", doc["base_space"], doc["space"], "gain", "95% interval",
                  title=f"{title}: {part['items']} items, neighbours among them")
        p = part.get("precision")
        if p is not None:
            t.add_row(f"same-label precision@{part['k']}", _f(p["base"]), _f(p["tuned"]), _f(p["gain"], "+.3f"),
                      f"[{p['ci95'][0]:+.3f}, {p['ci95'][1]:+.3f}]")
        pr = part.get("probe")
        if pr is not None:
            t.add_row("probe accuracy (logreg)", _f(pr["base"]["accuracy"]), _f(pr["tuned"]["accuracy"]),
                      _f((pr["tuned"]["accuracy"] or 0) - (pr["base"]["accuracy"] or 0), "+.3f"), "")
        t.add_row(f"kNN agreement (Jaccard@{part['k']})", "", _f(part["jaccard"]), "", "")
        con.print(t)
    for w in doc["warnings"]:
        err.print(f"[yellow]warning:[/] {w}")
    curve = doc.get("loss_curve") or []
    if curve:
        err.print(f"loss {curve[0]:.4f} -> {curve[-1]:.4f} over {doc['steps']} steps ({doc['loss']}); space "
                  f"{doc['space']!r} embedded from {doc['base']} tuned", highlight=False)
