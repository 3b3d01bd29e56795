"""Image files: which files are images, decoding to RGB pixels safely, thumbnails and content hashes.

Decoding follows what a user's photo folder holds: EXIF orientation applied; the first frame of an animated GIF or
WebP; CMYK, 16-bit, palette, grey and alpha images converted to 8-bit RGB (transparent pixels composited on white,
as a page shows them). Every failure is an :class:`~embedscope.errors.InputError` naming the file and what to do:
an empty file, a file that is not an image, a truncated file, an image above :data:`MAX_PIXELS` (Pillow's
decompression-bomb guard, made an error instead of a warning).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from PIL.Image import Image

#: File suffixes read as images (lower case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
#: The largest image decoded, in pixels (width x height): Pillow's default bomb limit (~89 megapixels, e.g. a
#: 9,500 x 9,500 scan). Larger files are refused with a message rather than decoded into gigabytes.
MAX_PIXELS = 89_478_485
#: Longest side of a stored thumbnail, in pixels.
THUMB_SIZE = 128
#: WebP quality of stored thumbnails (a 128 px thumbnail is 3-8 KB).
THUMB_QUALITY = 80


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has an image suffix (:data:`IMAGE_SUFFIXES`; the content is checked when decoded)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def content_hash(data: bytes) -> str:
    """The content hash of an image file's bytes (SHA-256, hex): the embedding cache's key for images."""
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, name: str | Path, *, max_pixels: int = MAX_PIXELS) -> Image:
    """Decode an image file's bytes to 8-bit RGB pixels.

    Parameters
    ----------
    data
        The file's bytes.
    name
        The file, for messages.
    max_pixels
        Refuse images with more pixels than this (width x height).

    Returns
    -------
    PIL.Image.Image
        Mode ``RGB``, EXIF orientation applied, the first frame of an animation.

    Raises
    ------
    InputError
        Naming the file: empty, not an image (or a format Pillow cannot read), truncated or corrupt, or too large.
    """
    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    if not data:
        raise InputError("the file is empty (0 bytes); remove it or copy it again", file=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            opened = PILImage.open(io.BytesIO(data))
            w, h = opened.size
            if w * h > max_pixels:
                raise InputError(f"the image is {w} x {h} pixels, above the limit of {max_pixels:,} pixels; "
                                 "scale it down first", file=name)
            opened.seek(0)
            opened.load()
            img: Image = ImageOps.exif_transpose(opened) or opened
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError("not an image Pillow can read (jpg, png, webp, gif, bmp, tiff); convert it or remove it",
                         file=name) from None
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise InputError(f"the image is above the limit of {max_pixels:,} pixels; scale it down first",
                         file=name) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"the image is truncated or corrupt ({' '.join(str(exc).split())}); copy it again or "
                         "remove it", file=name) from None
    return to_rgb(img)


def to_rgb(img: Image) -> Image:
    """``img`` as 8-bit RGB: 16-bit and 32-bit grey scaled to 8 bits, palette and CMYK converted, alpha composited
    on white."""
    from PIL import Image as PILImage

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        hi = float(a.max()) if a.size else 0.0
        scale = 255.0 / (65535.0 if hi > 255 else 255.0)
        img = PILImage.fromarray(np.clip(a * scale, 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
        img = PILImage.fromarray(((a - lo) / max(hi - lo, 1e-12) * 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        return PILImage.alpha_composite(background, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def open_rgb(path: Path, *, max_pixels: int = MAX_PIXELS) -> Image:
    """Read and decode one image file (:func:`decode`); a missing or unreadable file is an ``InputError``."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("the image file is missing; ingest its folder again from where it is now",
                         file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the image file ({exc.strerror or exc}); check its permissions",
                         file=path) from None
    return decode(data, path, max_pixels=max_pixels)


def thumbnail(img: Image, size: int = THUMB_SIZE, quality: int = THUMB_QUALITY) -> tuple[bytes, int, int]:
    """A WebP thumbnail of ``img`` whose longest side is at most ``size`` pixels.

    Returns
    -------
    data : bytes
        The WebP file.
    width, height : int
        The thumbnail's size in pixels.
    """
    from PIL import Image as PILImage

    t = img.copy()
    t.thumbnail((size, size), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    t.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue(), t.width, t.height
