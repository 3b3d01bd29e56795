"""``embedscope ingest WS FOLDER`` and ``ingest WS TABLE --image COL``: every bad input gets one line naming the
file (and row), and leaves the workspace as it was; a run with bad files skips them and says so."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lancedb
import pytest
from PIL import Image

from embedscope.io import images
from tests.helpers import one_error_line, run_cli, snapshot, write_images


def state(ws: Path) -> tuple[bytes, dict[str, int]]:
    """scope.json and the latest version of every table."""
    db = lancedb.connect(str(ws / "db"))
    res: Any = db.list_tables()
    names: list[str] = list(getattr(res, "tables", res))
    return (ws / "scope.json").read_bytes(), {n: db.open_table(n).version for n in names}


def error_line(err: str) -> str:
    """The one error line of ``err``, after the progress lines (``ingest images: ...``) printed before it."""
    return one_error_line("\n".join(ln for ln in err.splitlines() if not ln.startswith("ingest images: ")))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 48), 60).convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def _noise_png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _corrupt(folder: Path) -> Path:
    (p := folder / "bad.png").write_bytes(_noise_png()[:80] + bytes(200) + _noise_png()[280:])
    return p


def _empty(folder: Path) -> Path:
    (p := folder / "bad.png").write_bytes(b"")
    return p


def _truncated(folder: Path) -> Path:
    (p := folder / "bad.jpg").write_bytes(_jpeg()[:700])
    return p


def _too_large(folder: Path) -> Path:
    Image.new("RGB", (120, 100)).save(p := folder / "bad.png")  # above the limit the test sets
    return p


def _unsupported(folder: Path) -> Path:
    (p := folder / "bad.jpg").write_text("a text file renamed .jpg\n")
    return p


def _outside(folder: Path) -> Path:
    Image.new("RGB", (4, 4)).save(secret := folder.parent / "secret.png")
    os.symlink(secret, p := folder / "bad.png")
    return p


BAD: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "corrupt": (_corrupt, "corrupt", "truncated or corrupt"),
    "empty": (_empty, "empty", "the file is empty"),
    "truncated": (_truncated, "corrupt", "truncated or corrupt"),
    "too large": (_too_large, "too large", "above the limit of 10,000 pixels"),
    "unsupported": (_unsupported, "unsupported", "not an image"),
    "outside": (_outside, "outside", "outside the folder"),
}


@pytest.fixture()
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A workspace that already holds images (of another folder)."""
    write_images(tmp_path / "first")
    code, _, err = run_cli(capsys, "ingest", str(tmp_path / "w.scope"), str(tmp_path / "first"))
    assert code == 0, err
    return tmp_path / "w.scope"


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_file(kind: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    make, reason, words = BAD[kind]
    folder = tmp_path / "new"
    folder.mkdir()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(folder / "good.png")
    bad = make(folder)
    before, files = state(ws), snapshot(ws)
    # --strict: exit 2 at the bad file, one line naming it, nothing stored
    code, out, err = run_cli(capsys, "ingest", str(ws), str(folder), "--strict")
    line = error_line(err)
    assert code == 2 and out == "" and line.startswith(f"error: {bad}: ") and words in line, err
    assert state(ws) == before
    # only the bad file: exit 2, one line naming it, nothing stored
    (folder / "good.png").unlink()
    code, _, err = run_cli(capsys, "ingest", str(ws), str(folder))
    line = error_line(err)
    assert code == 2 and "no image could be ingested: 1 of 1 files skipped" in line and f"{bad}: " in line, err
    assert state(ws) == before and snapshot(ws) == files
    # by default: the good file goes in, the bad one is counted, listed in --json and by --verbose
    Image.new("RGB", (30, 20), (1, 2, 3)).save(folder / "good.png")
    code, out, err = run_cli(capsys, "ingest", str(ws), str(folder), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["added"], doc["files"], doc["decoded"]) == (1, 2, 1)
    assert doc["skipped"] == [{"file": str(bad), "reason": reason, "message": doc["skipped"][0]["message"]}]
    assert doc["skipped"][0]["message"].startswith(f"{bad}: ") and words in doc["skipped"][0]["message"]
    Image.new("RGB", (31, 20)).save(folder / "good.png")
    code, _, err = run_cli(capsys, "ingest", str(ws), str(folder))
    assert code == 0 and f"skipped 1 of 2 files: 1 {reason}; --verbose lists them" in err, err
    assert str(bad) not in err
    code, _, err = run_cli(capsys, "ingest", str(ws), str(folder), "--verbose")
    assert code == 0 and f"skipped {bad}: " in err and f"skipped 1 of 2 files: 1 {reason}\n" in err, err


def test_no_images_in_a_folder(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder := tmp_path / "docs").mkdir()
    (folder / "a.svg").write_text("<svg/>")
    (folder / "b.psd").write_bytes(b"8BPS")
    before, files = state(ws), snapshot(ws)
    code, _, err = run_cli(capsys, "ingest", str(ws), str(folder))
    line = error_line(err)
    assert code == 2 and line.startswith(f"error: {folder}: no image files (jpg, jpeg, png") and "2 other files" in line
    assert state(ws) == before and snapshot(ws) == files
    # into a new workspace: none is left behind
    code, _, err = run_cli(capsys, "ingest", str(tmp_path / "fresh.scope"), str(folder))
    assert code == 2 and not (tmp_path / "fresh.scope").exists()


def _table(tmp_path: Path, paths: list[str]) -> Path:
    d = tmp_path / "tab"
    (d / "img").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6)).save(d / "img" / "a.png")
    (d / "list.csv").write_text("file,label\n" + "".join(f"{p},x{i}\n" for i, p in enumerate(paths)))
    return d / "list.csv"


def test_table_missing_file(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = _table(tmp_path, ["img/a.png", "img/gone.png"])
    gone = table.parent / "img" / "gone.png"
    before = state(ws)
    code, _, err = run_cli(capsys, "ingest", str(ws), str(table), "--image", "file", "--strict")
    assert code == 2 and error_line(err).startswith(f"error: {gone}: no such file"), err
    assert state(ws) == before
    code, out, err = run_cli(capsys, "ingest", str(ws), str(table), "--image", "file", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["added"] == 1 and [s["reason"] for s in doc["skipped"]] == ["missing"]
    assert doc["skipped"][0]["file"] == str(gone)


@pytest.mark.parametrize(("path", "words"), [("/etc/hostname", "is absolute"),
                                             ("../../etc/hostname", "leads out of the table's folder")])
def test_table_path_escaping_is_refused(path: str, words: str, ws: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    table = _table(tmp_path, ["img/a.png", path])
    before, files = state(ws), snapshot(ws)
    code, _, err = run_cli(capsys, "ingest", str(ws), str(table), "--image", "file")  # refused even without --strict
    line = error_line(err)
    assert code == 2 and line.startswith(f"error: {table}: row 2, column 'file': ") and words in line, err
    assert state(ws) == before and snapshot(ws) == files


def test_table_needs_image_column(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = _table(tmp_path, ["img/a.png"])
    code, _, err = run_cli(capsys, "ingest", str(ws), str(table), "--image", "path")
    assert code == 2 and "no column 'path' (--image); columns are: file, label" in one_error_line(err)
    code, _, err = run_cli(capsys, "ingest", str(ws), str(tmp_path / "first"), "--image", "file")
    assert code == 2 and "--image, --id, --text and --image-root are for a table" in one_error_line(err)


def test_table_ingest_and_info(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = _table(tmp_path, ["img/a.png"])
    code, _, err = run_cli(capsys, "ingest", str(ws), str(table), "--image", "file", "--id", "label")
    assert code == 0 and "images: 1 added" in err, err
    code, out, _ = run_cli(capsys, "info", str(ws), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["images"] == 8 and doc["items"] == 8 and "image" in doc["columns"]
    code, _, err = run_cli(capsys, "info", str(ws))
    assert code == 0 and "8 items (8 with images)" in " ".join((err + _).split())
    code, out, _ = run_cli(capsys, "ingest", "--help")
    assert "--image" in out and "--strict" in out and '"skipped"' in out
