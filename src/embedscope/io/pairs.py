"""Pairs of similar texts for fine-tuning (``embedscope train --pairs F``), read from a small file.

Accepted formats: **CSV / TSV** (``.csv``, ``.tsv``) with a header, and **JSON Lines** (``.jsonl``), one object
per line. The two columns are the first pair of names found among ``anchor``/``positive``, ``a``/``b``,
``text1``/``text2``, ``sentence1``/``sentence2``, ``query``/``positive`` (CSV/TSV: else the first two
columns). A value that is the id of an item in the workspace stands for that item's text (the caller decides).
Every error names the file and the row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError

NAMES = (("anchor", "positive"), ("a", "b"), ("text1", "text2"), ("sentence1", "sentence2"),
         ("query", "positive"))
#: Pairs read at most (a bigger file is probably the wrong file).
MAX_ROWS = 1_000_000


def _columns(header: list[str], p: Path, fallback: bool) -> tuple[str, str]:
    low = {h.strip().lower(): h for h in header}
    for a, b in NAMES:
        if a in low and b in low:
            return low[a], low[b]
    if fallback and len(header) >= 2:
        return header[0], header[1]
    raise InputError("needs two text columns (anchor,positive or a,b or text1,text2); found "
                     f"{', '.join(header) or 'none'}", file=p)


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """The ``(anchor, positive)`` pairs of a file (empty values are an error naming the row).

    Raises
    ------
    InputError
        Unknown format, missing columns, an empty value, or no pair at all.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("the pairs file does not exist", file=p)
    out: list[tuple[str, str]] = []
    suffix = p.suffix.lower()
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            if suffix in (".csv", ".tsv"):
                reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
                a, b = _columns(list(reader.fieldnames or []), p, True)
                rows: Iterator[tuple[int, object, object]] = (
                    (i, r.get(a), r.get(b)) for i, r in enumerate(reader, 1))
            elif suffix == ".jsonl":
                def parsed() -> list[tuple[int, object, object]]:
                    got = []
                    for i, line in enumerate(fh, 1):
                        if not line.strip():
                            continue
                        try:
                            rec = json.loads(line)
                        except ValueError:
                            raise InputError("not a JSON object", file=p, row=i) from None
                        if not isinstance(rec, dict):
                            raise InputError("not a JSON object", file=p, row=i)
                        ca, cb = _columns(list(rec), p, False)
                        got.append((i, rec.get(ca), rec.get(cb)))
                    return got
                rows = iter(parsed())
            else:
                raise InputError(f"unknown pairs format {suffix!r}; use .csv, .tsv or .jsonl", file=p)
            for i, x, y in rows:
                if not isinstance(x, str) or not isinstance(y, str) or not x.strip() or not y.strip():
                    raise InputError("a pair needs two non-empty texts", file=p, row=i)
                out.append((x, y))
                if len(out) > MAX_ROWS:
                    raise InputError(f"more than {MAX_ROWS:,} pairs; is this the right file?", file=p)
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", file=p) from None
    if not out:
        raise InputError("holds no pair", file=p)
    return out
