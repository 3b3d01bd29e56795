"""Ingest: good inputs in every format, and every bad input with a located error and an untouched workspace."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import embedscope
from embedscope.errors import InputError
from embedscope.io.items import read_items
from embedscope.io.vectors import read_vectors
from tests.helpers import run_cli as run
from tests.helpers import snapshot


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    """A workspace with 3 items and a 4-d vector space."""
    path = tmp_path / "w.scope"
    s = embedscope.create(path)
    s.ingest(pd.DataFrame({"id": ["a", "b", "c"], "text": ["one", "two", "three"], "n": [1, 2, 3]}))
    s.add_vectors("v", ["a", "b", "c"], np.eye(3, 4, dtype=np.float32) + 0.1)
    return path


# ------------------------------------------------------------------------------------------ good input
def test_formats_read_the_same(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": ["007", "x y", "ünï"], "text": ["Grüße aus Köln", "日本語のテキスト", "a, \"quoted\"\nnewline"],
                       "cat": ["a", "b", "a"], "score": [1.5, None, 3.0]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    df.to_parquet(tmp_path / "t.parquet")
    df.to_json(tmp_path / "t.jsonl", orient="records", lines=True, force_ascii=False)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "t.csv").read_bytes())
    for name in ("t.csv", "t.tsv", "t.parquet", "t.jsonl", "bom.csv"):
        got = read_items(tmp_path / name)
        assert got.table.column("id").to_pylist() == ["007", "x y", "ünï"], name
        assert got.table.column("text").to_pylist() == df.text.tolist(), name
        assert got.table.column("cat").to_pylist() == ["a", "b", "a"], name
    got = read_items(df)
    assert got.table.column_names == ["id", "text", "cat", "score"]


def test_text_column_guess_and_generated_ids(tmp_path: Path) -> None:
    p = tmp_path / "movies.csv"
    p.write_text("title,genre,year\nThe Lion King,Drama,1994\nToy Story,Comedy,1995\n")
    got = read_items(p)
    assert got.text_column == "title" and got.id_column is None
    assert got.table.column("id").to_pylist() == ["0", "1"]
    assert got.table.column("year").type == pa.int64()


def test_upsert_adds_replaces_and_marks_stale(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "u.scope")
    s.ingest(pd.DataFrame({"id": ["1", "2"], "text": ["alpha", "beta"], "tag": ["x", "y"]}))
    s.embed("t", "tfidf:2")
    assert not s.space_info("t").stale
    rep = s.ingest(pd.DataFrame({"id": ["2", "3"], "text": ["beta changed", "gamma"]}))
    assert (rep.added, rep.updated, rep.total) == (1, 1, 3)
    items = s.items().to_pandas().set_index("id")
    assert items.loc["2", "text"] == "beta changed" and items.loc["2", "tag"] == "y"
    assert s.space_info("t").stale
    assert "vectors__t" in s.info()["stale"]
    rep = s.ingest(pd.DataFrame({"id": ["2", "3"], "text": ["beta changed", "gamma"]}))
    assert (rep.added, rep.updated, rep.unchanged) == (0, 0, 2)


def test_vector_formats(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.save(tmp_path / "v.npy", x)
    (tmp_path / "ids.txt").write_text("\n".join(["a", "b", "c", "d", "007"]) + "\n")
    got = read_vectors(tmp_path / "v.npy", ids=tmp_path / "ids.txt")
    assert got.ids[-1] == "007" and np.allclose(got.vectors, x)
    assert read_vectors(tmp_path / "v.npy").ids == ["0", "1", "2", "3", "4"]
    (tmp_path / "v.json").write_text(json.dumps({k: v.tolist() for k, v in zip("abcde", x, strict=True)}))
    assert read_vectors(tmp_path / "v.json").ids == list("abcde")
    pq.write_table(pa.table({"key": list("abcde"), "emb": [r.tolist() for r in x]}), tmp_path / "v.parquet")
    got = read_vectors(tmp_path / "v.parquet", id="key")
    assert got.ids == list("abcde") and np.allclose(got.vectors, x)


def test_real_word2vec_json_into_workspace(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[3] / "shared/data/vectors-comparison/word2vec_1000.json"
    if not src.exists():
        pytest.skip("shared data not present")
    s = embedscope.create(tmp_path / "w2v.scope")
    s.ingest_vectors(src, "w2v")
    assert s.space_info("w2v").dim == 300 and s.space_info("w2v").count == 1000
    top = s.neighbors("king", k=5).ids
    assert "queen" in top


# ------------------------------------------------------------------------------------------- bad input
BAD_TEXT = {
    "missing_column.csv": (b"title,genre\nA,b\n", ["--text", "body"], "no column 'body'"),
    "empty_text.csv": (b"id,text\n1,hello\n2,\n", [], "row 2, column 'text': empty text"),
    "blank_text.csv": (b"id,text\n1,hello\n2,\"   \"\n", [], "row 2, column 'text': empty text"),
    "latin1.csv": ("id,text\n1,caf\xe9\n".encode("latin-1"), [], "row 1, column 'text': value is not UTF-8"),
    "dup_ids.csv": (b"id,text\n7,a\n8,b\n7,c\n", [], "row 3, column 'id': duplicate id '7' (first seen in row 1)"),
    "empty.csv": (b"", [], "the file is empty"),
    "header_only.csv": (b"id,text\n", [], "no rows"),
    "not_object.jsonl": (b'{"text": "a"}\n[1, 2]\n', [], "row 2: each line must be a JSON object"),
    "broken.jsonl": (b'{"text": "a"}\n{"text": \n', [], "row 2: invalid JSON"),
    "ragged.csv": (b"id,text\n1,hello\n2,hello,world\n", [], "row 2: 3 fields but the header has 2"),
    "truncated.csv": (b'id,text\n1,"hello\n', [], "row 1, column 'text': a quoted value is never closed"),
}

BAD_VECTORS = {
    "nan.json": (b'{"a": [1.0, 2.0], "b": [NaN, 1.0]}', "row 2, column 'b': value nan in dimension 0"),
    "inf.json": (b'{"a": [1.0, 2.0], "b": [1.0, Infinity]}', "row 2, column 'b': value inf in dimension 1"),
    "mixed.json": (b'{"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]}', "row 2, column 'b': vector has 3 dimensions"),
    "zero.json": (b'{"a": [1.0, 2.0], "b": [0.0, 0.0]}', "row 2, column 'b': all-zero vector"),
    "list.json": (b"[[1.0, 2.0]]", "expected a JSON object"),
    "strings.json": (b'{"a": ["x", "y"]}', "row 1, column 'a': value must be a list of numbers"),
    "empty.json": (b"", "the file is empty"),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_bad_text_file(name: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, extra, expect = BAD_TEXT[name]
    f = tmp_path / name
    f.write_bytes(content)
    before = snapshot(ws)
    code, out, err = run(capsys, "ingest", str(ws), str(f), *extra)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert str(f) in err and expect in err, err
    assert snapshot(ws) == before, "the workspace must be unchanged"
    fresh = tmp_path / "fresh.scope"
    code, _, _ = run(capsys, "ingest", str(fresh), str(f), *extra)
    assert code == 2 and not fresh.exists(), "a failed first ingest creates no workspace"


@pytest.mark.parametrize("name", sorted(BAD_VECTORS))
def test_bad_vector_file(name: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, expect = BAD_VECTORS[name]
    f = tmp_path / name
    f.write_bytes(content)
    before = snapshot(ws)
    code, out, err = run(capsys, "ingest", str(ws), str(f), "--space", "v")
    assert code == 2 and out == ""
    assert str(f) in err and expect in err, err
    assert snapshot(ws) == before


def test_bad_npy_and_parquet(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = np.ones((3, 4), np.float32)
    bad[1, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    np.save(tmp_path / "wrongdim.npy", np.ones((3, 7), np.float32))
    pq.write_table(pa.table({"id": ["a", "b"], "vector": [[1.0, 2.0], [1.0]]}), tmp_path / "mixed.parquet")
    pq.write_table(pa.table({"id": ["a", "b"], "vector": ["x", "y"]}), tmp_path / "types.parquet")
    before = snapshot(ws)
    cases = [("nan.npy", "row 2: value nan in dimension 2"),
             ("wrongdim.npy", "7 dimensions but space 'v' has 4"),
             ("mixed.parquet", "row 2, column 'vector': vector has 1 dimensions"),
             ("types.parquet", "no list column")]
    for name, expect in cases:
        code, _, err = run(capsys, "ingest", str(ws), str(tmp_path / name), "--space", "v")
        assert code == 2 and expect in err, err
    assert snapshot(ws) == before


def test_input_error_formats_location() -> None:
    e = InputError("bad", file="f.csv", row=3, column="text")
    assert e.one_line() == "f.csv: row 3, column 'text': bad"
