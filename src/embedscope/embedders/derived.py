"""Query embedders of derived spaces: a space made from another (a compressed copy) embeds queries with the
source space's model and maps them into its own coordinates; a space with no text model embeds them with a text
space's model and a translator into it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .base import Embedder


class MappedEmbedder(Embedder):
    """``transform(source.embed(texts))``: the source model, then a fixed map into the derived space.

    Parameters
    ----------
    source
        The embedder of the space the derived space was made from.
    transform
        Maps ``(n, d_source)`` float32 to ``(n, d_derived)`` float32.
    name
        What the map is (e.g. ``"pca-96"``), part of :attr:`key`.
    route
        How a query reaches the space when that is not its own model (a translator: which, how good);
        default: the source's ``route``, if any.
    """

    def __init__(self, source: Embedder, transform: Callable[[np.ndarray], np.ndarray], name: str, *,
                 route: dict[str, Any] | None = None) -> None:
        self.source = source
        self.route: dict[str, Any] | None = route if route is not None else getattr(source, "route", None)
        self.transform = transform
        self.key = f"{source.key}|{name}"
        self.model_spec = source.model_spec
        self.default_space = source.default_space

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.transform(self.source.embed(texts)), dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.transform(self.source.embed_queries(texts)), dtype=np.float32)

    @property
    def max_tokens(self) -> int | None:
        return self.source.max_tokens
