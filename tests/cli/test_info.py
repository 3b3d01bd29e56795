"""`embedscope info`: what a workspace holds, and rows written beside embedscope (issue 24 item 12)."""

from __future__ import annotations

import json
from pathlib import Path

import lancedb
import pandas as pd
import pyarrow as pa
import pytest

import embedscope
from tests.helpers import run_cli


def test_info_warns_about_rows_written_with_lancedb_directly(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """scope.json pins each table's version: rows appended with lancedb are unseen. `info` used to say nothing."""
    s = embedscope.create(tmp_path / "w.scope")
    s.ingest(pd.DataFrame({"id": ["a", "b"], "text": ["one text", "another text"]}))
    code, out, _ = run_cli(capsys, "info", str(s.path), "--json")
    assert code == 0 and json.loads(out)["unrecorded"] == []
    db = lancedb.connect(str(s.path / "db"))
    items = db.open_table("items")
    items.add(pa.Table.from_pylist([{"id": "c", "text": "added by hand"}], schema=items.schema))
    code, out, _ = run_cli(capsys, "info", str(s.path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["items"] == 2, "the added row is not seen"
    assert [u["table"] for u in doc["unrecorded"]] == ["items"]
    assert doc["unrecorded"][0]["latest"] > doc["unrecorded"][0]["recorded"]
    code, _, err = run_cli(capsys, "info", str(s.path))
    assert code == 0 and "warning: table 'items' has versions newer than the workspace records" in " ".join(err.split())
