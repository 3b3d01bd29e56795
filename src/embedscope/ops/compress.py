"""The compression lab of a workspace: the recall-against-bytes table of a space (stored and reused),
compressed copies stored as spaces, compact codes exported to a file. The codecs and their measurement are
:mod:`embedscope.analyses.compress`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..analyses import compress as lab
from ..errors import InputError
from ..io.files import atomic_path
from ..results import Progress, SpaceInfo
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import check_space_name, compress_table, vectors_table
from .base import ScopeLike


def compress(scope: ScopeLike, space: str | None = None, codecs: Sequence[str] | None = None, *,
             queries: int = 1000, seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
    """The compression table of a space (see :mod:`embedscope.analyses.compress`), stored and reused; JSON-ready.

    Parameters
    ----------
    scope
        The workspace.
    space
        Space name.
    codecs
        Codec names (``float16``, ``int8``, ``binary``, ``binary+rescore``, ``truncate-D``, ``pca-D``...);
        default: every kind at a half, a quarter and an eighth of the dimension.
    queries
        Held-out queries (at most a fifth of the items).
    seed
        Seed of the query split.
    progress
        Called with ``(stage, done, total)``.

    Returns
    -------
    dict
        ``{"space", "dim", "items", "queries", "rows": [{"codec", "bytes_per_vector", "scan_bytes", "recall@1",
        "recall@10", "recall@100", "query_ms", "build_s", ...}], "frontier": [codec names]}``.
    """
    space = scope.resolve_space(space)
    _ids, x, _ = scope.store.arrays(space)
    names = list(codecs) if codecs else lab.default_codecs(int(x.shape[1]))
    for name in names:
        try:
            lab.codec_from_name(name)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    name = compress_table(space)
    # "bytes": how bytes are counted (2: a rescoring codec counts the float32 vectors it keeps; tables of
    # earlier versions counted its codes only and are measured again)
    want = {"codecs": names, "queries": int(queries), "seed": int(seed), "bytes": 2}
    rec = scope.store.record(name)
    if rec is not None and not scope.store.is_stale(rec) and rec.params == want:
        return dict(rec.metrics["result"])
    try:
        ev = lab.evaluate(np.asarray(x), names, queries=queries, seed=seed, progress=progress)
    except ValueError as exc:
        raise InputError(f"space {space!r}: {exc}") from None
    rows = [r.row() for r in ev.rows]
    result = {"space": space, "dim": ev.dim, "items": ev.n_items, "queries": ev.n_queries,
              "rows": rows, "frontier": lab.frontier(ev.rows)}
    vrec = scope.store.require(vectors_table(space))
    with scope.store.writing():
        table = pa.Table.from_pylist([{k: r[k] for k in ("codec", "bytes_per_vector", "recall@1", "recall@10",
                                                         "recall@100", "query_ms", "build_s")} for r in rows])
        scope.store.write(Record(table=name, kind="compress", params=want,
                                 inputs={vectors_table(space): vrec.fingerprint},
                                 fingerprint=fingerprint_arrays(table.column("recall@10").to_numpy()),
                                 metrics={"result": result}), table)
    return result


def compression(scope: ScopeLike, space: str | None = None) -> dict[str, Any] | None:
    """The stored compression table of a space (as :func:`compress` returns it, plus ``stale``: the vectors
    changed since, and ``params``), or ``None`` when it was never measured."""
    space = scope.resolve_space(space)
    rec = scope.store.record(compress_table(space))
    if rec is None:
        return None
    return {**rec.metrics["result"], "stale": scope.store.is_stale(rec), "params": dict(rec.params)}


def compress_space(scope: ScopeLike, space: str | None, codec: str, as_name: str) -> SpaceInfo:
    """Store a compressed copy of ``space`` as the new space ``as_name``: the decoded vectors of ``codec``
    (what a search of the compressed index sees), flagged ``source: compressed`` with the codec's bytes per
    vector and, when the compression table has it, its recall.
    """
    space = scope.resolve_space(space)
    check_space_name(as_name)
    if as_name in scope.spaces():
        old = scope.store.require(vectors_table(as_name))
        if old.params.get("source") == "compressed" and old.params.get("from") == space and \
                old.params.get("codec") == codec and not scope.store.is_stale(old):
            return scope.space_info(as_name)  # the same copy of the same vectors: a rerun is a no-op
        raise InputError(f"space {as_name!r} exists; choose another --as name")
    if codec.startswith("binary+rescore"):
        raise InputError("a stored copy cannot rescore (that needs the full vectors); store 'binary'")
    ids, x, _ = scope.store.arrays(space)
    try:
        decoded, fitted = lab.compressed_copy(np.asarray(x), codec)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    vrec = scope.store.require(vectors_table(space))
    params: dict[str, Any] = {"source": "compressed", "from": space, "codec": codec,
                              "bytes_per_vector": fitted.bytes_per_vector(),
                              "codec_file": scope.store.save_model(f"{as_name}__codec", "codec",
                                                                   *lab.codec_state(fitted))}
    table = scope.store.record(compress_table(space))
    if table is not None and not scope.store.is_stale(table):
        row = next((r for r in table.metrics["result"]["rows"] if r["codec"] == codec), None)
        if row is not None:
            params["evaluation"] = {k: row[k] for k in ("recall@1", "recall@10", "recall@100")}
    with scope.store.writing():
        scope.store.write_space(as_name, ids, decoded, params, inputs={vectors_table(space): vrec.fingerprint})
    return scope.space_info(as_name)


def export_compressed(scope: ScopeLike, space: str | None, codec: str, path: str | Path) -> dict[str, Any]:
    """Write the compact codes of ``space`` under ``codec`` with the ids and codec parameters to one
    ``.npz`` (see :func:`embedscope.analyses.compress.export_codes`); returns its metadata."""
    space = scope.resolve_space(space)
    ids, x, _ = scope.store.arrays(space)
    try:
        lab.codec_from_name(codec)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with atomic_path(path) as tmp:
        meta = lab.export_codes(str(tmp), ids, np.asarray(x), codec)
    return {**meta, "space": space, "path": str(path)}
