"""Any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, Azure-style proxies, vLLM, Ollama, TEI, ...).

Configuration comes from the environment: ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` (default
``https://api.openai.com/v1``). Requests are batched; 429 and 5xx answers are retried with exponential
backoff (honouring ``Retry-After``); other errors stop the run with the server's message.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ..errors import EmbedscopeError, InputError
from .base import DryRun, Embedder

#: USD per million input tokens for OpenAI's own models (for ``--dry-run`` estimates).
PRICES = {"text-embedding-3-small": 0.02, "text-embedding-3-large": 0.13, "text-embedding-ada-002": 0.10}
#: Input window in tokens of OpenAI's embedding models (other servers' models have their own: ``max_tokens``).
WINDOW = 8191


class OpenAIEmbedder(Embedder):
    """Embeddings from an OpenAI-compatible HTTP endpoint.

    Parameters
    ----------
    model
        Model name sent in the request (``text-embedding-3-small``, ...).
    dimensions
        Optional output dimension (the ``dimensions`` request parameter of text-embedding-3 models).
    base_url, api_key
        Override ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``.
    batch_size
        Texts per request (at most 2048).
    max_retries
        Retries on 429 / 5xx / connection errors before giving up.
    timeout
        Seconds per request.
    max_tokens
        The model's input window in tokens, for counting texts it will cut. Default: :data:`WINDOW` for
        api.openai.com or an OpenAI model name; unknown (``None``: nothing counted as cut) for other servers.
    """

    def __init__(self, model: str, *, dimensions: int | None = None, base_url: str | None = None,
                 api_key: str | None = None, batch_size: int | None = None, max_retries: int = 6,
                 timeout: float = 60.0, backoff: float = 1.0, max_tokens: int | None = None) -> None:
        if not model:
            raise InputError("openai:MODEL needs a model name, e.g. openai:text-embedding-3-small")
        self.model = model
        self.dimensions = dimensions
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.batch_size = min(2048, batch_size or 256)
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff
        self.window = max_tokens
        suffix = f"-{dimensions}" if dimensions else ""
        self.key = f"openai:{self.base_url}:{model}{suffix}"
        self.default_space = "openai-" + model.replace("text-embedding-", "").replace("/", "-") + suffix
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import httpx

            headers = {"Content-Type": "application/json"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)
        return self._client

    @property
    def max_tokens(self) -> int | None:
        if self.window is not None:
            return self.window
        return WINDOW if "api.openai.com" in self.base_url or self.model in PRICES else None

    def dry_run(self, texts: list[str]) -> DryRun:
        out = super().dry_run(texts)
        if self.max_tokens is None:
            out.notes.append(f"the input window of {self.model!r} on {self.base_url} is unknown, so no text is "
                             "counted as cut: pass --max-tokens N (the server model's limit, e.g. 512)")
        return out

    def price_per_million_tokens(self) -> float | None:
        return PRICES.get(self.model)

    def spec(self) -> dict[str, Any]:
        return {"key": self.key, "model": self.model_spec, "dimensions": self.dimensions}

    def embed(self, texts: list[str]) -> np.ndarray:
        import httpx

        if not self.api_key and "api.openai.com" in self.base_url:
            raise InputError("OPENAI_API_KEY is not set (needed for api.openai.com)")
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.dimensions:
            body["dimensions"] = self.dimensions
        attempt = 0
        while True:
            wait: float | None = None
            try:
                resp = self.client.post("/embeddings", json=body)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                err = f"{type(exc).__name__}: {exc}"
                wait = self.backoff * 2**attempt
            else:
                if resp.status_code == 200:
                    return self._parse(resp.json(), len(texts))
                err = f"HTTP {resp.status_code}: {resp.text[:300]}"
                if resp.status_code == 429 or resp.status_code >= 500:
                    wait = _retry_after(resp.headers.get("retry-after"), self.backoff * 2**attempt)
                elif resp.status_code in (400, 404, 422):
                    raise InputError(f"{self.base_url}/embeddings rejected the request: {err}")
                else:
                    raise EmbedscopeError(f"{self.base_url}/embeddings: {err}")
            attempt += 1
            if attempt > self.max_retries:
                raise EmbedscopeError(f"{self.base_url}/embeddings failed after {self.max_retries} retries: {err}")
            time.sleep(min(60.0, wait))

    def _parse(self, doc: Any, n: int) -> np.ndarray:
        try:
            data = sorted(doc["data"], key=lambda d: d["index"])
            vecs = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbedscopeError(f"{self.base_url}/embeddings answered an unexpected shape: {exc}") from None
        if vecs.ndim != 2 or vecs.shape[0] != n:
            raise EmbedscopeError(f"{self.base_url}/embeddings returned {vecs.shape[0]} vectors for {n} texts")
        return vecs


def _retry_after(value: str | None, default: float) -> float:
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    return default
