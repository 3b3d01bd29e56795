"""Translators between two spaces of the workspace (``embedscope translate eval``): held-out accuracy of each
fitted map against the baselines, and the learning curve.

- ``GET /api/translate?from=A&to=B``: the latest stored evaluation, or ``result: null``;
- ``POST /api/translate?from=A&to=B``: evaluate now (default methods) and store it.

Small JSON; no vectors.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, JsonValue

from ...errors import InputError
from ..columns import jsonable
from ..figures import Figure
from ..protocol import ScopeAPI
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/translate", tags=["translate"])

FROM = Query(..., alias="from", min_length=1, max_length=200, description="Source space.")
TO = Query(..., alias="to", min_length=1, max_length=200, description="Target space.")


class TranslateScore(BaseModel):
    """One method's held-out scores (a fitted map or a baseline)."""

    method: str
    mean_cosine: Figure
    mean_baseline_cosine: Figure
    gain_over_mean_baseline: Figure
    top1: Figure
    top10: Figure
    mean_rank: Figure
    median_rank: Figure
    mean_cosine_se: Figure
    baseline: bool
    gain_over_best_linear: Figure
    fit_s: Figure
    #: The method's fitted parameters as recorded (free-form).
    params: dict[str, JsonValue]
    recall_10: Figure = Field(alias="recall@10")


class CurvePoint(BaseModel):
    """One method scored on the held-out pairs after fitting on ``n_train`` pairs (the learning curve)."""

    n_train: int
    method: str
    mean_cosine: Figure
    gain_over_mean_baseline: Figure
    top1: Figure
    top10: Figure
    mean_rank: Figure
    recall_10: Figure = Field(alias="recall@10")


class TranslateResult(BaseModel):
    """``embedscope translate eval --json``, plus ``stale`` (either space changed since)."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    pairs: int
    warning: str | None
    methods: list[TranslateScore]
    n_train: int
    n_test: int
    protocol: str
    folds: int | None
    dims: list[int]
    best: str | None
    best_linear: str | None
    seed: int
    curve: list[CurvePoint]
    stale: bool


class TranslateOut(BaseModel):
    """``result`` as ``embedscope translate eval --json`` prints it (plus ``stale``), or ``null``."""

    source: str
    target: str
    result: TranslateResult | None


def _result(found: dict[str, Any] | None) -> TranslateResult | None:
    return TranslateResult.model_validate(jsonable(found)) if found is not None else None


def _check(state: ExplorerState, a: str, b: str) -> None:
    state.check_space(a)
    state.check_space(b)
    if a == b:
        raise InputError("choose two different spaces")


@router.get("", response_model=TranslateOut)
def get_translate(a: str = FROM, b: str = TO, state: ExplorerState = Depends(get_state)) -> TranslateOut:
    """The stored evaluation of translators from ``from`` to ``to``, or ``result: null``."""
    _check(state, a, b)
    with state.lock:
        found = state.scope.translation(a, b)
    return TranslateOut(source=a, target=b, result=_result(found))


@router.post("", response_model=TranslateOut)
def post_translate(a: str = FROM, b: str = TO, state: ExplorerState = Depends(get_state)) -> TranslateOut:
    """Fit and evaluate every default translator from ``from`` to ``to`` on held-out shared items, store it
    (lookups are answered meanwhile: the job runs on its own handle of the workspace)."""
    _check(state, a, b)

    def work(scope: ScopeAPI) -> dict[str, Any] | None:
        scope.translate_eval(a, b)
        return scope.translation(a, b)

    return TranslateOut(source=a, target=b, result=_result(state.run_job(work)))
