"""What ``/api/info`` says of a contexts workspace (``embedscope contexts``): the word, its label column, the
default layer and each layer's space with its cluster purity, silhouette and number of clusters.

Read from the ``contexts`` table and its record (kind ``"contexts"``) through the scope's store; any other
workspace (or a record without the table's columns) has none: ``null``.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from ..errors import EmbedscopeError
from .figures import Figure
from .protocol import ScopeAPI

#: The table ``embedscope contexts`` writes, and the kind of its record.
CONTEXTS = "contexts"
COLUMNS = ["layer", "space", "purity", "silhouette", "clusters"]


class ContextLayerOut(BaseModel):
    """One layer of the model: its space (``layer_N``) and how well the occurrences cluster there."""

    layer: int
    space: str
    #: Cluster purity against the label column (``null`` without ``--label``).
    purity: Figure
    silhouette: Figure
    clusters: int


class ContextsOut(BaseModel):
    """The occurrences of ``word`` in a workspace's texts, one space a layer of the model."""

    word: str
    #: The label column the purity is measured against (known senses), or ``null``.
    label: str | None
    default_layer: int
    #: How many occurrences (items of kind ``occurrence``; the word alone is one item more).
    occurrences: int | None
    layers: list[ContextLayerOut]


def _figure(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def contexts_of(scope: ScopeAPI) -> ContextsOut | None:
    """The contexts summary of ``scope``, or ``None`` when it is not a contexts workspace."""
    record = scope.store.record(CONTEXTS)
    if record is None or record.kind != CONTEXTS:
        return None
    params = record.params
    try:
        rows = scope.store.read_columns(CONTEXTS, COLUMNS).to_pylist()
    except (EmbedscopeError, KeyError, ValueError):
        return None
    spaces = set(scope.spaces())
    layers = [ContextLayerOut(layer=int(r["layer"]), space=str(r["space"]), purity=_figure(r["purity"]),
                              silhouette=_figure(r["silhouette"]), clusters=int(r["clusters"] or 0))
              for r in rows if r["space"] in spaces and r["layer"] is not None]
    if not layers:
        return None
    layers.sort(key=lambda r: r.layer)
    wanted = params.get("default_layer")
    default = next((r.layer for r in layers if r.layer == wanted), layers[-1].layer)
    label, occurrences = params.get("label"), params.get("occurrences")
    return ContextsOut(word=str(params.get("word", "")), label=label if isinstance(label, str) else None,
                       default_layer=default,
                       occurrences=occurrences if isinstance(occurrences, int) else None, layers=layers)
