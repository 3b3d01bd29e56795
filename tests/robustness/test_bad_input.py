"""The bad-input corpus (``tests/data/bad/``, see its README) through the CLI.

Every bad file: exit code 2, nothing on stdout, one line on stderr naming the file, the row and the column where
they apply and saying what to do; an existing workspace is left byte for byte as it was and a new one is not
created. The fine-but-unusual inputs (a UTF-8 BOM, quoted newlines, a 10 MB text) ingest with their text intact.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embedscope
from tests.helpers import DATA, one_error_line, snapshot, topic_frame
from tests.helpers import run_cli as run

BAD = DATA / "bad"


@pytest.fixture(scope="module")
def _base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "base.scope"
    s = embedscope.create(path)
    s.ingest(topic_frame(1))
    s.embed("lsa", "tfidf:8")
    s.add_vectors("v", s.ids(), np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32))
    return path


@pytest.fixture()
def ws(_base: Path, tmp_path: Path) -> Path:
    """A 30-item workspace with an embedded space ``lsa`` (TF-IDF, 8 dims) and a vector space ``v`` (3 dims)."""
    dst = tmp_path / "w.scope"
    shutil.copytree(_base, dst)
    return dst


# file -> (extra ingest arguments, substrings the error line must hold: where, what, what to do)
TEXT_CASES: dict[str, tuple[list[str], list[str]]] = {
    "truncated.csv": ([], ["row 3, column 'text'", "never closed", "re-export the file"]),
    "mixed_encoding.csv": ([], ["row 3, column 'text'", "not UTF-8", "re-save the file as UTF-8"]),
    "empty.csv": ([], ["the file is empty", "give a header row"]),
    "header_only.csv": ([], ["no rows", "add rows below the header"]),
    "duplicate_ids.csv": ([], ["row 4, column 'id'", "duplicate id 'B2' (first seen in row 2)", "make the ids unique"]),
    "not_object.jsonl": ([], ["row 2", "must be a JSON object, got list", "one {...} object per line"]),
    "text_ints.parquet": ([], ["row 1, column 'text'", "must be a string, got int", "--text"]),
    # UTF-16/32 without a byte-order mark: named as such, with the iconv line that converts it (not cp1252)
    "utf16le_nobom.csv": ([], ["probably UTF-16 LE without a byte-order mark", "iconv -f UTF-16LE -t UTF-8"]),
    "utf16be_nobom.jsonl": ([], ["probably UTF-16 BE without a byte-order mark", "iconv -f UTF-16BE -t UTF-8"]),
    "utf32le_nobom.tsv": ([], ["probably UTF-32 LE without a byte-order mark", "iconv -f UTF-32LE -t UTF-8"]),
    "deep_nesting.jsonl": ([], ["row 2", "nests too deeply", "one flat {...} object per line"]),
    "utf16le_bom_bad.csv": ([], ["UTF-16 LE byte-order mark", "not valid UTF-16 LE", "re-save the file as UTF-8"]),
    # read leniently, 3 rows were 1 item with exit 0: refused at the row where the quoted value starts
    "stray_quote.csv": ([], ["row 1, column 'text'", "closing quote is not followed by ','", "line 4",
                             "remove the stray quote"]),
    # read by pandas as topic and topic.1, then a raw LanceError (exit 1)
    "duplicate_header.csv": ([], ["column 'topic'", "names this column twice", "rename one of them"]),
}

VECTOR_CASES: dict[str, list[str]] = {
    "nan_vectors.json": ["row 2, column 'b'", "value nan in dimension 1", "fix or drop this vector"],
    "inf_vectors.jsonl": ["row 3", "value inf in dimension 0", "fix or drop"],
    "inf_vectors.npy": ["row 3", "value -inf in dimension 1", "fix or drop"],
    "mixed_dim.json": ["row 3, column 'c'", "2 dimensions, earlier ones have 3", "same number"],
    "mixed_dim.parquet": ["row 2, column 'vector'", "2 dimensions, row 1 has 3", "same number"],
    "not_object.json": ["expected a JSON object {id: [floats]}, got list"],
    "vector_strings.parquet": ["row 1, column 'vector'", "must be numbers, got string", "lists of floats"],
    "duplicate_ids.json": ["row 3, column 'a'", "duplicate id 'a'", "make the ids unique"],
    "duplicate_ids.parquet": ["row 3", "duplicate id 'a' (first seen in row 1)", "make the ids unique"],
    "deep_nesting.json": ["nests too deeply", "flat lists of numbers"],
    "utf16le_nobom.json": ["probably UTF-16 LE without a byte-order mark", "iconv -f UTF-16LE -t UTF-8"],
}


def check_refused(capsys: pytest.CaptureFixture[str], ws: Path, args: list[str], expect: list[str],
                  file: Path | None = None) -> str:
    """Run ``args`` on ``ws``: exit 2, one located line, the workspace unchanged; returns the line."""
    before = snapshot(ws)
    code, out, err = run(capsys, *args)
    line = one_error_line(err)
    assert code == 2, err
    assert out == ""
    if file is not None:
        assert str(file) in line, line
    for part in expect:
        assert part in line, f"{part!r} not in {line!r}"
    assert snapshot(ws) == before, "a refused command must leave the workspace as it was"
    return line


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_bad_text_file(name: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra, expect = TEXT_CASES[name]
    f = BAD / name
    check_refused(capsys, ws, ["ingest", str(ws), str(f), *extra], expect, f)
    fresh = tmp_path / "fresh.scope"
    code, _, _ = run(capsys, "ingest", str(fresh), str(f), *extra)
    assert code == 2 and not fresh.exists(), "a refused first ingest creates no workspace"


@pytest.mark.parametrize("name", sorted(VECTOR_CASES))
def test_bad_vector_file(name: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = BAD / name
    for space in ("v", "new"):  # into the existing space and into a new one
        check_refused(capsys, ws, ["ingest", str(ws), str(f), "--space", space], VECTOR_CASES[name], f)
    fresh = tmp_path / "fresh.scope"
    code, _, _ = run(capsys, "ingest", str(fresh), str(f), "--space", "v")
    assert code == 2 and not fresh.exists()


def ingest_all(capsys: pytest.CaptureFixture[str], ws: Path, names: tuple[str, ...]) -> tuple[Any, dict[str, str]]:
    """Ingest the corpus files ``names`` into ``ws`` (each must succeed): the items and their texts by id."""
    for name in names:
        code, _, err = run(capsys, "ingest", str(ws), str(BAD / name), "--json")
        assert code == 0, err
    items = embedscope.open(ws).items()
    return items, dict(zip(items.column("id").to_pylist(), items.column("text").to_pylist(), strict=True))


def test_bom_and_quoted_newlines_ingest_intact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items, got = ingest_all(capsys, tmp_path / "good.scope", ("bom.csv", "bom.jsonl", "quoted_newlines.csv"))
    assert got == {
        "007": "first text", "8": "caf\u00e9 second",  # the BOM is not part of the first header name
        "a": "first", "b": "second",
        "1": "line one\nline two", "2": 'a "quoted" word, and a comma', "3": "last",
    }
    note = dict(zip(items.column("id").to_pylist(), items.column("note").to_pylist(), strict=True))
    assert note["2"] == "x\r\ny" and note["1"] == "plain"
    assert "\ufeffid" not in items.column_names


def test_byte_order_marks_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """UTF-16 LE/BE and UTF-32 LE/BE files with a byte-order mark are read as such (the mark is not part of the
    first header name); before, they were refused as "not UTF-8 (byte 0xff)" with a cp1252 hint."""
    ws = tmp_path / "wide.scope"
    items, got = ingest_all(capsys, ws, ("utf16le_bom.csv", "utf16be_bom.tsv", "utf32le_bom.jsonl"))
    assert got == {"007": "caf\u00e9 first", "8": "\u201cquoted\u201d second \U0001f600",
                   "j1": "na\u00efve one", "j2": "two"}
    assert items.column_names[:2] == ["id", "text"]
    for name, space in (("utf32be_bom.json", "v32"), ("utf16le_bom.jsonl", "v16")):
        code, _, err = run(capsys, "ingest", str(ws), str(BAD / name), "--space", space)
        assert code == 0, err
        ids, x = embedscope.open(ws).vectors(space)
        assert ids == ["a", "b"]
        np.testing.assert_allclose(x, [[0.1, 0.2], [0.3, 0.4]], rtol=1e-6)


def test_latin1_keeps_the_cp1252_hint() -> None:
    from embedscope.io.items import read_items

    with pytest.raises(embedscope.InputError, match="iconv -f cp1252"):
        read_items(BAD / "mixed_encoding.csv")


def test_dotted_column_names_ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Column names with a dot (a raw LanceError, exit 1, before) ingest and are shown as written."""
    ws = tmp_path / "dots.scope"
    code, _, err = run(capsys, "ingest", str(ws), str(BAD / "dotted_columns.csv"))
    assert code == 0, err
    code, out, _ = run(capsys, "info", str(ws), "--json")
    assert json.loads(out)["columns"] == ["id", "text", "price.usd", "user.name", "100%"]
    items = embedscope.open(ws).items()
    assert items.column("price.usd").to_pylist() == [3.5, 4.0]
    assert items.column("user.name").to_pylist() == ["ann", "bob"]


@pytest.mark.parametrize("name", ["bom.csv", "quoted_newlines.csv"])
def test_good_unusual_files_embed(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "e.scope"
    assert run(capsys, "ingest", str(ws), str(BAD / name))[0] == 0
    code, out, err = run(capsys, "embed", str(ws), "--model", "tfidf:2", "--space", "t", "--json")
    assert code == 0, err
    assert json.loads(out)["stats"]["texts"] == len(embedscope.open(ws).ids())


@pytest.mark.slow
def test_ten_megabyte_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 10 MB text (the limit, 10,000,000 characters) ingests intact and embeds (cut to the model window, and
    reported as cut); one character more is refused with its row and column, creating nothing."""
    from embedscope.io.items import MAX_TEXT_CHARS

    rng = np.random.default_rng(0)
    words = np.array(["river", "stone", "light", "cloud", "north", "ember", "quiet", "\u00e9clair"])
    body = " ".join(words[rng.integers(0, len(words), MAX_TEXT_CHARS // 5)])[:MAX_TEXT_CHARS]
    assert len(body) == MAX_TEXT_CHARS
    f = tmp_path / "big.csv"
    f.write_text(f'id,text\nbig,"{body}"\nsmall,a short text\n', encoding="utf-8")
    ws = tmp_path / "big.scope"
    code, _, err = run(capsys, "ingest", str(ws), str(f))
    assert code == 0, err
    items = embedscope.open(ws).items()
    texts = dict(zip(items.column("id").to_pylist(), items.column("text").to_pylist(), strict=True))
    assert texts["big"] == body and texts["small"] == "a short text"
    code, out, err = run(capsys, "embed", str(ws), "--json")
    assert code == 0, err
    stats = json.loads(out)["stats"]
    assert stats["texts"] == 2 and stats["truncated"] == 1
    _, x = embedscope.open(ws).vectors("minilm")
    assert np.isfinite(x).all() and x.shape == (2, 384)

    over = tmp_path / "over.csv"
    over.write_text(f'id,text\nsmall,a short text\nbig,"{body}x"\n', encoding="utf-8")
    fresh = tmp_path / "over.scope"
    check_refused(capsys, ws, ["ingest", str(ws), str(over)],
                  ["row 2, column 'text'", "10,000,001 characters", "split it into passages"], over)
    code, _, _ = run(capsys, "ingest", str(fresh), str(over))
    assert code == 2 and not fresh.exists()


def test_local_embedder_clips_long_texts_before_tokenizing(local_embedder: Any) -> None:
    """The model sees only its window, so a huge text embeds as its first 100 x window characters do."""
    window = int(local_embedder.model.max_seq_length)
    long = " ".join(["harbour lights at dusk"] * 20_000)  # 460k characters
    a, b = local_embedder.embed([long, long[: 100 * window]])
    np.testing.assert_allclose(a, b, atol=1e-6)
    counts, exact = local_embedder.count_tokens([long, "short"])
    assert exact and counts[0] > window and counts[1] < window


# -------------------------------------------------------------------------------- damaged manifests
def _edit(key: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        doc = json.loads((ws / "scope.json").read_text())
        change(doc["records"][key])
        (ws / "scope.json").write_text(json.dumps(doc, indent=2))
    return apply


def _rename(doc_path: Path) -> None:
    doc = json.loads((doc_path / "scope.json").read_text())
    rec = doc["records"].pop("vectors__v")
    rec["table"] = "vectors__w"
    doc["records"]["vectors__w"] = rec
    (doc_path / "scope.json").write_text(json.dumps(doc))


MANIFEST_EDITS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    **{f.stem: ((lambda ws, f=f: shutil.copyfile(f, ws / "scope.json")), ["the manifest"])  # type: ignore[misc]
       for f in sorted((BAD / "manifests").glob("*.json"))},
    "rows_not_integer": (_edit("items", lambda r: r.update(rows="many")), ["column 'records.items'", "integers"]),
    "kind_not_string": (_edit("items", lambda r: r.update(kind=7)), ["column 'records.items'", "'kind' strings"]),
    "params_list": (_edit("items", lambda r: r.update(params=[1])), ["column 'records.items'", "'params'"]),
    "table_of_another_key": (_edit("vectors__v", lambda r: r.update(table="vectors__x")),
                             ["column 'records.vectors__v'", "names table 'vectors__x'"]),
    "dim_not_integer": (_edit("vectors__lsa", lambda r: r["params"].update(dim="lots")),
                        ["column 'records.vectors__lsa'", "positive integer 'params.dim'"]),
    "version_never_written": (_edit("items", lambda r: r.update(table_version=999)),
                              ["column 'records.items.table_version'", "version 999"]),
    "table_missing": (_rename, ["column 'records.vectors__w'", "does not hold"]),
}


@pytest.mark.parametrize("name", sorted(MANIFEST_EDITS))
def test_damaged_manifest(name: str, ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest edited into nonsense: every command names scope.json (and the entry) and writes nothing."""
    edit, expect = MANIFEST_EDITS[name]
    edit(ws)
    good = BAD / "bom.csv"
    manifest = ws / "scope.json"
    commands = [["info", str(ws), "--json"], ["ingest", str(ws), str(good)],
                ["embed", str(ws), "--model", "tfidf:4", "--space", "t4"],
                ["neighbors", str(ws), "sport-0-00", "--space", "lsa", "--json"],
                ["project", str(ws), "--space", "lsa", "--method", "pca"]]
    if name == "version_never_written":  # found when the items table is read, so by commands that read it
        commands = commands[:3]
    for args in commands:
        line = check_refused(capsys, ws, args, [*expect, "restore"], manifest)
        assert "Traceback" not in line
    with pytest.raises(embedscope.WorkspaceError):
        embedscope.open(ws).items()


def test_bad_model_and_vectors_only_embed(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for model, expect in (("tfidf:0", "positive dimension"), ("nosuch", "unknown --model 'nosuch'"),
                          ("local:/nonexistent", "is not a directory")):
        check_refused(capsys, ws, ["embed", str(ws), "--model", model, "--space", "x"], [expect])
    vo = tmp_path / "vo.scope"
    assert run(capsys, "ingest", str(vo), str(BAD.parent / "word2vec_1000.json"), "--space", "w2v")[0] == 0
    check_refused(capsys, vo, ["embed", str(vo), "--model", "tfidf:4"], ["no texts to embed"])
