"""The file formats embedscope reads, by suffix: texts with metadata, and vectors."""

from __future__ import annotations

from pathlib import Path

TEXT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".parquet": "parquet",
                ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".arrow": "arrow",
                ".feather": "arrow", ".ipc": "arrow"}
VECTOR_FORMATS = {".npy": "npy", ".json": "json", ".parquet": "parquet", ".pq": "parquet",
                  ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".jsonl": "jsonl"}


def file_suffix(path: Path) -> str:
    """The lower-case suffix that names the format of ``path``, under a compression suffix (``a.csv.gz``: ``.csv``)."""
    s = path.suffix.lower()
    if s in (".gz", ".bz2", ".zst", ".xz"):
        return Path(path.stem).suffix.lower()
    return s
