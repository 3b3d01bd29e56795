"""Shared fixtures: small real workspaces, built once per session (plain helpers: tests/helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import embedscope

from .helpers import topic_frame


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
