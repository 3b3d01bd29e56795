"""CLIP-style models on disk (``--model clip:PATH``): images and texts into one space.

Two layouts are read, both with :mod:`transformers` (``CLIPModel``, the tokenizer, and this module's copy of the
CLIP image preprocessing):

- Hugging Face transformers: ``config.json`` with ``model_type: clip``, ``model.safetensors``, the tokenizer files
  and ``preprocessor_config.json`` (e.g. ``openai/clip-vit-base-patch32`` saved with ``save_pretrained`` or
  downloaded by hand);
- sentence-transformers: ``modules.json`` whose first module is a ``CLIPModel`` (or a ``Transformer`` over a CLIP
  config) in a folder holding the files above, optionally followed by ``Normalize`` (e.g.
  ``sentence-transformers/clip-ViT-B-32``).

The open_clip layout (``open_clip_config.json``) is refused with a message: ``open_clip`` is not a dependency.

Safety (as for ``local:PATH``, :func:`.local.check_model_dir`): no custom code (``auto_map`` refused, standard
classes only), modules of sentence-transformers only, and weights from safetensors only: a folder with only pickled
weights (``pytorch_model.bin``) is refused; convert it to safetensors first.

Images go through the vision tower and its projection, texts through the text tower and its projection; both are
L2-normalised, so the dot product of a text and an image is CLIP's cosine similarity.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InputError, MissingDependencyError
from . import imageprep, onnxrt
from .base import Embedder
from .local import check_model_dir, dir_fingerprint, space_name

#: CLIP's own image mean and std (the default of Hugging Face's CLIP image processor).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: Images per forward pass inside one :meth:`ClipEmbedder.embed`.
CHUNK = 16


def clip_dir(path: Path) -> Path:
    """The folder with the transformers files of the CLIP model at ``path`` (``path`` itself or the folder of its
    sentence-transformers CLIP module).

    Raises
    ------
    InputError
        Not a CLIP model in a layout read here (the message names the file and what to do).
    """
    if (path / "open_clip_config.json").is_file() and not (path / "config.json").is_file():
        raise InputError("is an open_clip model, a layout embedscope does not read (open_clip is not installed "
                         "with it); use the Hugging Face transformers or sentence-transformers export of the model",
                         file=path / "open_clip_config.json")
    check_model_dir(path)
    model_dir = path
    if (path / "modules.json").is_file():
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        if not kinds or kinds[0] not in ("CLIPModel", "Transformer") or any(k != "Normalize" for k in kinds[1:]):
            raise InputError(f"has modules {kinds}; a CLIP model here is one CLIPModel (or Transformer) module, "
                             "optionally followed by Normalize", file=path / "modules.json")
        model_dir = path / str(modules[0].get("path", ""))
    cfg_file = model_dir / "config.json"
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("is missing or not JSON; a CLIP model needs its transformers config.json",
                         file=cfg_file) from None
    if not isinstance(cfg, dict) or cfg.get("model_type") != "clip":
        kind = cfg.get("model_type") if isinstance(cfg, dict) else None
        raise InputError(f"has model_type {kind!r}, not 'clip'; --model clip:PATH reads CLIP models (for a text "
                         "model use --model local:PATH)", file=cfg_file)
    if not any(model_dir.glob("*.safetensors")):
        pickled = sorted(f.name for f in model_dir.iterdir() if f.suffix in (".bin", ".pt", ".pth", ".ckpt"))
        what = f"only pickle-format weights ({', '.join(pickled)})" if pickled else "no model.safetensors"
        raise InputError(f"has {what}; embedscope loads CLIP weights from safetensors only (a pickle can run code): "
                         "save the model with save_pretrained(..., safe_serialization=True)", file=model_dir)
    if not (model_dir / "preprocessor_config.json").is_file():
        raise InputError("is missing; a CLIP model needs its image preprocessing settings",
                         file=model_dir / "preprocessor_config.json")
    return model_dir


def _size(v: Any, key: str) -> tuple[int, int] | int:
    """``(height, width)`` of a size setting, or the shortest edge as an int."""
    if isinstance(v, int):
        return v
    if isinstance(v, dict) and "shortest_edge" in v:
        return int(v["shortest_edge"])
    if isinstance(v, dict) and "height" in v and "width" in v:
        return int(v["height"]), int(v["width"])
    raise InputError(f"{key} {v!r} is not a size (an int, shortest_edge, or height and width)")


def image_preprocessor(model_dir: Path) -> Callable[[Image.Image], np.ndarray]:
    """The image preprocessing ``preprocessor_config.json`` describes (Hugging Face's CLIP image processor:
    resize the shortest edge, centre crop, rescale, normalise): RGB image -> float32 ``(3, h, w)``."""
    f = model_dir / "preprocessor_config.json"
    try:
        cfg = json.loads(f.read_text(encoding="utf-8"))
        resample = imageprep.RESAMPLE[int(cfg.get("resample", 3))]
        size = _size(cfg.get("size", 224), "size") if cfg.get("do_resize", True) else None
        crop = _size(cfg.get("crop_size", 224), "crop_size") if cfg.get("do_center_crop", True) else None
        scale = float(cfg.get("rescale_factor", 1 / 255)) if cfg.get("do_rescale", True) else 1.0
        mean, std = (cfg.get("image_mean", CLIP_MEAN), cfg.get("image_std", CLIP_STD)) \
            if cfg.get("do_normalize", True) else ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
        mean, std = [float(m) for m in mean], [float(s) for s in std]
    except (OSError, ValueError, KeyError, TypeError, InputError) as exc:
        raise InputError(f"cannot read the image preprocessing settings ({exc})", file=f) from None
    crop_hw = (crop, crop) if isinstance(crop, int) else crop

    def prepare(img: Image.Image) -> np.ndarray:
        if isinstance(size, int):
            img = imageprep.resize_shortest_edge(img, size, resample)
        elif size is not None:
            img = img.resize((size[1], size[0]), resample)
        if crop_hw is not None:
            img = imageprep.center_crop(img, *crop_hw)
        return imageprep.to_chw(img, mean, std, scale)

    return prepare


class ClipEmbedder(Embedder):
    """A CLIP model on disk: image files and texts -> unit vectors in one space.

    Parameters
    ----------
    path
        The model directory (transformers or sentence-transformers layout, :func:`clip_dir`).
    batch_size
        Images per cache commit.
    device
        Torch device (``cpu``).
    """

    modality = "image"
    text_queries = True

    def __init__(self, path: str, *, batch_size: int | None = None, device: str = "cpu") -> None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise InputError(f"CLIP model {path!r} is not a directory; give the path of a CLIP model saved on disk "
                             "(models are never downloaded)")
        self.path = root
        self.model_dir = clip_dir(root)
        self.name = root.resolve().name
        self.device = device
        self.batch_size = batch_size or 32
        self.key = f"clip:{self.name}:{dir_fingerprint(root)}"
        base = space_name(self.name)
        self.default_space = base if "clip" in base else f"clip-{base}"
        self.prepare = image_preprocessor(self.model_dir)
        self._loaded: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any, Any]:
        with self._lock:
            if self._loaded is None:
                try:
                    import torch
                    from transformers import AutoTokenizer, CLIPModel
                except ImportError:
                    raise MissingDependencyError("CLIP models", "local", "transformers") from None
                from .local import offline

                offline()
                try:
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                except ImportError:  # pragma: no cover
                    pass
                torch.set_num_threads(onnxrt.cpu_threads())
                model: Any = CLIPModel.from_pretrained(str(self.model_dir), local_files_only=True,  # type: ignore[arg-type]
                                                        use_safetensors=True)
                tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True, trust_remote_code=False)
                self._loaded = (torch, model.to(self.device).eval(), tok)
            return self._loaded

    @property
    def dim(self) -> int:
        """Dimensions of the shared space (``projection_dim``)."""
        return int(self._load()[1].config.projection_dim)

    @property
    def max_tokens(self) -> int | None:
        return int(self._load()[1].config.text_config.max_position_embeddings)

    def spec(self) -> dict[str, Any]:
        """Key, ``--model`` value, ``modality: image``, text queries, normalisation."""
        return {**super().spec(), "modality": self.modality, "text_queries": True, "normalized": True}

    @staticmethod
    def _unit(torch: Any, out: Any) -> np.ndarray:
        t = getattr(out, "pooler_output", out)  # transformers 5 returns an output object, earlier a tensor
        x = t.detach().cpu().numpy().astype(np.float32)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed image files with the vision tower.

        Parameters
        ----------
        texts
            ``n`` absolute image file paths.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n, projection_dim)``, unit norm.
        """
        torch, model, _ = self._load()
        out = np.empty((len(texts), self.dim), np.float32)
        with ThreadPoolExecutor(max_workers=onnxrt.cpu_threads()) as pool, torch.no_grad():
            for start in range(0, len(texts), CHUNK):
                x = imageprep.load_batch(texts[start:start + CHUNK], self.prepare, pool)
                out[start:start + len(x)] = self._unit(torch, model.get_image_features(
                    pixel_values=torch.from_numpy(x).to(self.device)))
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed texts with the text tower (cut at the model's window, 77 tokens for OpenAI's CLIP).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n, projection_dim)``, unit norm, in the space of :meth:`embed`.
        """
        torch, model, tok = self._load()
        out = np.empty((len(texts), self.dim), np.float32)
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                enc = tok(list(texts[start:start + 64]), padding=True, truncation=True, max_length=self.max_tokens,
                          return_tensors="pt")
                out[start:start + len(enc["input_ids"])] = self._unit(torch, model.get_text_features(
                    input_ids=enc["input_ids"].to(self.device), attention_mask=enc["attention_mask"].to(self.device)))
        return out

    def count_tokens(self, texts: list[str]) -> tuple[list[int], bool]:
        """Images have no tokens: zeros, exact."""
        return [0] * len(texts), True
