"""Probe what the spaces of a workspace know about a metadata label (see :mod:`embedscope.analyses.probe`).

Every space is probed on the same items (those all the probed spaces hold, optionally restricted to given ids,
such as the held-out part of a tuned space) with the same folds, so their figures compare directly. The most
confidently misclassified items come back with their ids and texts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..analyses import probe as probes
from ..errors import InputError
from .base import ScopeLike
from .compare import shared_rows

#: Misclassified items' texts are cut to this many characters.
SNIPPET_CHARS = 200


def _snippet(text: Any) -> str | None:
    if text is None:
        return None
    s = str(text)
    return s if len(s) <= SNIPPET_CHARS else s[:SNIPPET_CHARS - 1] + "…"


def label_column(scope: ScopeLike, space: str, label: str) -> list[Any]:
    """The metadata column ``label`` of ``space``'s points as Python values (point order); a missing column is
    an :class:`~embedscope.errors.InputError` naming the columns there are."""
    cols = scope.store.item_columns()
    meta = [c for c in cols if c not in ("id", "text")]
    if label not in meta:
        raise InputError("no such label column; " + (f"columns: {', '.join(meta)}" if meta else
                                                      "the items have no metadata columns"), column=label)
    return list(scope.items_for(space, columns=[label]).column(label).to_pylist())


def probe(scope: ScopeLike, label: str, spaces: Sequence[str] | None = None, *, folds: int = 5, seed: int = 0,
          ids: Sequence[str] | None = None, k: int = 10, boot: int = 1000, sample: int = 5000,
          top: int = 10) -> dict[str, Any]:
    """Cross-validated probes of ``label`` in each space (see :func:`embedscope.analyses.probe.probe`).

    Parameters
    ----------
    label
        A metadata column: categorical (logistic regression and k-NN) or numeric with many distinct values
        (ridge regression).
    spaces
        Space names; ``None``: every space.
    folds, seed, k, boot, sample, top
        As :func:`embedscope.analyses.probe.probe`.
    ids
        Probe only these items (e.g. a tuned space's held-out part); ``None``: every item the spaces share.

    Returns
    -------
    dict
        ``{"label", "items": n, "spaces": {name: probe result + "dims", "seconds"}}``; each result's
        ``misclassified`` entries gain ``"id"`` and ``"text"`` (a snippet, ``None`` without texts).
    """
    names = [scope.resolve_space(s) for s in spaces] if spaces else scope.spaces()
    if not names:
        raise InputError("the workspace has no spaces to probe; run `embedscope embed` first")
    names = list(dict.fromkeys(names))
    values = label_column(scope, names[0], label)
    shared, rows = shared_rows(scope, names)
    keep = np.arange(len(shared))
    if ids is not None:
        wanted = set(map(str, ids))
        keep = np.array([i for i, item in enumerate(shared) if item in wanted], dtype=np.int64)
        if len(keep) == 0:
            raise InputError(f"none of the {len(wanted)} given items is in space(s) {', '.join(names)}")
    item_ids = [shared[i] for i in keep]
    labels = np.empty(len(keep), dtype=object)
    labels[:] = [values[r] for r in rows[names[0]][keep]]
    texts: list[Any] | None = None
    if "text" in scope.store.item_columns():
        texts = scope.items_for(names[0], columns=["text"]).column("text").to_pylist()
    out: dict[str, Any] = {"label": label, "items": len(item_ids), "spaces": {}}
    for s in names:
        x = np.asarray(scope.store.arrays(s).x)[rows[s][keep]]
        t0 = time.perf_counter()
        try:
            res = probes.probe(x, labels, folds=folds, seed=seed, k=k, boot=boot, sample=sample, top=top)
        except InputError as exc:
            raise InputError(f"space {s!r}: {exc.message}", column=label) from None
        for m in res.get("misclassified", []):
            m["id"] = item_ids[m["row"]]
            m["text"] = _snippet(texts[int(rows[names[0]][keep[m["row"]]])]) if texts is not None else None
        res["dims"] = int(x.shape[1])
        res["seconds"] = round(time.perf_counter() - t0, 3)
        out["spaces"][s] = res
    return out
