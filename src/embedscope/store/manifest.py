"""The workspace manifest ``scope.json``: what is stored, from which inputs, with which parameters.

The manifest is the authority on what a workspace holds. A table that is not recorded here is an orphan (a
write that was interrupted) and is ignored or replaced. The manifest itself is replaced atomically (write to
a temporary file, fsync, rename), so a killed process leaves either the old or the new manifest, never half
of one.

Provenance: every stored result records the fingerprints of its inputs and its parameters. A result is
*stale* when an input's current fingerprint differs from the recorded one; it is recomputed on next use.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import ManifestError, WorkspaceError

FORMAT = 1
MANIFEST = "scope.json"

_VERSIONED = ("embedscope", "numpy", "lancedb", "pylance", "scikit-learn", "umap-learn",
              "sentence-transformers", "torch")


def library_versions(names: tuple[str, ...] = _VERSIONED) -> dict[str, str]:
    """Installed versions of the libraries that shape stored results (missing ones are left out)."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def now() -> str:
    """UTC time stamp in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def fingerprint_arrays(*parts: np.ndarray | pa.Array | pa.ChunkedArray | str | bytes) -> str:
    """A content hash (BLAKE2b, 16 bytes, hex) of arrays and strings, in order.

    Strings arrays are hashed with their offsets, so ``["ab", "c"]`` and ``["a", "bc"]`` differ.
    """
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, str):
            h.update(b"s" + part.encode())
        elif isinstance(part, bytes):
            h.update(b"b" + part)
        elif isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            h.update(f"a{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.data)
        else:
            chunks = part.chunks if isinstance(part, pa.ChunkedArray) else [part]
            h.update(f"p{part.type}".encode())
            for chunk in chunks:
                for buf in chunk.buffers():
                    if buf is not None:
                        h.update(memoryview(buf))
                h.update(f"|{len(chunk)}|{chunk.offset}".encode())
    return h.hexdigest()


@dataclass
class Record:
    """One stored thing: a table with the inputs and parameters it was made from."""

    table: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    rows: int = 0
    table_version: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table, "kind": self.kind, "params": self.params, "inputs": self.inputs,
            "fingerprint": self.fingerprint, "rows": self.rows, "table_version": self.table_version,
            "versions": self.versions, "created": self.created, "metrics": self.metrics,
        }

    @classmethod
    def from_json(cls, key: str, raw: Any) -> Record:
        if not isinstance(raw, dict) or not isinstance(raw.get("table"), str) or not isinstance(
            raw.get("kind"), str
        ):
            raise ValueError(f"entry {key!r} must be an object with 'table' and 'kind' strings")
        if raw["table"] != key:
            raise ValueError(f"entry {key!r} names table {raw['table']!r}; an entry's key is its table's name")
        rows = raw.get("rows", 0)
        tv = raw.get("table_version")
        if not isinstance(rows, int) or (tv is not None and not isinstance(tv, int)):
            raise ValueError(f"entry {key!r}: 'rows' and 'table_version' must be integers")
        for name in ("params", "inputs", "versions", "metrics"):
            if not isinstance(raw.get(name, {}), dict):
                raise ValueError(f"entry {key!r}: {name!r} must be an object")
        dim = raw.get("params", {}).get("dim")
        if raw["kind"] == "space" and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
            raise ValueError(f"entry {key!r}: a space needs a positive integer 'params.dim', got {dim!r}")
        return cls(
            table=raw["table"], kind=raw["kind"], params=dict(raw.get("params", {})),
            inputs={str(k): str(v) for k, v in raw.get("inputs", {}).items()},
            fingerprint=str(raw.get("fingerprint", "")), rows=rows, table_version=tv,
            versions=dict(raw.get("versions", {})), created=str(raw.get("created", "")),
            metrics=dict(raw.get("metrics", {})),
        )


@dataclass
class Manifest:
    """The parsed ``scope.json``: records keyed by table name."""

    records: dict[str, Record] = field(default_factory=dict)
    created: str = ""

    @classmethod
    def load(cls, root: Path) -> Manifest:
        path = root / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorkspaceError(f"{root} is not an embedscope workspace (no {MANIFEST})") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ManifestError(
                f"the manifest is not valid JSON ({exc}); restore it from a backup, or delete the workspace and "
                "ingest again", file=path,
            ) from None
        key: str | None = None
        try:
            if not isinstance(raw, dict):
                raise ValueError("the top level must be an object")
            if raw.get("format") != FORMAT:
                raise ValueError(f"unknown format {raw.get('format')!r} (this embedscope reads {FORMAT})")
            recs = raw.get("records", {})
            if not isinstance(recs, dict):
                raise ValueError("'records' must be an object")
            records: dict[str, Record] = {}
            for k, v in recs.items():
                key = f"records.{k}"
                records[str(k)] = Record.from_json(str(k), v)
        except ValueError as exc:
            raise ManifestError(
                f"the manifest is damaged: {exc}; restore it from a backup, or delete the workspace and ingest again",
                file=path, column=key,
            ) from None
        return cls(records=records, created=str(raw.get("created", "")))

    def save(self, root: Path) -> None:
        """Write atomically: a temporary file in the same directory, fsync, then rename over the old one."""
        doc = {
            "format": FORMAT,
            "created": self.created or now(),
            "records": {k: r.to_json() for k, r in sorted(self.records.items())},
        }
        data = json.dumps(doc, indent=2, sort_keys=False).encode()
        fd, tmp = tempfile.mkstemp(prefix=".scope.", suffix=".json.tmp", dir=root)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, root / MANIFEST)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
