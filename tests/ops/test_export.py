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
