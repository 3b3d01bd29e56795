"""Our Parquet export ingests back as the same workspace (issue 24, item 4): before, ``ingest WS export.parquet
--space X`` stored ``text`` as metadata ``text_``, dropped list metadata, ignored ``--text`` and kept the layout
coordinates as metadata. Now the texts are texts, every metadata column comes back, the vectors are the same and
each ``{method}_x`` / ``{method}_y`` pair (embedding-atlas's ``projection_x`` / ``projection_y`` too) is a layout
of the space, its honesty measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import embedscope
from tests.helpers import run_cli as run
from tests.helpers import topic_frame


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace (texts, a dotted numeric column, a list column, a TF-IDF space with a PCA layout) and its
    Parquet export."""
    root = tmp_path_factory.mktemp("rt")
    df = topic_frame(1)
    df["price.usd"] = np.arange(len(df), dtype=float) / 4
    df["tags"] = [[t, "news"] for t in df["topic"]]
    s = embedscope.create(root / "a.scope")
    s.ingest(df)
    s.embed("lsa", "tfidf:8")
    s.project("lsa", "pca")
    out = root / "a.parquet"
    from embedscope.ops.export import export

    export(s, "lsa", out, "parquet")
    return root / "a.scope", out


def test_export_ingests_back_as_the_same_workspace(exported: tuple[Path, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src, f = exported
    ws = tmp_path / "b.scope"
    code, out, err = run(capsys, "ingest", str(ws), str(f), "--space", "lsa", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["layouts"] == ["pca"] and rep["text_column"] == "text" and rep["notes"] == []
    a, b = embedscope.open(src), embedscope.open(ws)
    assert b.item_columns() == a.item_columns() == ["id", "text", "topic", "length", "price.usd", "tags"]
    assert b.items().to_pylist() == a.items().to_pylist()
    ids_a, xa = a.vectors("lsa")
    ids_b, xb = b.vectors("lsa")
    assert ids_a == ids_b
    np.testing.assert_array_equal(xa, xb)
    la, lb = a.layout("lsa", "pca"), b.layout("lsa", "pca")
    np.testing.assert_array_equal(la.coords, lb.coords)
    assert lb.params["source"] == "imported" and not lb.stale
    assert 0.5 < lb.quality["continuity"] <= 1.01 and lb.per_item  # honesty measured, as for a computed layout
    # the texts are texts: a text model embeds them
    assert b.embed("t2", "tfidf:4").stats.texts == len(ids_a)
    # exported again: the same file, column for column
    code, _, err = run(capsys, "export", str(ws), "--space", "lsa", "--layout", "pca", "-o", str(tmp_path / "b.parquet"))
    assert code == 0, err
    assert pq.read_table(tmp_path / "b.parquet").equals(pq.read_table(f))
    # a rerun changes nothing
    before = b.layout("lsa", "pca").params
    code, out, err = run(capsys, "ingest", str(ws), str(f), "--space", "lsa", "--json")
    assert code == 0 and json.loads(out)["added"] == 0, err
    assert embedscope.open(ws).layout("lsa", "pca").params == before


def test_embedding_atlas_projection_is_a_layout(exported: tuple[Path, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """embedding-atlas writes its map as ``projection_x`` / ``projection_y`` (and its neighbours as a list of
    structs): the pair is a layout ``projection``; a pair with a missing value is named and not kept."""
    _, f = exported
    t = pq.read_table(f)
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(t.num_rows, 2)).astype(np.float32)
    t = t.append_column("projection_x", pa.array(xy[:, 0])).append_column("projection_y", pa.array(xy[:, 1]))
    t = t.append_column("__neighbors", pa.array([{"ids": [1, 2], "distances": [0.1, 0.2]}] * t.num_rows))
    gap = xy[:, 0].copy()
    gap[3] = np.nan
    t = t.append_column("half_x", pa.array(gap, from_pandas=True)).append_column("half_y", pa.array(xy[:, 1]))
    atlas = tmp_path / "atlas.parquet"
    pq.write_table(t, atlas)
    ws = tmp_path / "c.scope"
    code, out, err = run(capsys, "ingest", str(ws), str(atlas), "--space", "v")
    assert code == 0, out + err
    assert "layout 'half' not kept: half_x/half_y have missing values" in err
    s = embedscope.open(ws)
    assert sorted(s.layouts("v")) == ["pca", "projection"]
    np.testing.assert_array_equal(s.layout("v", "projection").coords, xy)
    assert json.loads(s.items().column("__neighbors").to_pylist()[0]) == {"ids": [1, 2], "distances": [0.1, 0.2]}
    assert "half_x" in s.item_columns()  # not a layout: kept as metadata


def test_text_option_and_bad_text_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "v.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "body": ["first body", "second body"], "n": [1, 2],
                             "vector": [[0.1, 0.2], [0.3, 0.5]]}), f)
    ws = tmp_path / "d.scope"
    code, _, err = run(capsys, "ingest", str(ws), str(f), "--space", "v", "--text", "body")
    assert code == 0, err
    items = embedscope.open(ws).items()
    assert items.column("text").to_pylist() == ["first body", "second body"] and "body" not in items.column_names
    code, _, err = run(capsys, "ingest", str(tmp_path / "e.scope"), str(f), "--space", "v", "--text", "n")
    assert code == 2 and "column 'n'" in err and "not strings" in err and not (tmp_path / "e.scope").exists()
