"""What the explorer's server and the notebook widget use of a workspace: :class:`ScopeAPI`.

The server is typed against this Protocol, not against :class:`~embedscope.workspace.Scope` itself: it names
exactly the methods the routes, :class:`~embedscope.server.state.ExplorerState` and the widget call, so a change
to one of them shows up in ``mypy`` (``tests/test_server.py`` assigns a ``Scope`` to a ``ScopeAPI``), and the
server need not import the workspace module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from ..analyses.clusters import Clustering
from ..analyses.distributions import DimensionStats, LabelSeparation
from ..analyses.similarity import Histogram
from ..results import Layout, Neighbors, SpaceInfo
from ..search.exact import KNN
from ..store.manifest import Record


class StoreView(Protocol):
    """What the server reads of the workspace's store (:class:`embedscope.store.workspace.Workspace`): a
    table's record and whether it is stale."""

    def record(self, table: str) -> Record | None:
        """The manifest's record of ``table``, or ``None``."""
        ...

    def is_stale(self, record: Record) -> bool:
        """Whether an input of ``record`` changed since it was computed."""
        ...

    def read_columns(self, name: str, columns: list[str]) -> pa.Table:
        """Some columns of table ``name`` at its recorded version, in row order."""
        ...


class ScopeAPI(Protocol):
    """The calls the server and the widget make on an open workspace (a :class:`~embedscope.workspace.Scope`
    satisfies it). Not thread-safe: the server calls it under :attr:`ExplorerState.lock
    <embedscope.server.state.ExplorerState.lock>`, or on a handle of its own (:meth:`fork`)."""

    @property
    def store(self) -> StoreView:
        """The workspace's store (records and staleness)."""
        ...

    @property
    def path(self) -> Path:
        """The workspace directory (its ``scope.json`` is the manifest the server watches)."""
        ...

    # -- the workspace ------------------------------------------------------------------------
    def fork(self) -> ScopeAPI:
        """A second handle of the same workspace, for a job that runs beside the shared one."""
        ...

    def reload(self) -> None:
        """Re-read the manifest (another process changed the workspace)."""
        ...

    def spaces(self) -> list[str]: ...

    def default_space(self) -> str: ...

    def resolve_space(self, space: str | None) -> str: ...

    def space_info(self, space: str) -> SpaceInfo: ...

    # -- items and vectors --------------------------------------------------------------------
    def has_items(self) -> bool: ...

    def items(self) -> pa.Table: ...

    def item_columns(self) -> list[str]: ...

    def items_for(self, space: str | None = None, columns: Sequence[str] | None = None) -> pa.Table: ...

    def point_ids(self, space: str | None = None) -> list[str]: ...

    def vectors(self, space: str | None = None) -> tuple[list[str], np.ndarray]: ...

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray: ...

    def query_route(self, space: str | None = None) -> dict[str, Any]: ...

    # -- neighbours ---------------------------------------------------------------------------
    def knn(self, space: str | None = None, k: int = ...) -> KNN: ...

    def graph_info(self, space: str | None = None) -> dict[str, Any] | None: ...

    def neighbors(self, item: str | None = None, *, k: int = 10, metric: str = "cosine",
                  space: str | None = None) -> Neighbors: ...

    def arithmetic(self, plus: Sequence[str], minus: Sequence[str] = (), *, k: int = 10,
                   space: str | None = None) -> Neighbors: ...

    # -- maps and clusters --------------------------------------------------------------------
    def layouts(self, space: str | None = None) -> list[str]: ...

    def layout(self, space: str | None, method: str) -> Layout: ...

    def clusters(self, space: str | None = None) -> Clustering | None: ...

    # -- measurements (health, compression, comparison, translation) --------------------------
    def health(self, space: str | None = None) -> list[dict[str, Any]]: ...

    def pair_histogram(self, space: str | None = None, *, bins: int = 50, sample: int | None = None) -> Histogram: ...

    def label_columns(self, space: str | None = None) -> list[str]: ...

    def label_separation(self, label: str, space: str | None = None, *, bins: int = 50,
                         sample: int | None = None) -> LabelSeparation: ...

    def dimension_stats(self, space: str | None = None) -> DimensionStats: ...

    def compress(self, space: str | None = None, *, queries: int = 1000) -> dict[str, Any]: ...

    def compression(self, space: str | None = None) -> dict[str, Any] | None: ...

    def compare(self, a: str, b: str, *, k: int = 10, label: str | None = None) -> dict[str, Any]: ...

    def comparison(self, a: str, b: str) -> tuple[list[str], np.ndarray, dict[str, Any]] | None: ...

    def probe(self, label: str, spaces: Sequence[str] | None = None, *, folds: int = 5, seed: int = 0,
              ids: Sequence[str] | None = None) -> dict[str, Any]: ...

    def translate_eval(self, a: str, b: str) -> dict[str, Any]: ...

    def translation(self, a: str, b: str) -> dict[str, Any] | None: ...
