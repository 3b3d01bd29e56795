"""The seeded train / held-out split of a workspace's items, made before any training."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Share of the items held out by default.
HELD_OUT = 0.2


def split(n: int, labels: Sequence[object] | np.ndarray | None = None, *, held_out: float = HELD_OUT,
          seed: int = 0) -> np.ndarray:
    """Which items are held out: a seeded split, stratified by label when labels are given.

    Parameters
    ----------
    n
        Number of items.
    labels
        Shape ``(n,)`` or ``None``. With labels, each label's items are split in the same proportion (a label
        with one item goes to the training part; a label of two or more keeps at least one item on each side).
    held_out
        Share of the items held out, in ``(0, 1)``.
    seed
        Seed of the permutation (same inputs, same split).

    Returns
    -------
    numpy.ndarray
        bool, shape ``(n,)``: ``True`` for a held-out item.
    """
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must lie between 0 and 1, got {held_out}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, bool)
    if labels is None:
        take = round(held_out * n)
        mask[rng.permutation(n)[:take]] = True
        return mask
    lab = np.asarray([str(v) for v in labels])
    if len(lab) != n:
        raise ValueError(f"{len(lab)} labels for {n} items")
    for value in np.unique(lab):  # sorted: the same order whatever the item order
        rows = np.flatnonzero(lab == value)
        if len(rows) < 2:
            continue
        take = min(max(1, round(held_out * len(rows))), len(rows) - 1)
        mask[rng.permutation(rows)[:take]] = True
    return mask
