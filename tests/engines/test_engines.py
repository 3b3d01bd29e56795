"""The engine interface: chosen by name, one "unknown engine" message, the local engine is the in-process code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.engines import ENGINES, Engine, get_engine
from embedscope.engines.local import LocalEngine
from embedscope.errors import InputError
from embedscope.projection import project
from embedscope.search.exact import KNN, knn_graph

SRC = Path(__file__).resolve().parents[2] / "src"


def _vectors(n: int = 300, d: int = 24, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_unknown_engine_has_one_message() -> None:
    assert ENGINES == ("local", "ray")
    with pytest.raises(InputError) as exc:
        get_engine("nope")
    assert str(exc.value) == "unknown engine 'nope'; use local or ray"


def test_local_engine_is_the_in_process_code(tmp_path: Path) -> None:
    engine = get_engine("local", address="ignored:1")
    assert isinstance(engine, LocalEngine) and isinstance(engine, Engine) and engine.name == "local"
    x = _vectors()
    got, ref = engine.knn_graph(x, 10), knn_graph(x, 10, "cosine")
    np.testing.assert_array_equal(got.indices, ref.indices)
    np.testing.assert_array_equal(got.scores, ref.scores)
    lay = engine.layout(x, "pca", knn=None, seed=3, key="", staging=tmp_path / "unused")
    np.testing.assert_array_equal(lay.coords, project(x, "pca", seed=3).coords)
    assert not (tmp_path / "unused").exists()  # the local engine stages nothing


def test_ray_engine_is_chosen_by_name_without_importing_ray() -> None:
    code = ("import sys\nfrom embedscope.engines import get_engine\n"
            "e = get_engine('ray', 'ray://nowhere:10001')\n"
            "print(e.name, e.address, 'ray' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert res.stdout.split() == ["ray", "ray://nowhere:10001", "False"]


class _Counting(LocalEngine):
    """The local engine, counting what the workspace asks of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def knn_graph(self, x: np.ndarray, k: int, *, progress=None) -> KNN:  # type: ignore[no-untyped-def]
        self.calls.append(f"knn_graph {len(x)} {k}")
        return super().knn_graph(x, k, progress=progress)


def test_the_scope_asks_the_engine_it_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import embedscope.pipeline.graph as graph_step

    scope = embedscope.create(tmp_path / "w.scope")
    x = _vectors(120)
    scope.add_vectors("v", [f"i{i}" for i in range(len(x))], x)
    with pytest.raises(InputError, match=r"^unknown engine 'nope'; use local or ray$"):
        scope.knn("v", engine="nope")
    assert scope.graph_info("v") is None  # refused before anything was built
    spy = _Counting()
    asked: list[tuple[str, str | None]] = []

    def choose(name: str, address: str | None = None) -> Engine:
        asked.append((name, address))
        return spy

    monkeypatch.setattr(graph_step, "get_engine", choose)
    g = scope.knn("v", 5, engine="local", address="here")
    assert asked == [("local", "here")] and spy.calls == ["knn_graph 120 50"]
    ref = knn_graph(x, 5, "cosine")
    np.testing.assert_array_equal(g.indices, ref.indices)
    assert scope.graph_info("v") == {"exact": True, "k": 50, "method": "exact"}  # no "engine" for local
