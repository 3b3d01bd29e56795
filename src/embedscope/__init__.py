"""embedscope: see and measure vector embeddings.

>>> import embedscope
>>> scope = embedscope.create("reviews.scope")        # doctest: +SKIP
>>> scope.ingest("reviews.csv", text="body")           # doctest: +SKIP
>>> scope.embed()                                      # doctest: +SKIP
>>> scope.neighbors("42", k=10).to_frame()             # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from .errors import EmbedscopeError, InputError, WorkspaceError
from .results import Layout, Neighbors, SpaceInfo
from .scope import Scope
from .version import __version__
from .widget import widget  # the module only imports anywidget when called

__all__ = [
    "EmbedscopeError",
    "InputError",
    "Layout",
    "Neighbors",
    "Scope",
    "SpaceInfo",
    "WorkspaceError",
    "__version__",
    "create",
    "open",
    "widget",
]


def open(path: str | Path) -> Scope:
    """Open the workspace at ``path``."""
    return Scope.open(path)


def create(path: str | Path, *, exist_ok: bool = False) -> Scope:
    """Create a workspace at ``path`` (with ``exist_ok``, open it if it already exists)."""
    return Scope.create(path, exist_ok=exist_ok)
