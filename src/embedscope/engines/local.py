"""The local engine: every heavy step in this process (:mod:`embedscope.embedders.run`, :mod:`embedscope.search`,
:mod:`embedscope.projection`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..embedders import Embedder
from ..embedders.run import EmbedStats, VectorCache, embed_texts
from ..projection.base import LayoutResult, project
from ..search import ann
from ..search.exact import KNN, knn_graph
from .base import Engine, Step


class LocalEngine(Engine):
    """Embedding, kNN graphs and layouts in this process."""

    name = "local"

    def embed_texts(self, texts: Sequence[str], embedder: Embedder, cache: VectorCache, *, model: str,
                    options: dict[str, Any], staging: Path, batch_size: int | None = None,
                    concurrency: int | None = None, on_batch: Step | None = None,
                    hashes: Sequence[str] | None = None) -> tuple[np.ndarray, EmbedStats]:
        """:func:`embedscope.embedders.run.embed_texts` (``model``, ``options``, ``staging`` and ``concurrency``
        are not used: the embedder is here)."""
        return embed_texts(texts, embedder, cache, batch_size=batch_size, on_batch=on_batch, hashes=hashes)

    def knn_graph(self, x: np.ndarray, k: int, *, progress: Step | None = None) -> KNN:
        """:func:`embedscope.search.exact.knn_graph` (cosine)."""
        return knn_graph(x, k, "cosine", progress=progress)

    def ann_graph(self, x: np.ndarray, k: int, *, key: str, staging: Path, progress: Step | None = None) -> KNN:
        """:func:`embedscope.search.ann.ann_graph` (built in one go: nothing is staged)."""
        return ann.ann_graph(x, k, progress=progress)

    def layout(self, x: np.ndarray, method: str, *, knn: KNN | None, seed: int, key: str, staging: Path,
               progress: Step | None = None, extra: dict[str, Any] | None = None, **params: Any) -> LayoutResult:
        """:func:`embedscope.projection.project`."""
        return project(x, method, knn=knn, seed=seed, progress=progress, **params, **(extra or {}))
