"""Writing files safely: atomic replacement, temporaries removed on every failure, and one clear line for a
full disk or a read-only file system.

- :func:`atomic_path` yields a temporary path beside the destination; the caller writes it, and it replaces the
  destination only when the block finishes. On any failure (an error, Ctrl-C) the temporary is removed, so a
  full disk is not kept full by a half-written file.
- :func:`storage_error` turns the errors a full or read-only disk raises (``OSError`` ``ENOSPC`` / ``EROFS`` /
  ``EACCES``, or a Lance error that carries ``os error 28``) into a :class:`~embedscope.errors.StorageError`
  naming the path and what to do; it returns ``None`` for anything else.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import DiskFullError, EmbedscopeError, ReadOnlyError, StorageError

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
# Lance and other Rust code report the OS error in the message only ("... (os error 28)")
_OS_ERROR = re.compile(r"os error (\d+)")
_PHRASES = {"no space left on device": errno.ENOSPC, "disk quota exceeded": errno.EDQUOT,
            "read-only file system": errno.EROFS, "permission denied": errno.EACCES}


def os_errno(exc: BaseException) -> int | None:
    """The OS error number behind ``exc`` (or an exception it was raised from), if there is one."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno is not None:
            return int(cur.errno)
        msg = str(cur)
        m = _OS_ERROR.search(msg)
        if m:
            return int(m.group(1))
        low = msg.lower()
        for phrase, code in _PHRASES.items():
            if phrase in low:
                return code
        cur = cur.__cause__ or cur.__context__
    return None


def _filename(exc: BaseException) -> str | None:
    cur: BaseException | None = exc
    while cur is not None:
        if isinstance(cur, OSError) and cur.filename:
            return str(cur.filename)
        cur = cur.__cause__ or cur.__context__
        if cur is exc:
            break
    return None


def storage_error(exc: BaseException, path: str | Path, *, workspace: str | Path | None = None
                  ) -> StorageError | None:
    """A one-line error for a full or read-only disk, else ``None``.

    Parameters
    ----------
    exc
        What a write raised.
    path
        What was being written (a file, or the workspace itself).
    workspace
        The workspace the write belongs to, if any: a full disk there resumes on rerun (finished steps are
        kept), and a read-only one can be copied somewhere writable.

    Returns
    -------
    StorageError or None
    """
    if workspace is not None and isinstance(exc, StorageError) and exc.__cause__ is not None:
        exc = exc.__cause__  # a file of the workspace (atomic_path named the file): say it of the workspace
    code = None if isinstance(exc, EmbedscopeError) else os_errno(exc)
    if code is None:
        return None
    where = Path(workspace) if workspace is not None else Path(path)
    named = _filename(exc)
    target = f" ({named})" if named and Path(named) != where else ""
    if code in _FULL:
        if workspace is not None:
            return DiskFullError(f"the disk is full while writing to {where}{target}; free space on the disk "
                                f"that holds {where}, then rerun (the run resumes)")
        return DiskFullError(f"cannot write {path}: the disk is full; free space on the disk that holds it, "
                            "or choose another path, then rerun")
    if code in _READ_ONLY:
        if workspace is not None:
            return ReadOnlyError(f"read-only workspace {where}: results cannot be stored; copy it "
                                f"somewhere writable (cp -r {where} /tmp/{where.name}) and run there")
        return ReadOnlyError(f"cannot write {path}: {os.strerror(code).lower()}; choose a writable path")
    return None


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write ``path`` through: renamed over ``path`` when the block ends, removed if it fails.

    The temporary is ``.NAME.PID.tmp`` in the same directory (so the rename is atomic). A full or read-only
    disk is raised as a :class:`~embedscope.errors.StorageError` naming ``path``.

    Examples
    --------
    >>> with atomic_path(out) as tmp:  # doctest: +SKIP
    ...     tmp.write_text(doc)
    """
    dest = Path(path)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException as exc:
        remove_quietly(tmp)
        err = storage_error(exc, dest) if isinstance(exc, Exception) else None
        if err is not None:
            raise err from exc
        raise


def write_bytes_atomic(path: str | Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path`, synced to disk before the rename (a crash leaves
    the old file or the new one, never a part)."""
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def remove_quietly(path: Path) -> None:
    """Remove a file or a directory tree if it exists; ignore errors (used on failure paths)."""
    try:
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def sweep_temporaries(root: Path) -> None:
    """Remove the temporaries a failed write may have left in a workspace (``*.tmp`` files in it and in its
    ``models/`` folder). Called with the workspace's write lock held, so none of them is another writer's."""
    for folder in (root, root / "models"):
        try:
            names = list(folder.glob("*.tmp")) + list(folder.glob(".*.tmp"))
        except OSError:
            continue
        for p in names:
            remove_quietly(p)
