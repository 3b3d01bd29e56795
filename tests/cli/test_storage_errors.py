"""Failures of the disk and of the workspace's size, as one clear line (issue 23, item 7).

- a read-only workspace: reads work; writes exit 1 with "read-only workspace WS: results cannot be stored" and
  the ``cp -r`` to run elsewhere (not ``OSError ... '.lock'``);
- a full disk: exit 1 naming the workspace and "free space on the disk that holds WS, then rerun", no temporary
  left behind, the workspace opens with its previous contents;
- too few items: every analysis command on 1, 2 and 3 items works or exits 2 with one line (never an
  IndexError);
- export onto an existing directory or file: refused or replaced atomically, never a ``.tmp`` left behind.

The read-only and full-disk tests use a real read-only bind mount and a real 1 MB tmpfs inside a private mount
namespace (``unshare -m``, as root: the tests run as root, where ``chmod`` does not stop writes). Where that is
not allowed they simulate the OS error (``EROFS`` on the lock file, ``ENOSPC`` on a file write) in-process.
"""

from __future__ import annotations

import errno
import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import embedscope
from tests.helpers import DATA, one_error_line, snapshot, topic_frame
from tests.helpers import run_cli as run

SRC = Path(__file__).resolve().parents[2] / "src"


@functools.cache
def _namespaces() -> bool:
    """Whether this process may mount in a private mount namespace (root, unshare allowed)."""
    if shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                       capture_output=True, check=False)
    return r.returncode == 0


def _in_namespace(script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a private mount namespace; ``$ES`` runs the CLI of this source tree."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "ES": f"{shlex.quote(sys.executable)} -m embedscope"}
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env,
                          check=False, timeout=600)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-item workspace with a TF-IDF space ``lsa``, its kNN graph and a PCA layout (all stored)."""
    path = tmp_path_factory.mktemp("ro") / "w.scope"
    s = embedscope.create(path)
    s.ingest(topic_frame(1))
    s.embed("lsa", "tfidf:8")
    s.knn("lsa")
    s.project("lsa", "pca")
    return path


# ------------------------------------------------------------------------------------ read-only workspace
READS = [["info", "{ws}", "--json"], ["neighbors", "{ws}", "sport-0-01", "--json"],
         ["similar", "{ws}", "--item", "sport-0-01", "--json"], ["health", "{ws}", "--json"],
         ["quality", "{ws}", "--json"]]
WRITES = [["ingest", "{ws}", str(DATA / "bad" / "bom.csv")],
          ["embed", "{ws}", "--model", "tfidf:4", "--space", "t"],
          ["project", "{ws}", "--method", "sphere"]]


def _check_read_only_line(line: str, ws: str) -> None:
    assert f"read-only workspace {ws}: results cannot be stored" in line, line
    assert f"cp -r {ws} " in line, line
    assert "OSError" not in line and ".lock" not in line, line


def test_read_only_workspace(stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "w.scope"
    shutil.copytree(stored, ws)
    before = snapshot(ws)
    if _namespaces():  # a real read-only bind mount of the workspace
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        lines = [f"mount --bind -o ro {shlex.quote(str(ws))} {shlex.quote(str(mnt))} || exit 99"]
        for args in READS + WRITES:
            cmd = " ".join(shlex.quote(a.format(ws=mnt)) for a in args)
            lines.append(f"echo '#cmd'; $ES {cmd} 2>&1 >/dev/null </dev/null; echo \"#rc $?\"")
        r = _in_namespace("\n".join(lines))
        assert r.returncode != 99, r.stderr
        runs = [chunk.rsplit("#rc ", 1) for chunk in r.stdout.split("#cmd\n")[1:]]
        results = [(int(rc.strip()), text) for text, rc in runs]
        where = str(mnt)
    else:  # simulated: the OS refuses to open the lock file for writing
        real_open = os.open

        def refuse(path: str | os.PathLike[str], flags: int, *a: object) -> int:
            if str(path).endswith(".lock") and flags & os.O_RDWR:
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real_open(path, flags, *a)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", refuse)
        results = []
        for args in READS + WRITES:
            code, _, err = run(capsys, *[a.format(ws=ws) for a in args])
            results.append((code, err))
        where = str(ws)
    for args, (code, err) in zip(READS, results[:len(READS)], strict=True):
        assert code == 0, (args, err)
    for args, (code, err) in zip(WRITES, results[len(READS):], strict=True):
        assert code == 1, (args, err)
        _check_read_only_line(error_line(err), where)
    assert snapshot(ws) == before


def test_new_workspace_on_a_read_only_disk(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Creating a workspace where nothing can be written: the path and what to do, not ``OSError``."""
    csv_file = str(DATA / "bad" / "bom.csv")
    if _namespaces():
        ro = tmp_path / "ro"
        ro.mkdir()
        r = _in_namespace(f"mount --bind -o ro {shlex.quote(str(ro))} {shlex.quote(str(ro))} || exit 99\n"
                          f"$ES ingest {shlex.quote(str(ro / 'new.scope'))} {shlex.quote(csv_file)}")
        assert r.returncode == 1, r.stderr
        err = r.stderr
    else:
        import tempfile

        def refuse(*a: object, **kw: object) -> str:
            raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "ro"))

        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
        code, _, err = run(capsys, "ingest", str(tmp_path / "ro" / "new.scope"), csv_file)
        assert code == 1
    line = error_line(err)
    assert f"cannot write {tmp_path / 'ro' / 'new.scope'}: read-only file system; choose a writable path" in line


# ------------------------------------------------------------------------------------------- full disk
@pytest.fixture(scope="module")
def wordy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 items of 40 words from a 20,000-word vocabulary: a 256-dimension TF-IDF model (int8 loadings of ~30,000
    terms) larger than the 1 MB disk of the test."""
    rng = np.random.default_rng(0)
    words = np.array([f"w{i:05d}" for i in range(20_000)])
    texts = [" ".join(rng.choice(words, 40)) for _ in range(400)]
    path = tmp_path_factory.mktemp("full") / "w.scope"
    embedscope.create(path).ingest(pd.DataFrame({"id": [str(i) for i in range(400)], "text": texts}))
    return path


def error_line(err: str) -> str:
    """The one error line of a command's stderr (progress notes may come before it), with no traceback."""
    lines = [ln for ln in err.splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_full_disk_names_the_workspace_and_leaves_no_temporary(wordy: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    items_before = embedscope.open(wordy).items()
    if _namespaces():  # a real 1 MB disk that the TF-IDF model does not fit on
        mnt, back = tmp_path / "disk", tmp_path / "back"
        mnt.mkdir()
        ws = mnt / "w.scope"
        q = {k: shlex.quote(str(v)) for k, v in {"mnt": mnt, "ws": ws, "src": wordy, "back": back}.items()}
        r = _in_namespace(f"mount -t tmpfs -o size=1m tmpfs {q['mnt']} || exit 99\n"
                          f"cp -r {q['src']} {q['ws']} || exit 98\n"
                          f"$ES embed {q['ws']} --model tfidf:256 --space t\necho \"#rc $?\" >&2\n"
                          f"cp -r {q['ws']} {q['back']}")
        assert r.returncode not in (98, 99), r.stderr
        err, _, rc = r.stderr.rpartition("#rc ")
        code, out_ws, where = int(rc.strip()), back, ws
    else:  # simulated: the write of a file fails with ENOSPC once its temporary holds data
        out_ws = where = tmp_path / "w.scope"
        shutil.copytree(wordy, out_ws)
        real_replace = Path.replace

        def full(self: Path, target: str | os.PathLike[str]) -> Path:
            if self.name.endswith(".tmp"):
                raise OSError(errno.ENOSPC, "No space left on device", str(self))
            return real_replace(self, target)

        monkeypatch.setattr(Path, "replace", full)
        code, _, err = run(capsys, "embed", str(out_ws), "--model", "tfidf:256", "--space", "t")
        monkeypatch.undo()
    line = error_line(err)
    assert code == 1, err
    assert str(where) in line and f"free space on the disk that holds {where}, then rerun" in line, line
    assert "Errno" not in line and "LanceError" not in line, line
    assert _temporaries(out_ws) == []
    s = embedscope.open(out_ws)
    assert s.items().equals(items_before) and s.spaces() == []


def test_atomic_path_removes_its_temporary_on_enospc(tmp_path: Path) -> None:
    from embedscope.errors import StorageError
    from embedscope.io.files import atomic_path

    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    with pytest.raises(StorageError, match=r"cannot write .*out\.bin: the disk is full"), atomic_path(out) as tmp:
        tmp.write_bytes(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


# ---------------------------------------------------------------------------------------- too few items
FEW_TEXTS = ["The striker scored twice", "Simmer the sauce with garlic", "The rocket launched the satellite"]


@pytest.fixture(scope="module")
def few(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    out = {}
    for n in (1, 2, 3):
        path = tmp_path_factory.mktemp("few") / f"w{n}.scope"
        s = embedscope.create(path)
        s.ingest(pd.DataFrame({"id": [str(i) for i in range(1, n + 1)], "text": FEW_TEXTS[:n],
                               "topic": ["a", "b", "a"][:n]}))
        s.embed("a", "tfidf:4")
        s.embed("b", "tfidf:3")
        out[n] = path
    return out


FEW_COMMANDS = [["health", "{ws}", "--space", "a"], ["report", "{ws}", "-o", "{tmp}/r.html"],
                ["compare", "{ws}", "--spaces", "a,b"], ["cluster", "{ws}", "--space", "a"],
                ["knn", "{ws}", "--space", "a"], ["quality", "{ws}", "--space", "a"],
                ["compress", "{ws}", "--space", "a"], ["neighbors", "{ws}", "1", "--space", "a"],
                ["neighbors", "{ws}", "--query", "sauce", "--space", "a"],
                ["similar", "{ws}", "--space", "a", "--item", "1"], ["similar", "{ws}", "--space", "a", "--pairs"],
                ["similar", "{ws}", "--space", "a", "--query", "sauce", "--histogram"],
                ["translate", "fit", "{ws}", "--from", "a", "--to", "b", "-o", "{tmp}/t.npz"],
                ["export", "{ws}", "--space", "a", "-o", "{tmp}/e.parquet"],
                *[["project", "{ws}", "--space", "a", "--method", m] for m in ("pca", "umap", "tsne", "sphere")]]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_too_few_items(n: int, few: dict[int, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "w.scope"
    shutil.copytree(few[n], ws)
    refused = {}
    for args in FEW_COMMANDS:
        code, _, err = run(capsys, *[a.format(ws=ws, tmp=tmp_path) for a in args])
        if code != 0:
            line = error_line(err)
            assert code == 2, (args, err)
            assert "at least" in line, (args, line)
            refused[" ".join(args[:3])] = line
    if n == 1:
        for cmd, what in (("health {ws} --space", "health"), ("report {ws} -o", "a report"),
                          ("neighbors {ws} 1", "an item's neighbours")):
            assert f"too few items: {what} need" in refused[cmd], refused[cmd]
            assert f"at least 2 items ({ws} has 1 in space 'a')" in refused[cmd], refused[cmd]


# -------------------------------------------------------------------------------------------- export
def test_export_onto_existing_paths(stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    for fmt in ("parquet", "csv"):
        d = out / f"dir.{fmt}"
        d.mkdir(parents=True)
        code, _, err = run(capsys, "export", str(stored), "-o", str(d), "--format", fmt)
        line = one_error_line(err)
        assert code == 2 and f"{d} is a directory" in line and "choose another path" in line, err
        f = out / f"file.{fmt}"
        f.write_text("old")
        code, _, err = run(capsys, "export", str(stored), "-o", str(f), "--format", fmt)
        assert code == 0, err
        assert f.read_bytes()[:4] == (b"PAR1" if fmt == "parquet" else b'"id"')  # replaced
    f = out / "file.tsv"
    f.write_text("old")
    code, _, err = run(capsys, "export", str(stored), "-o", str(f), "--format", "projector-tsv")
    assert code == 2 and "exists and is not a directory" in one_error_line(err)
    assert f.read_text() == "old"
    # a full disk while writing: the path named, the old file kept, no temporary left
    import pyarrow.parquet as pq

    def full(table: object, where: object, **kw: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    before = (out / "file.parquet").read_bytes()
    code, _, err = run(capsys, "export", str(stored), "-o", str(out / "file.parquet"))
    line = one_error_line(err)
    assert code == 1 and f"cannot write {out / 'file.parquet'}: the disk is full" in line, err
    assert (out / "file.parquet").read_bytes() == before
    assert _temporaries(out) == []


def test_report_on_a_full_disk(stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The report (and its PNG files) on a full disk: the path named, no half file and no temporary left."""
    real = Path.write_text

    def full(self: Path, data: str, *a: object, **kw: object) -> int:
        real(self, data[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run(capsys, "report", str(stored), "-o", str(out / "r.html"), "--png-dir", str(out / "png"))
    line = error_line(err)
    assert code == 1 and f"cannot write {out / 'r.html'}: the disk is full" in line, err
    assert _temporaries(out) == [] and not (out / "r.html").exists()
