"""The engine interface: what a workspace asks of the place its heavy steps run (embedding, kNN graphs, layouts).

An engine computes; it never reads or writes the workspace. The caller (:mod:`embedscope.pipeline`) passes the
arrays, the embedding cache and a staging path, and stores what comes back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..embedders import Embedder
from ..embedders.run import EmbedStats, VectorCache
from ..projection.base import LayoutResult
from ..search.exact import KNN

#: Progress of one step: called with (done, total).
Step = Callable[[int, int], None]


class Engine(ABC):
    """Where a workspace's heavy steps run. Get one by name with :func:`embedscope.engines.get_engine`.

    Attributes
    ----------
    name
        The name it is chosen by (``local``, ``ray``), recorded with the results it builds where it matters.
    """

    name: str = ""

    @abstractmethod
    def embed_texts(self, texts: Sequence[str], embedder: Embedder, cache: VectorCache, *, model: str,
                    options: dict[str, Any], staging: Path, batch_size: int | None = None,
                    concurrency: int | None = None, on_batch: Step | None = None,
                    hashes: Sequence[str] | None = None) -> tuple[np.ndarray, EmbedStats]:
        """Embed ``texts`` with ``embedder``, reusing and filling ``cache``.

        Parameters
        ----------
        texts
            Length ``n``.
        embedder
            The embedder (already fitted if it needs a fit).
        cache
            Finished batches by text hash.
        model, options
            The model spec and the embedder options (an engine that loads the model elsewhere loads it from them).
        staging
            Where an engine may stage unfinished work (a rerun resumes from it).
        batch_size, concurrency, on_batch
            Batch size (``None``: the embedder's), parallel workers, progress.
        hashes
            Cache key of each text (length ``n``; image embedders: ``"image:" + sha256`` of the file), default
            the text's own hash (:func:`embedscope.embedders.run.text_hash`).

        Returns
        -------
        vectors : numpy.ndarray
            float32, shape ``(n, d)``, in ``texts`` order.
        stats : EmbedStats
        """

    @abstractmethod
    def knn_graph(self, x: np.ndarray, k: int, *, progress: Step | None = None) -> KNN:
        """The exact cosine kNN graph of ``x`` (shape ``(n, d)``): indices/scores of shape ``(n, min(k, n - 1))``."""

    @abstractmethod
    def ann_graph(self, x: np.ndarray, k: int, *, key: str, staging: Path, progress: Step | None = None) -> KNN:
        """An approximate (HNSW) cosine kNN graph of ``x``; ``key`` names the vectors, so work staged under
        ``staging`` by a killed build of the same vectors is reused."""

    @abstractmethod
    def layout(self, x: np.ndarray, method: str, *, knn: KNN | None, seed: int, key: str, staging: Path,
               progress: Step | None = None, extra: dict[str, Any] | None = None, **params: Any) -> LayoutResult:
        """A layout of ``x`` (shape ``(n, d)``) by a registered ``method`` (the caller has checked that the
        method's ``engines`` trait names this engine); ``extra``: inputs from other layouts (``flat``)."""
