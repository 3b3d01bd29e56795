"""Fitted state in ``models/`` as data: one ``.npz`` of plain arrays and a JSON header, never a pickle.

A workspace may come from someone else; opening it must not run their code. Every fitted model a workspace
keeps (the TF-IDF vocabulary and SVD, the data that places new items into a sampled UMAP fit, a compression
codec's parameters) is written with :func:`save_state` and read with :func:`load_state`, which reads arrays
with ``allow_pickle=False`` (object arrays are refused) and the header with :func:`json.loads`. A crafted file
can at worst give wrong numbers or a clear error.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ManifestError, WorkspaceError
from .files import write_bytes_atomic

#: Suffix of the model files this version writes. Files ending ``.pkl`` (written by earlier versions) are
#: never read.
SUFFIX = ".npz"


def save_state(path: Path, kind: str, arrays: dict[str, np.ndarray], header: dict[str, Any]) -> str:
    """Write ``arrays`` and a JSON ``header`` to ``path`` atomically (temporary file, fsync, rename).

    Parameters
    ----------
    path
        Target file (its folder is created).
    kind
        What the file holds (``tfidf``, ``umap-place``, ``codec``); :func:`load_state` checks it.
    arrays
        Numeric or fixed-width string arrays (no object arrays).
    header
        JSON-ready parameters (``NaN``/``inf`` are refused).

    Returns
    -------
    str
        The file's name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {k: np.asarray(v) for k, v in arrays.items()}
    for key, arr in out.items():
        if arr.dtype.hasobject:
            raise TypeError(f"model array {key!r} holds Python objects; store numbers or strings")
    out["__header__"] = np.array(json.dumps({"kind": kind, **header}, ensure_ascii=False, allow_nan=False))
    buf = io.BytesIO()
    np.savez_compressed(buf, **out)  # type: ignore[arg-type]
    write_bytes_atomic(path, buf.getbuffer())
    return path.name


def load_state(path: Path, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_state` without unpickling anything.

    Returns
    -------
    arrays, header
        The arrays and the JSON header (``kind`` included).

    Raises
    ------
    WorkspaceError
        The file is missing, not an ``.npz`` of plain arrays, or holds another kind of model.
    """
    if path.suffix != SUFFIX:
        raise WorkspaceError(f"{path}: not a model file this version reads (only {SUFFIX} files are read, "
                             "never pickles)")
    _check_expansion(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(str(arrays.pop("__header__")))
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: the model file is missing") from None
    except Exception as exc:
        raise WorkspaceError(f"{path}: not a readable model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or header.get("kind") != kind:
        got = header.get("kind") if isinstance(header, dict) else None
        raise WorkspaceError(f"{path}: holds a {got!r} model, not {kind!r}")
    return arrays, header


#: A member of a model file may expand to at most this many times its compressed size (plus :data:`SLACK`
#: bytes): the fitted arrays this version writes (floats, int8 loadings, UTF-8 text) compress by a few times at
#: most, while a crafted file of zeros expands a thousandfold (10 MB on disk, 10 GB in memory).
MAX_RATIO = 100
SLACK = 16 << 20


def _check_expansion(path: Path) -> None:
    """Refuse an ``.npz`` whose members would expand far beyond what fitted arrays do (a zip bomb).

    The zip directory's sizes bound what is read: :mod:`zipfile` stops a member at its recorded size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # np.load reports it
    for info in infos:
        if info.file_size > MAX_RATIO * info.compress_size + SLACK:
            raise WorkspaceError(f"{path}: member {info.filename!r} would expand from {info.compress_size:,} to "
                                 f"{info.file_size:,} bytes, far more than a fitted model does; not read (compute "
                                 "the model again)")


def recorded_file(root: Path, name: object, *, table: str, key: str) -> Path:
    """The file in ``root / "models"`` that the manifest's record of ``table`` names under ``params[key]``,
    confined to that folder.

    The name comes from ``scope.json``, which the workspace's author wrote: it must be a plain file name (no
    separator, no ``..``, not absolute), and the file, with symbolic links resolved, must lie inside
    ``models/``; otherwise nothing is read, written or deleted there.

    Raises
    ------
    ManifestError
        The name is not a plain file name or leads outside ``models/`` (exit 2, naming the manifest entry).
    """
    folder = root / "models"
    text = name if isinstance(name, str) else ""
    plain = bool(text) and text not in (".", "..") and "/" not in text and "\\" not in text and "\0" not in text
    path = folder / text
    if plain:
        try:
            plain = path.resolve().is_relative_to(folder.resolve())
        except (OSError, RuntimeError):  # a symlink loop
            plain = False
    if not plain:
        raise ManifestError(f"names model file {name!r}, which is not a file inside {folder}; a workspace's "
                            "manifest may only name files in its own models/ folder: restore the manifest from "
                            "a backup, or compute the result again", file=root / "scope.json",
                            column=f"records.{table}.params.{key}")
    return path


def is_legacy(name: str) -> bool:
    """Whether a recorded model file name is a pickle written by an earlier version (never read)."""
    return not name.endswith(SUFFIX)


def pack_strings(values: list[str]) -> dict[str, np.ndarray]:
    """Strings as two plain arrays: their UTF-8 bytes joined (``bytes``) and ``offsets`` (``n + 1``, int64);
    compact whatever the longest string (a fixed-width string array pads every entry to it)."""
    blobs = [v.encode() for v in values]
    offsets = np.zeros(len(blobs) + 1, np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    return {"bytes": np.frombuffer(b"".join(blobs), np.uint8), "offsets": offsets}


def unpack_strings(raw: np.ndarray, offsets: np.ndarray) -> list[str]:
    """The strings :func:`pack_strings` stored.

    Raises
    ------
    ValueError
        The offsets do not fit the bytes, or a string is not UTF-8.
    """
    data = np.asarray(raw).astype(np.uint8, copy=False).tobytes()
    off = np.asarray(offsets)
    if off.ndim != 1 or off.dtype.kind not in "iu" or len(off) < 1 or off[0] != 0 or off[-1] != len(data) \
            or (np.diff(off) < 0).any():
        raise ValueError("string offsets do not fit the stored bytes")
    return [data[int(off[i]):int(off[i + 1])].decode() for i in range(len(off) - 1)]
