"""The bundled sample images: Google's Noto Emoji, one PNG per emoji, with its name, category and subcategory.

Source: the npm package ``emoji-datasource-google`` 16.0.0 (the ``emoji-data`` project by Cal Henderson, MIT
licence), which ships the Noto Emoji images (64 x 64 PNG) under the Apache License 2.0 (Google's Noto Emoji; the
flag images come from the ``region-flags`` collection, public domain) and ``emoji.json`` with each emoji's
Unicode name, category (Smileys & Emotion, People & Body, Animals & Nature, Food & Drink, Travel & Places,
Activities, Objects, Symbols, Flags) and one of ~100 subcategories (``animal-mammal``, ``food-fruit``, ...).
``make setup`` installs it with ``npm ci`` into ``data/images/`` of the source tree (its own ``package.json`` and
``package-lock.json``); nothing is downloaded at run time. 1,906 emoji (the base images; skin-tone variants and
the five skin-tone swatches of the ``Component`` category are left out).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..errors import InputError

#: The npm package and version ``make setup`` installs (``data/images/package.json``).
PACKAGE = "emoji-datasource-google"
#: Where ``make setup`` installs it, relative to the source tree's root.
INSTALLED = Path("data") / "images" / "node_modules" / PACKAGE
#: An environment variable naming the package folder elsewhere (an installed embedscope has no source tree).
ENV = "EMBEDSCOPE_SAMPLE_IMAGES"
#: Categories left out (skin-tone swatches and hair components, not pictures of things).
SKIPPED = ("Component",)


def emoji_root() -> Path:
    """The installed ``emoji-datasource-google`` folder (``$EMBEDSCOPE_SAMPLE_IMAGES``, else the source tree's
    ``data/images/node_modules/emoji-datasource-google``).

    Raises
    ------
    InputError
        Not installed; says to run ``make setup`` (or ``npm ci`` in ``data/images``).
    """
    env = os.environ.get(ENV)
    root = Path(env) if env else Path(__file__).resolve().parents[3] / INSTALLED
    if not (root / "emoji.json").is_file():
        raise InputError(f"the sample images are not installed ({root / 'emoji.json'} is missing): run make setup "
                         f"in the source tree (or cd data/images && npm ci), or set {ENV} to an installed "
                         f"{PACKAGE} folder")
    return root


def emoji(n: int | None = None, root: Path | None = None) -> pd.DataFrame:
    """The sample images as a table, one row per emoji, in the Unicode order.

    Parameters
    ----------
    n
        Rows wanted: ``None`` for all; fewer are spread evenly over the whole order, so every category stays.
    root
        The ``emoji-datasource-google`` folder (default :func:`emoji_root`).

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (the short name, e.g. ``"grinning"``), ``name`` (the lower-case Unicode name, e.g.
        ``"grinning face"``: a short text), ``category``, ``subcategory``, ``image`` (the absolute path of the
        64 x 64 PNG), ``unified`` (the code points, e.g. ``"1F600"``).
    """
    root = root or emoji_root()
    try:
        data = json.loads((root / "emoji.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the emoji list ({type(exc).__name__}: {exc}); reinstall: make setup",
                         file=root / "emoji.json") from None
    images = image_folder(root)
    rows = []
    for e in sorted(data, key=lambda e: int(e.get("sort_order", 0))):
        if not e.get("has_img_google") or e.get("category") in SKIPPED:
            continue
        path = images / str(e["image"])
        if not path.is_file():
            continue
        name = str(e.get("name") or e["short_name"].replace("_", " ")).lower()
        rows.append((str(e["short_name"]), name, str(e["category"]), str(e["subcategory"]), str(path),
                     str(e["unified"])))
    df = pd.DataFrame(rows, columns=["id", "name", "category", "subcategory", "image", "unified"])
    if n is not None and n < len(df):
        step = len(df) / n
        df = df.iloc[[int(i * step) for i in range(n)]].reset_index(drop=True)
    return df


def emoji_table(folder: Path, n: int | None = None, root: Path | None = None) -> tuple[Path, Path]:
    """Write the sample as ``folder/emoji.csv``, its ``image`` column holding paths relative to the installed
    image folder (the form ``embedscope ingest WS emoji.csv --image image --text name --image-root DIR`` reads).

    Parameters
    ----------
    folder
        Where to write the table (created); the images stay where they are installed.
    n, root
        As for :func:`emoji`.

    Returns
    -------
    table : Path
        The CSV file.
    image_root : Path
        The folder its image paths are relative to.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    df = emoji(n, root)
    images = image_folder(root)
    df["image"] = [Path(p).relative_to(images).as_posix() for p in df["image"]]
    out = folder / "emoji.csv"
    df.to_csv(out, index=False)
    return out, images


def image_folder(root: Path | None = None) -> Path:
    """The folder of the 64 px PNGs in the installed package (``root``: default :func:`emoji_root`)."""
    return (root or emoji_root()) / "img" / "google" / "64"
