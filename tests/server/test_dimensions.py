"""The per-dimension view behind the Health sheet: mean, spread, min and max of every dimension, as Arrow."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import embedscope
from tests.helpers import client_for


def test_dimension_stats_arrow_and_a_planted_rogue_dimension(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12)).astype(np.float32)
    x[:, 7] = 6.0 + 0.01 * rng.normal(size=300)  # a rogue coordinate: large and nearly constant
    scope = embedscope.create(tmp_path / "d.scope")
    scope.add_vectors("v", [f"é{i}" for i in range(300)], x)
    client = client_for(scope, raise_server_exceptions=False)
    r = client.get("/api/spaces/v/health/dimensions")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    assert client.get("/api/spaces/v/health/dimensions", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    t = pa.ipc.open_stream(r.content).read_all()
    assert t.num_rows == 12 and t.column_names == ["mean", "std", "min", "max"]
    assert all(t.schema.field(c).type == pa.float32() for c in t.column_names)
    mean, std = t.column("mean").to_numpy(), t.column("std").to_numpy()
    np.testing.assert_allclose(mean, x.mean(0), atol=1e-4)
    np.testing.assert_allclose(std, x.std(0), atol=1e-4)
    assert int(np.argmax(np.abs(mean) / std)) == 7
    rogue = next(c for c in client.get("/api/spaces/v/health").json()["checks"] if c["name"] == "rogue_dimensions")
    assert rogue["value"] == [7]
    assert client.get("/api/spaces/nope/health/dimensions").status_code == 404
