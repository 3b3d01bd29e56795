"""What the operations in :mod:`embedscope.ops` need of a workspace: the :class:`ScopeLike` Protocol.

The operations are functions that take a scope (as sentence-transformers' evaluators take a model):
``health(scope, space)``, ``compare(scope, a, b)``, ... :class:`embedscope.Scope` satisfies :class:`ScopeLike`
and keeps its methods (``scope.health(...)``) as one-line delegations to them. Typing the scope by this Protocol,
not by the class, keeps ``ops`` below the scope in the import graph: no cycle through the scope that calls them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..search.exact import check_metric

if TYPE_CHECKING:
    from ..embedders import Embedder
    from ..results import SpaceInfo
    from ..search.exact import KNN
    from ..store.workspace import Workspace



class ScopeLike(Protocol):
    """The part of :class:`embedscope.Scope` the operations use: its spaces, its items, its kNN graphs, its
    query embedders and its storage (``store``, a :class:`~embedscope.store.workspace.Workspace`)."""

    @property
    def path(self) -> Path:
        """The workspace directory."""
        ...

    @property
    def store(self) -> Workspace:
        """The workspace's storage: records, arrays of a space, reads and writes at recorded versions."""
        ...

    def resolve_space(self, space: str | None) -> str:
        """``space`` checked to exist, or the default space when ``None``."""
        ...

    def spaces(self) -> list[str]:
        """The names of the embedding spaces."""
        ...

    def space_info(self, space: str) -> SpaceInfo:
        """What a space holds and how it was made."""
        ...

    def has_items(self) -> bool:
        """Whether the workspace holds items (texts, metadata)."""
        ...

    def items_for(self, space: str | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """The items of a space's points, in point order."""
        ...

    def point_ids(self, space: str | None = None) -> list[str]:
        """The ids of a space's points, in point order."""
        ...

    def knn(self, space: str | None = None, k: int = ...) -> KNN:
        """The stored cosine kNN graph of a space (built and stored on first need)."""
        ...

    def embedder(self, space: str | None = None) -> Embedder:
        """The embedder that made ``space`` (to embed queries into it)."""
        ...

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray:
        """One text embedded with the space's own model; float32, shape ``(d,)``."""
        ...

    def forget_embedder(self, space: str) -> None:
        """Drop the cached query embedder of ``space`` (its vectors were replaced)."""
        ...


def input_metric(metric: str) -> str:
    """``metric`` checked (see :func:`embedscope.search.exact.check_metric`); an unknown one is an
    :class:`~embedscope.errors.InputError`."""
    try:
        return check_metric(metric)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def query_vector(scope: ScopeLike, space: str, item: str | None = None, query: str | None = None,
                 vector: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """The query vector of an item, a text or a vector, and the rows to leave out of its results.

    Parameters
    ----------
    space
        A resolved space name.
    item, query, vector
        Exactly one: an item id of the space, a text (embedded with the space's model), or a vector ``(d,)``.

    Returns
    -------
    tuple
        The query, float32 of shape ``(d,)``, and the rows to exclude (the item's own row, else none).
    """
    if sum(v is not None for v in (item, query, vector)) != 1:
        raise InputError("give exactly one of an item id, --query TEXT or a vector")
    _ids, x, pos = scope.store.arrays(space)
    if item is not None:
        row = pos.get(str(item))
        if row is None:
            raise InputError(f"no item with id {item!r} in space {space!r}")
        return np.asarray(x[row], dtype=np.float32), [row]
    if query is not None:
        vector = scope.embed_query(query, space)
    q = np.asarray(vector, dtype=np.float32).reshape(-1)
    if q.shape[0] != x.shape[1]:
        raise InputError(f"the vector has {q.shape[0]} dimensions, space {space!r} has {x.shape[1]}")
    if not np.isfinite(q).all():
        raise InputError("the query vector has non-finite values")
    return q, []
