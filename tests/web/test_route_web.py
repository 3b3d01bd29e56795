"""The search results say how a query was embedded: through a kept translator for a space of brought vectors
(issue 19, point 3), with the translator's held-out recall@10 and the baseline's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedscope import Scope
from embedscope.io.samples import bible
from tests.web.pagekit import screenshot, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Verses in a TF-IDF ``text`` space and a ``picture`` space of brought vectors (a noisy linear map of the
    TF-IDF vectors), a PCA map of ``picture`` and a translator text -> picture kept in the workspace."""
    root = tmp_path_factory.mktemp("route-web")
    s = Scope.create(root / "ws.scope")
    df = bible(600)
    s.ingest(df[["id", "text", "division"]])
    s.embed("text", "tfidf:48")
    x = s.embedder("text").embed(df["text"].tolist())
    rng = np.random.default_rng(3)
    pic = x @ rng.normal(size=(x.shape[1], 32))
    pic += rng.normal(size=pic.shape) * pic.std()
    s.add_vectors("picture", df["id"].tolist(), pic.astype(np.float32))
    s.project("picture", "pca")
    s.translate_fit("text", "picture", "ridge")
    return root / "ws.scope"


def test_search_says_it_went_through_the_translator(page, server_url: str) -> None:
    page.goto(f"{server_url}#space=picture")
    wait_ready(page)
    page.fill("#search", "the lord said unto moses")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-route", timeout=60_000)
    line = page.inner_text("#search-route")
    assert line.startswith("Searched by words through a translator from text (tfidf:48, ridge): held-out recall@10 ")
    assert "for the mean-vector baseline" in line
    assert page.locator("#search-hits li").count() > 0
    assert "translated (this space has no text model)" in page.inner_text("#legend")
    screenshot(page, "search-route-translator")
