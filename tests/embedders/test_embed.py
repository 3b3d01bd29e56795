"""Embedding: the bundled model offline, the OpenAI-compatible client against a real local server, TF-IDF,
and resuming after SIGKILL with identical vectors and no recomputation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import embedscope
from embedscope.embedders import get_embedder
from embedscope.embedders.openai import OpenAIEmbedder
from embedscope.embedders.run import MemoryCache, embed_texts
from embedscope.errors import EmbedscopeError, InputError
from tests.helpers import topic_frame


def test_default_model_is_offline_and_semantic(local_embedder: Any) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    v = local_embedder.embed(["A cat sits on the mat", "A kitten rests on a rug", "Stock markets fell sharply"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_cache_dedups_and_reports_truncation(local_embedder: Any) -> None:
    cache = MemoryCache()
    long = "word " * 400
    texts = ["alpha beta", "gamma", "alpha beta", long]
    out, st = embed_texts(texts, local_embedder, cache, batch_size=2)
    assert (st.unique, st.computed, st.cached, st.truncated) == (3, 3, 0, 1)
    assert np.array_equal(out[0], out[2])
    out2, st2 = embed_texts(texts, local_embedder, cache)
    assert st2.computed == 0 and st2.cached == 3 and np.array_equal(out, out2)


def test_tfidf_space_and_query(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "t.scope")
    s.ingest(topic_frame(2))
    rep = s.embed(model="tfidf:16")
    assert rep.space == "tfidf-16" and rep.dim == 16
    again = embedscope.open(tmp_path / "t.scope")
    hits = again.neighbors(query="rocket orbit satellite", k=5, space="tfidf-16").ids
    assert set(hits[:2]) == {"space-0-00", "space-1-00"}, "the rocket text and its variant come first"


def test_tfidf_two_unrelated_texts_are_not_the_same_vector(tmp_path: Path) -> None:
    """Two texts without a shared word span two dimensions: orthogonal vectors, not cosine 1 (the space has the
    rank the data has, said on stderr and recorded next to the dimension asked for)."""
    ws = tmp_path / "two.scope"
    pd = pytest.importorskip("pandas")
    embedscope.create(ws).ingest(pd.DataFrame({"id": ["a", "b"], "text": ["the cat sat on the mat",
                                                                          "stock markets fell sharply"]}))
    p = subprocess.run([sys.executable, "-m", "embedscope", "embed", str(ws), "--model", "tfidf:256",
                        "--space", "lsa"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "support only 2 dimensions" in p.stderr and "2 dims" in p.stderr, p.stderr
    s = embedscope.open(ws)
    _, x = s.vectors("lsa")
    assert x.shape == (2, 2) and abs(float(x[0] @ x[1])) < 1e-6
    assert s.info()["spaces"][0]["dim"] == 2
    assert s.manifest.records["vectors__lsa"].params["dim_requested"] == 256


def test_tfidf_dimensions_follow_the_rank_of_small_data() -> None:
    """60 texts give at most 60 dimensions, each of them used (no columns of zeros padding the space)."""
    from embedscope.embedders.tfidf import TfidfEmbedder

    texts = topic_frame(2).text.tolist()
    emb = TfidfEmbedder(256)
    emb.fit(texts)
    x = emb.embed(texts)
    assert emb.dim == x.shape[1] <= 60
    assert (np.abs(x).max(axis=0) > 1e-3).all(), "every dimension carries signal"
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_tfidf_model_is_compact(tmp_path: Path) -> None:
    """On 3,000 Bible verses the stored model is a small part of the workspace (it was 23 MB of 29 MB: dense
    float64 SVD loadings in a pickle), and a reopened workspace embeds exactly as the fitted model."""
    from embedscope.io.samples import bible

    df = bible(3000)
    s = embedscope.create(tmp_path / "b.scope")
    s.ingest(df, text="text")
    s.embed("lsa", "tfidf:256")
    files = [f for f in (tmp_path / "b.scope").rglob("*") if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    models = sum(f.stat().st_size for f in files if f.parent.name == "models")
    assert models < 0.35 * total, (models, total)
    texts = df.text.tolist()[:200]
    np.testing.assert_allclose(embedscope.open(tmp_path / "b.scope").embedder("lsa").embed(texts),
                               s.vectors("lsa")[1][:200], rtol=0, atol=1e-6)


def test_unknown_model_is_usage_error() -> None:
    with pytest.raises(InputError, match="unknown --model"):
        get_embedder("bert:large")
    with pytest.raises(InputError, match="not a directory"):
        get_embedder("local:/nonexistent/model")


# ----------------------------------------------------------------------------- OpenAI-compatible server
class _FakeOpenAI:
    """A real HTTP server on 127.0.0.1 answering /v1/embeddings with real MiniLM vectors.

    The first request of each run gets a 429 (then a 503) to exercise the retries.
    """

    def __init__(self, embedder: Any, failures: int = 2) -> None:
        self.embedder = embedder
        self.failures = failures
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if outer.failures > 0:
                    code = 429 if outer.failures == 2 else 503
                    outer.failures -= 1
                    self.send_response(code)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(b'{"error": "slow down"}')
                    return
                if self.path != "/v1/embeddings" or self.headers.get("Authorization") != "Bearer sk-test":
                    self.send_response(401)
                    self.end_headers()
                    return
                vecs = outer.embedder.embed(list(body["input"]))
                if body.get("dimensions"):
                    vecs = vecs[:, : body["dimensions"]]
                    vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
                data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vecs)]
                data.reverse()  # the client must order by index
                raw = json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_openai_client_against_real_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.embedders.local import LocalEmbedder

    # the server's model: float32 torch, whose vector of a text does not depend on its batch-mates (the default
    # onnx-int8 quantises activations per batch; tests/embedders/test_local_onnx.py), so batches of 7 match one batch of 30
    server_model = LocalEmbedder(backend="torch")
    srv = _FakeOpenAI(server_model)
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        s = embedscope.create(tmp_path / "o.scope")
        df = topic_frame(1)
        s.ingest(df)
        emb = OpenAIEmbedder("text-embedding-3-small", backoff=0.01)
        dr = emb.dry_run(df.text.tolist())
        assert dr.items == 30 and dr.cost_usd is not None and dr.cost_usd > 0
        rep = s.embed(model="openai:text-embedding-3-small", batch_size=7, dimensions=128)
        assert rep.space == "openai-3-small-128" and rep.dim == 128
        assert srv.requests[0]["auth"] == "Bearer sk-test"
        assert all(r["dimensions"] == 128 for r in srv.requests)
        assert max(len(r["input"]) for r in srv.requests) == 7
        _, got = s.vectors("openai-3-small-128")
        ref = server_model.embed(df.text.tolist())[:, :128]
        ref /= np.linalg.norm(ref, axis=1, keepdims=True)
        assert np.allclose(got, ref, atol=1e-5), "vectors come back in input order"
        hits = s.neighbors(query="a goalkeeper saved the penalty", k=3, space="openai-3-small-128").ids
        assert all(h.startswith("sport") for h in hits)
    finally:
        srv.close()


def test_openai_window_is_the_server_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 256-token server model got OpenAI's 8,191-token window, so --dry-run counted 0 cut texts (issue 24
    item 12): the window is --max-tokens, OpenAI's only for OpenAI, else unknown and said so."""
    from tests.helpers import run_cli

    texts = ["word " * 400, "short text"]  # ~500 tokens by the estimate: over 256, under 8,191
    local = OpenAIEmbedder("bge-small", base_url="http://127.0.0.1:9/v1")
    assert local.max_tokens is None
    unknown = local.dry_run(texts)
    assert unknown.truncated == 0 and any("--max-tokens" in n for n in unknown.notes)
    assert OpenAIEmbedder("bge-small", base_url="http://127.0.0.1:9/v1", max_tokens=256).dry_run(texts).truncated == 1
    assert OpenAIEmbedder("text-embedding-3-small", base_url="http://127.0.0.1:9/v1").max_tokens == 8191
    s = embedscope.create(tmp_path / "w.scope")
    s.ingest(pd.DataFrame({"id": ["a", "b"], "text": texts}))
    code, _, err = run_cli(capsys, "embed", str(s.path), "--model", "openai:bge-small", "--max-tokens", "256",
                           "--dry-run")
    assert code == 0 and "1 longer than the model window" in err


def test_openai_gives_up_with_clear_error(local_embedder: Any) -> None:
    srv = _FakeOpenAI(local_embedder, failures=2)
    try:
        emb = OpenAIEmbedder("m", base_url=srv.url, api_key="sk-test", max_retries=1, backoff=0.01)
        with pytest.raises(EmbedscopeError, match="failed after 1 retries"):
            emb.embed(["x"])
        bad = OpenAIEmbedder("m", base_url=srv.url, api_key="wrong", backoff=0.01)
        with pytest.raises(EmbedscopeError, match="HTTP 401"):
            bad.embed(["x"])
    finally:
        srv.close()


# ------------------------------------------------------------------------------------ kill and resume
def _cache_rows(ws: Path) -> int:
    import lancedb

    db = lancedb.connect(str(ws / "db"))
    res = db.list_tables()
    names = [n for n in getattr(res, "tables", res) if n.startswith("cache__")]
    if not names:
        return 0
    try:
        return int(db.open_table(names[0]).count_rows())
    except Exception:
        return 0


def _cli(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "embedscope", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_sigkill_then_resume_gives_identical_vectors(tmp_path: Path) -> None:
    from embedscope.io.samples import bible

    df = bible(500)
    csv = tmp_path / "verses.csv"
    df.to_csv(csv, index=False)
    ref_ws, ws = tmp_path / "ref.scope", tmp_path / "killed.scope"
    for w in (ref_ws, ws):
        p = _cli("ingest", str(w), str(csv))
        assert p.wait() == 0, p.stderr.read() if p.stderr else ""
    batch = "16"
    p = _cli("embed", str(ref_ws), "--batch-size", batch, "--json")
    out, errs = p.communicate()
    assert p.returncode == 0, errs
    ref_stats = json.loads(out)["stats"]
    assert ref_stats["computed"] == ref_stats["unique"]

    p = _cli("embed", str(ws), "--batch-size", batch, "--json")
    deadline = time.time() + 300
    while _cache_rows(ws) < ref_stats["unique"] // 2:
        assert p.poll() is None, "finished before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done_before = _cache_rows(ws)
    assert 0 < done_before < ref_stats["unique"]
    assert "vectors__minilm" not in embedscope.open(ws).manifest.records

    p = _cli("embed", str(ws), "--batch-size", batch, "--json")
    out, errs = p.communicate()
    assert p.returncode == 0, errs
    st = json.loads(out)["stats"]
    assert st["cached"] >= done_before, "finished batches are not recomputed"
    assert st["computed"] == st["unique"] - st["cached"]
    ids_a, xa = embedscope.open(ref_ws).vectors("minilm")
    ids_b, xb = embedscope.open(ws).vectors("minilm")
    assert ids_a == ids_b
    assert np.array_equal(xa, xb), f"max diff {np.abs(xa - xb).max()}"
