"""The compression lab of a workspace, as methods of :class:`embedscope.workspace.Scope`: one-line delegations
to :mod:`embedscope.ops.compress`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ops import compress as ops_compress
from .ops.base import Progress
from .results import SpaceInfo

if TYPE_CHECKING:
    from ._scope_core import ScopeCore as Base
else:
    Base = object


class CompressMixin(Base):
    """Methods of :class:`embedscope.workspace.Scope`."""

    def compress(self, space: str | None = None, codecs: Sequence[str] | None = None, *, queries: int = 1000,
                 seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """The compression table of a space (see :mod:`embedscope.analyses.compress`), stored and reused; JSON-ready
        (:func:`embedscope.ops.compress.compress`).

        Parameters
        ----------
        space
            Space name.
        codecs
            Codec names (``float16``, ``int8``, ``binary``, ``binary+rescore``, ``truncate-D``, ``pca-D``...);
            default: every kind at a half, a quarter and an eighth of the dimension.
        queries
            Held-out queries (at most a fifth of the items).
        seed
            Seed of the query split.

        Returns
        -------
        dict
            ``{"space", "dim", "items", "queries", "rows": [{"codec", "bytes_per_vector", "recall@1",
            "recall@10", "recall@100", "query_ms", "build_s", ...}], "frontier": [codec names]}``.
        """
        return ops_compress.compress(self, space, codecs, queries=queries, seed=seed, progress=progress)

    def compression(self, space: str | None = None) -> dict[str, Any] | None:
        """The stored compression table of a space (as :meth:`compress` returns it, plus ``stale``: the vectors
        changed since), or ``None`` when it was never measured (:func:`embedscope.ops.compress.compression`)."""
        return ops_compress.compression(self, space)

    def compress_space(self, space: str | None, codec: str, as_name: str) -> SpaceInfo:
        """Store a compressed copy of ``space`` as the new space ``as_name``: the decoded vectors of ``codec``
        (what a search of the compressed index sees), flagged ``source: compressed`` with the codec's bytes per
        vector and, when the compression table has it, its recall (:func:`embedscope.ops.compress.compress_space`).
        """
        return ops_compress.compress_space(self, space, codec, as_name)

    def export_compressed(self, space: str | None, codec: str, path: str | Path) -> dict[str, Any]:
        """Write the compact codes of ``space`` under ``codec`` with the ids and codec parameters to one
        ``.npz`` (see :func:`embedscope.analyses.compress.export_codes`); returns its metadata
        (:func:`embedscope.ops.compress.export_compressed`)."""
        return ops_compress.export_compressed(self, space, codec, path)
