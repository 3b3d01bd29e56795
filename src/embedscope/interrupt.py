"""Ctrl-C on the command line: a long command stops at once, says so on stderr, and exits 130.

Python turns SIGINT into ``KeyboardInterrupt`` only in the main thread, and only between bytecodes: a command busy
in native code (numba's compiled loops in UMAP, ONNX Runtime, the e5 engine, a Lance write) would not see it until
that call returns, minutes later for a big fit. So :func:`run_interruptible` runs the command in a worker thread
while the main thread only waits, and SIGINT reaches the main thread at once. The main thread then prints
:data:`MESSAGE`, raises ``KeyboardInterrupt`` in the worker (which unwinds through the workspace's own cleanup:
the write lock released, temporary files removed) and waits up to :data:`GRACE` seconds for it; a worker still
inside native code after that is abandoned. The process then ends with ``os._exit`` (after the ``atexit``
functions when the worker unwound, e.g. a local Ray runtime's shutdown): Python's full shutdown after an
interrupted worker was seen to abort in a native library's destructors ("terminate called without an active
exception", exit -6). Ending so is like a kill for the workspace, which leaves it whole: the write lock is an
``flock`` that dies with the process, and every result is one atomic table commit recorded in the manifest after
its data is written (``tests/test_crash.py`` kills every job with SIGKILL at random moments and checks exactly
that). A rerun resumes from what was committed.

A second Ctrl-C during the grace period ends the process at once.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn, TypeVar

T = TypeVar("T")

#: The line printed on stderr when a command is interrupted.
MESSAGE = "interrupted, rerun to resume"
#: The exit code of an interrupted command (128 + SIGINT, as shells report a Ctrl-C).
EXIT_CODE = 130
#: Seconds the interrupted worker gets to unwind before the process ends without it.
GRACE = 2.0
#: How often the waiting main thread wakes up (a SIGINT delivered to another thread is seen within this).
_POLL = 0.2


def run_interruptible(fn: Callable[[], T], *, grace: float = GRACE) -> T:
    """Run ``fn()`` so that SIGINT stops it promptly, wherever it is.

    Called from the main thread, ``fn`` runs in a worker thread and the main thread waits for it; on SIGINT
    the process prints :data:`MESSAGE` and exits with :data:`EXIT_CODE` (see the module's notes). Called from
    any other thread (where no signal arrives), ``fn`` simply runs.

    Parameters
    ----------
    fn
        The work; its result is returned and its exception re-raised in the calling thread.
    grace
        Seconds the worker gets to unwind after the interrupt before the process ends without it.

    Returns
    -------
    Whatever ``fn`` returns.
    """
    if threading.current_thread() is not threading.main_thread():
        return fn()
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the main thread, raised there
            box["error"] = exc

    worker = threading.Thread(target=work, name="embedscope-command", daemon=True)
    try:  # start() is inside: a SIGINT while the worker starts (it may already be running) is this interrupt too
        worker.start()
        while worker.is_alive():
            worker.join(_POLL)
    except KeyboardInterrupt:
        stop(worker, grace)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def announce() -> None:
    """Print :data:`MESSAGE` on stderr (on a terminal, first show the cursor a progress bar may have hidden)."""
    real = sys.__stderr__
    try:
        if real is not None and real.isatty():
            real.write("\x1b[?25h")
            real.flush()
    except (OSError, ValueError):  # a closed or odd stderr: the message below is what matters
        pass
    try:
        sys.stderr.write(MESSAGE + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def stop(worker: threading.Thread, grace: float = GRACE) -> NoReturn:
    """End the process after an interrupt: announce it, interrupt ``worker``, give it ``grace`` seconds to unwind,
    then exit with :data:`EXIT_CODE` (never returns)."""
    announce()
    signal.signal(signal.SIGINT, lambda *_: _hard_exit())  # a second Ctrl-C: no more waiting
    if worker.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(KeyboardInterrupt))
        worker.join(grace)
    if not worker.is_alive():
        import atexit

        atexit._run_exitfuncs()  # what a normal exit runs first (CPython's own function, stable since 3.0)
    _hard_exit()


def _hard_exit() -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    real = sys.__stderr__
    try:  # on a terminal, end a progress bar's line and show the cursor (the bar may not have closed itself)
        if real is not None and real.isatty():
            real.write("\x1b[?25h\n")
            real.flush()
    except (OSError, ValueError):
        pass
    os._exit(EXIT_CODE)
