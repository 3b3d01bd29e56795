"""Listing image folders and tables of image paths, and reading one file: every kind of image, every bad file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from embedscope.errors import InputError
from embedscope.io import images
from embedscope.io.imagefiles import ImageSource, LoadedImage, Skipped, list_folder, load_image, read_image_table
from tests.helpers import write_images


def _png(size: tuple[int, int] = (20, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


def _noise_png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------- folder
def test_folder_lists_images_sorted_recursive_skipping_hidden(tmp_path: Path) -> None:
    sizes = write_images(tmp_path / "f")
    (tmp_path / "f" / ".hidden").mkdir()
    (tmp_path / "f" / ".hidden" / "x.png").write_bytes(_png())
    (tmp_path / "f" / ".dot.png").write_bytes(_png())
    (tmp_path / "f" / "notes.txt").write_text("not an image")
    got = list_folder(tmp_path / "f")
    assert [s.id for s in got.sources] == sorted(sizes)
    assert got.ignored == 1 and got.skipped == []
    green = next(s for s in got.sources if s.id == "more/green.webp")
    assert green.folder == "more" and green.image == "more/green.webp" and green.path.is_absolute()
    assert next(s for s in got.sources if s.id == "alpha.png").folder == ""


def test_every_kind_decodes_with_orientation_and_a_thumbnail(tmp_path: Path) -> None:
    sizes = write_images(tmp_path / "f")
    for rel, (w, h) in sizes.items():
        got = load_image(tmp_path / "f" / rel, rel)
        assert isinstance(got, LoadedImage), got
        assert (got.width, got.height) == (w, h), rel  # rotated.jpg: 60 x 40 stored, 40 x 60 shown
        assert got.sha256 == images.content_hash((tmp_path / "f" / rel).read_bytes())
        assert got.thumb is not None
        thumb = Image.open(io.BytesIO(got.thumb))
        assert thumb.format == "WEBP" and thumb.size == (got.thumb_width, got.thumb_height)
        assert max(thumb.size) <= images.THUMB_SIZE
        assert (thumb.width >= thumb.height) == (w >= h), rel
    alpha = Image.open(io.BytesIO(load_image(tmp_path / "f" / "alpha.png", "a").thumb or b"")).convert("RGB")
    r, g, b = alpha.getpixel((5, 5))  # type: ignore[misc]  # blue at alpha 80 on white: light blue, not black
    assert b > 240 and r > 120 and g > 120


def test_same_content_is_not_decoded_again(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(_png())
    got = load_image(p, "a.png", known_sha256=images.content_hash(p.read_bytes()))
    assert isinstance(got, LoadedImage) and got.thumb is None and got.key.size == p.stat().st_size


@pytest.mark.parametrize(("name", "data", "reason", "words"), [
    ("empty.png", b"", "empty", "empty (0 bytes)"),
    ("text.jpg", b"just some text, renamed\n", "unsupported", "not an image"),
    ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "unsupported",
     "not an image"),
    ("cut.jpg", _jpeg()[:700], "corrupt", "truncated or corrupt"),
    ("broken.png", _noise_png()[:80] + bytes(200) + _noise_png()[280:], "corrupt", "truncated or corrupt"),
])
def test_bad_files_are_skipped_naming_them(tmp_path: Path, name: str, data: bytes, reason: str, words: str) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    got = load_image(p, str(p))
    assert isinstance(got, Skipped), got
    assert got.reason == reason and got.file == str(p)
    assert got.message.startswith(f"{p}: ") and words in got.message and "\n" not in got.message


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("1", (10_000, 9_000)).save(big, optimize=False)  # 90 megapixels, a few kB on disk
    assert big.stat().st_size < 200_000
    got = load_image(big, str(big))
    assert isinstance(got, Skipped) and got.reason == "too large"
    assert "above the limit of 89,478,485 pixels" in got.message and got.message.startswith(str(big))


def test_the_pixel_limit_is_read_when_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "p.png"
    p.write_bytes(_png((50, 50)))
    monkeypatch.setattr(images, "MAX_PIXELS", 2_000)
    got = load_image(p, "p.png")
    assert isinstance(got, Skipped) and got.reason == "too large" and "2,000 pixels" in got.message


def test_missing_file(tmp_path: Path) -> None:
    got = load_image(tmp_path / "gone.png", "gone.png")
    assert isinstance(got, Skipped) and got.reason == "missing" and got.message.startswith("gone.png: ")


# -------------------------------------------------------------------------------------------- symlinks
def test_symlinks_outside_and_loops_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "f"
    root.mkdir()
    (root / "in.png").write_bytes(_png())
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "s.png").write_bytes(_png())
    os.symlink(outside / "s.png", root / "file_out.png")
    os.symlink(outside, root / "dir_out")
    os.symlink(root, root / "loop")
    os.symlink(root / "in.png", root / "alias.png")  # inside: followed
    os.symlink(root / "gone.png", root / "broken.png")
    got = list_folder(root)
    assert [s.id for s in got.sources] == ["alias.png", "in.png"]
    by_file = {Path(s.file).name: s for s in got.skipped}
    assert by_file["file_out.png"].reason == "outside" and by_file["dir_out"].reason == "outside"
    assert str(outside) in by_file["dir_out"].message and by_file["dir_out"].message.startswith(str(root / "dir_out"))
    assert by_file["loop"].reason == "loop" and by_file["broken.png"].reason == "missing"


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder not found"):
        list_folder(tmp_path / "nope")


# --------------------------------------------------------------------------------------------------- table
def _table_dir(tmp_path: Path) -> Path:
    d = tmp_path / "t"
    (d / "img").mkdir(parents=True)
    for n in ("a", "b", "c"):
        (d / "img" / f"{n}.png").write_bytes(_png())
    return d


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".json", ".jsonl"])
def test_table_formats(tmp_path: Path, suffix: str) -> None:
    d = _table_dir(tmp_path)
    df = pd.DataFrame({"file": ["img/a.png", "img/b.png", "./img/c.png"], "caption": ["an a", "a b", "a c"],
                       "label": ["x", "y", "x"], "key": ["k1", "k2", "k3"]})
    p = d / f"t{suffix}"
    if suffix in (".csv", ".tsv"):
        df.to_csv(p, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        df.to_parquet(p)
    else:
        df.to_json(p, orient="records", lines=suffix == ".jsonl")
    got = read_image_table(p, "file", id="key", text="caption")
    assert [s.id for s in got.sources] == ["k1", "k2", "k3"]
    assert [s.image for s in got.sources] == df.file.tolist()
    assert got.sources[2].path == (d / "img" / "c.png").resolve()
    assert got.metadata is not None and got.metadata.column_names == ["id", "text", "label"]
    assert got.metadata.column("text").to_pylist() == df.caption.tolist()


def test_table_ids_default_to_the_path(tmp_path: Path) -> None:
    d = _table_dir(tmp_path)
    (d / "t.csv").write_text("file,text\nimg/a.png,hello\nimg/b.png,world\n")
    got = read_image_table(d / "t.csv", "file")
    assert [s.id for s in got.sources] == ["img/a.png", "img/b.png"]
    assert got.metadata is not None and "text" not in got.metadata.column_names  # a caption only with --text


@pytest.mark.parametrize(("value", "words"), [
    ("/etc/passwd", "is absolute"),
    ("../outside.png", "leads out of the table's folder"),
    ("img/../../outside.png", "leads out of the table's folder"),
    ("", "empty image path"),
])
def test_table_paths_escaping_the_folder_are_refused_naming_the_row(tmp_path: Path, value: str, words: str) -> None:
    d = _table_dir(tmp_path)
    (d / "t.csv").write_text(f"file,label\nimg/a.png,x\n{value},y\n")
    with pytest.raises(InputError) as exc:
        read_image_table(d / "t.csv", "file")
    assert exc.value.one_line().startswith(f"{d / 't.csv'}: row 2, column 'file': ")
    assert words in str(exc.value)


def test_table_symlink_outside_is_skipped(tmp_path: Path) -> None:
    d = _table_dir(tmp_path)
    (tmp_path / "secret.png").write_bytes(_png())
    os.symlink(tmp_path / "secret.png", d / "img" / "link.png")
    (d / "t.csv").write_text("file\nimg/a.png\nimg/link.png\n")
    got = read_image_table(d / "t.csv", "file")
    assert [s.id for s in got.sources] == ["img/a.png"]
    assert [s.reason for s in got.skipped] == ["outside"]
    assert got.skipped[0].message.startswith(str(d / "img/link.png"))


def test_table_column_errors(tmp_path: Path) -> None:
    d = _table_dir(tmp_path)
    (d / "t.csv").write_text("file,file2\nimg/a.png,img/a.png\nimg/b.png,img/a.png\n")
    with pytest.raises(InputError, match=r"no column 'path' \(--image\); columns are: file, file2"):
        read_image_table(d / "t.csv", "path")
    with pytest.raises(InputError, match=r"row 2, column 'file2': the path 'img/a\.png' is listed twice"):
        read_image_table(d / "t.csv", "file2")
    assert isinstance(read_image_table(d / "t.csv", "file").sources[0], ImageSource)
