"""Column names with a dot (issue 24, item 2): LanceDB refuses ``price.usd`` as a column name (a raw LanceError,
exit 1, before). The items table stores it under a safe name; every reader sees the name as written."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import embedscope
from embedscope.store.names import shown_name, stored_name
from tests.helpers import client_for
from tests.helpers import run_cli as run


@pytest.mark.parametrize("name", ["price.usd", "a..b", ".", "100%", "a%2Eb", "a%25", "%", "plain", "caf\u00e9.x"])
def test_names_map_one_to_one(name: str) -> None:
    stored = stored_name(name)
    assert "." not in stored
    assert shown_name(stored) == name


def test_mapping_is_injective() -> None:
    names = ["a.b", "a%2Eb", "a%252Eb", "a%b", "a%25b", "a.b."]
    assert len({stored_name(n) for n in names}) == len(names)


def _frame(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"i{i}" for i in range(n)], "text": [f"text number {i}" for i in range(n)],
                         "price.usd": [float(i) for i in range(n)], "user.name": [f"u{i % 3}" for i in range(n)]})


def test_dotted_columns_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = embedscope.create(tmp_path / "w.scope")
    s.ingest(_frame())
    # stored under a safe name
    import lancedb

    stored = lancedb.connect(tmp_path / "w.scope" / "db").open_table("items").schema.names
    assert "price%2Eusd" in stored and "price.usd" not in stored
    # shown as written: items, columns, a subset of columns
    assert s.item_columns() == ["id", "text", "price.usd", "user.name"]
    s.add_vectors("v", s.ids(), np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32))
    assert s.items_for("v", columns=["user.name"]).column_names == ["id", "user.name"]
    # an upsert with the dotted name updates the same column (no second one)
    edit = _frame().iloc[:2].copy()
    edit["price.usd"] = [100.0, 101.0]
    s.ingest(edit)
    s = embedscope.open(tmp_path / "w.scope")
    items = s.items()
    assert items.column_names == ["id", "text", "price.usd", "user.name"]
    assert items.column("price.usd").to_pylist()[:3] == [100.0, 101.0, 2.0]
    # the page: the column list and a column's values by its written name, a filter on it
    client = client_for(s)
    cols = {c["name"]: c for c in client.get("/api/spaces/v/columns").json()}
    assert set(cols) == {"price.usd", "user.name"}
    assert cols["user.name"]["kind"] == "categorical"
    r = client.get("/api/spaces/v/columns/user.name")
    assert r.status_code == 200
    import pyarrow.ipc as ipc

    t = ipc.open_stream(io.BytesIO(r.content)).read_all()
    assert t.column_names == ["user.name"]
    # the CLI and the export
    code, out, _ = run(capsys, "info", str(tmp_path / "w.scope"), "--json")
    assert '"price.usd"' in out and "%2E" not in out
    code, _, err = run(capsys, "export", str(tmp_path / "w.scope"), "--space", "v", "-o", str(tmp_path / "o.csv"),
                       "--format", "csv")
    assert code == 0, err
    header = (tmp_path / "o.csv").read_text().splitlines()[0]
    assert header == '"id","text","price.usd","user.name"'
    code, _, err = run(capsys, "export", str(tmp_path / "w.scope"), "--space", "v", "-o", str(tmp_path / "o.parquet"))
    assert code == 0, err
    import pyarrow.parquet as pq

    assert pq.read_schema(tmp_path / "o.parquet").names[:4] == ["id", "text", "price.usd", "user.name"]


def test_streamed_first_ingest_stores_safe_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.io import items_stream

    monkeypatch.setattr(items_stream, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(items_stream, "BATCH_ROWS", 5)
    f = tmp_path / "d.csv"
    _frame().to_csv(f, index=False)
    s = embedscope.create(tmp_path / "s.scope")
    s.ingest(f)
    items = embedscope.open(tmp_path / "s.scope").items()
    assert items.column_names == ["id", "text", "price.usd", "user.name"]
    assert items.column("user.name").to_pylist()[:4] == ["u0", "u1", "u2", "u0"]
    assert pa.types.is_floating(items.schema.field("price.usd").type)
