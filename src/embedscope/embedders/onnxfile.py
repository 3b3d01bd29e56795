"""Cached ONNX files: built once on this machine, written atomically, checked by a SHA-256 sidecar.

A model exported to ONNX is kept in :func:`.onnxrt.cache_dir` under a name the caller derives from everything that
changes the file (weights, recipe, package versions). :func:`cached_build` returns the file if its sidecar (written
last) names its exact size and SHA-256, and otherwise builds it again in a temporary folder beside it and renames
it into place, so a reader sees the old state or the whole file, never a partial one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def sha256_file(f: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read 1 MiB at a time."""
    h = hashlib.sha256()
    with f.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sidecar(target: Path) -> Path:
    """The sidecar of a cached file: the same name with ``.json``."""
    return target.with_suffix(".json")


def is_valid(target: Path) -> bool:
    """The file exists and its sidecar names its exact size and SHA-256 (a partial or damaged file fails)."""
    try:
        meta = json.loads(sidecar(target).read_text())
        return target.stat().st_size == int(meta["bytes"]) and sha256_file(target) == meta["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def versions(packages: Sequence[str]) -> str:
    """``torch2.13.0-onnx1.23.2-...`` for the installed versions of ``packages`` (``pkg-none`` when absent)."""
    out = []
    for pkg in packages:
        try:
            out.append(f"{pkg}{importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{pkg}-none")
    return "-".join(out).replace("+", "_")


def cached_build(target: Path, build: Callable[[Path], None], meta: dict[str, Any]) -> Path:
    """``target`` if it is valid (:func:`is_valid`), else built by ``build`` and written atomically.

    Parameters
    ----------
    target
        The cache file; its name must change whenever what ``build`` writes would.
    build
        Writes the file to the path it is given (in a temporary folder beside ``target``); raises if the result
        is unusable (nothing is then replaced).
    meta
        Extra fields for the sidecar (recipe, source, versions), for whoever inspects the cache.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    if is_valid(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        built = Path(tmp) / "model.onnx"
        build(built)
        digest = sha256_file(built)
        size = built.stat().st_size
        os.replace(built, target)  # atomic: a reader sees the old state or the whole file
        side = Path(tmp) / "sidecar.json"
        side.write_text(json.dumps({"sha256": digest, "bytes": size, **meta}))
        os.replace(side, sidecar(target))  # written last: the file is valid only once this exists
    return target
