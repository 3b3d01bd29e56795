"""The bundled sample images (npm emoji-datasource-google, installed by ``make setup`` into data/images/)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from embedscope.errors import InputError
from embedscope.io.images import open_rgb
from embedscope.io.sample_images import ENV, emoji, emoji_table


def test_the_sample_has_names_categories_and_decodable_images() -> None:
    df = emoji()
    assert len(df) == 1906 and df["id"].is_unique
    assert set(df["category"]) == {"Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink",
                                   "Travel & Places", "Activities", "Objects", "Symbols", "Flags"}
    assert df["subcategory"].nunique() > 90
    assert df.loc[df["id"] == "grinning", "name"].item() == "grinning face"
    assert df["name"].str.len().max() < 100  # short texts: a text space of the names
    for path in df["image"].iloc[::50]:
        assert open_rgb(path).size == (64, 64)


def test_a_smaller_sample_keeps_every_category_and_the_table_reads_back(tmp_path: Path) -> None:
    df = emoji(100)
    assert len(df) == 100 and df["category"].nunique() == 9
    table, root = emoji_table(tmp_path / "t", n=100)
    back = pd.read_csv(table)
    assert list(back.columns) == ["id", "name", "category", "subcategory", "image", "unified"]
    assert all((root / p).resolve() == Path(a).resolve() for p, a in zip(back["image"], df["image"], strict=True))


def test_not_installed_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="run make setup"):
        emoji()
