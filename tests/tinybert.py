"""A tiny randomly initialised BERT sentence-transformer, saved on disk (no download), and a planted labelled
task for it: the model the fine-tuning tests train with the real code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Planted task: each label has its own signal words; a text is one or two signal words among noise words.
SIGNAL = {"red": ["apple", "cherry", "ruby", "blood", "rose"], "blue": ["ocean", "sky", "sapphire", "navy", "jeans"],
          "green": ["grass", "leaf", "emerald", "lime", "frog"], "gold": ["sun", "coin", "crown", "honey", "wheat"]}
NOISE = [f"w{i}" for i in range(60)]


def save_tiny_bert(folder: Path, seed: int = 0) -> None:
    """Write a sentence-transformers model (BERT, 32 wide, 2 layers, mean pooling, normalised) to ``folder``."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer, models

    raw = folder.parent / f"{folder.name}-hf"
    raw.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({w for ws in SIGNAL.values() for w in ws}), *NOISE]
    (raw / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = transformers.BertTokenizerFast(str(raw / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=64, max_position_embeddings=64)
    transformers.BertModel(cfg).eval().save_pretrained(str(raw), safe_serialization=True)
    tok.save_pretrained(str(raw))
    word = models.Transformer(str(raw), max_seq_length=32)
    dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pool = models.Pooling(dim(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu").save(str(folder))


def planted_items(n: int = 320, seed: int = 0) -> pd.DataFrame:
    """``n`` texts (``id``, ``text``, ``topic``): one or two signal words of the topic among 6 noise words."""
    rng = np.random.default_rng(seed)
    topics = sorted(SIGNAL)
    rows = []
    for i in range(n):
        topic = topics[i % len(topics)]
        words = list(rng.choice(NOISE, 6, replace=False)) + list(rng.choice(SIGNAL[topic], 1 + i % 2, replace=False))
        rng.shuffle(words)
        rows.append((f"t{i:04d}", " ".join(words), topic))
    return pd.DataFrame(rows, columns=["id", "text", "topic"])
