"""Image preprocessing of the image embedders: decode, crop, resize, normalise, in threads.

Pillow releases the GIL while it decodes and resizes, so a batch of files is prepared by a pool of threads (one per
CPU this process may use) while nothing else runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from ..io.images import open_rgb

#: Pillow's resampling filters by the numbers of ``preprocessor_config.json`` (``resample``).
RESAMPLE = {0: Image.Resampling.NEAREST, 1: Image.Resampling.LANCZOS, 2: Image.Resampling.BILINEAR,
            3: Image.Resampling.BICUBIC, 4: Image.Resampling.BOX, 5: Image.Resampling.HAMMING}


def center_crop_resize(img: Image.Image, size: int, fraction: float,
                       resample: Image.Resampling = Image.Resampling.BICUBIC) -> Image.Image:
    """The central square of ``fraction`` x the shorter side, resized to ``size`` x ``size`` in one step.

    This is the evaluation crop of the TensorFlow EfficientNet reference (``_decode_and_center_crop``: a square of
    ``int(fraction * min(h, w))`` pixels, offset ``((h - s) + 1) // 2``, then a bicubic resize).
    """
    w, h = img.size
    s = max(1, int(fraction * min(w, h)))
    left, top = ((w - s) + 1) // 2, ((h - s) + 1) // 2
    return img.resize((size, size), resample, box=(left, top, left + s, top + s))


def resize_shortest_edge(img: Image.Image, edge: int,
                        resample: Image.Resampling = Image.Resampling.BICUBIC) -> Image.Image:
    """Resize so the shorter side is ``edge`` and the longer ``int(edge * long / short)`` (Hugging Face's
    ``shortest_edge`` resize)."""
    w, h = img.size
    nw, nh = (edge, int(edge * h / w)) if w <= h else (int(edge * w / h), edge)
    return img if (nw, nh) == (w, h) else img.resize((nw, nh), resample)


def center_crop(img: Image.Image, height: int, width: int) -> Image.Image:
    """The central ``height`` x ``width`` pixels (offset ``(h - height) // 2``; zero-padded where the image is
    smaller)."""
    w, h = img.size
    top, left = (h - height) // 2, (w - width) // 2
    return img.crop((left, top, left + width, top + height))


def to_chw(img: Image.Image, mean: Sequence[float], std: Sequence[float], scale: float = 1.0) -> np.ndarray:
    """``(pixel * scale - mean) / std`` per channel, float32, shape ``(3, h, w)``."""
    x: np.ndarray = np.asarray(img, dtype=np.float32)
    if scale != 1.0:
        x = x * np.float32(scale)
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


def load_batch(paths: Sequence[str | Path], prepare: Callable[[Image.Image], np.ndarray],
               pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """Decode (:func:`embedscope.io.images.open_rgb`) and prepare images.

    Parameters
    ----------
    paths
        ``b`` image files.
    prepare
        RGB image -> float32 array of shape ``(3, h, w)``, the same for every image.
    pool
        Threads to decode in (default: this thread).

    Returns
    -------
    numpy.ndarray
        float32, shape ``(b, 3, h, w)``.

    Raises
    ------
    InputError
        A file is missing, unreadable or not an image (the message names it).
    """
    def one(p: str | Path) -> np.ndarray:
        return prepare(open_rgb(Path(p)))

    arrays = list(pool.map(one, paths)) if pool is not None and len(paths) > 1 else [one(p) for p in paths]
    if not arrays:
        return np.zeros((0, 3, 1, 1), np.float32)
    return np.stack(arrays)
