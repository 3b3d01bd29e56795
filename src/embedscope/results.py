"""What the :class:`~embedscope.Scope` API returns: small dataclasses with stated shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .embedders.run import EmbedStats

#: A progress callback of a scope's step: called with ``(stage, done, total)``.
Progress = Callable[[str, int, int], None]


@dataclass
class SpaceInfo:
    """What a space holds.

    Attributes
    ----------
    name
        Space name.
    kind
        ``embedded`` (made by ``embed``) or ``vectors`` (brought by the user).
    model
        The ``--model`` value for embedded spaces, else ``None``.
    dim, count
        Dimensions and number of vectors.
    layouts
        Stored layout methods.
    stale
        Whether the items' texts changed since the space was embedded.
    """

    name: str
    kind: str
    model: str | None
    dim: int
    count: int
    layouts: list[str] = field(default_factory=list)
    stale: bool = False


@dataclass
class Layout:
    """A stored 2-D layout of a space.

    Attributes
    ----------
    space, method
        What it is a layout of, and how it was made.
    ids
        Item ids in point order, length ``n``.
    coords
        float32, shape ``(n, 2)``.
    params, metrics
        Parameters used and figures measured.
    stale
        Whether the space changed since the layout was made.
    xyz
        float32, shape ``(n, 3)``: unit vectors for a sphere layout (``coords`` are then longitude and
        latitude in degrees); the first three principal components for PCA; else ``None``.
    quality
        Honesty figures: ``k``, ``trustworthiness``, ``continuity``, ``knn_recall``, ``rank_correlation``.
    per_item
        Per-item honesty, float32 arrays of shape ``(n,)``: ``trustworthiness``, ``continuity`` (NaN outside
        the sample for large spaces), ``knn_recall``.
    """

    space: str
    method: str
    ids: list[str]
    coords: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stale: bool = False
    xyz: np.ndarray | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    per_item: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Neighbors:
    """Ranked neighbours, best first.

    Attributes
    ----------
    ids
        Item ids, length ``k``.
    rows
        int64, shape ``(k,)``: rows in the space's point order.
    scores
        float32, shape ``(k,)``: cosine similarity, dot product, euclidean or manhattan distance.
    metric
        The metric of ``scores``.
    graph
        When the answer came from the stored kNN graph: how that graph was made (``exact``, ``method``, ``k``
        and, for an approximate graph, its measured ``recall@10``; see ``Scope.graph_info``); ``None`` when the
        answer is an exact scan.
    """

    ids: list[str]
    rows: np.ndarray
    scores: np.ndarray
    metric: str
    graph: dict[str, Any] | None = None

    def to_records(self) -> list[dict[str, Any]]:
        """``[{"id": str, "score": float}, ...]``, best first (the CLI's ``--json`` shape)."""
        return [{"id": i, "score": float(s)} for i, s in zip(self.ids, self.scores, strict=True)]

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with columns ``id``, ``score``, ``row``."""
        return pd.DataFrame({"id": self.ids, "score": self.scores, "row": self.rows})


@dataclass
class IngestReport:
    """What an ingest changed: ``added`` new ids, ``updated`` changed ones, ``unchanged``, ``total`` after."""

    source: str
    added: int
    updated: int
    unchanged: int
    total: int
    text_column: str | None = None
    id_column: str | None = None
    space: str | None = None
    #: Layouts stored from the file's coordinate columns (``{method}_x`` / ``{method}_y``), vectors only.
    layouts: list[str] = field(default_factory=list)
    #: What was left out, in words.
    notes: list[str] = field(default_factory=list)


@dataclass
class ImageIngestReport(IngestReport):
    """What an image ingest did: the item counts of :class:`IngestReport` (``text_column``, ``id_column``: the
    table's), and the files.

    Attributes
    ----------
    kind
        ``folder`` or ``table``.
    image_column
        The table's image column (``None`` for a folder).
    files
        Image files found (the folder's files with an image suffix, or the table's rows).
    decoded
        Files read and decoded (new or changed content).
    reused
        Files not decoded again: unchanged since the last ingest (same path, size and modification time), or the
        same content (sha256) as the item's stored image.
    skipped
        Files left out, in listing order: ``{"file", "reason", "message"}`` (reasons: ``corrupt``, ``empty``,
        ``unsupported``, ``too large``, ``missing``, ``unreadable``, ``outside``, ``loop``).
    ignored
        Files of the folder that are not images by their suffix.
    """

    kind: str = "folder"
    image_column: str | None = None
    files: int = 0
    decoded: int = 0
    reused: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: int = 0


@dataclass
class EmbedReport:
    """What an embed run did (see :class:`~embedscope.embedders.run.EmbedStats`)."""

    space: str
    model: str
    dim: int
    stats: EmbedStats
    skipped_without_text: int = 0
    #: Local models: the backend that made the vectors (``torch``, ``onnx``, ``onnx-int8``), else ``None``.
    backend: str | None = None
    #: What was embedded: ``text`` (the items' texts) or ``image`` (their image files).
    modality: str = "text"
