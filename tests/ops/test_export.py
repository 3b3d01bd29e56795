"""embedscope export: Parquet, CSV and the TensorFlow Projector's TSV pair, in point order, with layouts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import embedscope
from tests.helpers import run_cli as run


def test_export_three_formats(small_scope: embedscope.Scope, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(small_scope.path)
    ids, x = small_scope.vectors("minilm")
    lay = small_scope.layout("minilm", "umap")
    code, _, err = run(capsys, "export", ws, "--format", "parquet", "-o", str(tmp_path / "a.parquet"))
    assert code == 0, err
    t = pq.read_table(tmp_path / "a.parquet")
    assert t.column("id").to_pylist() == ids and "topic" in t.column_names and "text" in t.column_names
    np.testing.assert_array_equal(np.stack(t.column("vector").to_numpy(zero_copy_only=False)), x)
    np.testing.assert_allclose(t.column("umap_x").to_numpy(), lay.coords[:, 0], rtol=1e-6)
    code, _, _ = run(capsys, "export", ws, "--format", "csv", "-o", str(tmp_path / "a.csv"))
    with (tmp_path / "a.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert code == 0 and len(rows) == 60 and rows[0]["id"] == ids[0] and "vector" not in rows[0]
    assert float(rows[0]["umap_y"]) == pytest.approx(float(lay.coords[0, 1]), rel=1e-5)
    code, _, _ = run(capsys, "export", ws, "--format", "projector-tsv", "-o", str(tmp_path / "proj"))
    vec = np.loadtxt(tmp_path / "proj" / "vectors.tsv", delimiter="\t")
    meta = (tmp_path / "proj" / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert code == 0 and vec.shape == (60, 384) and np.allclose(vec, x, atol=1e-5)
    assert meta[0].split("\t")[:2] == ["id", "text"] and len(meta) == 61
    assert not list(tmp_path.glob("**/*.tmp"))


def test_export_errors_and_odd_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    scope = embedscope.create(tmp_path / "w.scope")
    scope.ingest(pd.DataFrame({"id": ["007", "é"], "text": ["tab\there\nand newline", "naïve café"]}))
    scope.add_vectors("v", ["007", "é"], np.array([[1.0, 2.0], [3.0, -1.0]], np.float32))
    code, _, _ = run(capsys, "export", str(scope.path), "--format", "projector-tsv", "-o", str(tmp_path / "p"))
    meta = (tmp_path / "p" / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert code == 0 and meta[1] == "007\ttab here and newline" and meta[2] == "é\tnaïve café"
    code, _, err = run(capsys, "export", str(scope.path), "--format", "xlsx", "-o", str(tmp_path / "x"))
    assert code == 2 and "unknown --format" in err
    code, _, err = run(capsys, "export", str(scope.path), "--layout", "umap", "-o", str(tmp_path / "x.parquet"))
    assert code == 2 and "no 'umap' layout" in err
    code, _, err = run(capsys, "export", str(scope.path), "-o", str(tmp_path / "nodir" / "x.parquet"))
    assert code == 2 and "does not exist" in err


def projector_read(folder: Path) -> tuple[list[list[float]], list[str], list[dict[str, str | None]]]:
    """``vectors.tsv`` and ``metadata.tsv`` read as the Projector reads them (``parseTensors``,
    ``parseMetadata`` of tensorboard's vz_projector/data-provider.ts): blank lines skipped; a vector line whose
    first value is not a number gives a label; the metadata's first line is a header exactly when it holds a tab
    (else every line is a value of one column named ``label``); an empty value is null."""
    vectors = []
    for line in (folder / "vectors.tsv").read_text(encoding="utf-8").split("\n"):
        if line.strip() == "":
            continue
        row = line.strip().split("\t")
        float(row[0])  # a label in the first value would shift every dimension
        vectors.append([float(v) for v in row])
    columns, rows = ["label"], []
    for n, line in enumerate(ln for ln in (folder / "metadata.tsv").read_text(encoding="utf-8").split("\n")
                             if ln.strip()):
        if n == 0 and "\t" in line:
            columns = line.split("\t")
            continue
        values = line.split("\t")
        rows.append({c: (values[i] if i < len(values) and values[i] != "" else None) for i, c in enumerate(columns)})
    return vectors, columns, rows


def _list_scope(path: Path) -> embedscope.Scope:
    import pandas as pd

    n = 6
    scope = embedscope.create(path)
    scope.ingest(pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": [f"text {i}" for i in range(n)],
                               "tags": [["news", f"t{i % 2}"] for i in range(n)],
                               "emb": [[float(i)] * 384 for i in range(n)],
                               "info": [{"source": "web", "rank": i} for i in range(n)]}))
    scope.add_vectors("v", scope.ids(), np.random.default_rng(1).normal(size=(n, 3)).astype(np.float32))
    return scope


def test_projector_tsv_follows_the_projectors_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One metadata column: no header (the Projector refused "Single column metadata should not have a header
    row"); two or more: a header. Lists of numbers are left out (a 384-float text a cell), other lists joined,
    each said on stderr; the Projector's reading gives one metadata row per vector."""
    # ids only: one column
    only = embedscope.create(tmp_path / "ids.scope")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    only.add_vectors("v", [f"p{i}" for i in range(5)], x)
    code, _, err = run(capsys, "export", str(only.path), "--format", "projector-tsv", "-o", str(tmp_path / "one"))
    assert code == 0, err
    vectors, columns, rows = projector_read(tmp_path / "one")
    assert len(vectors) == len(rows) == 5 and columns == ["label"]
    assert [r["label"] for r in rows] == [f"p{i}" for i in range(5)]
    np.testing.assert_allclose(vectors, x, atol=1e-5)
    # metadata with lists
    scope = _list_scope(tmp_path / "l.scope")
    code, _, err = run(capsys, "export", str(scope.path), "--format", "projector-tsv", "-o", str(tmp_path / "many"))
    assert code == 0, err
    vectors, columns, rows = projector_read(tmp_path / "many")
    assert len(vectors) == len(rows) == 6
    assert columns == ["id", "text", "tags", "info"]  # emb left out
    assert rows[1]["tags"] == "news, t1" and rows[1]["id"] == "d1"
    assert "'emb' (lists of numbers) left out" in err and "'tags' (lists) written as its values joined" in err
    assert (tmp_path / "many" / "metadata.tsv").stat().st_size < 2000
    # one dimension: the Projector cannot read it
    flat = embedscope.create(tmp_path / "flat.scope")
    flat.add_vectors("v", ["a", "b"], np.array([[1.0], [2.0]], np.float32))
    code, _, err = run(capsys, "export", str(flat.path), "--format", "projector-tsv", "-o", str(tmp_path / "f"))
    assert code == 2 and "at least 2 dimensions" in err


def test_csv_export_writes_lists_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """List metadata in a CSV export (ArrowInvalid, exit 1, before): JSON text a cell; the page's selection
    CSV too."""
    import json

    from tests.helpers import client_for

    scope = _list_scope(tmp_path / "l.scope")
    code, _, err = run(capsys, "export", str(scope.path), "--format", "csv", "-o", str(tmp_path / "l.csv"))
    assert code == 0, err
    with (tmp_path / "l.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert json.loads(rows[2]["tags"]) == ["news", "t0"]
    assert json.loads(rows[2]["emb"]) == [2.0] * 384
    assert json.loads(rows[2]["info"]) == {"source": "web", "rank": 2}
    client = client_for(embedscope.open(scope.path))
    r = client.post("/api/spaces/v/selection.csv", content=np.array([0, 3], "<u4").tobytes(),
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    got = list(csv.DictReader(r.text.splitlines()))
    assert [g["id"] for g in got] == ["d0", "d3"] and json.loads(got[1]["tags"]) == ["news", "t1"]
