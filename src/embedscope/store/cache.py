"""The embedding cache of a workspace: finished batches of one model in a LanceDB table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pyarrow as pa


class TableHost(Protocol):
    """Where the cache keeps its table: a LanceDB database (the workspace's, as
    :meth:`embedscope.store.workspace.Workspace.lance_cache` gives it)."""

    def table_names(self) -> list[str]:
        """The names of the database's tables."""
        ...

    def open_table(self, name: str) -> Any:
        """The LanceDB table ``name`` (its latest version)."""
        ...

    def create_table(self, name: str, data: pa.Table) -> Any:
        """A new LanceDB table ``name`` holding ``data``."""
        ...

    def drop_table(self, name: str) -> None:
        """Remove the table ``name``."""
        ...


class LanceCache:
    """Finished embedding batches of one model in a LanceDB table (one atomic commit per batch).

    Parameters
    ----------
    host
        The database that holds the table (``cache__`` + a hash of ``key``).
    key
        The embedder's key (model, dimensions, backend): vectors of another key are never mixed in.
    """

    def __init__(self, host: TableHost, key: str) -> None:
        import hashlib

        self.host = host
        self.name = "cache__" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
        self._tbl: Any = None
        self._index: dict[str, int] | None = None
        self._vecs: np.ndarray | None = None
        self._adds = 0

    def _open(self) -> Any:
        if self._tbl is None and self.name in self.host.table_names():
            try:
                self._tbl = self.host.open_table(self.name)
                self._tbl.count_rows()
            except Exception:
                self.host.drop_table(self.name)
                self._tbl = None
        return self._tbl

    def lookup(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        tbl = self._open()
        if tbl is None:
            return {}
        t = tbl.to_arrow()
        if t.num_rows == 0:
            return {}
        col = t.column("vector").combine_chunks()
        vecs = col.values.to_numpy(zero_copy_only=False).reshape(-1, col.type.list_size)
        index = {h: i for i, h in enumerate(t.column("hash").to_pylist())}
        return {h: vecs[index[h]] for h in hashes if h in index}

    def store(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        data = pa.table({"hash": pa.array(list(hashes), pa.string()),
                         "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])})
        tbl = self._open()
        if tbl is None:
            self._tbl = self.host.create_table(self.name, data)
        else:
            tbl.add(data)
        self._adds += 1

    def compact(self) -> None:
        """Merge the many small batch commits into few files and drop old versions."""
        if self._adds > 8 and self._tbl is not None:
            try:
                import warnings
                from datetime import timedelta

                with warnings.catch_warnings():  # only embedding (under the write lock) uses the cache
                    warnings.simplefilter("ignore")
                    self._tbl.optimize(cleanup_older_than=timedelta(seconds=0))
            except Exception:
                pass
