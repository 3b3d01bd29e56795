"""The workspace's write lock: an ``flock`` on ``WS/.lock``, whose file holds the pid of the process holding it.

Writers (ingest, embed, knn, project, ...) take it one at a time; the kernel releases it when its process ends,
however it ends. A writer that finds it taken says once on stderr which process it waits for, then waits.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def holder_pid(fd: int) -> int | None:
    """The pid written in the lock file (``None`` if there is none)."""
    try:
        raw = os.pread(fd, 32, 0)
    except OSError:
        return None
    try:
        return int(raw.decode("ascii").strip())
    except ValueError:
        return None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def acquire(fd: int, workspace: Path, say: Callable[[str], None] = _stderr) -> None:
    """Take the exclusive lock on ``fd`` (the open ``WS/.lock``) and write this process's pid into it.

    When another process holds the lock, ``say`` gets one line naming it and the workspace (``waiting for
    another embedscope process (pid N) to finish with WS``) before the wait.
    """
    pid: int | None = None
    got = _try_lock(fd)
    if not got:
        pid = holder_pid(fd)
        for _ in range(20):  # a holder that has just taken the lock writes its pid a moment later
            if pid is not None:
                break
            time.sleep(0.05)
            got = _try_lock(fd)
            if got:
                break
            pid = holder_pid(fd)
    if not got:
        if pid != os.getpid():  # (another thread of this process, e.g. in the server, is no news)
            who = f" (pid {pid})" if pid is not None else ""
            say(f"waiting for another embedscope process{who} to finish with {workspace}")
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:  # a lock file this process may not write: the lock itself holds
        pass


def release(fd: int) -> None:
    """Clear the pid and release the lock taken by :func:`acquire`."""
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass
    fcntl.flock(fd, fcntl.LOCK_UN)
