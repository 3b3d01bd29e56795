"""The ONNX Runtime backends of the local model: the default onnx-int8 against sentence-transformers on torch,
the cached export (reused, rebuilt when damaged), and which backend a space's queries use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embedscope
from embedscope.embedders import onnxrt
from embedscope.embedders.local import LocalEmbedder, default_backend
from embedscope.embedders.run import MemoryCache, embed_texts
from embedscope.errors import InputError, MissingDependencyError
from tests.helpers import topic_frame

NON_ASCII = "Ünïcödé façade — naïve café in 東京, 😀 and Ελληνικά"


@pytest.fixture(scope="session")
def torch_embedder() -> LocalEmbedder:
    emb = LocalEmbedder(backend="torch")
    emb.model  # noqa: B018 - load now
    return emb


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_default_backend_is_onnx_int8(local_embedder: Any) -> None:
    assert onnxrt.available()
    assert local_embedder.backend == default_backend() == "onnx-int8"
    assert local_embedder.key.endswith(f":onnx-int8:r{onnxrt.RECIPE}")
    assert local_embedder.spec()["backend"] == "onnx-int8"
    # torch keeps the key its vectors were cached under before backends existed
    assert LocalEmbedder(backend="torch").key == local_embedder.key.split(":onnx-int8")[0]
    assert local_embedder.model.file.parent == onnxrt.cache_dir()


def test_onnx_int8_is_close_to_torch_on_real_texts(local_embedder: Any, torch_embedder: LocalEmbedder) -> None:
    from embedscope.io.samples import bible

    texts = bible(600)["text"].tolist()
    a = local_embedder.embed(texts)
    b = torch_embedder.embed(texts)
    assert a.shape == b.shape == (600, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cos = _cos(a, b)
    assert cos.min() >= 0.99, cos.min()
    assert cos.mean() >= 0.995, cos.mean()
    # the nearest neighbour of a verse is mostly the same one (0.88 of 600 measured; near-ties flip)
    sa, sb = a @ a.T, b @ b.T
    np.fill_diagonal(sa, -2)
    np.fill_diagonal(sb, -2)
    assert np.mean(sa.argmax(1) == sb.argmax(1)) > 0.8


def test_onnx_int8_is_close_to_torch_on_longer_texts(local_embedder: Any, torch_embedder: LocalEmbedder) -> None:
    """A second sample: paragraphs of six consecutive verses (~150 words, up to the 256-token window), embedded
    through embed_texts (its batches, not embed's), against the float32 torch vectors."""
    from embedscope.io.samples import bible

    verses = bible(1200)["text"].tolist()
    texts = [" ".join(verses[i:i + 6]) for i in range(0, 1200, 6)]
    a, _ = embed_texts(texts, local_embedder, MemoryCache())
    b = torch_embedder.embed(texts)
    cos = _cos(a, b)
    assert cos.min() >= 0.99, cos.min()
    assert cos.mean() >= 0.995, cos.mean()


def test_onnx_float32_reproduces_torch(torch_embedder: LocalEmbedder) -> None:
    """The float32 export with this module's tokenisation, pooling and normalisation is the torch pipeline."""
    texts = ["A cat sits on the mat", "  padded   with spaces  ", NON_ASCII, "", "x" * 10_000, "word " * 2_000]
    a = LocalEmbedder(backend="onnx").embed(texts)
    b = torch_embedder.embed(texts)
    assert _cos(a, b).min() > 0.99999
    np.testing.assert_allclose(a, b, atol=2e-5)


def test_order_edge_cases_and_truncation(local_embedder: Any, torch_embedder: LocalEmbedder) -> None:
    assert local_embedder.embed([]).shape == (0, 384)
    assert torch_embedder.embed([]).shape == (0, 384)
    long = "In the beginning God created the heaven and the earth. " * 200  # ~11,000 characters
    assert len(long) > 10_000
    window = local_embedder.model.max_seq_length
    assert window == torch_embedder.model.max_seq_length == 256
    texts = ["The stock market fell sharply today", NON_ASCII, long, "A kitten rests on a rug", "", "x"]
    a = local_embedder.embed(texts)
    b = torch_embedder.embed(texts)
    cos = _cos(a, b)
    assert cos[:4].min() >= 0.99, cos  # real texts; "" and "x" are two special tokens and ~one word
    assert cos[4:].min() >= 0.97, cos
    # the long text is cut at the window: the same vector as its first 256 tokens alone
    ids = local_embedder.model.tokenizer.encode(long).ids
    assert len(ids) == window
    head = local_embedder.model.tokenizer.decode(ids[1:-1])
    assert _cos(local_embedder.embed([long]), local_embedder.embed([head]))[0] > 0.999
    counts, exact = local_embedder.count_tokens(texts)
    assert exact and counts == torch_embedder.count_tokens(texts)[0] and counts[2] > window
    # rows follow the input order whatever the length-sorted batching does inside
    rev = local_embedder.embed(texts[::-1])[::-1]
    assert _cos(rev, a).min() > 0.999
    # in other batches: int8 activations are quantised per batch (range over the whole batch), so a text's vector
    # moves a little with its batch-mates (embed_texts cuts the same batches on every run, so resuming is exact)
    out, stats = embed_texts(texts + texts[:2], local_embedder, MemoryCache(), batch_size=2)
    assert stats.unique == 6 and stats.truncated == 1 and np.array_equal(out[6:], out[:2])
    assert np.array_equal((out[:6] @ a.T).argmax(1), np.arange(6))  # row i is text i
    cos = _cos(out[:6], a)
    assert cos[:4].min() > 0.99 and cos[4:].min() > 0.97, cos
    # a query alone (one thread, its own session) gives nearly the item's vector (0.995: not the same batch)
    q = local_embedder.embed_queries(["A kitten rests on a rug"])
    assert _cos(q, a[3:4])[0] > 0.99
    assert np.array_equal(local_embedder.embed_queries(["A kitten rests on a rug"]), q)  # deterministic


@pytest.mark.slow
def test_cached_export_is_reused_and_rebuilt_when_damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    emb = LocalEmbedder(backend="onnx")
    ref = emb.embed(["A cat sits on the mat", NON_ASCII])
    f = emb.model.file
    assert f.parent == tmp_path / "cache" / "embedscope" / "onnx" and f.exists()
    side = json.loads(f.with_suffix(".json").read_text())
    assert side["bytes"] == f.stat().st_size and side["recipe"] == onnxrt.RECIPE
    assert not list(f.parent.glob(".build-*"))  # the build directory is gone
    stamp = f.stat().st_mtime_ns

    again = LocalEmbedder(backend="onnx")
    assert again.model.file == f and f.stat().st_mtime_ns == stamp  # reused, not rebuilt
    np.testing.assert_array_equal(again.embed(["A cat sits on the mat", NON_ASCII]), ref)

    def rebuilt_after(damage: Any) -> None:
        damage()
        emb2 = LocalEmbedder(backend="onnx")
        np.testing.assert_allclose(emb2.embed(["A cat sits on the mat", NON_ASCII]), ref, atol=1e-6)
        assert emb2.model.file == f and onnxrt._valid(f)

    size = f.stat().st_size
    rebuilt_after(lambda: os.truncate(f, size // 2))  # a partial file (e.g. copied in half)

    def flip() -> None:  # same size, one byte of the weights changed
        with f.open("r+b") as fh:
            fh.seek(size // 2)
            b = fh.read(1)
            fh.seek(size // 2)
            fh.write(bytes([b[0] ^ 0xFF]))
    rebuilt_after(flip)
    rebuilt_after(lambda: f.with_suffix(".json").unlink())  # killed between the model and its sidecar


def test_space_keeps_its_backend_for_queries_and_reembedding(tmp_path: Path, torch_embedder: LocalEmbedder,
                                                             local_embedder: Any) -> None:
    scope = embedscope.create(tmp_path / "w.scope")
    scope.ingest(topic_frame(1))
    rep = scope.embed("old", "local", backend="torch")
    assert rep.backend == "torch"
    scope.embed("new", "local")
    recs = scope.manifest.records
    assert recs["vectors__old"].params["backend"] == "torch"
    assert recs["vectors__new"].params["backend"] == "onnx-int8"

    q = "a storm over the sea"
    reopened = embedscope.open(tmp_path / "w.scope")
    assert reopened.embedder("old").backend == "torch"
    assert reopened.embedder("new").backend == "onnx-int8"
    np.testing.assert_allclose(reopened.embed_query(q, "old"), torch_embedder.embed_queries([q])[0], atol=1e-6)
    np.testing.assert_allclose(reopened.embed_query(q, "new"), local_embedder.embed_queries([q])[0], atol=1e-6)

    # a space recorded before backends existed has no "backend": it is a torch space
    with reopened.store.writing():
        del reopened.manifest.records["vectors__old"].params["backend"]
        reopened.manifest.save(reopened.path)
    legacy = embedscope.open(tmp_path / "w.scope")
    assert legacy.embedder("old").backend == "torch"
    # re-embedding it without --backend keeps torch (nothing recomputed); asking for another backend re-embeds all
    rep = legacy.embed("old", "local")
    assert rep.backend == "torch" and rep.stats.computed == 0
    _, before = legacy.vectors("old")
    rep = legacy.embed("old", "local", backend="onnx-int8")
    # every vector now comes from the onnx-int8 cache (filled by space "new" from the same texts)
    assert rep.backend == "onnx-int8" and rep.stats.cached == rep.stats.unique == 30
    _, after = legacy.vectors("old")
    np.testing.assert_array_equal(after, legacy.vectors("new")[1])
    assert legacy.manifest.records["vectors__old"].params["backend"] == "onnx-int8"
    assert embedscope.open(tmp_path / "w.scope").embedder("old").backend == "onnx-int8"
    assert 0.99 <= _cos(before, after).min() < 1.0


def test_cli_backend_option(tmp_path: Path) -> None:
    scope = embedscope.create(tmp_path / "c.scope")
    scope.ingest(topic_frame(1))
    cmd = [sys.executable, "-m", "embedscope", "embed", str(tmp_path / "c.scope")]
    res = subprocess.run([*cmd, "--backend", "torch", "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["backend"] == "torch"
    res = subprocess.run([*cmd, "--space", "b", "--backend", "int4"], capture_output=True, text=True)
    assert res.returncode == 2 and "onnx-int8" in res.stderr, res.stderr


def test_bad_backends_and_missing_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown backend"):
        LocalEmbedder(backend="int4")
    with pytest.raises(InputError, match="runs on the CPU"):
        LocalEmbedder(backend="onnx-int8", device="cuda")
    # a model the ONNX path does not reproduce (CLS pooling) is refused before any work
    model = tmp_path / "cls-model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(InputError, match="backend torch"):
        LocalEmbedder(str(model), backend="onnx-int8")
    assert LocalEmbedder(str(model)).backend == "torch"  # other local models default to torch

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    assert not onnxrt.available()
    assert default_backend() == "torch"
    emb = LocalEmbedder(backend="onnx-int8")
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedscope\[local\]'") as err:
        emb.embed(["a"])
    assert "onnxruntime" in str(err.value)
