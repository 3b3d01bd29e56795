"""Thumbnails of image items, as the explorer reads them: the one place the server gets them from the workspace.

The ``images`` table (one row per item with an image: ``id``, ``thumb`` WebP bytes, ``thumb_width``,
``thumb_height``, ...; written by :mod:`embedscope.pipeline.images`) is read through the store's public
``read_columns``, once per workspace version: which ids have an image (the ``id`` column), and the thumbnails
with their sizes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..store.tables import IMAGES
from .state import ExplorerState

#: The cache key of the set of ids that have an image (``ExplorerState.peek`` reads it on the event loop).
IDS_KEY = ("image_ids",)


@dataclass(frozen=True)
class Thumb:
    """One thumbnail: the WebP file and its size in pixels."""

    data: bytes
    width: int
    height: int


def has_images(state: ExplorerState) -> bool:
    """Whether the workspace holds any thumbnail."""
    rec = state.scope.store.record(IMAGES)
    return rec is not None and int(rec.rows or 0) > 0


def images_version(state: ExplorerState) -> str | None:
    """A short token that changes whenever the ``images`` table does (``None``: no table); the page puts it in
    thumbnail URLs so the browser may keep them for good."""
    rec = state.scope.store.record(IMAGES)
    if rec is None:
        return None
    return hashlib.blake2b(f"{rec.table_version}:{rec.fingerprint}".encode(), digest_size=8).hexdigest()


def image_ids(state: ExplorerState) -> frozenset[str]:
    """The ids of the items that have a thumbnail (cached per workspace version)."""

    def read() -> frozenset[str]:
        if state.scope.store.record(IMAGES) is None:
            return frozenset()
        ids = state.scope.store.read_columns(IMAGES, ["id"]).column("id").to_pylist()
        return frozenset(str(i) for i in ids)

    return state.cached(IDS_KEY, read)


def thumbnails(state: ExplorerState, ids: Sequence[str]) -> dict[str, Thumb]:
    """The thumbnail of each of ``ids`` that has one (ids without one are left out; duplicates read once)."""
    have = image_ids(state)
    wanted = [i for i in dict.fromkeys(ids) if i in have]
    if not wanted:
        return {}
    table, where = state.cached(("thumb_table",), lambda: _thumb_table(state))
    rows = [where[i] for i in wanted if i in where]
    pick = table.take(pa.array(rows, type=pa.int64())).to_pydict()
    return {i: Thumb(bytes(d), int(w), int(h)) for i, d, w, h in
            zip(pick["id"], pick["thumb"], pick["thumb_width"], pick["thumb_height"], strict=True)}


def _thumb_table(state: ExplorerState) -> tuple[pa.Table, dict[str, int]]:
    """The thumbnail columns of the ``images`` table and each id's row in it."""
    table = state.scope.store.read_columns(IMAGES, ["id", "thumb", "thumb_width", "thumb_height"])
    return table, {str(i): r for r, i in enumerate(table.column("id").to_pylist())}
