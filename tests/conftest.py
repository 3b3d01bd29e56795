"""Shared fixtures: small real workspaces, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import embedscope
from embedscope.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err

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


@pytest.fixture(scope="session")
def local_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once."""
    from embedscope.embedders.local import LocalEmbedder

    emb = LocalEmbedder()
    emb.model  # noqa: B018 - load now
    return emb


@pytest.fixture(scope="session")
def _small_scope_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ws") / "small.scope"
    scope = embedscope.create(path)
    scope.ingest(topic_frame(2))
    scope.embed("minilm", "local")
    scope.project("minilm", "umap")
    return path


@pytest.fixture()
def small_scope(_small_scope_path: Path, tmp_path: Path) -> embedscope.Scope:
    """A fresh copy of a 60-item workspace (3 topics) embedded with MiniLM, with a UMAP layout."""
    import shutil

    dst = tmp_path / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    return embedscope.open(dst)


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def bible_vectors(local_embedder) -> tuple[list[str], np.ndarray]:
    """Real vectors: 1,200 King James verses (evenly spread) embedded with the bundled MiniLM, ``(1200, 384)``."""
    from embedscope.io.samples import bible

    df = bible(1200)
    return df["id"].tolist(), np.asarray(local_embedder.embed(df["text"].tolist()), dtype=np.float32)
