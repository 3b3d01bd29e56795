"""Relevance judgements (qrels): which items are relevant to which query, read from a small file.

A qrels file lists ``(query, relevant item, grade)`` triples. A query is either the id of an item in the workspace
(the item is then the query and is left out of its own results) or a text, embedded with each space's own model.

Accepted formats:

- **CSV / TSV** (``.csv``, ``.tsv``) with a header: a query column (``query``, ``query_id``, ``qid`` or
  ``query_text``), a relevant-item column (``relevant``, ``item``, ``id``, ``doc_id``, ``docid``, ``corpus_id``)
  and optionally a grade (``relevance``, ``grade``, ``score``, ``rel``; default 1);
- **JSON Lines** (``.jsonl``): one object per line with the same keys, or ``{"query": ..., "relevant": [ids]}``;
- **TREC** (``.qrels``, ``.txt``): ``query iteration item grade`` separated by whitespace, no header.

Rows with grade 0 are kept as judged-not-relevant (they count as misses). Every error names the file, the row
and the column.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

QUERY_KEYS = ("query", "query_id", "qid", "query_text")
ITEM_KEYS = ("relevant", "item", "id", "doc_id", "docid", "corpus_id", "corpus-id")
GRADE_KEYS = ("relevance", "grade", "score", "rel")
#: Judgements read at most (qrels are small; a bigger file is probably the wrong file).
MAX_ROWS = 1_000_000


@dataclass
class Qrels:
    """Relevance judgements, grouped by query in file order.

    Attributes
    ----------
    source
        The file read.
    queries
        Query strings (item ids or texts), each once, in order of first appearance.
    relevant
        Same length as ``queries``: ``{item id: grade}`` per query (grades >= 0; > 0 means relevant).
    rows
        ``{(query, item): row}``: where each judgement was read (1-based data row), for error messages.
    """

    source: str
    queries: list[str]
    relevant: list[dict[str, float]]
    rows: dict[tuple[str, str], int]

    @property
    def judgements(self) -> int:
        return sum(len(r) for r in self.relevant)


def read_qrels(path: str | Path) -> Qrels:
    """Read a qrels file (CSV, TSV, JSON Lines or TREC; see the module docs).

    Raises
    ------
    InputError
        With file, row and column, when the file is missing, empty, or a row lacks a query, an item or a
        numeric non-negative grade.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("no such qrels file", file=p)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        rows = _csv_rows(p, "\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(p)
    elif suffix in (".qrels", ".txt", ""):
        rows = _trec_rows(p)
    else:
        raise InputError(f"unknown qrels format {suffix!r}: use .csv, .tsv, .jsonl or a TREC .qrels/.txt file",
                         file=p)
    order: dict[str, dict[str, float]] = {}
    where: dict[tuple[str, str], int] = {}
    count = 0
    for row, query, item, grade in rows:
        count += 1
        if count > MAX_ROWS:
            raise InputError(f"more than {MAX_ROWS:,} judgements; is this the right file?", file=p, row=row)
        order.setdefault(query, {})[item] = max(grade, order.get(query, {}).get(item, 0.0))
        where.setdefault((query, item), row)
    if not order:
        raise InputError("the qrels file has no judgements", file=p)
    if not any(g > 0 for rel in order.values() for g in rel.values()):
        raise InputError("no judgement has a grade above 0 (nothing is relevant)", file=p)
    return Qrels(str(p), list(order), list(order.values()), where)


def _value(rec: dict[str, Any], keys: tuple[str, ...], what: str, file: Path, row: int) -> tuple[str, Any]:
    low = {str(k).strip().lower(): k for k in rec}
    for k in keys:
        if k in low:
            return str(low[k]), rec[low[k]]
    raise InputError(f"no {what} column; expected one of {', '.join(keys)}", file=file, row=row)


def _clean(value: Any, what: str, file: Path, row: int, column: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"the {what} is empty", file=file, row=row, column=column)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dict | list):
        raise InputError(f"the {what} must be a string or a number", file=file, row=row, column=column)
    return str(value).strip()


def _grade(value: Any, file: Path, row: int, column: str | None) -> float:
    if value is None or value == "":
        return 1.0
    try:
        g = float(value)
    except (TypeError, ValueError):
        raise InputError(f"the grade {value!r} is not a number", file=file, row=row, column=column) from None
    if not g >= 0 or g == float("inf"):
        raise InputError(f"the grade {value!r} must be a finite number >= 0", file=file, row=row, column=column)
    return g


def _record_rows(rec: dict[str, Any], file: Path, row: int) -> Iterator[tuple[int, str, str, float]]:
    qcol, qv = _value(rec, QUERY_KEYS, "query", file, row)
    query = _clean(qv, "query", file, row, qcol)
    icol, iv = _value(rec, ITEM_KEYS, "relevant item", file, row)
    gcol, gv = next(((str(k), rec[k]) for k in rec if str(k).strip().lower() in GRADE_KEYS), (None, None))
    grade = _grade(gv, file, row, gcol)
    items = iv if isinstance(iv, list) else [iv]
    if not items:
        raise InputError("the list of relevant items is empty", file=file, row=row, column=icol)
    for it in items:
        yield row, query, _clean(it, "relevant item", file, row, icol), grade


def _csv_rows(p: Path, delimiter: str) -> Iterator[tuple[int, str, str, float]]:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", file=p) from None
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter, strict=True)
    if not reader.fieldnames:
        raise InputError("the file is empty (a header row with query and relevant columns is needed)", file=p)
    try:
        for n, rec in enumerate(reader, start=1):
            if None in rec:
                raise InputError("more fields than the header has", file=p, row=n)
            yield from _record_rows(rec, p, n)
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", file=p, row=reader.line_num) from None


def _jsonl_rows(p: Path) -> Iterator[tuple[int, str, str, float]]:
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", file=p) from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg} (character {exc.pos})", file=p, row=n) from None
        except RecursionError:  # brackets nested a thousand deep
            raise InputError("the line nests too deeply to read; each line must be a flat JSON object",
                             file=p, row=n) from None
        if not isinstance(rec, dict):
            raise InputError("each line must be a JSON object", file=p, row=n)
        yield from _record_rows(rec, p, n)


def _trec_rows(p: Path) -> Iterator[tuple[int, str, str, float]]:
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", file=p) from None
    for n, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise InputError(f"a TREC qrels line has 4 fields (query iteration item grade), this one {len(parts)}",
                             file=p, row=n)
        yield n, parts[0], parts[2], _grade(parts[3], p, n, "grade")
