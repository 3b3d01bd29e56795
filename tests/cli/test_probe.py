"""``embedscope probe`` and the probe in ``compare --label``: tables, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import probe_scope, run_cli


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probecli") / "p.scope"
    probe_scope(path)
    return path


def test_probe_json_and_tables(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "probe", str(ws), "--label", "topic", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["items"] == 300 and set(doc["spaces"]) == {"noise", "signal"}
    sig = doc["spaces"]["signal"]
    assert sig["logreg"]["accuracy"] > 0.97 and doc["spaces"]["noise"]["logreg"]["accuracy"] < 0.5
    assert sig["left_out"] == [{"label": "tiny", "count": 2}]
    code, out, err = run_cli(capsys, "probe", str(ws), "--label", "topic", "--spaces", "signal,noise", "--folds", "4")
    assert code == 0
    assert "logreg" in out and "base rate" in out and "control" in out
    assert "預言者" in out and "Évangiles" in out and "most confident mistakes" in out
    assert "'tiny' (2)" in err
    code, out, _ = run_cli(capsys, "probe", str(ws), "--label", "score", "--spaces", "signal,noise")
    assert code == 0 and "ridge R²" in out


def test_missing_column_is_exit_2_with_one_line(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "probe", str(ws), "--label", "nope")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "column 'nope'" in err and "columns: topic, score" in err
    code, _, err = run_cli(capsys, "probe", str(ws), "--label", "topic", "--spaces", "signal,missing")
    assert code == 2 and "missing" in err and err.strip().count("\n") == 0


def test_compare_label_shows_the_probe(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "compare", str(ws), "--spaces", "signal,noise", "--label", "topic", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["probe"]["spaces"]["signal"]["logreg"]["accuracy"] > 0.97
    assert doc["probe"]["spaces"]["noise"]["logreg"]["accuracy"] < 0.5
    code, out, _ = run_cli(capsys, "compare", str(ws), "--spaces", "signal,noise", "--label", "topic")
    assert code == 0 and "probe of 'topic'" in out and "logreg" in out
    code, out, _ = run_cli(capsys, "compare", str(ws), "--spaces", "signal,noise", "--json")
    assert code == 0 and json.loads(out)["probe"] is None
