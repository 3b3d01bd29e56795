"""A fork server for the crash tests: kill CLI jobs with SIGKILL without paying the imports each time.

Starting ``embedscope`` costs seconds of imports (numpy, pyarrow, lancedb, scikit-learn, ...) before a job
does any work, so killing fresh processes at random times would mostly kill the imports. The server here
imports everything once (single-threaded BLAS, no LanceDB connection, no torch: nothing that holds threads
across a fork), then forks one child per job. A child runs ``embedscope.cli.main(args)`` with stdout and stderr
in files and exits with its exit code; the test kills it with a real ``SIGKILL`` at any moment, so the job
dies wherever it is, mid-write included, with no cleanup.

Protocol (JSON lines on stdin/stdout): ``{"op": "start", "args": [...], "log": PREFIX}`` -> ``{"pid": N}``;
``{"op": "wait", "pid": N}`` -> ``{"pid", "killed": bool, "code": int | null, "seconds": float}``.

Run as ``python tests/robustness/crashkit.py`` (the tests start it through :class:`ForkServer`).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "EMBEDSCOPE_PROGRESS": "0"}
WARM = ("embedscope.cli", "embedscope.analyses.compress", "embedscope.embedders.tfidf", "embedscope.projection.pca",
        "embedscope.projection.quality", "embedscope.translate", "embedscope.cli.translate", "embedscope.workspace",
        "lancedb", "sklearn.decomposition", "sklearn.feature_extraction.text", "sklearn.linear_model")


def _child(args: list[str], log: str) -> None:
    out = os.open(f"{log}.stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(f"{log}.stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    code = 1
    try:
        from embedscope.cli import main

        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # pragma: no cover - reported through the exit code and stderr
        sys.stderr.write(f"crashkit child: {type(exc).__name__}: {exc}\n")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    """The server loop (in its own process)."""
    import warnings

    # LanceDB resets its async runtime in a forked child and warns that a deadlock is possible "if other state
    # was mid-operation at fork time"; this process never opens a database, so nothing is mid-operation.
    warnings.filterwarnings("ignore", message="lancedb fork support is experimental")
    for module in WARM:  # every module the jobs use, imported before forking
        importlib.import_module(module)

    started: dict[int, float] = {}
    reply = sys.stdout
    reply.write(json.dumps({"ready": True}) + "\n")
    reply.flush()
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "start":
            t0 = time.perf_counter()
            pid = os.fork()
            if pid == 0:
                _child(req["args"], req["log"])
            started[pid] = t0
            reply.write(json.dumps({"pid": pid}) + "\n")
        elif req["op"] == "wait":
            pid = int(req["pid"])
            _, status = os.waitpid(pid, 0)
            seconds = time.perf_counter() - started.pop(pid)
            killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            reply.write(json.dumps({"pid": pid, "killed": killed, "code": code, "seconds": seconds}) + "\n")
        reply.flush()


class ForkServer:
    """The test side: start the server, start jobs, kill them, wait for them."""

    def __init__(self) -> None:
        env = {**os.environ, **THREAD_ENV}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve())], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=str(Path(__file__).parent))
        assert self._read() == {"ready": True}

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the crash fork server died")
        return json.loads(line)  # type: ignore[no-any-return]

    def _ask(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def start(self, args: list[str], log: Path) -> int:
        return int(self._ask({"op": "start", "args": [str(a) for a in args], "log": str(log)})["pid"])

    def wait(self, pid: int) -> dict[str, Any]:
        return self._ask({"op": "wait", "pid": pid})

    def run(self, args: list[str], log: Path, timeout: float = 120.0) -> dict[str, Any]:
        """Run a job to its end: ``{"code", "seconds", "stdout", "stderr", ...}``; a job still running after
        ``timeout`` seconds (a hang) is killed, and reported as killed with no exit code."""
        import threading

        pid = self.start(args, log)
        watchdog = threading.Timer(timeout, os.kill, (pid, signal.SIGKILL))
        watchdog.start()
        try:
            res = self.wait(pid)
        finally:
            watchdog.cancel()
        res["stdout"] = Path(f"{log}.stdout").read_text()
        res["stderr"] = Path(f"{log}.stderr").read_text()
        return res

    def kill_at(self, args: list[str], log: Path, seconds: float) -> dict[str, Any]:
        """Start a job, SIGKILL it ``seconds`` after the fork (if it is still running), reap it."""
        pid = self.start(args, log)
        time.sleep(seconds)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover - already reaped: cannot happen before wait
            pass
        return self.wait(pid)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    serve()
