"""Metadata filters: which items to keep, from a small JSON object over the items' columns.

A filter is a JSON object; every condition must hold (AND):

- ``{"topic": ["sport", "space"]}``: the column's value is one of these (categories; ``null`` in the list keeps
  missing values);
- ``{"length": {"min": 10, "max": 80}}``: a numeric range, either end optional, both inclusive;
- ``{"text": "rocket"}`` or ``{"title": {"contains": "moon"}}``: a case-insensitive substring of a string column.

The explorer sends it as ``?filter=`` on the map, search and neighbour requests, so the map, the histogram and
the neighbour and query results are all restricted to the same items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError

#: The longest filter accepted (characters of JSON).
MAX_FILTER_CHARS = 20_000
#: The deepest nesting of ``[`` and ``{`` accepted: a filter needs 2 (``{"n": {"min": 1}}``); Python's JSON
#: parser recurses once a level and gave a RecursionError (a 500 in the server) at about a thousand.
MAX_FILTER_DEPTH = 8


@dataclass(frozen=True)
class Condition:
    """One condition on one column: ``kind`` is ``in``, ``range`` or ``contains``."""

    column: str
    kind: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    text: str = ""


def parse_filter(spec: str | dict[str, Any] | None) -> list[Condition]:
    """The conditions of a filter given as JSON text or as a dict (``None`` or ``{}``: keep everything).

    Raises
    ------
    InputError
        When the JSON is malformed, too long, or a condition has the wrong shape (naming the column).
    """
    if spec is None or spec == "" or spec == {}:
        return []
    if isinstance(spec, str):
        if len(spec) > MAX_FILTER_CHARS:
            raise InputError(f"the filter is longer than {MAX_FILTER_CHARS:,} characters")
        depth = json_depth(spec)
        if depth > MAX_FILTER_DEPTH:
            raise InputError(f"the filter nests {depth} levels of brackets; a filter is one JSON object of "
                             'conditions, like {"topic": ["a", "b"], "length": {"min": 3}}')
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise InputError(f"the filter is not valid JSON: {exc.msg} (character {exc.pos})") from None
    if not isinstance(spec, dict):
        raise InputError('the filter must be a JSON object like {"topic": ["a", "b"], "length": {"min": 3}}')
    out = []
    for column, cond in spec.items():
        out.append(_condition(str(column), cond))
    return out


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (brackets inside strings not counted), found
    without parsing it, so a deeply nested text is refused before a recursive parser sees it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _number(v: Any, column: str, key: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise InputError(f"filter on {column!r}: {key} must be a finite number, got {v!r}", column=column)
    return float(v)


def _condition(column: str, cond: Any) -> Condition:
    if isinstance(cond, list):
        if not all(v is None or isinstance(v, str | int | float | bool) for v in cond):
            raise InputError(f"filter on {column!r}: list the values to keep (strings or numbers)", column=column)
        return Condition(column, "in", values=tuple(cond))
    if isinstance(cond, str):
        return Condition(column, "contains", text=cond)
    if isinstance(cond, dict):
        keys = set(cond)
        if keys == {"contains"} and isinstance(cond["contains"], str):
            return Condition(column, "contains", text=cond["contains"])
        if keys and keys <= {"min", "max"}:
            low, high = _number(cond.get("min"), column, "min"), _number(cond.get("max"), column, "max")
            if low is not None and high is not None and low > high:
                raise InputError(f"filter on {column!r}: min {low} is above max {high}", column=column)
            return Condition(column, "range", low=low, high=high)
    raise InputError(f"filter on {column!r}: use a list of values, {{\"min\": .., \"max\": ..}} or "
                     f"{{\"contains\": \"text\"}}, got {json.dumps(cond)[:80]}", column=column)


def _is_string(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def mask(items: pa.Table, conditions: list[Condition]) -> np.ndarray:
    """Which rows of ``items`` pass every condition: bool, shape ``(items.num_rows,)``.

    Raises
    ------
    InputError
        For a column the items do not have, or a condition that does not fit the column's type.
    """
    keep = np.ones(items.num_rows, dtype=bool)
    for c in conditions:
        if c.column not in items.column_names:
            raise InputError(f"filter: no column {c.column!r}; columns: {', '.join(items.column_names)}",
                             column=c.column)
        col = items.column(c.column)
        if c.kind == "contains":
            if not _is_string(col.type):
                raise InputError(f"filter on {c.column!r}: a text match needs a text column", column=c.column)
            hit = pc.match_substring(pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col,
                                     pattern=c.text, ignore_case=True)
        elif c.kind == "range":
            if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
                raise InputError(f"filter on {c.column!r}: a range needs a numeric column", column=c.column)
            hit = pc.is_valid(col)
            if c.low is not None:
                hit = pc.and_kleene(hit, pc.greater_equal(col, c.low))
            if c.high is not None:
                hit = pc.and_kleene(hit, pc.less_equal(col, c.high))
        else:
            values = [v for v in c.values if v is not None]
            target = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
            try:
                value_set = pa.array([str(v) for v in values] if _is_string(target) else values, type=target)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                raise InputError(f"filter on {c.column!r}: the values do not fit the column's type {target}",
                                 column=c.column) from None
            hit = pc.is_in(pc.cast(col, target) if pa.types.is_dictionary(col.type) else col, value_set=value_set)
            if None in c.values:
                hit = pc.or_kleene(hit, pc.is_null(col))
        keep &= np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
    return keep
