"""The compression lab of a workspace: the recall-against-bytes table, compressed copies as spaces,
exported codes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .errors import InputError
from .io.files import atomic_path
from .pipeline.base import Progress
from .results import SpaceInfo
from .store.manifest import Record, fingerprint_arrays
from .store.tables import check_space_name, vectors_table

if TYPE_CHECKING:
    from .pipeline.base import ScopeLike as _ScopeBase
else:
    _ScopeBase = object


class CompressMixin(_ScopeBase):
    """Methods of :class:`embedscope.workspace.Scope`."""

    # ------------------------------------------------------------------------------------ compress
    def compress(self, space: str | None = None, codecs: Sequence[str] | None = None, *, queries: int = 1000,
                 seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """The compression table of a space (see :mod:`embedscope.analyses.compress`), stored and reused; JSON-ready.

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
        from .analyses import compress as _c

        space = self.resolve_space(space)
        _ids, x, _ = self.store.arrays(space)
        names = list(codecs) if codecs else _c.default_codecs(int(x.shape[1]))
        for name in names:
            try:
                _c.codec_from_name(name)
            except ValueError as exc:
                raise InputError(str(exc)) from None
        name = f"compress__{space}"
        want = {"codecs": names, "queries": int(queries), "seed": int(seed)}
        rec = self.store.record(name)
        if rec is not None and not self.store.is_stale(rec) and rec.params == want:
            return dict(rec.metrics["result"])
        try:
            ev = _c.evaluate(np.asarray(x), names, queries=queries, seed=seed, progress=progress)
        except ValueError as exc:
            raise InputError(f"space {space!r}: {exc}") from None
        rows = [r.row() for r in ev.rows]
        result = {"space": space, "dim": ev.dim, "items": ev.n_items, "queries": ev.n_queries,
                  "rows": rows, "frontier": _c.frontier(ev.rows)}
        vrec = self.store.require(vectors_table(space))
        with self.store.writing():
            table = pa.Table.from_pylist([{k: r[k] for k in ("codec", "bytes_per_vector", "recall@1", "recall@10",
                                                             "recall@100", "query_ms", "build_s")} for r in rows])
            self.store.write(Record(table=name, kind="compress", params=want, inputs={vectors_table(space): vrec.fingerprint},
                               fingerprint=fingerprint_arrays(table.column("recall@10").to_numpy()),
                               metrics={"result": result}), table)
        return result

    def compression(self, space: str | None = None) -> dict[str, Any] | None:
        """The stored compression table of a space (as :meth:`compress` returns it, plus ``stale``: the vectors
        changed since), or ``None`` when it was never measured."""
        space = self.resolve_space(space)
        rec = self.store.record(f"compress__{space}")
        if rec is None:
            return None
        return {**rec.metrics["result"], "stale": self.store.is_stale(rec), "params": dict(rec.params)}

    def compress_space(self, space: str | None, codec: str, as_name: str) -> SpaceInfo:
        """Store a compressed copy of ``space`` as the new space ``as_name``: the decoded vectors of ``codec``
        (what a search of the compressed index sees), flagged ``source: compressed`` with the codec's bytes per
        vector and, when the compression table has it, its recall.
        """
        from .analyses import compress as _c

        space = self.resolve_space(space)
        check_space_name(as_name)
        if as_name in self.spaces():
            old = self.store.require(vectors_table(as_name))
            if old.params.get("source") == "compressed" and old.params.get("from") == space and \
                    old.params.get("codec") == codec and not self.store.is_stale(old):
                return self.space_info(as_name)  # the same copy of the same vectors: a rerun is a no-op
            raise InputError(f"space {as_name!r} exists; choose another --as name")
        if codec.startswith("binary+rescore"):
            raise InputError("a stored copy cannot rescore (that needs the full vectors); store 'binary'")
        ids, x, _ = self.store.arrays(space)
        try:
            decoded, fitted = _c.compressed_copy(np.asarray(x), codec)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        vrec = self.store.require(vectors_table(space))
        params: dict[str, Any] = {"source": "compressed", "from": space, "codec": codec,
                                  "bytes_per_vector": fitted.bytes_per_vector(),
                                  "codec_file": self.store.save_model(f"{as_name}__codec", "codec",
                                                                 *_c.codec_state(fitted))}
        table = self.store.record(f"compress__{space}")
        if table is not None and not self.store.is_stale(table):
            row = next((r for r in table.metrics["result"]["rows"] if r["codec"] == codec), None)
            if row is not None:
                params["evaluation"] = {k: row[k] for k in ("recall@1", "recall@10", "recall@100")}
        with self.store.writing():
            self.store.write_space(as_name, ids, decoded, params, inputs={vectors_table(space): vrec.fingerprint})
        return self.space_info(as_name)

    def export_compressed(self, space: str | None, codec: str, path: str | Path) -> dict[str, Any]:
        """Write the compact codes of ``space`` under ``codec`` with the ids and codec parameters to one
        ``.npz`` (see :func:`embedscope.analyses.compress.export_codes`); returns its metadata."""
        from .analyses import compress as _c

        space = self.resolve_space(space)
        ids, x, _ = self.store.arrays(space)
        try:
            _c.codec_from_name(codec)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        with atomic_path(path) as tmp:
            meta = _c.export_codes(str(tmp), ids, np.asarray(x), codec)
        return {**meta, "space": space, "path": str(path)}
