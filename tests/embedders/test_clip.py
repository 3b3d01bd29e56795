"""``--model clip:PATH``: a tiny randomly initialised CLIP model saved in both layouts, loaded by the real code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embedscope.embedders import get_embedder
from embedscope.embedders.clip import ClipEmbedder, image_preprocessor
from embedscope.errors import InputError
from tests.tinyclip import save_tiny_clip

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def clip_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clip")
    hf = root / "tiny-clip"
    save_tiny_clip(hf)
    st = root / "st-clip"
    shutil.copytree(hf, st / "0_CLIPModel")
    (st / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "0_CLIPModel", "type": "sentence_transformers.models.CLIPModel"}]))
    return {"hf": hf, "st": st}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    from sklearn.datasets import load_sample_images

    folder = tmp_path_factory.mktemp("img")
    rng = np.random.default_rng(3)
    arrays = [*load_sample_images().images, rng.integers(0, 256, (50, 90, 3), dtype=np.uint8)]
    out = []
    for i, a in enumerate(arrays):
        Image.fromarray(a).save(folder / f"{i}.png")
        out.append(str(folder / f"{i}.png"))
    return out


@pytest.mark.parametrize("layout", ["hf", "st"])
def test_both_layouts_embed_images_and_texts_into_one_space(layout: str, clip_dirs: dict[str, Path],
                                                            images: list[str]) -> None:
    emb = get_embedder(f"clip:{clip_dirs[layout]}")
    assert isinstance(emb, ClipEmbedder)
    assert emb.modality == "image" and emb.text_queries is True and emb.spec()["modality"] == "image"
    x = emb.embed(images)
    q = emb.embed_queries(["a red cat", "blue dog", "a long caption " * 20])
    assert x.shape == (3, 24) and q.shape == (3, 24) and x.dtype == q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(emb.embed(images[::-1]), x[::-1], atol=1e-5)  # batch-mates move the last bits
    np.testing.assert_allclose(emb.embed_queries(["a red cat"]), q[:1], atol=1e-5)
    assert not np.allclose(q[0], q[1])
    # the vectors are CLIP's: the transformers model's own features of the same inputs, normalised
    model = transformers.CLIPModel.from_pretrained(str(clip_dirs["hf"])).eval()
    tok = transformers.AutoTokenizer.from_pretrained(str(clip_dirs["hf"]))
    proc = transformers.CLIPImageProcessorPil.from_pretrained(str(clip_dirs["hf"]))
    with torch.no_grad():
        pix = proc(images=[Image.open(p).convert("RGB") for p in images], return_tensors="pt")["pixel_values"]
        ref_i = model.get_image_features(pixel_values=pix)
        enc = tok(["a red cat"], return_tensors="pt")
        ref_t = model.get_text_features(**enc)
    ref_i = getattr(ref_i, "pooler_output", ref_i).numpy()
    ref_t = getattr(ref_t, "pooler_output", ref_t).numpy()
    cos_i = np.sum(x * ref_i, axis=1) / np.linalg.norm(ref_i, axis=1)
    assert cos_i.min() >= 0.999, cos_i
    assert float(q[0] @ ref_t[0] / np.linalg.norm(ref_t[0])) >= 0.999


def test_the_preprocessing_is_hugging_faces(clip_dirs: dict[str, Path], images: list[str]) -> None:
    prepare = image_preprocessor(clip_dirs["hf"])
    proc = transformers.CLIPImageProcessorPil.from_pretrained(str(clip_dirs["hf"]))
    for p in images:
        img = Image.open(p).convert("RGB")
        ours = prepare(img)
        ref = proc(images=img, return_tensors="np")["pixel_values"][0]
        assert ours.shape == ref.shape == (3, 32, 32)
        np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_keys_and_space_names(clip_dirs: dict[str, Path]) -> None:
    a, b = ClipEmbedder(str(clip_dirs["hf"])), ClipEmbedder(str(clip_dirs["st"]))
    assert a.key.startswith("clip:tiny-clip:") and a.key != b.key
    assert a.default_space == "tiny-clip" and b.default_space == "st-clip"


def test_pickled_weights_and_other_layouts_are_refused(tmp_path: Path, clip_dirs: dict[str, Path]) -> None:
    pickled = tmp_path / "pickled"
    shutil.copytree(clip_dirs["hf"], pickled)
    (pickled / "model.safetensors").unlink()
    model = transformers.CLIPModel.from_pretrained(str(clip_dirs["hf"]))
    torch.save(model.state_dict(), pickled / "pytorch_model.bin")
    with pytest.raises(InputError, match=r"pickle-format weights \(pytorch_model\.bin\).*safetensors"):
        get_embedder(f"clip:{pickled}")
    openclip = tmp_path / "openclip"
    openclip.mkdir()
    (openclip / "open_clip_config.json").write_text("{}")
    with pytest.raises(InputError, match="open_clip"):
        get_embedder(f"clip:{openclip}")
    text_model = tmp_path / "bert"
    text_model.mkdir()
    (text_model / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(InputError, match="not 'clip'"):
        get_embedder(f"clip:{text_model}")
    remote = tmp_path / "remote"
    shutil.copytree(clip_dirs["hf"], remote)
    cfg = json.loads((remote / "config.json").read_text())
    (remote / "config.json").write_text(json.dumps({**cfg, "auto_map": {"AutoModel": "evil.Model"}}))
    with pytest.raises(InputError, match="auto_map"):
        get_embedder(f"clip:{remote}")
    with pytest.raises(InputError, match="not a directory"):
        get_embedder(f"clip:{tmp_path / 'missing'}")
    with pytest.raises(InputError, match="needs the path"):
        get_embedder("clip")
