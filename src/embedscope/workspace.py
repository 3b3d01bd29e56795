"""The workspace: one directory with a LanceDB database and the ``scope.json`` manifest.

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

from ._scope_analysis import AnalysisMixin
from ._scope_compare import CompareMixin
from ._scope_compress import CompressMixin
from ._scope_core import DEFAULT_K, GRAPH_ON_DEMAND_MAX, Progress, ScopeCore, copy_workspace
from ._scope_layouts import LayoutsMixin
from ._scope_translate import TranslateMixin
from .results import EmbedReport, IngestReport, Layout, Neighbors, SpaceInfo
from .store.tables import ITEMS, layout_table, neighbors_table, vectors_table

__all__ = ["DEFAULT_K", "GRAPH_ON_DEMAND_MAX", "ITEMS", "EmbedReport", "IngestReport", "Layout", "Neighbors", "Progress",
           "Scope", "SpaceInfo", "copy_workspace", "layout_table", "neighbors_table", "vectors_table"]


class Scope(AnalysisMixin, CompareMixin, CompressMixin, LayoutsMixin, TranslateMixin, ScopeCore):
    """An embedscope workspace. Open one with :func:`embedscope.open` or :func:`embedscope.create`.

    The methods come in groups, one module each: items, spaces, embedding and neighbours (``_scope_core``,
    over the workspace's storage: :attr:`store`, a :class:`embedscope.store.workspace.Workspace`); layouts and
    clusters (``_scope_layouts``); health, similarity and the report (``_scope_analysis``); comparison of
    spaces (``_scope_compare``); compression (``_scope_compress``); translators (``_scope_translate``).

    Parameters
    ----------
    path
        The workspace directory.
    """
