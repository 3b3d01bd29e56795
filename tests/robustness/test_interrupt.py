"""Ctrl-C (SIGINT) on long commands, the write lock's waiting note, and progress lines without a terminal.

Each interrupt test runs a real ``python -m embedscope`` subprocess, waits for a progress line on its stderr
(so the signal lands in the middle of the work, with most of it still to do), sends SIGINT, and checks: exit 130,
one line "interrupted, rerun to resume", the next stage never started, nothing half-made recorded, the lock free,
``info`` works, and a rerun completes with the result of an uninterrupted run.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embedscope
from embedscope.cli.progress import PlainProgress
from embedscope.interrupt import MESSAGE
from tests.helpers import run_cli as run
from tests.helpers import topic_frame

from .crashkit import THREAD_ENV

#: Generous limit for a subprocess step (a hang, not a timing bound: the tests check order, not speed).
HANG = 600.0


def _sigint_default() -> Callable[[], None] | None:
    """For a test runner started with SIGINT ignored (a background job), a child that takes SIGINT again."""
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        return None

    def reset() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return reset


class Cli:
    """A ``python -m embedscope`` subprocess whose stderr lines are collected as they come."""

    def __init__(self, *args: str | Path, stdin: int | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "embedscope", *map(str, args)], stdin=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, **THREAD_ENV}, preexec_fn=_sigint_default())
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self._out: list[str] = []
        self._readers = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True)]
        for t in self._readers:
            t.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self._out.append(self.proc.stdout.read())

    def wait_line(self, pred: Callable[[str], bool], timeout: float = HANG) -> str:
        """Block until a stderr line satisfies ``pred``; fails if the process ends first."""
        while True:
            try:
                line = self._new.get(timeout=timeout)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"no such line in {timeout} s; stderr so far: {self.lines}") from None
            if line is None:
                raise AssertionError(f"ended (exit {self.proc.wait()}) before the line; stderr: {self.lines}")
            if pred(line):
                return line

    def finish(self) -> tuple[int, str]:
        """Wait for the exit; (exit code, stdout)."""
        code = self.proc.wait(timeout=HANG)
        for t in self._readers:
            t.join(HANG)
        return code, "".join(self._out)


def cli_ok(*args: str | Path) -> tuple[str, list[str]]:
    c = Cli(*args)
    code, out = c.finish()
    assert code == 0, c.lines
    return out, c.lines


def interrupt_after(args: list[str | Path], pred: Callable[[str], bool]) -> tuple[int, list[str]]:
    """Run a command, send SIGINT once a stderr line satisfies ``pred``; (exit code, stderr lines)."""
    c = Cli(*args)
    c.wait_line(pred)
    c.proc.send_signal(signal.SIGINT)
    code, _ = c.finish()
    return code, c.lines


def assert_interrupted(code: int, lines: list[str], ws: Path) -> None:
    """Exit 130 and one line saying so; the lock is free and ``info`` works."""
    assert code == 130, lines
    assert lines.count(MESSAGE) == 1 and lines[-1] == MESSAGE, lines
    fd = os.open(ws / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the lock were still held
    finally:
        os.close(fd)
    cli_ok("info", ws, "--json")


@pytest.fixture(scope="module")
def verses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from embedscope.io.samples import bible

    path = tmp_path_factory.mktemp("verses") / "verses.csv"
    bible(1200)[["id", "text", "book"]].to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_sigint_during_embed_exits_130_and_a_rerun_resumes(verses: Path, tmp_path: Path) -> None:
    ref, ws = tmp_path / "ref.scope", tmp_path / "ws.scope"
    for w in (ref, ws):
        cli_ok("ingest", w, verses)
    out, ref_lines = cli_ok("embed", ref, "--batch-size", "16", "--json")
    json.loads(out)  # stdout: exactly one JSON document, progress on stderr
    assert any(re.fullmatch(r"embed: [\d,]+/[\d,]+ texts \(\d+%\), [\d,.]+ texts/s", s) for s in ref_lines)

    # the first progress line comes after a tenth of the texts: nine tenths are still to do
    code, lines = interrupt_after(["embed", ws, "--batch-size", "16"], lambda s: bool(re.match(r"embed: [\d,]+/", s)))
    assert_interrupted(code, lines, ws)
    assert not any(s.startswith("space ") for s in lines)  # it did not go on to finish
    assert embedscope.open(ws).spaces() == []  # no half-made space recorded

    out, _ = cli_ok("embed", ws, "--batch-size", "16", "--json")
    stats = json.loads(out)["stats"]
    assert stats["cached"] > 0 and stats["computed"] + stats["cached"] == stats["unique"]  # resumed
    ids_a, xa = embedscope.open(ref).vectors("minilm")
    ids_b, xb = embedscope.open(ws).vectors("minilm")
    assert ids_a == ids_b and np.array_equal(xa, xb)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 verses embedded with the default model, with their kNN graph: a layout is all a project run does."""
    from embedscope.io.samples import bible

    ws = tmp_path_factory.mktemp("embedded") / "base.scope"
    s = embedscope.create(ws)
    s.ingest(bible(600)[["id", "text", "book"]])
    s.embed("minilm", "local")
    s.knn("minilm")
    return ws


@pytest.mark.slow
@pytest.mark.parametrize("method", ["umap", "tsne", "sphere"])
def test_sigint_during_project_exits_130_and_a_rerun_matches(method: str, embedded: Path, tmp_path: Path) -> None:
    ref, ws = tmp_path / "ref.scope", tmp_path / "ws.scope"
    shutil.copytree(embedded, ref)
    shutil.copytree(embedded, ws)
    args = ["--method", method, "--seed", "3"]
    cli_ok("project", ref, *args)

    # "METHOD: 600 to do" is printed as the layout starts; its honesty is measured after it
    code, lines = interrupt_after(["project", ws, *args], lambda s: s.startswith(f"{method}: "))
    assert_interrupted(code, lines, ws)
    assert not any(s.startswith(("honesty", "stored")) for s in lines), lines  # stopped inside the layout
    assert method not in embedscope.open(ws).layouts("minilm")

    cli_ok("project", ws, *args)
    a, b = embedscope.open(ref).layout("minilm", method), embedscope.open(ws).layout("minilm", method)
    assert a.ids == b.ids
    np.testing.assert_allclose(a.coords, b.coords, atol=1e-5)


def test_sigint_inside_native_code_ends_the_process(tmp_path: Path) -> None:
    """A worker stuck in a C call (as in numba's compiled loops) cannot take the KeyboardInterrupt: the process
    ends without it, with the message and exit 130, long before the call would return."""
    script = ("import ctypes, sys\n"
              "from embedscope.interrupt import run_interruptible\n"
              "def work():\n"
              "    sys.stderr.write('sleeping\\n'); sys.stderr.flush()\n"
              "    ctypes.CDLL(None).sleep(3600)\n"
              "    sys.stderr.write('woke\\n')\n"
              "run_interruptible(work)\n"
              "sys.stderr.write('returned\\n')\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_default())
    assert proc.stderr is not None
    assert proc.stderr.readline() == "sleeping\n"
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read().splitlines()
    assert proc.wait(timeout=HANG) == 130
    assert rest == [MESSAGE]


def test_a_writer_says_which_process_holds_the_lock(tmp_path: Path) -> None:
    ws = tmp_path / "w.scope"
    embedscope.create(ws).ingest(topic_frame(1))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, embedscope\n"
                               f"s = embedscope.open({str(ws)!r})\n"
                               "with s.store.writing():\n"
                               "    print('held', flush=True)\n"
                               "    sys.stdin.readline()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        embed = Cli("embed", ws, "--model", "tfidf:8", "--json")
        note = f"waiting for another embedscope process (pid {holder.pid}) to finish with {ws}"
        embed.wait_line(lambda s: s == note, timeout=120)
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=HANG) == 0
        code, out = embed.finish()
    finally:
        holder.kill()
    assert code == 0, embed.lines
    assert json.loads(out)["space"] == "tfidf-8"
    assert embed.lines.count(note) == 1


def test_progress_lines_without_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "w.scope"
    embedscope.create(ws).ingest(topic_frame(2))  # 60 texts
    code, out, err = run(capsys, "embed", str(ws), "--model", "tfidf:8", "--batch-size", "6", "--json")
    assert code == 0, err
    assert json.loads(out)["stats"]["computed"] == 60  # stdout holds the one JSON document
    lines = [s for s in err.splitlines() if s.startswith("embed: ")]
    assert lines[0] == "embed: 60 to do"
    done = [int(re.match(r"embed: (\d+)/60 texts \((\d+)%\)", s).group(1)) for s in lines[1:]]  # type: ignore[union-attr]
    assert done == [6, 12, 18, 24, 30, 36, 42, 48, 54, 60]  # one line at each tenth


def test_plain_progress_every_tenth_and_every_period() -> None:
    now = [0.0]
    out: list[str] = []
    p = PlainProgress(out.append, period=10.0, clock=lambda: now[0])
    p("embed", 0, 2225)
    for done, t in ((100, 5.0), (150, 10.0), (223, 11.0), (300, 12.0), (1200, 31.0), (2225, 60.0)):
        now[0] = t
        p("embed", done, 2225)
    assert out == ["embed: 2225 to do",
                   "embed: 150/2,225 texts (6%), 15 texts/s",  # 10 s since the last line
                   "embed: 223/2,225 texts (10%), 20 texts/s",  # a tenth of the way
                   "embed: 1,200/2,225 texts (53%), 39 texts/s",
                   "embed: 2,225/2,225 texts (100%), 37 texts/s"]


@pytest.mark.slow
def test_sigint_during_compress_exits_130_and_a_rerun_matches(embedded: Path, tmp_path: Path) -> None:
    ref, ws = tmp_path / "ref.scope", tmp_path / "ws.scope"
    shutil.copytree(embedded, ref)
    shutil.copytree(embedded, ws)
    cli_ok("compress", ref, "--json")

    # the first progress line comes after two of its twelve codecs
    code, lines = interrupt_after(["compress", ws], lambda s: bool(re.match(r"compress: \d+/", s)))
    assert_interrupted(code, lines, ws)
    assert embedscope.open(ws).compression("minilm") is None  # nothing half-made recorded

    cli_ok("compress", ws, "--json")
    a, b = embedscope.open(ref).compression("minilm"), embedscope.open(ws).compression("minilm")
    assert a is not None and b is not None

    def recalls(t: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(r["codec"], r["recall@1"], r["recall@10"], r["recall@100"]) for r in t["rows"]]

    assert recalls(a) == recalls(b)
