"""Schemathesis against the explorer's own OpenAPI schema, in-process (ASGI, no network): whatever a client sends
within (and, for the limits, beyond) the schema, the server answers without a 5xx, with a status code the schema
declares and a body that matches it.

Generated path parameters are mostly names that do not exist (404s); two thirds of the examples therefore swap in
a real space, layout, column and row, so the fuzzing reaches the code behind the lookups too. The number of examples
per operation is bounded (``EXAMPLES``) so the whole module stays well under a minute.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import embedscope
from embedscope.server import create_app

pytestmark = pytest.mark.slow

#: Examples per GET operation (schemathesis' default is 100).
EXAMPLES = 25
#: POST operations compute and store results (compression table, translators): a few examples each.
POST_EXAMPLES = 3
SPACE = "minilm"
OTHER = "rand"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


#: The schema, read at import from an app over no workspace (the schema does not depend on one); the calls go
#: to the ``app`` fixture (``call_and_validate(app=...)``).
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(None))


@pytest.fixture(scope="module")
def app(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """The 60-item MiniLM workspace plus what the other routes read: clusters, a PCA layout (3-D, honesty), a
    second space (8-d user vectors) to translate to."""
    dst = tmp_path_factory.mktemp("fuzz") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    scope = embedscope.open(dst)
    scope.cluster(SPACE, "kmeans", n_clusters=3)
    scope.project(SPACE, "pca")
    ids = [str(i) for i in scope.point_ids(SPACE)]
    scope.add_vectors(OTHER, ids, np.random.default_rng(0).normal(size=(len(ids), 8)).astype(np.float32))
    return create_app(scope)

SETTINGS = {"deadline": None, "derandomize": True, "database": None,
            "suppress_health_check": list(HealthCheck)}


#: Names that exist in the fixture's workspace, drawn for the examples aimed at it.
REAL = st.fixed_dictionaries({"space": st.sampled_from([SPACE, SPACE, OTHER]), "method": st.sampled_from(["umap", "pca"]),
                              "name": st.sampled_from(["topic", "length", "text"]), "row": st.integers(0, 59),
                              "from": st.sampled_from([SPACE, OTHER]), "to": st.sampled_from([OTHER, SPACE])})


def _aim(case, real: dict | None) -> None:
    """Point most examples at things that exist (``real``), the rest keep the generated names."""
    if real is None:
        return
    for key in ("space", "method", "name", "row"):
        if case.path_parameters and key in case.path_parameters:
            case.path_parameters[key] = real[key]
    for key in ("from", "to"):
        if case.query and key in case.query:
            case.query[key] = real[key]


@schema.exclude(method="POST").parametrize()
@schema.given(real=st.one_of(st.none(), REAL, REAL))
@settings(max_examples=EXAMPLES, **SETTINGS)
def test_get_never_5xx_and_matches_the_schema(app, case, real: dict | None) -> None:
    _aim(case, real)
    case.call_and_validate(app=app, checks=CHECKS)


@schema.include(method="POST").parametrize()
@schema.given(real=st.one_of(st.none(), REAL))
@settings(max_examples=POST_EXAMPLES, **SETTINGS)
def test_post_never_5xx_and_matches_the_schema(app, case, real: dict | None) -> None:
    _aim(case, real)
    case.call_and_validate(app=app, checks=CHECKS)
