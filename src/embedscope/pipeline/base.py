"""What the pipeline steps (and, for typing only, the analysis mixins) use of a scope: :class:`ScopeLike`.

:class:`embedscope.scope.Scope` satisfies it; typing the steps by this Protocol keeps ``pipeline`` from importing
``scope`` (which imports ``pipeline``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from ..results import Progress

if TYPE_CHECKING:
    from ..analyses.clusters import Clustering
    from ..embedders import Embedder
    from ..results import Layout, SpaceInfo
    from ..search.exact import KNN
    from ..store.workspace import Workspace



class ScopeLike(Protocol):
    """The scope as the pipeline steps see it: its store, its spaces and the steps they call on each other."""

    store: Workspace
    path: Path
    #: Embedders loaded for query embedding, by space (filled by :func:`embedscope.pipeline.embed.embedder`).
    query_embedders: dict[str, Embedder]

    def spaces(self) -> list[str]: ...

    def resolve_space(self, space: str | None) -> str: ...

    def space_info(self, space: str) -> SpaceInfo: ...

    def has_items(self) -> bool: ...

    def has_images(self) -> bool: ...

    def image_files(self) -> tuple[list[str], list[str], list[str]]: ...

    def items(self) -> pa.Table: ...

    def point_ids(self, space: str | None = None) -> list[str]: ...

    def items_for(self, space: str | None = None, columns: Sequence[str] | None = None) -> pa.Table: ...

    def add_vectors(self, space: str, ids: Sequence[str], vectors: np.ndarray, *, source: str = "<array>"
                    ) -> Any: ...

    def embedder(self, space: str | None = None) -> Embedder: ...

    def embed_query(self, text: str, space: str | None = None) -> np.ndarray: ...

    def knn(self, space: str | None = None, k: int = 50, *, exact: bool | None = None,
            progress: Progress | None = None, engine: str = "local", address: str | None = None) -> KNN: ...

    def graph_info(self, space: str | None = None) -> dict[str, Any] | None: ...

    def project(self, space: str | None = None, method: str = "umap", *, seed: int = 42, k: int = 15,
                progress: Progress | None = None, engine: str = "local", address: str | None = None,
                **params: Any) -> Layout: ...

    def layouts(self, space: str | None = None) -> list[str]: ...

    def layout(self, space: str | None, method: str) -> Layout: ...

    def clusters(self, space: str | None = None) -> Clustering | None: ...
