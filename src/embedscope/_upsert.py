"""Upserting items by id, and the fingerprint of what embedded spaces depend on."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from .manifest import fingerprint_arrays


def items_fingerprint(t: pa.Table) -> str:
    """Hash of the (id, text) pairs of items that have a text: what embedded spaces depend on."""
    if "text" not in t.column_names:
        return fingerprint_arrays("no-text")
    valid = t.column("text").is_valid()
    sub = t.filter(valid)
    return fingerprint_arrays(sub.column("id").combine_chunks(), sub.column("text").combine_chunks())


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
        same = (sub_old.astype(object).where(sub_old.notna(), None) ==
                sub_new.astype(object).where(sub_new.notna(), None)).all(axis=1).to_numpy()
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
