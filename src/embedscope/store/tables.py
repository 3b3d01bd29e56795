"""Table names of a workspace and the kNN graph's table layout.

Names (one LanceDB table each; see :mod:`embedscope.workspace` for their columns): ``items``, ``images``,
``vectors__{space}``, ``neighbors__{space}``, ``layout__{space}__{method}``, ``clusters__{space}``,
``compare__{a}__{b}``, ``compress__{space}``, ``translate__{a}__{b}``, ``translator__{a}__{b}``,
``split__{space}`` and ``cache__{model hash}``.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from ..errors import InputError

ITEMS = "items"
#: One row per item that has an image: source file, content hash, size, WebP thumbnail (:mod:`.images`).
IMAGES = "images"
#: A space name, and each ``__``-separated part of a table name.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_space_name(name: str) -> str:
    """``name`` if it can name a space (letters, digits, ``-``, ``.``, ``_``, not ``__``, at most 64 characters).

    Raises
    ------
    InputError
        Naming the rule the name breaks.
    """
    if not NAME_RE.match(name) or "__" in name:
        raise InputError(
            f"invalid space name {name!r}: use letters, digits, '-', '.', '_' (not '__'), at most 64 characters"
        )
    return name


def is_table_key(key: str) -> bool:
    """Whether ``key`` is a name embedscope gives a table (each ``__``-separated part a :data:`NAME_RE` name)."""
    return all(NAME_RE.match(part) for part in key.split("__"))


def vectors_table(space: str) -> str:
    """The table of a space's vectors (its row order is the space's point order)."""
    return f"vectors__{space}"


def neighbors_table(space: str) -> str:
    """The table of a space's stored kNN graph."""
    return f"neighbors__{space}"


def layout_table(space: str, method: str) -> str:
    """The table of a space's layout made by ``method``."""
    return f"layout__{space}__{method}"


def clusters_table(space: str) -> str:
    """The table of a space's clusters."""
    return f"clusters__{space}"


def compare_table(a: str, b: str) -> str:
    """The table of the comparison of spaces ``a`` and ``b``."""
    return f"compare__{a}__{b}"


def compress_table(space: str) -> str:
    """The table of a space's compression evaluation."""
    return f"compress__{space}"


def translate_table(a: str, b: str) -> str:
    """The table of the translator evaluation from space ``a`` to ``b``."""
    return f"translate__{a}__{b}"


def translator_table(a: str, b: str) -> str:
    """The table (one row: its held-out figures) of the translator from space ``a`` to ``b`` kept in the
    workspace; the map itself is the model file its record names (queries of ``b`` may go through it)."""
    return f"translator__{a}__{b}"


def split_table(space: str) -> str:
    """The table of a tuned space's train / held-out split (``id``, ``part`` in ``train`` / ``held_out``),
    made by ``embedscope train`` before training."""
    return f"split__{space}"


def graph_table(ids: list[str], indices: np.ndarray, scores: np.ndarray) -> pa.Table:
    """A kNN graph as the ``neighbors__{space}`` table.

    Parameters
    ----------
    ids
        Length ``n``, in point order.
    indices, scores
        Shape ``(n, k)``: int32 neighbour rows and float32 similarities (``k`` may be 0).

    Returns
    -------
    pyarrow.Table
        ``id`` (string), ``nbr`` and ``sim`` (fixed-size lists of length ``k``; plain empty lists when ``k == 0``).
    """
    k = int(indices.shape[1])
    if not k:
        return pa.table({"id": pa.array(ids, pa.string()), "nbr": pa.array([[]] * len(ids), pa.list_(pa.int32())),
                         "sim": pa.array([[]] * len(ids), pa.list_(pa.float32()))})
    return pa.table({
        "id": pa.array(ids, pa.string()),
        "nbr": pa.FixedSizeListArray.from_arrays(pa.array(indices.reshape(-1)), k),
        "sim": pa.FixedSizeListArray.from_arrays(pa.array(scores.reshape(-1)), k),
    })


def graph_arrays(table: pa.Table, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(indices, scores)`` arrays, shape ``(n, k)``, of a ``neighbors__{space}`` table of ``k`` columns."""
    n = table.num_rows
    if k == 0:
        return np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float32)
    return (table.column("nbr").combine_chunks().values.to_numpy().reshape(n, k),
            table.column("sim").combine_chunks().values.to_numpy().reshape(n, k))
