"""Upserting items by id, and the fingerprint of what embedded spaces depend on."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from .manifest import fingerprint_arrays


def items_fingerprint(t: pa.Table) -> str:
    """Hash of the (id, text) pairs of items that have a text: what embedded spaces depend on."""
    if "text" not in t.column_names:
        return fingerprint_arrays("no-text")
    valid = t.column("text").is_valid()
    sub = t.filter(valid)
    # as plain strings: an upsert merged through pandas holds large_string columns, the same ids and texts
    return fingerprint_arrays(*(_plain(sub.column(c).combine_chunks()) for c in ("id", "text")))


def _plain(a: pa.Array) -> pa.Array:
    return a.cast(pa.string()) if pa.types.is_large_string(a.type) else a


def merge_items(old: pa.Table, new: pa.Table) -> tuple[pa.Table, int, int, int]:
    """Upsert ``new`` into ``old`` by id, keeping old order; returns (table, added, updated, unchanged)."""
    o = old.to_pandas()
    n = new.to_pandas()
    pos = pd.Index(o["id"]).get_indexer(n["id"])
    hit = pos >= 0
    for c in n.columns:
        if c not in o.columns:
            o[c] = pd.Series([None] * len(o), dtype=object if n[c].dtype == object else "float64")
    updated = unchanged = 0
    cols = [c for c in n.columns if c != "id"]
    if hit.any() and cols:
        sub_old = o.loc[pos[hit], cols].reset_index(drop=True)
        sub_new = n.loc[hit, cols].reset_index(drop=True)
        same = (_comparable(sub_old) == _comparable(sub_new)).all(axis=1).to_numpy()
        updated = int((~same).sum())
        unchanged = int(same.sum())
        for c in cols:
            o[c] = o[c].astype(object)
            o.loc[pos[hit], c] = n.loc[hit, c].to_numpy(dtype=object)
    elif hit.any():
        unchanged = int(hit.sum())
    added = int((~hit).sum())
    merged = pd.concat([o, n.loc[~hit]], ignore_index=True) if added else o
    table = pa.Table.from_pandas(merged, preserve_index=False)
    return table, added, updated, unchanged


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as objects that compare by value: missing as ``None``, lists and arrays (list metadata) as tuples
    (an array compared with ``==`` gives an array, which pandas cannot take as one answer)."""
    def value(v: object) -> object:
        if isinstance(v, (list, tuple, np.ndarray)):
            return tuple(value(e) for e in v)
        if isinstance(v, dict):
            return tuple(sorted((k, value(e)) for k, e in v.items()))
        return v

    return df.astype(object).where(df.notna(), None).map(value)


def items_fingerprint_batches(ids: pa.Array, texts: Callable[[], Iterator[pa.Array]]) -> str | None:
    """:func:`items_fingerprint` of items whose ``text`` column is read in batches (twice: its offsets are hashed
    before its characters), without holding it whole. ``ids``: the whole ``id`` column (one chunk, no nulls).

    Returns ``None`` when a text is missing (the caller then hashes the whole table as usual).
    """
    if ids.null_count or ids.offset or not pa.types.is_string(ids.type):
        return None
    h = hashlib.blake2b(digest_size=16)
    h.update(f"p{ids.type}".encode())
    for buf in ids.buffers():
        if buf is not None:
            h.update(memoryview(buf))
    h.update(f"|{len(ids)}|0".encode())
    h.update(b"pstring")
    n, end = 0, 0
    h.update(np.zeros(1, np.int32).data)
    for arr in texts():  # the offsets of the whole column, as one int32 array would hold them
        if arr.null_count or not pa.types.is_string(arr.type):
            return None
        own = np.frombuffer(arr.buffers()[1], np.int32, len(arr) + 1, arr.offset * 4).astype(np.int64)
        offs = end + (own[1:] - own[0])
        if len(offs) and offs[-1] >= 2**31:
            return None
        h.update(offs.astype(np.int32).data)
        end = int(offs[-1]) if len(offs) else end
        n += len(arr)
    for arr in texts():  # then their characters
        offs = np.frombuffer(arr.buffers()[1], np.int32, len(arr) + 1, arr.offset * 4)
        data = arr.buffers()[2]
        if data is not None:
            h.update(memoryview(data)[int(offs[0]):int(offs[-1])])
    h.update(f"|{n}|0".encode())
    return h.hexdigest()
