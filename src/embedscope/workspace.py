"""The workspace (re-exports :class:`embedscope.scope.Scope` and the table names): one directory with a LanceDB
database and the ``scope.json`` manifest.

Tables (LanceDB, Lance format; each write is one atomic commit):

=============================  ===============================================================
``items``                      ``id`` (string), ``text`` (string, null for vectors-only items), metadata
``vectors__{space}``           ``id``, ``vector`` (fixed-size list of float32)
``neighbors__{space}``         ``id``, ``nbr`` (fixed-size list of int32: rows of the space), ``sim``
``layout__{space}__{method}``  ``id``, ``x``, ``y`` (float32)
``cache__{model hash}``        ``hash`` (of the text), ``vector``: finished embedding batches
=============================  ===============================================================

The manifest records, for each table, the Lance version that belongs to the current state. Tables are read
at that version, so a process killed between a table commit and the manifest update leaves the previous,
consistent state: the newer table version is simply ignored and overwritten by the rerun.

"Point order" of a space is the row order of its ``vectors__{space}`` table; layouts and neighbour graphs
use the same order.
"""

from __future__ import annotations

from .results import EmbedReport, IngestReport, Layout, Neighbors, Progress, SpaceInfo
from .scope import Scope, copy_workspace
from .search.graph import DEFAULT_K, GRAPH_ON_DEMAND_MAX
from .store.tables import ITEMS, layout_table, neighbors_table, vectors_table

__all__ = ["DEFAULT_K", "GRAPH_ON_DEMAND_MAX", "ITEMS", "EmbedReport", "IngestReport", "Layout", "Neighbors", "Progress",
           "Scope", "SpaceInfo", "copy_workspace", "layout_table", "neighbors_table", "vectors_table"]
