"""A DataFrame with a vector column goes in from Python as a file does from the CLI (issue 24 item 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import embedscope
from embedscope.errors import InputError


def frame(n: int = 30, d: int = 6) -> tuple[pd.DataFrame, np.ndarray]:
    x = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32) * 5  # unnormalised
    df = pd.DataFrame({"id": [f"ü-{i}" for i in range(n)], "body": [f"text number {i}" for i in range(n)],
                       "embedding": list(x), "topic": ["a", "b", "c"] * (n // 3)})
    return df, x


def test_ingest_with_space_takes_a_dataframe_with_a_vector_column(tmp_path: Path) -> None:
    df, x = frame()
    s = embedscope.create(tmp_path / "w.scope")
    rep = s.ingest(df, space="mine", text="body")
    assert rep.space == "mine" and rep.added == 30
    ids, got = s.vectors("mine")
    assert ids == df["id"].tolist() and np.allclose(got, x, atol=1e-6)
    items = s.items().to_pandas().set_index("id")
    assert items.loc["ü-4", "text"] == "text number 4" and items.loc["ü-4", "topic"] == "b"
    assert s.neighbors("ü-0", k=3, space="mine").ids[0] != "ü-0"


def test_ingest_vectors_takes_lists_and_an_arrow_table(tmp_path: Path) -> None:
    df, x = frame()
    s = embedscope.create(tmp_path / "w.scope")
    lists = df.assign(embedding=[list(map(float, v)) for v in x])
    s.ingest_vectors(lists, "lists", vector="embedding", text="body")
    s.ingest_vectors(pa.Table.from_pandas(df, preserve_index=False), "arrow", text="body")
    assert np.allclose(s.vectors("lists")[1], s.vectors("arrow")[1])


def test_a_bad_vector_in_a_dataframe_is_an_input_error_naming_the_row(tmp_path: Path) -> None:
    df, _ = frame()
    df.at[7, "embedding"] = np.array([1.0, np.nan, 0, 0, 0, 0], np.float32)
    s = embedscope.create(tmp_path / "w.scope")
    with pytest.raises(InputError, match="row") as exc:
        s.ingest(df, space="mine")
    assert "8" in str(exc.value) or "7" in str(exc.value)
    assert s.spaces() == [] and not s.has_items()
    with pytest.raises(InputError, match="space=NAME"):
        s.ingest(df, vector="embedding")
