"""Translators between two spaces of the workspace (``embedscope translate eval``): held-out accuracy of each
fitted map against the baselines, and the learning curve.

- ``GET /api/translate?from=A&to=B``: the latest stored evaluation, or ``result: null``;
- ``POST /api/translate?from=A&to=B``: evaluate now (default methods) and store it.

Small JSON; no vectors.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from ...errors import InputError
from ..columns import jsonable
from ..protocol import ScopeAPI
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/translate", tags=["translate"])

FROM = Query(..., alias="from", min_length=1, max_length=200, description="Source space.")
TO = Query(..., alias="to", min_length=1, max_length=200, description="Target space.")


class TranslateOut(BaseModel):
    """``result`` as ``embedscope translate eval --json`` prints it (plus ``stale``), or ``null``."""

    source: str
    target: str
    result: dict[str, Any] | None


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
    return TranslateOut(source=a, target=b, result=jsonable(found) if found is not None else None)


@router.post("", response_model=TranslateOut)
def post_translate(a: str = FROM, b: str = TO, state: ExplorerState = Depends(get_state)) -> TranslateOut:
    """Fit and evaluate every default translator from ``from`` to ``to`` on held-out shared items, store it
    (lookups are answered meanwhile: the job runs on its own handle of the workspace)."""
    _check(state, a, b)

    def work(scope: ScopeAPI) -> Any:
        scope.translate_eval(a, b)
        return scope.translation(a, b)

    return TranslateOut(source=a, target=b, result=jsonable(state.run_job(work)))
