"""Translators between the spaces of a workspace, as methods of :class:`embedscope.workspace.Scope`: one-line
delegations to :mod:`embedscope.ops.translate`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .ops import translate as ops_translate
from .ops.base import Progress
from .results import IngestReport

if TYPE_CHECKING:
    from ._scope_core import ScopeCore as Base
else:
    Base = object


class TranslateMixin(Base):
    """Methods of :class:`embedscope.workspace.Scope`."""

    def translate_pairs(self, a: str, b: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Items embedded in both spaces: ids (in ``a``'s point order) and their vectors ``(n, d_a)``, ``(n, d_b)``
        (:func:`embedscope.ops.translate.translate_pairs`)."""
        return ops_translate.translate_pairs(self, a, b)

    def translate_eval(self, a: str, b: str, *, methods: Sequence[str] | None = None, curve: bool = True,
                       test_size: int | None = None, seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
        """Evaluate translators from space ``a`` to ``b`` on held-out shared items, with baselines and a
        learning curve (see :func:`embedscope.translate.evaluate`). Returns the ``translate eval`` JSON document
        (:func:`embedscope.ops.translate.translate_eval`)."""
        return ops_translate.translate_eval(self, a, b, methods=methods, curve=curve, test_size=test_size, seed=seed,
                                            progress=progress)

    def translation(self, a: str, b: str) -> dict[str, Any] | None:
        """The latest stored ``translate eval`` document from space ``a`` to ``b`` (plus ``stale``: either
        space changed since), or ``None`` (:func:`embedscope.ops.translate.translation`)."""
        return ops_translate.translation(self, a, b)

    def translate_fit(self, a: str, b: str, method: str = "auto", *, path: str | Path | None = None, seed: int = 0,
                      test_size: int | None = None, select: str = "mean_cosine", progress: Progress | None = None) -> Any:
        """Fit a translator from space ``a`` to ``b`` on every shared item, after measuring it on held-out items
        (:func:`embedscope.ops.translate.translate_fit`).

        Parameters
        ----------
        method
            ``procrustes``, ``ridge``, ``lowrank``, ``mlp`` or ``auto`` (best held-out ``select`` figure).
        select
            What ``auto`` maximises: ``mean_cosine``, ``top1``, ``top10`` or ``recall@10``.
        path
            Where to save the translator file (``.npz`` format, any name), if given.

        Returns
        -------
        embedscope.translate.Translator
            With the held-out figures in ``meta["metrics"]`` and ``meta["evaluation"]``.
        """
        return ops_translate.translate_fit(self, a, b, method, path=path, seed=seed, test_size=test_size, select=select,
                                           progress=progress)

    def translate_apply(self, translator: Any, space: str, name: str, *, batch_size: int = 65_536,
                        progress: Progress | None = None) -> IngestReport:
        """Translate every vector of ``space`` into a new space ``name``, flagged as translated
        (:func:`embedscope.ops.translate.translate_apply`).

        Parameters
        ----------
        translator
            A :class:`~embedscope.translate.Translator` or the path of a translator file.
        space
            The source space (its dimension must be the translator's source dimension).
        name
            The new space. An existing space is replaced only if it was itself translated.
        batch_size
            Vectors per batch.

        The new space records ``source: "translated"``, the method, the translator file and its held-out
        figures; if the translator's target space is in this workspace, text queries on the new space are
        embedded with that space's model.
        """
        return ops_translate.translate_apply(self, translator, space, name, batch_size=batch_size, progress=progress)
