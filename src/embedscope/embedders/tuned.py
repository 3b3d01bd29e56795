"""``--model tuned:local`` / ``tuned:local:PATH``: a sentence-transformers model fine-tuned by ``embedscope train``.

The tuned weights live in the workspace as data only (``models/{space}__tuned-{hash}.npz``, written by
:func:`save_tuned` through :func:`embedscope.io.modelfiles.save_state`): the state dict of the model, loaded
into the architecture of the base model installed on this machine (the bundled all-MiniLM-L6-v2, or a
``local:PATH`` model outside the workspace) with strict keys and shapes. A crafted file can give wrong numbers
or a clear error, never run code. Queries of a tuned space are embedded by this class, on torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, WorkspaceError
from ..io.modelfiles import load_state, save_state
from .local import LocalEmbedder

#: The ``kind`` of a tuned model file.
KIND = "tuned-sentence-transformer"


def base_path_arg(base: str) -> str | None:
    """The ``LocalEmbedder`` argument of a base spec: ``local`` -> ``None`` (the bundled model),
    ``local:PATH`` -> ``PATH``.

    Raises
    ------
    InputError
        Another kind of model (only local sentence-transformers models are fine-tuned).
    """
    kind, _, arg = base.partition(":")
    if kind != "local":
        raise InputError(f"--base {base!r}: only a local sentence-transformers model can be fine-tuned; use "
                         "--base local (the bundled all-MiniLM-L6-v2) or --base local:PATH")
    return arg or None


def weights_hash(arrays: dict[str, np.ndarray]) -> str:
    """16 hex digits identifying a state dict (names, shapes and bytes)."""
    h = hashlib.blake2b(digest_size=8)
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def state_arrays(model: Any) -> dict[str, np.ndarray]:
    """A torch module's state dict as float32 (or integer) numpy arrays."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def save_tuned(path: Path, model: Any, header: dict[str, Any]) -> str:
    """Write ``model``'s state dict to ``path`` as data; returns the weights' hash (:func:`weights_hash`)."""
    arrays = state_arrays(model)
    digest = weights_hash(arrays)
    save_state(path, KIND, arrays, {**header, "weights": digest})
    return digest


class TunedEmbedder(LocalEmbedder):
    """A fine-tuned copy of a local sentence-transformers model (torch backend).

    Parameters
    ----------
    base
        The base model spec: ``local`` or ``local:PATH``.
    batch_size
        Texts per batch.

    The weights are those of the base model until :meth:`load` (or :meth:`use`) gives the tuned ones.
    """

    needs_fit = True

    def __init__(self, base: str = "local", *, batch_size: int | None = None, device: str = "cpu") -> None:
        super().__init__(base_path_arg(base), device=device, batch_size=batch_size, backend="torch")
        self.base = base
        self.base_key = self.key
        self.default_space = "tuned"
        self.weights: str | None = None

    def fit(self, texts: list[str]) -> None:
        raise InputError("a tuned model is made by fine-tuning, not by embed: run embedscope train WS --base "
                         f"{self.base} --label COL (it embeds every item into the tuned space)")

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "base": self.base}

    def use(self, model: Any, digest: str) -> None:
        """Take an already tuned ``SentenceTransformer`` (same architecture) whose weights hash to ``digest``."""
        self._model = model
        self.weights = digest
        self.key = f"tuned:{self.base_key}:{digest}"

    def load(self, path: Path) -> None:
        """Load tuned weights from a file written by :func:`save_tuned` into the base model's architecture.

        Raises
        ------
        WorkspaceError
            The file is not a tuned model file, or its keys, shapes or values do not fit the base model
            (one line naming the file and the first mismatch).
        """
        import torch

        arrays, _header = load_state(path, KIND)
        own = self.model.state_dict()
        again = "train the space again (embedscope train)"
        missing = sorted(set(own) - set(arrays))
        extra = sorted(set(arrays) - set(own))
        if missing or extra:
            what = f"lacks {missing[0]!r}" if missing else f"holds {extra[0]!r}, which the base model has not"
            raise WorkspaceError(f"{path}: does not fit the base model {self.base} ({what}; {len(missing)} "
                                 f"missing, {len(extra)} unexpected weights); {again}")
        for k, v in own.items():
            a = arrays[k]
            if tuple(a.shape) != tuple(v.shape) or a.dtype.kind not in "fiu":
                raise WorkspaceError(f"{path}: weight {k!r} is {a.dtype} {tuple(a.shape)}, the base model "
                                     f"{self.base} has {tuple(v.shape)}; {again}")
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise WorkspaceError(f"{path}: weight {k!r} holds non-finite values; {again}")
        self.model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(arrays[k])).to(v.dtype)
                                    for k, v in own.items()}, strict=True)
        self.model.eval()
        self.weights = weights_hash(arrays)
        self.key = f"tuned:{self.base_key}:{self.weights}"
