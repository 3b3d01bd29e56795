"""Helpers shared by test modules (plain functions and data; the fixtures live in the conftest.py files).

Test modules import from here, never from one another: ``from tests.helpers import run_cli, topic_frame``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from embedscope.cli import main
from embedscope.server import create_app

#: The test data files (bad inputs, unusual but good ones), at tests/data/.
DATA = Path(__file__).parent / "data"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def run_cli_subprocess(args: list[str]) -> tuple[int, str, str]:
    """Run ``python -m embedscope ARGS`` in a fresh process: (exit code, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "embedscope", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def client_for(scope: Any, *, raise_server_exceptions: bool = True, follow_redirects: bool = True,
               **app_kw: Any) -> TestClient:
    """A test client of ``create_app(scope, **app_kw)`` (the TestClient options as TestClient's defaults)."""
    return TestClient(create_app(scope, **app_kw), raise_server_exceptions=raise_server_exceptions,
                      follow_redirects=follow_redirects)


TOPICS = {
    "sport": ["The striker scored twice in the final minutes of the match",
              "Our goalkeeper saved a penalty in extra time",
              "The tennis champion won the title in straight sets",
              "Marathon runners trained for months before the race",
              "The basketball team clinched the playoff series",
              "A cyclist won the mountain stage of the tour",
              "The coach praised the defence after a clean sheet",
              "Fans cheered as the relay team broke the record",
              "The boxer retained his heavyweight belt",
              "Rain delayed the cricket test match for hours"],
    "cooking": ["Simmer the tomato sauce with garlic and basil",
                "Knead the bread dough until it is smooth and elastic",
                "Roast the chicken with lemon, thyme and butter",
                "Whisk the eggs and sugar until pale for the sponge cake",
                "Season the soup with salt, pepper and fresh herbs",
                "Fry the onions slowly until golden and sweet",
                "Marinate the beef overnight in soy sauce and ginger",
                "Bake the apple pie until the crust is crisp",
                "Chop the parsley finely for the salad dressing",
                "Grill the vegetables and drizzle with olive oil"],
    "space": ["The rocket launched the satellite into orbit",
              "Astronomers discovered a planet orbiting a distant star",
              "The telescope captured images of a spiral galaxy",
              "Astronauts repaired the space station's solar panel",
              "The probe landed on the surface of Mars",
              "A comet passed close to the sun this winter",
              "Black holes bend light with their enormous gravity",
              "The lunar module touched down near the crater",
              "Scientists measured radiation from the early universe",
              "The mission will send a rover to Jupiter's moon"],
}


def topic_frame(repeat: int = 2) -> pd.DataFrame:
    """3 topics x 10 texts x ``repeat`` variants (numbered so texts stay distinct)."""
    rows = []
    for r in range(repeat):
        for topic, texts in TOPICS.items():
            for i, t in enumerate(texts):
                text = t if r == 0 else f"{t} (report {r})"
                rows.append({"id": f"{topic}-{r}-{i:02d}", "text": text, "topic": topic, "length": len(text)})
    return pd.DataFrame(rows)


def blobs(n_per: int = 60, n_clusters: int = 6, dim: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated Gaussian clusters (unnormalised, offset from the origin): ``x (n, dim)``, labels ``(n,)``."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_clusters, dim)) * 4
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centers]) + 2.0
    return x.astype(np.float32), np.repeat(np.arange(n_clusters), n_per)


def snapshot(ws: Path) -> dict[str, str]:
    """Content hash of every file of a workspace (the lock file aside): any write shows up."""
    return {str(p.relative_to(ws)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(ws.rglob("*")) if p.is_file() and p.name != ".lock"}


def one_error_line(err: str) -> str:
    """The one ``error: ...`` line of ``err`` (fails the test when there are more lines or another start)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def write_images(folder: Path) -> dict[str, tuple[int, int]]:
    """One small image of each kind a photo folder holds, written with Pillow under ``folder``; returns
    relative path -> (width, height) as decoded (after EXIF rotation): a JPEG rotated by EXIF (60 x 40 stored, shown
    40 x 60), a PNG with alpha, an animated palette GIF, a 16-bit PNG, a CMYK TIFF, a WebP, a BMP (in a subfolder)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "more").mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    rot = Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8), "RGB")
    exif = rot.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to show
    rot.save(folder / "rotated.jpg", exif=exif)
    Image.new("RGBA", (30, 20), (0, 0, 255, 80)).save(folder / "alpha.png")
    frames = [Image.new("RGB", (24, 16), c).convert("P") for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.fromarray(np.arange(32 * 8, dtype=np.uint16).reshape(8, 32) * 200).save(folder / "deep.png")
    Image.new("CMYK", (20, 30), (10, 200, 30, 0)).save(folder / "print.tiff")
    Image.new("RGB", (50, 10), (0, 128, 0)).save(folder / "more" / "green.webp")
    Image.new("RGB", (16, 16), (200, 10, 10)).save(folder / "more" / "red.bmp")
    return {"rotated.jpg": (40, 60), "alpha.png": (30, 20), "anim.gif": (24, 16), "deep.png": (32, 8),
            "print.tiff": (20, 30), "more/green.webp": (50, 10), "more/red.bmp": (16, 16)}


#: Shape and colour of the test images of each category (in sorted category order, cycling).
_SHAPES = [("circle", (220, 60, 60)), ("triangle", (60, 180, 75)), ("square", (60, 110, 230)),
           ("diamond", (240, 190, 40)), ("ring", (170, 80, 200))]


def drawn_image(category: int, variant: int = 0, size: int = 160) -> Any:
    """A Pillow RGB image of category ``category``'s shape and colour on a light ground; ``variant`` shifts the
    shape and writes a number, so every item's picture differs."""
    from PIL import Image, ImageDraw

    shape, color = _SHAPES[category % len(_SHAPES)]
    img = Image.new("RGB", (size, size), (245, 242, 235))
    d = ImageDraw.Draw(img)
    m = 24 + (variant % 5) * 3
    box = (m, m, size - m, size - m)
    if shape == "circle":
        d.ellipse(box, fill=color)
    elif shape == "triangle":
        d.polygon([(size / 2, m), (size - m, size - m), (m, size - m)], fill=color)
    elif shape == "square":
        d.rectangle(box, fill=color)
    elif shape == "diamond":
        d.polygon([(size / 2, m), (size - m, size / 2), (size / 2, size - m), (m, size / 2)], fill=color)
    else:
        d.ellipse(box, outline=color, width=14)
    d.text((8, 6), str(variant), fill=(20, 20, 20))
    return img


def add_test_images(scope: Any, category: str | None = "topic", *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Give ``scope``'s items (all but ``skip``) a drawn picture through real image ingest: PNG files written
    next to the workspace and a table of ``id, image`` ingested with ``scope.ingest_images``. Items of one
    ``category`` value get one shape and colour. Returns ``{id: PIL image}``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = scope.path.parent / f"{scope.path.name}-pictures"
    folder.mkdir(exist_ok=True)
    items = scope.items().to_pylist()
    cats = sorted({str(r.get(category)) for r in items}) if category else ["all"]
    drawn: dict[str, Any] = {}
    ids: list[str] = []
    files: list[str] = []
    for n, r in enumerate(items):
        if r["id"] in skip:
            continue
        img = drawn_image(cats.index(str(r.get(category))) if category else 0, n)
        img.save(folder / f"{n}.png")
        drawn[r["id"]] = img
        ids.append(r["id"])
        files.append(f"{n}.png")
    pq.write_table(pa.table({"id": ids, "image": files}), folder / "pictures.parquet")
    scope.ingest_images(folder / "pictures.parquet", image_column="image", id_column="id", strict=True)
    return drawn


#: Pamela Fox's real word2vec vectors (1,000 common words -> 300-d, unit length), a read-only copy.
WORD2VEC_1000 = Path("/work/shared/data/vectors-comparison/word2vec_1000.json")


def word2vec_scope(path: Path, *, layout: str | None = None) -> Any:
    """A workspace of the 1,000 real word2vec vectors: items id = text = the word, space ``word2vec``
    (skipped when the data is not on this machine); ``layout``: project one (``umap``, ``pca``)."""
    import json

    import embedscope

    if not WORD2VEC_1000.exists():
        pytest.skip(f"{WORD2VEC_1000} is not on this machine")
    words = list(json.loads(WORD2VEC_1000.read_text()))
    scope = embedscope.create(path)
    scope.ingest(pd.DataFrame({"id": words, "text": words}), id="id", text="text")
    scope.ingest_vectors(WORD2VEC_1000, "word2vec")
    if layout:
        scope.project("word2vec", layout)
    return scope


def probe_scope(path: Path, n: int = 300, seed: int = 0) -> Any:
    """A workspace of ``n`` items: ``topic`` (3 classes plus a 2-item class), ``score`` (numeric), spaces
    ``signal`` (the topic in 3 dimensions + 40 noise dimensions, scaled by 1000) and ``noise`` (noise only)."""
    import embedscope

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    names = np.array(["Évangiles", "預言者", "law"])[y].astype(object)
    names[:2] = "tiny"
    ids = [f"v{i}" for i in range(n)]
    signal = np.hstack([np.eye(3)[y] * 8 + rng.normal(size=(n, 3)), rng.normal(size=(n, 40))])
    score = 2 * signal[:, 0] + rng.normal(0, 0.2, n)
    df = pd.DataFrame({"id": ids, "text": [f"verse {i} of {t}" for i, t in enumerate(names)], "topic": names,
                       "score": score})
    scope = embedscope.create(path)
    scope.ingest(df)
    scope.add_vectors("signal", ids, (signal * 1000).astype(np.float32))
    scope.add_vectors("noise", ids, rng.normal(size=(n, 43)).astype(np.float32))
    return scope


def topic_clusters_scope(path: Path, space: str) -> Any:
    """60 items in three topics (``topic_frame(2)``) with vectors in three clusters, one a topic, as ``space``
    with a PCA map: the widget's test workspace."""
    import embedscope

    scope = embedscope.create(path)
    frame = topic_frame(2)
    scope.ingest(frame)
    rng = np.random.default_rng(0)
    codes = pd.factorize(frame["topic"])[0]
    x = rng.normal(size=(3, 16))[codes] * 6 + rng.normal(size=(len(frame), 16))
    scope.add_vectors(space, frame["id"].tolist(), x.astype(np.float32))
    scope.project(space, "pca")
    return scope
