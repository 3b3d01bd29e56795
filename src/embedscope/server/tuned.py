"""What the explorer knows of a fine-tuned space (``embedscope train``): its base space and its split.

A tuned space's record (``vectors__{space}``) holds in its params ``base`` (the base model's spec, or a
space), ``base_space`` (the space that model embedded, compared with the tuned one) and ``split`` (``{seed,
held_out, by, n_train, n_held_out}``); the split itself is the table ``split__{space}`` (``id``, ``part`` in
``"train"``/``"held_out"``). Read through the scope's store: any other space is not tuned (``None``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel

from ..errors import EmbedscopeError
from ..store.tables import split_table, vectors_table
from .protocol import ScopeAPI

#: ``part`` codes of ``/api/spaces/{space}/split``: a training item, a held-out item, an item not in the split.
TRAIN, HELD_OUT, UNSPLIT = 0, 1, 2
_PARTS = {"train": TRAIN, "held_out": HELD_OUT}


class TunedOut(BaseModel):
    """A space fine-tuned from ``base`` on ``n_train`` items, ``n_held_out`` items kept out of training."""

    #: The base space the tuned one is compared with (the space of the base model in this workspace).
    base: str
    n_train: int
    n_held_out: int
    #: What the split was stratified by, as recorded (the label column of ``train --label``), or ``null``.
    by: str | None = None


def _base_space(scope: ScopeAPI, space: str, params: dict[str, Any]) -> str:
    """The space ``params`` name as base: ``base_space`` (what ``train`` records) or ``base`` when it is a space,
    else the first other space embedded with the model ``base`` names (``"local"``), else ``base`` as recorded."""
    base = str(params.get("base", ""))
    spaces = [s for s in scope.spaces() if s != space]
    for named in (params.get("base_space"), base):
        if named in spaces:
            return str(named)
    for other in spaces:
        rec = scope.store.record(vectors_table(other))
        if rec is not None and rec.params.get("model") == base and not isinstance(rec.params.get("split"), dict):
            return other
    return base


def tuned_of(scope: ScopeAPI, space: str) -> TunedOut | None:
    """``space``'s base and split sizes when it is a tuned space, else ``None``."""
    rec = scope.store.record(vectors_table(space))
    split = rec.params.get("split") if rec is not None else None
    if rec is None or not isinstance(split, dict) or not rec.params.get("base"):
        return None
    try:
        n_train, n_held_out = int(split["n_train"]), int(split["n_held_out"])
    except (KeyError, TypeError, ValueError):
        return None
    by = split.get("by")
    return TunedOut(base=_base_space(scope, space, rec.params), n_train=n_train, n_held_out=n_held_out,
                    by=by if isinstance(by, str) else None)


def split_parts(scope: ScopeAPI, space: str, ids: list[str]) -> np.ndarray | None:
    """Each of ``ids``' part (:data:`TRAIN`, :data:`HELD_OUT`, :data:`UNSPLIT`), shape ``(len(ids),)`` uint8, when
    ``space`` is tuned and its split table is stored; else ``None``."""
    if tuned_of(scope, space) is None or scope.store.record(split_table(space)) is None:
        return None
    try:
        table = scope.store.read_columns(split_table(space), ["id", "part"]).to_pydict()
    except (EmbedscopeError, KeyError, ValueError):
        return None
    part = {str(i): _PARTS.get(str(p), UNSPLIT) for i, p in zip(table["id"], table["part"], strict=True)}
    return np.fromiter((part.get(i, UNSPLIT) for i in ids), np.uint8, len(ids))
