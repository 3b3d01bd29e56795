"""The embedder interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class DryRun:
    """What an embedding run would do, before anything is computed or sent.

    Attributes
    ----------
    items
        Texts to embed (after removing those already cached).
    tokens
        Token count (exact where the model's tokenizer is local, else an estimate).
    tokens_exact
        Whether ``tokens`` is exact.
    truncated
        Texts longer than the model's window (they would be cut).
    cost_usd
        Estimated price for paid APIs, else ``None``.
    """

    items: int
    tokens: int
    tokens_exact: bool
    truncated: int
    cost_usd: float | None = None
    notes: list[str] = field(default_factory=list)


class Embedder(ABC):
    """Turns texts into vectors.

    Subclasses set :attr:`key` (identity for the cache: model and every setting that changes vectors) and
    :attr:`default_space` (the space name used when the user gives none).
    """

    #: Identity of the model and its settings; vectors are cached under this key.
    key: str = ""
    #: Space name used when ``--space`` is absent.
    default_space: str = ""
    #: Default number of texts per batch (one cache commit per batch).
    batch_size: int = 128
    #: Whether :meth:`fit` must see the whole corpus before :meth:`embed`.
    needs_fit: bool = False
    #: The ``--model`` value this embedder was made from (set by the registry).
    model_spec: str = ""
    #: What :meth:`embed` takes: ``"text"`` (texts) or ``"image"`` (absolute image file paths).
    modality: str = "text"
    #: Whether :meth:`embed_queries` embeds texts into this space (an image CNN has no text model: ``False``).
    text_queries: bool = True

    def fit(self, texts: list[str]) -> None:  # noqa: B027 - optional hook
        """Learn from the corpus (only for embedders with ``needs_fit``)."""

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts
            ``n`` non-empty strings.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n, d)``.
        """

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (models trained with a query prefix override this); default :meth:`embed`."""
        return self.embed(texts)

    def count_tokens(self, texts: list[str]) -> tuple[list[int], bool]:
        """Tokens per text and whether the counts are exact (default: a words-based estimate)."""
        return [max(1, round(len(t) / 4)) for t in texts], False

    @property
    def max_tokens(self) -> int | None:
        """The model's input window in tokens, if it has one."""
        return None

    def price_per_million_tokens(self) -> float | None:
        """USD per million input tokens for paid APIs, else ``None``."""
        return None

    def spec(self) -> dict[str, Any]:
        """Everything needed to rebuild this embedder (stored with the space, used to embed queries)."""
        return {"key": self.key, "model": self.model_spec}

    def dry_run(self, texts: list[str]) -> DryRun:
        """Count items, tokens, truncations and cost without embedding."""
        counts, exact = self.count_tokens(texts)
        window = self.max_tokens
        truncated = sum(1 for c in counts if window is not None and c > window)
        tokens = sum(counts)
        price = self.price_per_million_tokens()
        cost = tokens / 1e6 * price if price is not None else None
        return DryRun(len(texts), tokens, exact, truncated, cost)
