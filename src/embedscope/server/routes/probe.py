"""What spaces know about a label (``embedscope probe``), for the Compare view.

- ``GET /api/probe?label=COLUMN&spaces=a,b[&held_out_of=SPACE][&folds=5][&seed=0]``: cross-validated
  logistic-regression and k-NN probes of the metadata column in each space (ridge R² for a numeric column), on
  the items every listed space holds; ``held_out_of`` (a tuned space) restricts them to its held-out part. The
  answer is ``Scope.probe``'s dict; computed on a handle of its own (lookups go on meanwhile) and kept among the
  recent answers of this workspace version.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from ...errors import InputError
from ..columns import jsonable
from ..figures import Figure
from ..state import ExplorerState, get_state

router = APIRouter(prefix="/api/probe", tags=["probe"])

LABEL = Query(..., min_length=1, max_length=200, description="The metadata column to probe.")
SPACES = Query(None, min_length=1, max_length=2000, description="Spaces, comma-separated (default: every space).")
HELD_OUT_OF = Query(None, min_length=1, max_length=200,
                    description="A tuned space: probe only the items held out of its training.")
FOLDS = Query(5, ge=2, le=20, description="Cross-validation folds.")
SEED = Query(0, ge=0, le=2**31 - 1, description="Seed of the folds, sample, control and bootstrap.")


class ClassFigures(BaseModel):
    """One class: precision, recall, F1 of the out-of-fold predictions, and how many items hold it."""

    label: str
    precision: Figure
    recall: Figure
    f1: Figure
    support: int


class Classifier(BaseModel):
    """Out-of-fold accuracy and macro-F1 with bootstrap 95% intervals, per class, the confusion matrix (rows:
    true class, columns: predicted, in ``classes`` order); ``k`` for the k-NN probe."""

    accuracy: Figure
    accuracy_ci95: list[Figure]
    macro_f1: Figure
    macro_f1_ci95: list[Figure]
    per_class: list[ClassFigures]
    confusion: list[list[int]]
    k: int | None = None


class LeftOut(BaseModel):
    """A class with fewer items than folds, left out of the probe."""

    label: str
    count: int


class Mistake(BaseModel):
    """An item the logistic regression got wrong, with its probability of the wrong class."""

    row: int
    id: str
    text: str | None
    label: str
    predicted: str
    confidence: Figure


class Ridge(BaseModel):
    """Out-of-fold R² of ridge regression, with its bootstrap 95% interval."""

    r2: Figure
    r2_ci95: list[Figure]


class SpaceProbe(BaseModel):
    """The probe of one space: ``kind`` ``classes`` (``logreg``, ``knn``, ``classes``, ``base_rate``, ...) or
    ``numeric`` (``ridge``); ``control`` is the same probe on shuffled labels (the chance level measured)."""

    kind: str
    n: int
    sample: int | None
    folds: int
    dims: int
    seconds: Figure
    control: Figure
    classes: list[str] | None = None
    left_out: list[LeftOut] | None = None
    base_rate: Figure | None = None
    logreg: Classifier | None = None
    knn: Classifier | None = None
    misclassified: list[Mistake] | None = None
    ridge: Ridge | None = None


class ProbeOut(BaseModel):
    """``embedscope probe --json``: the label, how many items were probed, each space's probe."""

    label: str
    items: int
    held_out_of: str | None = None
    spaces: dict[str, SpaceProbe]


@router.get("", response_model=ProbeOut)
def get_probe(label: str = LABEL, spaces: str | None = SPACES, held_out_of: str | None = HELD_OUT_OF,
              folds: int = FOLDS, seed: int = SEED, state: ExplorerState = Depends(get_state)) -> ProbeOut:
    """Probe ``label`` in the listed spaces (every space by default), optionally on a tuned space's held-out
    items only."""
    names = [s.strip() for s in spaces.split(",") if s.strip()] if spaces else list(state.spaces())
    if not names:
        raise InputError("choose one or more spaces")
    for s in names:
        state.check_space(s)
    state.column(names[0], label)  # 404 for an unknown column
    ids: list[str] | None = None
    if held_out_of is not None:
        state.check_space(held_out_of)
        with state.lock:
            held = getattr(state.scope, "held_out", None)
            ids = held(held_out_of) if held is not None else None
        if ids is None:
            raise InputError(f"{held_out_of!r} is not a tuned space (it has no held-out part)")
    key = ("probe", label, tuple(names), held_out_of, folds, seed)

    def compute() -> dict[str, Any]:
        return state.run_job(lambda scope: scope.probe(label, names, folds=folds, seed=seed, ids=ids), stores=False)

    doc = state.recent(key, compute)
    return ProbeOut.model_validate({**jsonable(doc), "held_out_of": held_out_of})
