"""Image ingest through the Python API: items, thumbnails, resuming without decoding again, upserts, failures."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import embedscope
from embedscope.errors import InputError
from embedscope.io import images
from embedscope.pipeline import images as images_step
from tests.helpers import write_images


def state(ws: Path) -> tuple[bytes, dict[str, int]]:
    """scope.json and the latest version of every table: any write shows up."""
    db = lancedb.connect(str(ws / "db"))
    res: Any = db.list_tables()
    names: list[str] = list(getattr(res, "tables", res))
    return (ws / "scope.json").read_bytes(), {n: db.open_table(n).version for n in names}


@pytest.fixture()
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files decoded (the real decoder still runs)."""
    seen: list[str] = []
    real = images.decode

    def counting(data: bytes, name: Any, **kw: Any) -> Any:
        seen.append(str(name))
        return real(data, name, **kw)

    monkeypatch.setattr(images, "decode", counting)
    return seen


def test_folder_ingest_items_and_thumbnails(tmp_path: Path) -> None:
    sizes = write_images(tmp_path / "photos")
    s = embedscope.create(tmp_path / "w.scope")
    calls: list[tuple[str, int, int]] = []
    rep = s.ingest_images(tmp_path / "photos", progress=lambda *a: calls.append(a))
    assert (rep.added, rep.decoded, rep.reused, rep.skipped, rep.kind) == (7, 7, 0, [], "folder")
    assert calls[0] == ("ingest images", 0, 7) and calls[-1] == ("ingest images", 7, 7)
    items = s.items().to_pandas().set_index("id")
    assert sorted(items.index) == sorted(sizes)
    for rel, (w, h) in sizes.items():
        assert (items.loc[rel, "width"], items.loc[rel, "height"]) == (w, h)
        assert items.loc[rel, "image"] == rel
    assert items.loc["more/red.bmp", "folder"] == "more" and items.loc["alpha.png", "folder"] == ""
    assert s.has_images() and s.info()["images"] == 7
    ids, paths, shas = s.image_files()
    assert ids == s.ids()
    assert paths == [str((tmp_path / "photos" / i).resolve()) for i in ids]
    assert shas == [images.content_hash(Path(p).read_bytes()) for p in paths]
    thumbs = s.thumbnails(["rotated.jpg", "more/green.webp", "no-such-id"])
    assert set(thumbs) == {"rotated.jpg", "more/green.webp"}
    rotated = Image.open(io.BytesIO(thumbs["rotated.jpg"]))
    assert rotated.format == "WEBP" and rotated.size == (40, 60)  # the EXIF rotation is in the thumbnail too
    # the table holds the contract's columns
    t = s.store.read("images")
    assert {"id", "path", "sha256", "width", "height", "thumb", "thumb_width", "thumb_height"} <= set(t.column_names)


def test_rerun_does_not_decode_unchanged_files(tmp_path: Path, decodes: list[str]) -> None:
    write_images(tmp_path / "photos")
    s = embedscope.create(tmp_path / "w.scope")
    s.ingest_images(tmp_path / "photos")
    assert len(decodes) == 7
    before = state(s.path)
    rep = s.ingest_images(tmp_path / "photos")
    assert (rep.decoded, rep.reused, rep.unchanged, len(decodes)) == (0, 7, 7, 7)
    assert state(s.path) == before  # nothing written at all
    # touched but the same bytes: read and hashed, not decoded; a changed file is decoded
    os.utime(tmp_path / "photos" / "alpha.png", ns=(1, 1))
    Image.new("RGB", (12, 34), (9, 9, 9)).save(tmp_path / "photos" / "more" / "red.bmp")
    Image.new("RGB", (8, 8)).save(tmp_path / "photos" / "new.png")
    rep = s.ingest_images(tmp_path / "photos")
    assert (rep.added, rep.updated, rep.decoded, rep.reused) == (1, 1, 2, 6)
    assert sorted(decodes[7:]) == sorted(str(tmp_path / "photos" / p) for p in ("more/red.bmp", "new.png"))
    items = s.items().to_pandas().set_index("id")
    assert (items.loc["more/red.bmp", "width"], items.loc["more/red.bmp", "height"]) == (12, 34)
    assert Image.open(io.BytesIO(s.thumbnails(["more/red.bmp"])["more/red.bmp"])).size == (12, 34)
    assert Image.open(io.BytesIO(s.thumbnails(["alpha.png"])["alpha.png"])).size == (30, 20)


def test_batches_keep_the_listing_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(23):
        Image.fromarray(rng.integers(0, 255, (8 + i, 5, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    monkeypatch.setattr(images_step, "BATCH_FILES", 4)
    s = embedscope.create(tmp_path / "w.scope")
    calls: list[int] = []
    s.ingest_images(folder, progress=lambda _s, done, _t: calls.append(done))
    assert calls == [0, 4, 8, 12, 16, 20, 23]
    ids, _, _ = s.image_files()
    assert ids == [f"{i:03d}.png" for i in range(23)]
    assert s.store.read("images").column("height").to_pylist() == [8 + i for i in range(23)]
    # a second folder's images are added; the first folder's rows stay (with their thumbnails)
    (tmp_path / "other").mkdir()
    Image.new("RGB", (3, 3)).save(tmp_path / "other" / "x.png")
    s.ingest_images(tmp_path / "other")
    assert s.image_files()[0] == [f"{i:03d}.png" for i in range(23)] + ["x.png"]
    assert len(s.thumbnails(s.image_files()[0])) == 24


def test_table_ingest_upserts_into_a_text_workspace(tmp_path: Path) -> None:
    write_images(tmp_path / "d" / "pics")
    s = embedscope.create(tmp_path / "w.scope")
    s.ingest(pd.DataFrame({"id": ["r", "g", "z"], "text": ["rot", "grün", "other"]}))
    s.add_vectors("v", ["r", "g", "z"], np.eye(3, dtype=np.float32) + 0.1)
    fp = s.store.record("items").fingerprint  # type: ignore[union-attr]
    pd.DataFrame({"key": ["r", "g"], "file": ["pics/more/red.bmp", "pics/more/green.webp"],
                  "kind": ["warm", "cool"]}).to_csv(tmp_path / "d" / "list.csv", index=False)
    rep = s.ingest_images(tmp_path / "d" / "list.csv", image_column="file", id_column="key")
    assert (rep.added, rep.updated, rep.total, rep.kind, rep.image_column) == (0, 2, 3, "table", "file")
    items = s.items().to_pandas().set_index("id")
    assert items.loc["r", "text"] == "rot" and items.loc["r", "image"] == "pics/more/red.bmp"
    assert items.loc["g", "kind"] == "cool" and items.loc["g", "width"] == 50
    assert pd.isna(items.loc["z", "image"])
    assert s.store.record("items").fingerprint == fp  # type: ignore[union-attr]  # texts unchanged: nothing stale
    assert s.image_files()[0] == ["r", "g"]
    # a caption column becomes the text
    rep = s.ingest_images(tmp_path / "d" / "list.csv", image_column="file", id_column="key", text_column="kind")
    assert s.items().to_pandas().set_index("id").loc["r", "text"] == "warm"


def test_failed_run_leaves_the_workspace_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_images(tmp_path / "photos")
    s = embedscope.create(tmp_path / "w.scope")
    s.ingest_images(tmp_path / "photos")
    Image.new("RGB", (5, 5)).save(tmp_path / "photos" / "zz.png")
    before = state(s.path)
    items_before = s.items()

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(s.store, "upsert_items", boom)  # the images table is committed, the items fail
    with pytest.raises(RuntimeError):
        s.ingest_images(tmp_path / "photos")
    assert state(s.path)[0] == before[0]  # scope.json as it was (the new images version is not recorded)
    t = embedscope.open(s.path)
    assert t.items().equals(items_before) and "zz.png" not in t.image_files()[0]
    assert not s.has_images() or "zz.png" not in s.image_files()[0]


def test_strict_and_no_images_raise_and_store_nothing(tmp_path: Path) -> None:
    write_images(tmp_path / "photos")
    (tmp_path / "photos" / "zz-bad.png").write_bytes(b"nope")
    s = embedscope.create(tmp_path / "w.scope")
    with pytest.raises(InputError, match=r"zz-bad\.png: not an image"):
        s.ingest_images(tmp_path / "photos", strict=True)
    assert not s.has_images() and not s.has_items()
    rep = s.ingest_images(tmp_path / "photos")
    assert [(Path(k["file"]).name, k["reason"]) for k in rep.skipped] == [("zz-bad.png", "unsupported")]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    before = state(s.path)
    with pytest.raises(InputError, match=r"no image files .* \(1 other files ignored\)"):
        s.ingest_images(tmp_path / "empty")
    assert state(s.path) == before
