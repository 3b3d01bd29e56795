"""Which image files to ingest, and each one read into a thumbnail: a folder listed safely, or a table whose
column holds image paths; one file read, hashed, decoded (:func:`embedscope.io.images.decode`) and thumbnailed.

Nothing here touches a workspace. A file that cannot be used is a :class:`Skipped` (its one-line message names it
and says what to do), never an exception, so the caller decides: skip it and count it, or stop (``--strict``).
A table row whose path is absolute or climbs out of the table's folder (``..``) is refused outright (an
:class:`~embedscope.errors.InputError` naming the row): a table must not make embedscope read files elsewhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import InputError, printable
from . import images
from .items import read_items

#: Why a file was skipped: the reasons a report counts (``reason`` of :class:`Skipped`).
REASONS = ("corrupt", "empty", "unsupported", "too large", "missing", "unreadable", "outside", "loop")


@dataclass(frozen=True)
class ImageSource:
    """One image to ingest.

    Attributes
    ----------
    id
        Item id: the path relative to the folder (POSIX), or the table's id.
    image
        What the items' ``image`` column holds: the relative path, or the table's value as written.
    path
        The file to read (symbolic links resolved).
    row
        The row of :attr:`ImageListing.metadata` this image's metadata is in (tables), else ``-1``.
    folder
        The relative parent directory (``""`` at the root) for a folder listing, else ``None``.
    """

    id: str
    image: str
    path: Path
    row: int = -1
    folder: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A file left out: ``file`` (as the user wrote it or the listing found it), ``reason`` (one of
    :data:`REASONS`) and the one-line ``message`` naming the file and what to do."""

    file: str
    reason: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason, "message": self.message}


@dataclass
class ImageListing:
    """What a folder or a table gives to ingest: images in a fixed order, files already left out, metadata.

    Attributes
    ----------
    source
        The folder or table, as given.
    kind
        ``folder`` or ``table``.
    sources
        The images, in listing order (sorted paths; the table's row order).
    skipped
        Files left out while listing (symbolic links leading outside, loops, unreadable folders).
    ignored
        Files of a folder that are not images by their suffix (not counted as skipped).
    metadata
        Tables: the rows' other columns (``id`` first, ``text`` if ``--text``), one row per table row; else ``None``.
    image_column, id_column, text_column
        The table's columns used (``None`` for a folder, or a default).
    """

    source: str
    kind: str
    sources: list[ImageSource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0
    metadata: pa.Table | None = None
    image_column: str | None = None
    id_column: str | None = None
    text_column: str | None = None


# ------------------------------------------------------------------------------------------------- folder
def list_folder(folder: str | Path) -> ImageListing:
    """The image files under ``folder`` (recursive), sorted by relative path.

    Hidden files and folders (names starting with ``.``) are left out, as are files whose suffix is not in
    :data:`embedscope.io.images.IMAGE_SUFFIXES` (counted in ``ignored``). A symbolic link is followed only when it
    resolves inside ``folder``; one leading outside, a broken one and one that loops back to a folder being
    listed are :class:`Skipped` with a message naming them.

    Raises
    ------
    InputError
        ``folder`` is missing or not a directory.
    """
    root = Path(folder)
    if not root.exists():
        raise InputError("folder not found", file=root)
    if not root.is_dir():
        raise InputError("is not a folder; give a folder of images, or a table with --image COLUMN", file=root)
    real = root.resolve()
    out = ImageListing(str(folder), "folder")
    _walk(root, real, "", frozenset({real}), out)
    return out


def _walk(path: Path, root: Path, rel: str, ancestors: frozenset[Path], out: ImageListing) -> None:
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        out.skipped.append(Skipped(str(path), "unreadable", _one(
            path, f"cannot list this folder ({exc.strerror or exc}); check its permissions")))
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        sub = f"{rel}/{e.name}" if rel else e.name
        p = Path(e.path)
        if e.is_symlink():
            try:
                target = p.resolve(strict=True)
            except FileNotFoundError:
                if images.is_image_file(p):
                    out.skipped.append(Skipped(str(p), "missing", _one(
                        p, "a symbolic link to a file that does not exist; fix or remove the link")))
                continue
            except (OSError, RuntimeError):
                out.skipped.append(Skipped(str(p), "loop", _one(
                    p, "a symbolic link that loops; remove the link")))
                continue
            if not target.is_relative_to(root):
                if target.is_dir() or images.is_image_file(p):
                    out.skipped.append(Skipped(str(p), "outside", _one(
                        p, f"a symbolic link to {target}, outside the folder; copy what it points to into "
                        "the folder to ingest it")))
                continue
            if target.is_dir():
                if target in ancestors:
                    out.skipped.append(Skipped(str(p), "loop", _one(
                        p, "a symbolic link back to a folder it is in (a loop); remove the link")))
                    continue
                _walk(p, root, sub, ancestors | {target}, out)
            elif target.is_file() and images.is_image_file(p):
                out.sources.append(ImageSource(sub, sub, target, folder=rel))
            elif target.is_file():
                out.ignored += 1
            continue
        if e.is_dir(follow_symlinks=False):
            _walk(p, root, sub, ancestors | {p.resolve()}, out)
        elif e.is_file(follow_symlinks=False):
            if images.is_image_file(p):
                out.sources.append(ImageSource(sub, sub, p.resolve(), folder=rel))
            else:
                out.ignored += 1


# -------------------------------------------------------------------------------------------------- table
def read_image_table(path: str | Path, image: str, *, id: str | None = None, text: str | None = None,
                     root: str | Path | None = None) -> ImageListing:
    """The images a table lists: ``image`` holds paths relative to ``root`` (default: the table's folder).

    Read and checked as :func:`embedscope.io.items.read_items` reads texts (CSV, TSV, Parquet, JSONL, Arrow; also a
    ``.json`` array of objects). Ids: the ``id`` column (default: a column named ``id``, else the image path);
    ``text``: an optional caption column, stored as the items' ``text``; the other columns are metadata.

    Raises
    ------
    InputError
        The table cannot be read; no column ``image``; a row with an empty path, an absolute path, or a path that
        climbs out of the table's folder (``..``), named by row and column; duplicate ids.
    """
    p = Path(path)
    name = str(path)
    if p.suffix.lower() == ".json":
        inp = _read_json_table(p, name, text=text, id=id)
    else:
        inp = read_items(p, text=text, id=id, require_text=False, guess_text=False)
    if image == text:
        raise InputError("--image and --text must name different columns", file=name, column=image)
    out_name = image if image not in ("id", "text") else f"{image}_"
    if image == inp.id_column:  # the id column (named 'id') holds the paths
        out_name = "id"
    elif out_name not in inp.table.column_names:
        cols = [c.removesuffix("_") if c in ("id_", "text_") else c for c in inp.table.column_names
                if c not in ("id", "text")]
        raise InputError(f"no column {image!r} (--image); columns are: {', '.join(cols)}", file=name, column=image)
    values = inp.table.column(out_name).to_pylist()
    meta = inp.table if out_name == "id" else inp.table.drop_columns([out_name])
    base = Path(root) if root is not None else p.parent
    if not base.is_dir():
        raise InputError("the image root is not a folder; give the folder the table's image paths are relative to",
                         file=base)
    real = base.resolve()
    out = ImageListing(name, "table", image_column=image, id_column=inp.id_column, text_column=inp.text_column)
    ids = meta.column("id").to_pylist()
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        raw = _path_value(v, name, i + 1, image, "the table's folder" if root is None else f"the image root {base}")
        if inp.id_column is None:  # no id column: the path is the id
            if raw in seen:
                raise InputError(f"the path {raw!r} is listed twice (first in row {seen[raw]}); give an --id "
                                 "column, or list each image once", file=name, row=i + 1, column=image)
            seen[raw] = i + 1
            ids[i] = raw
        target = base / os.path.normpath(raw)
        shown = str(base / raw)
        try:
            resolved = target.resolve()
        except (OSError, RuntimeError):
            out.skipped.append(Skipped(shown, "loop", _one(shown, "a symbolic link that loops; remove the link")))
            continue
        if not resolved.is_relative_to(real):
            out.skipped.append(Skipped(shown, "outside", _one(
                shown, f"a symbolic link to {resolved}, outside the table's folder; copy what it points to into "
                "the folder to ingest it")))
            continue
        out.sources.append(ImageSource(ids[i], raw, resolved, row=i))
    out.metadata = meta.set_column(0, "id", pa.array(ids, pa.string()))
    return out


def _path_value(v: Any, name: str, row: int, column: str, where: str = "the table's folder") -> str:
    """A table's image path, checked: a relative path that stays in ``where`` (the table's folder or the image
    root)."""
    if v is None or (isinstance(v, float) and v != v) or not str(v).strip():
        raise InputError("empty image path; give the image's path relative to the table, or remove the row",
                         file=name, row=row, column=column)
    raw = str(v)
    if os.path.isabs(raw) or raw.startswith("~") or (len(raw) > 1 and raw[1] == ":"):
        raise InputError(f"the path {raw!r} is absolute; write paths relative to {where}, or give the folder they "
                         "share with --image-root (refused: a table names files inside one folder)", file=name,
                         row=row, column=column)
    norm = os.path.normpath(raw)
    if norm == ".." or norm.startswith("../"):
        raise InputError(f"the path {raw!r} leads out of {where} ('..'); give the folder the paths are relative "
                         "to with --image-root (refused: a table names files inside one folder)", file=name, row=row,
                         column=column)
    return raw


def _read_json_table(p: Path, name: str, *, text: str | None, id: str | None) -> Any:
    """A ``.json`` file holding an array of objects, read as :func:`read_items` reads a table (errors name it)."""
    if not p.exists():
        raise InputError("file not found", file=name)
    try:
        rows = json.loads(p.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"cannot read as JSON ({' '.join(str(exc).split())}); write an array of objects, or "
                         "one object per line in a .jsonl file", file=name) from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError("expected a JSON array of objects ([{...}, ...])", file=name)
    try:
        return read_items(pd.DataFrame.from_records(rows), text=text, id=id, require_text=False, guess_text=False)
    except InputError as exc:
        raise InputError(exc.message, file=name, row=exc.row, column=exc.column) from None


# ------------------------------------------------------------------------------------------------ one file
@dataclass(frozen=True)
class FileKey:
    """What says a file is unchanged since it was ingested, without reading it: its size and modification time."""

    size: int
    mtime_ns: int


def file_key(path: Path) -> FileKey | None:
    """The :class:`FileKey` of ``path``, or ``None`` if it cannot be read (reading it will say why)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return FileKey(st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class LoadedImage:
    """One file read: its key, content hash, decoded size (after EXIF rotation) and, unless the caller already had
    the same content, its WebP thumbnail (``thumb`` ``None`` then; width and height too)."""

    key: FileKey
    sha256: str
    width: int = 0
    height: int = 0
    thumb: bytes | None = None
    thumb_width: int = 0
    thumb_height: int = 0


def load_image(path: Path, name: str, *, known_sha256: str | None = None,
               max_pixels: int | None = None) -> LoadedImage | Skipped:
    """Read ``path``, hash it and (unless its hash is ``known_sha256``) decode it and make its thumbnail.

    Parameters
    ----------
    path
        The file.
    name
        The file as messages name it.
    known_sha256
        The hash stored for this item: the same content is not decoded again.
    max_pixels
        Refuse larger images; default :data:`embedscope.io.images.MAX_PIXELS` (read when called).

    Returns
    -------
    LoadedImage or Skipped
        A file that cannot be used is a :class:`Skipped` naming it, never an exception.
    """
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        return Skipped(name, "missing", _one(name, "no such file; fix the path or add the file"))
    except OSError as exc:
        return Skipped(name, "unreadable", _one(name, f"cannot read the file ({exc.strerror or exc}); check its "
                                                "permissions"))
    key = FileKey(len(data), st.st_mtime_ns)
    sha = images.content_hash(data)
    if sha == known_sha256:
        return LoadedImage(key, sha)
    try:
        img = images.decode(data, name, max_pixels=images.MAX_PIXELS if max_pixels is None else max_pixels)
        thumb, tw, th = images.thumbnail(img)
    except InputError as exc:
        return Skipped(name, reason_of(exc.message, len(data)), exc.one_line())
    except (OSError, ValueError, MemoryError) as exc:  # an encoder or a decoder failing late
        return Skipped(name, "corrupt", _one(name, f"cannot decode the image ({' '.join(str(exc).split())}); copy "
                                             "it again or remove it"))
    return LoadedImage(key, sha, img.width, img.height, thumb, tw, th)


def reason_of(message: str, size: int) -> str:
    """The :data:`REASONS` entry of a :func:`embedscope.io.images.decode` error's message."""
    if size == 0:
        return "empty"
    if "not an image" in message:
        return "unsupported"
    if "above the limit" in message:
        return "too large"
    return "corrupt"


def _one(file: str | Path, message: str) -> str:
    return printable(f"{file}: {message}")
