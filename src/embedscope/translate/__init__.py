"""Translate vectors from one embedding space to another (any dimensions), with measured accuracy.

Numeric stage: numpy arrays in, arrays and small dataclasses out; no workspace, server or CLI imports.

>>> from embedscope.translate import fit, evaluate, load
>>> tl, ev = fit(x_minilm, y_lsa, "auto")            # doctest: +SKIP
>>> ev.to_json("minilm", "lsa")["methods"][0]         # doctest: +SKIP
>>> tl.save("minilm-to-lsa.translator")               # doctest: +SKIP
>>> load("minilm-to-lsa.translator").transform(x_new)  # doctest: +SKIP

See :mod:`embedscope.translate.maps` for the methods and the file format, and
:mod:`embedscope.translate.evaluate` for the evaluation protocol and metrics.
"""

from __future__ import annotations

from pathlib import Path

from .evaluate import (
    CURVE_SIZES,
    HOLDOUT_MIN,
    MIN_PAIRS,
    SELECT,
    TRUSTWORTHY_MIN,
    CurvePoint,
    Evaluation,
    Score,
    check_pairs,
    evaluate,
    fit,
    score,
)
from .maps import BASELINES, LINEAR, METHODS, Translator, available_methods, check_vectors, fit_map
from .ridge import normalize

__all__ = [
    "BASELINES",
    "CURVE_SIZES",
    "HOLDOUT_MIN",
    "LINEAR",
    "METHODS",
    "MIN_PAIRS",
    "SELECT",
    "TRUSTWORTHY_MIN",
    "CurvePoint",
    "Evaluation",
    "Score",
    "Translator",
    "available_methods",
    "check_pairs",
    "check_vectors",
    "evaluate",
    "fit",
    "fit_map",
    "load",
    "normalize",
    "score",
]


def load(path: str | Path) -> Translator:
    """Read a translator file written by :meth:`Translator.save`."""
    return Translator.load(path)
