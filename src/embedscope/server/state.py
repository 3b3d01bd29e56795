"""Per-app state shared by the routers: the Scope and a cache of per-space arrays.

Arrays sent to the browser (layouts, colour columns) and the tables behind the item panel are computed once
per workspace version and kept here. The cache key includes the version, so a workspace changed on disk (a new
ingest, a new layout) is read again on the next request instead of serving stale arrays. Values keyed by what a
request sent (a filter, a keyword, health parameters) are kept too, but only the :data:`MAX_RECENT` last used.

Heavy jobs (measuring compression, evaluating translators, comparing spaces, health figures) run through
:meth:`ExplorerState.run_job`: on a second handle of the workspace (:meth:`~embedscope.workspace.Scope.fork`),
outside the lock every lookup may need, so a click on the map never waits for a minute-long job; the job's
result is stored by the workspace's own writer lock and the shared handle re-reads the manifest afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
from fastapi import Request, Response

from ..analyses.clusters import Clustering
from ..errors import WorkspaceError
from ..projection import traits
from ..results import Layout
from ..store.manifest import Record
from ..store.tables import clusters_table, layout_table
from .arrow import arrow_response, ipc_bytes
from .columns import RESERVED, ColumnInfo, describe
from .protocol import ScopeAPI

T = TypeVar("T")
_MISSING = object()

#: Values keyed by a request's parameters (filters, keywords, health figures) kept per workspace version, least
#: recently used dropped first: each new filter used to add a mask of a byte a point for good.
MAX_RECENT = 32


@dataclass(frozen=True)
class Blob:
    """Serialised bytes plus an entity tag for HTTP caching."""

    body: bytes
    etag: str


def _manifest_path(scope: ScopeAPI | None) -> str | None:
    return None if scope is None else os.fspath(scope.path / "scope.json")


def _manifest_stamp(manifest: str | None) -> str:
    """A token that changes whenever the workspace's manifest does (every commit rewrites it)."""
    if manifest is None:
        return "0"
    try:
        st = os.stat(manifest)
    except OSError:
        return "0"
    return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"


def settle() -> None:
    """Move every object alive now out of the garbage collector's generations (``gc.freeze``): what a server
    keeps (imported modules, the loaded model, cached arrays and lists) is then no longer walked by each full
    collection, which at 1M points stopped every thread for 180-260 ms (~260,000 tracked objects; the load
    bench's p99s). Called when something long-lived was just built; short-lived objects frozen with it are
    freed by reference counting as usual (only garbage in reference cycles among them would stay)."""
    gc.freeze()


class ExplorerState:
    """The Scope behind an app plus a version-keyed, thread-safe cache.

    Parameters
    ----------
    scope
        The workspace served; ``None`` for an app built only for its OpenAPI schema (every lookup is then a
        404).
    """

    def __init__(self, scope: ScopeAPI | None) -> None:
        self._scope = scope
        #: Serialises calls into the Scope (it is not thread-safe; FastAPI runs sync routes in threads).
        self.lock = threading.RLock()
        #: One heavy job that stores a result at a time (they run on their own handle, not under ``lock``).
        self.jobs = threading.Lock()
        self._cache: dict[tuple, Any] = {}
        self._recent: OrderedDict[tuple, Any] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._manifest = _manifest_path(scope)
        self._stamp = _manifest_stamp(self._manifest)
        #: API paths the page's first paint asks for (set by :func:`~embedscope.server.warm.warm_first_paint`);
        #: the page names them as ``<link rel="preload">`` so the browser fetches them while it starts the app.
        self.preload: tuple[str, ...] = ()

    @property
    def scope(self) -> ScopeAPI:
        """The workspace served (not thread-safe: call it under :attr:`lock`, or use :meth:`run_job`)."""
        if self._scope is None:
            raise WorkspaceError("no workspace is served")
        return self._scope

    # -- cache ---------------------------------------------------------------------------------
    def version(self) -> str:
        """The workspace version; when another process changed the workspace, the Scope re-reads it."""
        stamp = _manifest_stamp(self._manifest)
        if stamp != self._stamp:
            with self.lock:
                if stamp != self._stamp:
                    self.scope.reload()
                    self._stamp = stamp
        return stamp

    def cached(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()`` once per (workspace version, key)."""
        full = (self.version(), *key)
        hit = self._cache.get(full, _MISSING)
        if hit is not _MISSING:
            return hit
        with self.lock:
            if full not in self._cache:
                value = compute()
                self._cache = {k: v for k, v in self._cache.items() if k[0] == full[0]}
                self._cache[full] = value
                settle()
            return self._cache[full]

    def recent(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()`` for a key made of a request's parameters, kept among the :data:`MAX_RECENT` last used
        (per workspace version). ``compute`` runs without the lock (it takes it if it calls into the Scope)."""
        full = (self.version(), *key)
        with self._recent_lock:
            hit = self._recent.get(full, _MISSING)
            if hit is not _MISSING:
                self._recent.move_to_end(full)
                return hit
        value = compute()
        with self._recent_lock:
            for old in [k for k in self._recent if k[0] != full[0]]:
                del self._recent[old]
            self._recent[full] = value
            while len(self._recent) > MAX_RECENT:
                self._recent.popitem(last=False)
        return value

    def run_job(self, work: Callable[[ScopeAPI], T], *, stores: bool = True) -> T:
        """``work(scope)`` on a handle of its own (:meth:`~embedscope.workspace.Scope.fork`), outside :attr:`lock`:
        lookups go on while it runs. ``stores``: the job writes a result (one such job at a time); the shared
        handle then re-reads the manifest (briefly under the lock), so the next request sees the result."""
        with self.jobs if stores else contextlib.nullcontext():
            with self.lock:  # the shared handle's caches are read while it is copied
                own = self.scope.fork()
            result = work(own)
        if stores:
            self.version()
        return result

    def peek(self, key: tuple, default: Any = None) -> Any:
        """The cached value of ``key`` for the current workspace version, or ``default``; never computes, never
        takes the lock (a route may answer on the event loop when everything it reads is cached)."""
        return self._cache.get((self.version(), *key), default)

    def blob(self, key: tuple, table: Callable[[], pa.Table]) -> Blob:
        """Arrow IPC bytes of ``table()``, cached, with an ETag."""
        return self.cached(("blob", *key), lambda: self.blob_of(key, table()))

    def blob_of(self, key: tuple, table: pa.Table) -> Blob:
        """Arrow IPC bytes of ``table`` with an ETag naming ``key`` at this workspace version (not cached)."""
        tag = hashlib.blake2b(repr((self.version(), key)).encode(), digest_size=12).hexdigest()
        return Blob(body=ipc_bytes(table), etag=f'"{tag}"')

    def send_arrow(self, request: Request, key: tuple, table: Callable[[], pa.Table]) -> Response:
        """The cached Arrow bytes of ``table()`` with their ETag, or 304 when the browser already has them."""
        return self.send_blob(request, self.blob(key, table))

    @staticmethod
    def send_blob(request: Request, blob: Blob) -> Response:
        """``blob`` with its ETag, or 304 when the browser already has it."""
        if request.headers.get("if-none-match") == blob.etag:
            return Response(status_code=304, headers={"ETag": blob.etag})
        response = arrow_response(blob.body)
        response.headers["ETag"] = blob.etag
        return response

    # -- spaces and items ----------------------------------------------------------------------
    def spaces(self) -> list[str]:
        return self.cached(("spaces",), lambda: list(self.scope.spaces()))

    def check_space(self, space: str) -> str:
        if space not in self.spaces():
            known = ", ".join(self.spaces()) or "none"
            raise WorkspaceError(f"no space {space!r} in this workspace (spaces: {known})")
        return space

    def items(self, space: str) -> pa.Table:
        """``items_for(space)``: one row per point, in point order."""
        self.check_space(space)
        return self.cached(("items", space), lambda: self.scope.items_for(space).combine_chunks())

    def metadata(self, space: str) -> pa.Table:
        """The metadata columns (no ``id``, no ``text``), one row per point in point order: what the column
        list and the map's colours need, read without the texts (a million texts take seconds)."""
        self.check_space(space)

        def read() -> pa.Table:
            full = self._cache.get((self.version(), "items", space), _MISSING)
            if full is not _MISSING:
                table = full
            else:
                names = [c for c in self.scope.item_columns() if c not in RESERVED]
                table = self.scope.items_for(space, columns=names)
            return table.select([c for c in table.column_names if c not in RESERVED])

        return self.cached(("metadata", space), read)

    def point_ids(self, space: str) -> list[str]:
        self.check_space(space)
        return self.cached(("ids", space), lambda: [str(i) for i in self.scope.point_ids(space)])

    def count(self, space: str) -> int:
        return len(self.point_ids(space))

    def check_row(self, space: str, row: int) -> int:
        n = self.count(space)
        if not 0 <= row < n:
            raise WorkspaceError(f"no row {row} in space {space!r} (it has {n} points: rows 0..{n - 1})")
        return row

    def item_count(self) -> int:
        """Items in the workspace (a space may hold fewer: items without text are not embedded); from the
        manifest's row count (reading a million items' texts to count them took 1.9 s)."""
        if not self.scope.has_items():
            return 0
        rec = self._record("items")
        if rec is not None and int(getattr(rec, "rows", 0) or 0) > 0:
            return int(rec.rows)
        return self.cached(("item_count",), lambda: int(self.scope.items().num_rows))

    def has_text(self) -> bool:
        if not self.scope.has_items():
            return False
        # the schema only, not the table
        return self.cached(("has_text",), lambda: "text" in self.scope.item_columns())

    def texts(self, space: str) -> pa.Array | None:
        items = self.items(space)
        if "text" not in items.column_names:
            return None
        return self.cached(("texts", space), lambda: items.column("text").combine_chunks())

    # -- layouts -------------------------------------------------------------------------------
    def layout(self, space: str, method: str) -> Layout:
        """``scope.layout(space, method)``, checked to be in point order, once per workspace version."""
        self.check_space(space)

        def load() -> Layout:
            layout = self.scope.layout(space, method)
            n = self.count(space)
            coords = np.asarray(layout.coords)
            if coords.shape != (n, 2):
                raise WorkspaceError(f"layout {method!r} of space {space!r} has shape {coords.shape}, expected "
                                     f"({n}, 2); recompute it")
            if [str(i) for i in layout.ids] != self.point_ids(space):
                raise WorkspaceError(f"layout {method!r} of space {space!r} is not in point order; recompute it")
            return layout

        return self.cached(("layout", space, method), load)

    def layout_summaries(self, space: str) -> list[dict[str, Any]]:
        """Each stored layout of ``space`` with its honesty summary, from the manifest (no table is read), in
        the order the workspace lists them (the page picks its default by ``rank``).

        ``label``, ``surface`` and ``rank`` are the method's traits (:func:`embedscope.projection.traits`).
        ``has_xyz``: the layout has 3-D coordinates (a sphere's unit vectors; on a plane, PCA's first three
        components since layouts carry honesty figures, the same change that added them).
        """
        info = self.scope.space_info(space)
        out = []
        for method in info.layouts:
            kind = traits(method)
            rec = self._record(layout_table(space, method))
            quality = dict(rec.metrics.get("quality") or {}) if rec is not None else {}
            stale = self._stale(rec)
            out.append({
                "method": method,
                "k": _int_or_none(quality.get("k")),
                "trustworthiness": _float_or_none(quality.get("trustworthiness")),
                "continuity": _float_or_none(quality.get("continuity")),
                "knn_recall": _float_or_none(quality.get("knn_recall")),
                "sampled": _int_or_none(quality.get("sampled")),
                "stale": stale,
                "has_xyz": kind.has_xyz and (kind.surface == "sphere" or bool(quality)),
                "label": kind.label or method,
                "surface": kind.surface,
                "rank": kind.rank,
            })
        return out

    # -- clusters ------------------------------------------------------------------------------
    def clustering(self, space: str) -> Clustering:
        """``scope.clusters(space)`` with its labels checked to be one per point, once per workspace version.

        Raises :class:`WorkspaceError` (404) when the space has no clustering or it no longer fits the space.
        """
        self.check_space(space)

        def load() -> Clustering:
            found = self.scope.clusters(space)
            if found is None:
                raise WorkspaceError(f"space {space!r} has no clusters; compute them with "
                                     f"embedscope cluster WORKSPACE --space {space}")
            labels = np.asarray(found.labels)
            n = self.count(space)
            if labels.shape != (n,):
                raise WorkspaceError(f"the clusters of space {space!r} label {labels.shape[0]} points but the "
                                     f"space has {n}; recompute them with embedscope cluster")
            return found

        return self.cached(("clusters", space), load)

    def has_clusters(self, space: str) -> bool:
        """The space has a clustering that fits it (see :meth:`clustering`)."""
        if self._record(clusters_table(space)) is None:
            return False
        try:
            self.clustering(space)
        except WorkspaceError:
            return False
        return True

    def clusters_stale(self, space: str) -> bool:
        """The vectors or the UMAP map the clustering was computed from changed since."""
        return self._stale(self._record(clusters_table(space)))

    def clusters_version(self, space: str) -> str:
        """A token that changes whenever the stored clustering does (for cache-busting URLs)."""
        rec = self._record(clusters_table(space))
        return str(getattr(rec, "fingerprint", "") or "0")[:16] if rec is not None else "0"

    def _record(self, table: str) -> Record | None:
        """The store's record of ``table`` (``None``: none)."""
        return self.scope.store.record(table)

    def _stale(self, rec: Record | None) -> bool:
        """Whether the store says ``rec`` is stale (``False`` for no record)."""
        return rec is not None and self.scope.store.is_stale(rec)

    # -- metadata columns ----------------------------------------------------------------------
    def columns(self, space: str) -> list[ColumnInfo]:
        return self.cached(("columns", space), lambda: describe(self.metadata(space)))

    def column(self, space: str, name: str) -> ColumnInfo:
        for col in self.columns(space):
            if col.name == name:
                return col
        raise WorkspaceError(f"no metadata column {name!r} in space {space!r}")


def _float_or_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int_or_none(v: Any) -> int | None:
    f = _float_or_none(v)
    return None if f is None else int(f)


async def get_state(request: Request) -> ExplorerState:
    """FastAPI dependency: the app's :class:`ExplorerState` (async: a sync dependency costs a thread hop per
    request)."""
    return request.app.state.explorer
