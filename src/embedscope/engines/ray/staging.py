"""Staging on Ray: Lance datasets the workers append to, and shards staged so a killed build reruns only the rest."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ...io.files import atomic_path

_SCHEMA_META = b"embedscope.staging"


def append_table(uri: str, table: pa.Table, tries: int = 20) -> None:
    """Append ``table`` to the Lance dataset at ``uri`` (created by the first writer), retrying on conflicts."""
    import lance

    for attempt in range(tries):
        try:
            mode = "append" if _exists(uri) else "create"
            lance.write_dataset(table, uri, mode=mode)
            return
        except Exception:  # a concurrent create or commit won; the next try appends after it
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _exists(uri: str) -> bool:
    import lance

    try:
        lance.dataset(uri)
        return True
    except (ValueError, FileNotFoundError, OSError):
        return False


def _staged_datasets(uri: str) -> list[str]:
    """The staging datasets under ``uri``: one per actor (``actor-*.lance``), and ``uri`` itself if it is one
    (the single shared dataset of earlier versions, left by a killed run)."""
    import pyarrow.fs as pafs

    out = [uri] if _exists(uri) else []
    fs, path = pafs.FileSystem.from_uri(uri if "://" in uri else os.path.abspath(uri))
    scheme = uri.split("://", 1)[0] + "://" if "://" in uri else ""
    for info in fs.get_file_info(pafs.FileSelector(path, allow_not_found=True)):
        if info.type == pafs.FileType.Directory and info.base_name.startswith("actor-") and \
                info.base_name.endswith(".lance") and _exists(scheme + info.path):
            out.append(scheme + info.path)
    return sorted(out)


def staged_batches(uri: str, rows: int = 8192) -> Iterator[tuple[list[str], np.ndarray]]:
    """Stream the vectors staged under ``uri``, ``rows`` at a time: (hashes, float32 ``(b, d)``) per batch.

    A retried batch may have been appended twice: the same hash then comes again with the same vector.
    """
    import lance

    for ds_uri in _staged_datasets(uri):
        for rb in lance.dataset(ds_uri).to_batches(columns=["hash", "vector"], batch_size=rows):
            if rb.num_rows == 0:
                continue
            col = rb.column(1)
            x = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, col.type.list_size)  # flatten: honours a slice
            yield rb.column(0).to_pylist(), x


def read_staging(uri: str) -> dict[str, np.ndarray]:
    """The vectors staged under ``uri``: content hash -> float32 ``(d,)`` (empty if there are none).

    Holds them all in memory: for inspection and tests; :func:`embed_texts_ray` streams instead.
    """
    out: dict[str, np.ndarray] = {}
    for hashes, x in staged_batches(uri):
        for h, v in zip(hashes, x, strict=True):
            out.setdefault(h, v)
    return out


def drop_staging(uri: str) -> None:
    """Delete a staging directory or dataset (local or object storage)."""
    import pyarrow.fs as pafs

    fs, path = pafs.FileSystem.from_uri(uri if "://" in uri else os.path.abspath(uri))
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_dir(path)
    parent = os.path.dirname(path)
    if "://" not in uri and os.path.isdir(parent) and not os.listdir(parent):
        os.rmdir(parent)  # the workspace's staging/ directory, now empty


# ------------------------------------------------------------------------------------ staged shards
class ShardStage:
    """Finished shards of a Ray step, staged as one ``.npz`` file each so a killed job reruns only the rest.

    The directory holds ``job.json`` (what the shards belong to: the input fingerprint and the parameters)
    and ``shard-{j}.npz`` per finished shard, each written to a temporary name and renamed (atomic on one
    file system): a kill leaves whole shards or none. A directory left by a different job is emptied first.
    Written by the driver, so it only has to be reachable from the driver.

    Parameters
    ----------
    path
        The directory (``WS/staging/...``); ``None``: nothing is staged (no resume).
    job
        JSON-able description of the job; shards staged under another description are discarded.
    """

    def __init__(self, path: str | os.PathLike[str] | None, job: dict[str, Any]) -> None:
        import json
        import shutil

        self.path = None if path is None else os.fspath(path)
        if self.path is None:
            return
        meta = os.path.join(self.path, "job.json")
        text = json.dumps(job, sort_keys=True)
        try:
            with open(meta) as f:
                same = f.read() == text
        except OSError:
            same = False
        if not same:
            shutil.rmtree(self.path, ignore_errors=True)
            os.makedirs(self.path)
            with atomic_path(meta) as tmp, open(tmp, "w") as f:
                f.write(text)

    def _file(self, j: int) -> str:
        assert self.path is not None
        return os.path.join(self.path, f"shard-{j}.npz")

    def done(self) -> set[int]:
        """Shards already staged."""
        if self.path is None:
            return set()
        return {int(f[6:-4]) for f in os.listdir(self.path) if f.startswith("shard-") and f.endswith(".npz")}

    def save(self, j: int, **arrays: np.ndarray) -> None:
        """Stage shard ``j``'s arrays (atomic rename)."""
        if self.path is None:
            return
        with atomic_path(self._file(j)) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    def load(self, j: int) -> dict[str, np.ndarray]:
        """Shard ``j``'s staged arrays."""
        with np.load(self._file(j), allow_pickle=False) as z:
            return {name: z[name] for name in z.files}

    def drop(self) -> None:
        """Delete the staged shards (the step's result is stored)."""
        import shutil

        if self.path is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        parent = os.path.dirname(self.path)
        if os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)


def gather(ray: Any, stage: ShardStage, shards: int, submit: Callable[[int], Any],
            use: Callable[[int, dict[str, np.ndarray]], None], progress: Callable[[int, int], None] | None,
            window: int) -> None:
    """Hand every shard's arrays to ``use``: the staged ones first, then those of the tasks ``submit(j)``
    starts for the missing shards (at most ``window`` in flight), each staged as it arrives."""
    staged = stage.done() & set(range(shards))
    done = 0
    for j in sorted(staged):
        use(j, stage.load(j))
        done += 1
        if progress:
            progress(done, shards)
    todo = [j for j in range(shards) if j not in staged]
    pending: dict[Any, int] = {}
    while todo or pending:
        while todo and len(pending) < window:
            j = todo.pop(0)
            pending[submit(j)] = j
        ready, _ = ray.wait(list(pending), num_returns=1)
        j = pending.pop(ready[0])
        res = ray.get(ready[0])
        stage.save(j, **res)
        use(j, res)
        del res
        done += 1
        if progress:
            progress(done, shards)
