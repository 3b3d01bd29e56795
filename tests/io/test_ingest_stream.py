"""A CSV/TSV streamed in batches (issue 23, item 11): the same table, the same fingerprint and the same located
errors as the file read whole, and a refused file leaves the workspace as it was.

The batch size is set to a few rows (``BATCH_ROWS``) and every file streams (``STREAM_MIN_BYTES = 0``), so a
50-row file is read in 8 batches; the memory this saves on a 200 MB file is in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import embedscope
from embedscope.io import items_stream
from embedscope.io.items import read_items
from embedscope.store.items import items_fingerprint
from tests.helpers import one_error_line, snapshot
from tests.helpers import run_cli as run

ROWS = 50


def _write(path: Path, rows: list[list[str]], sep: str = ",", encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _rows() -> list[list[str]]:
    """Columns whose types a single batch would get wrong: an int column with an empty value in row 33 (float),
    numbers that turn into words in row 41 (text), booleans with a gap (nullable), an all-empty column."""
    out = [["id", "text", "count", "gappy", "code", "flag", "nothing", "ratio"]]
    for i in range(ROWS):
        out.append([f"{i:03d}", f"caf\u00e9 text {i}" + ("\nwith a newline, and a comma" if i % 9 == 0 else ""),
                    str(i), "" if i == 32 else str(i * 2), f"w{i}" if i >= 40 else str(i), "" if i == 20 else
                    ("True" if i % 2 else "False"), "", f"{i / 7:.3f}"])
    return out


@pytest.fixture()
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(items_stream, "BATCH_ROWS", 7)
    monkeypatch.setattr(items_stream, "STREAM_MIN_BYTES", 0)


def test_batches_give_the_whole_file_table(tmp_path: Path, small_batches: None) -> None:
    for sep, name, enc in ((",", "a.csv", "utf-8"), ("\t", "a.tsv", "utf-16"), (",", "b.csv", "utf-8-sig")):
        f = _write(tmp_path / name, _rows(), sep, enc)
        whole = read_items(f)
        stream = items_stream.open_items(f)
        got = stream.read_all()
        assert len(list(stream.batches())) == 8  # it did stream
        assert got.schema == whole.table.schema and got.equals(whole.table), (got.schema, whole.table.schema)
        assert (stream.text_column, stream.id_column, stream.rows) == ("text", "id", ROWS)


def test_streamed_ingest_stores_the_same_items(tmp_path: Path, small_batches: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path / "a.csv", _rows())
    ws = tmp_path / "w.scope"
    code, _, err = run(capsys, "ingest", str(ws), str(f))
    assert code == 0, err
    s = embedscope.open(ws)
    whole = read_items(f).table
    assert s.items().equals(whole)
    assert s.manifest.records["items"].fingerprint == items_fingerprint(whole)
    # no id column: ids are the row positions across batches
    g = _write(tmp_path / "noid.csv", [r[1:] for r in _rows()])
    ws2 = tmp_path / "noid.scope"
    assert run(capsys, "ingest", str(ws2), str(g))[0] == 0
    assert embedscope.open(ws2).ids() == [str(i) for i in range(ROWS)]


def _late(rows: list[list[str]], row: int, col: int, value: str) -> list[list[str]]:
    rows[row][col] = value
    return rows


LATE_ERRORS = {  # a problem in a late batch -> the line the whole-file reader gives
    "empty_text": lambda: _late(_rows(), 44, 1, ""),
    "duplicate_across_batches": lambda: _late(_rows(), 46, 0, "003"),
    "empty_id": lambda: _late(_rows(), 38, 0, " "),
    "nul_byte": lambda: _late(_rows(), 47, 1, "bin\x00ary"),
    "ragged": lambda: [*_rows()[:45], ["x", "y", "1", "2", "3", "True", "", "0.1", "extra"], *_rows()[45:]],
}


@pytest.mark.parametrize("case", sorted(LATE_ERRORS))
def test_late_error_names_the_row_and_stores_nothing(case: str, tmp_path: Path, small_batches: None,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    f = _write(tmp_path / "bad.csv", LATE_ERRORS[case]())
    fresh = tmp_path / "fresh.scope"
    code, out, err = run(capsys, "ingest", str(fresh), str(f))
    streamed = one_error_line(err)
    assert code == 2 and out == "" and not fresh.exists(), err
    monkeypatch.setattr(items_stream, "STREAM_MIN_BYTES", 10**12)  # the same file read whole
    code, _, err = run(capsys, "ingest", str(fresh), str(f))
    assert code == 2 and one_error_line(err) == streamed
    assert "row " in streamed
    # into an existing workspace: refused the same way, the workspace byte for byte as it was
    monkeypatch.setattr(items_stream, "STREAM_MIN_BYTES", 0)
    ws = tmp_path / "w.scope"
    assert run(capsys, "ingest", str(ws), str(_write(tmp_path / "good.csv", _rows())))[0] == 0
    before = snapshot(ws)
    code, _, err = run(capsys, "ingest", str(ws), str(f))
    assert code == 2 and one_error_line(err) == streamed
    assert snapshot(ws) == before


def test_late_not_utf8_is_located_as_before(tmp_path: Path, small_batches: None) -> None:
    f = _write(tmp_path / "latin.csv", _rows())
    f.write_bytes(f.read_bytes() + "999,na\u00efve,1,2,3,True,,0.5\n".encode("latin-1"))
    with pytest.raises(embedscope.InputError) as streamed:
        list(items_stream.open_items(f).batches())
    with pytest.raises(embedscope.InputError) as whole:
        read_items(f)
    assert streamed.value.one_line() == whole.value.one_line()
    assert "row 51, column 'text'" in streamed.value.one_line()


def test_late_bad_vector_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same class in the vectors stream: a NaN in a batch after the first was raised out of Lance as
    ``RuntimeError: Arrow error: C Data interface error`` (exit 1); it is the located input error (exit 2)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from embedscope.io.streams import BATCH_ROWS

    n = BATCH_ROWS + 10
    x = np.ones((n, 2), np.float32)
    x[n - 3, 1] = np.nan
    f = tmp_path / "late_nan.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(n)],
                             "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 2)}), f)
    fresh = tmp_path / "v.scope"
    code, _, err = run(capsys, "ingest", str(fresh), str(f), "--space", "v")
    line = one_error_line(err)
    assert code == 2 and f"row {n - 2}" in line and "value nan in dimension 1" in line, err
    assert not fresh.exists()


def test_late_stray_quote_is_refused_as_when_read_whole(tmp_path: Path, small_batches: None,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A stray quote in row 43 (a quoted value that closes in row 45, before a letter): read leniently it
    swallowed rows 43 to 45; streamed or read whole, it is refused at row 43, the row where the value starts."""
    good = _write(tmp_path / "good.csv", _rows()).read_text(encoding="utf-8")
    assert "\n042,caf\u00e9 text 42," in good
    f = tmp_path / "stray.csv"
    f.write_text(good.replace("\n042,caf\u00e9 text 42,", '\n042,"caf\u00e9 text 42,'), encoding="utf-8")
    fresh = tmp_path / "fresh.scope"
    code, out, err = run(capsys, "ingest", str(fresh), str(f))
    streamed = one_error_line(err)
    assert code == 2 and out == "" and not fresh.exists(), err
    assert "row 43, column 'text'" in streamed and "stray" in streamed
    monkeypatch.setattr(items_stream, "STREAM_MIN_BYTES", 10**12)
    code, _, err = run(capsys, "ingest", str(fresh), str(f))
    assert code == 2 and one_error_line(err) == streamed


def test_duplicated_header_is_refused_when_streamed(tmp_path: Path, small_batches: None) -> None:
    rows = _rows()
    rows[0][3] = "count"  # pandas would read it as "count.1"
    f = _write(tmp_path / "dup.csv", rows)
    with pytest.raises(embedscope.InputError, match="names this column twice") as exc:
        items_stream.open_items(f).read_all()
    assert exc.value.column == "count"
