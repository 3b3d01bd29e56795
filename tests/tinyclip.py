"""A tiny randomly initialised CLIP model, saved on disk in the Hugging Face layout (no download): the model the
``clip:PATH`` tests load with the real code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def _byte_chars() -> list[str]:
    """GPT-2 / CLIP byte-level alphabet: one printable character per byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def save_tiny_clip(folder: Path) -> None:
    """Write a CLIP model with 32-wide towers of 2 layers, a byte-level BPE vocabulary with a few merges, 32 px images."""
    import torch
    import transformers

    folder.mkdir(parents=True)
    chars = _byte_chars()
    merges = ["r e", "re d</w>", "c a", "ca t</w>", "d o", "do g</w>", "b l", "bl u", "blu e</w>"]
    vocab = chars + [c + "</w>" for c in chars] + [m.replace(" ", "") for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tok = transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    torch.manual_seed(0)
    cfg = transformers.CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "max_position_embeddings": 16,
                     "bos_token_id": len(vocab) - 2, "eos_token_id": len(vocab) - 1, "pad_token_id": len(vocab) - 1},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                       "image_size": 32, "patch_size": 8},
        projection_dim=24)
    transformers.CLIPModel(cfg).eval().save_pretrained(str(folder), safe_serialization=True)
    tok.save_pretrained(str(folder))
    proc = transformers.CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    proc.save_pretrained(str(folder))
    for f in ("vocab.json", "merges.txt"):
        if not (folder / f).exists():
            shutil.copy(folder.parent / f, folder)
