"""A new layout method is one module plus one registry entry (issue 18, plan §5).

A trivial ``random`` method registered here, in the test, is stored by the scope, measured by
``embedscope quality``, listed and served by the server and drawn by the page, with no other change to
embedscope; and the registry's own contract (names, order, traits, errors).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import embedscope
from embedscope.errors import InputError
from embedscope.projection import (
    LayoutMethod,
    LayoutResult,
    get_method,
    method_names,
    preferred,
    project,
    register,
    traits,
    unregister,
)
from tests.helpers import client_for
from tests.helpers import run_cli as run

SPACE = "minilm"
BUILTIN = ("umap", "pca", "tsne", "sphere")


def random_fit(x: np.ndarray, *, knn: Any = None, seed: int = 42, progress: Any = None, **p: Any) -> LayoutResult:
    """Standard normal coordinates, one pair an item: a layout method in four lines."""
    return LayoutResult(np.random.default_rng(seed).standard_normal((len(x), 2)).astype(np.float32), "random",
                        {"seed": seed})


RANDOM = LayoutMethod("random", fit=random_fit, needs_graph=False)


@contextmanager
def registered(method: LayoutMethod) -> Iterator[LayoutMethod]:
    register(method)
    try:
        yield method
    finally:
        unregister(method.name)


@pytest.fixture()
def random_method() -> Iterator[LayoutMethod]:
    with registered(RANDOM) as m:
        yield m


@pytest.fixture(scope="module")
def workspace(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 60-item MiniLM workspace with a ``random`` layout stored next to its UMAP one."""
    dst = tmp_path_factory.mktemp("registry") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    with registered(RANDOM):
        embedscope.open(dst).project(SPACE, "random")
    return dst


# ------------------------------------------------------------------------------------------- the registry
def test_builtin_methods_in_registration_order() -> None:
    assert method_names() == BUILTIN  # the order of `embedscope project --method`'s help


def test_a_registered_method_comes_last_and_goes_away(random_method: LayoutMethod) -> None:
    assert method_names() == (*BUILTIN, "random")
    assert get_method("random") is random_method
    res = project(np.ones((7, 4), np.float32), "random", seed=3)
    assert res.method == "random" and res.coords.shape == (7, 2) and res.coords.dtype == np.float32
    assert np.array_equal(res.coords, np.random.default_rng(3).standard_normal((7, 2)).astype(np.float32))
    unregister("random")
    assert method_names() == BUILTIN
    unregister("random")  # no error when there is none


def test_unknown_method_names_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"^unknown projection method 'nope'; use one of umap, pca, tsne, sphere$"):
        get_method("nope")
    with pytest.raises(ValueError, match="unknown projection method 'nope'"):
        project(np.ones((5, 3), np.float32), "nope")


def test_unknown_method_is_refused_by_the_scope(small_scope: embedscope.Scope) -> None:
    with pytest.raises(InputError, match=r"^unknown --method 'nope'; use one of umap, pca, tsne, sphere$"):
        small_scope.project(SPACE, "nope")


def test_a_stored_but_unregistered_method_gets_plain_traits() -> None:
    t = traits("old")
    assert (t.name, t.label, t.surface, t.rank, t.has_xyz, t.needs_graph, t.sampled, t.supports_place,
            t.reuses, t.graph_k, t.engines) == ("old", "old", "plane", 100, False, True, False, False, None, None,
                                               frozenset({"local"}))
    with pytest.raises(ValueError, match="unknown projection method 'old'"):
        t.fit(np.ones((5, 3), np.float32), knn=None, seed=0, progress=None)


def test_builtin_traits() -> None:
    umap, pca, tsne, sphere = (get_method(m) for m in BUILTIN)
    assert [m.rank for m in (umap, tsne, pca, sphere)] == [0, 1, 2, 3]
    assert [m.label for m in (umap, pca, tsne, sphere)] == ["UMAP", "PCA", "t-SNE", "sphere"]
    assert [m.surface for m in (umap, pca, tsne, sphere)] == ["plane", "plane", "plane", "sphere"]
    assert [m.has_xyz for m in (umap, pca, tsne, sphere)] == [False, True, False, True]
    assert [m.needs_graph for m in (umap, pca, tsne, sphere)] == [False, False, True, True]
    assert [m.name for m in (umap, pca, tsne, sphere) if m.sampled] == ["umap"]
    assert [m.name for m in (umap, pca, tsne, sphere) if m.supports_place] == ["umap"]
    assert [m.name for m in (umap, pca, tsne, sphere) if "ray" in m.engines] == ["umap"]
    assert sphere.reuses == "umap" and umap.reuses is None
    assert tsne.graph_k is not None and umap.graph_k is None
    assert tsne.graph_k(1000, {}) == 90 and tsne.graph_k(1000, {"perplexity": 50}) == 150
    assert tsne.graph_k(40, {}) == 39


def test_the_default_layout_is_the_plane_one_of_lowest_rank(random_method: LayoutMethod) -> None:
    assert preferred(["sphere", "pca", "tsne", "umap"]) == "umap"
    assert preferred(["sphere", "pca", "tsne"]) == "tsne"
    assert preferred(["random", "sphere", "pca"]) == "pca"
    assert preferred(["sphere", "random"]) == "random"
    assert preferred(["sphere"]) is None and preferred([]) is None


def test_ray_lays_out_only_methods_that_name_it(small_scope: embedscope.Scope, random_method: LayoutMethod) -> None:
    with pytest.raises(InputError, match=r"^--engine ray lays out umap \(fitted on a sample, placed shard by shard\); "
                                         r"compute random without --engine ray$"):
        small_scope.project(SPACE, "random", engine="ray")


# ------------------------------------------------------------------------ scope, CLI and server, unchanged
def test_scope_stores_a_registered_method(workspace: Path) -> None:
    scope = embedscope.open(workspace)
    assert scope.layouts(SPACE) == ["random", "umap"]
    lay = scope.layout(SPACE, "random")
    n = len(scope.point_ids(SPACE))
    assert lay.method == "random" and lay.ids == scope.point_ids(SPACE) and not lay.stale
    assert np.array_equal(lay.coords, np.random.default_rng(42).standard_normal((n, 2)).astype(np.float32))
    assert lay.params["seed"] == 42 and set(lay.per_item) >= {"trustworthiness", "continuity", "knn_recall"}


def test_a_registered_method_is_fitted_by_the_cli(workspace: Path, tmp_path: Path, random_method: LayoutMethod,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "cli.scope"
    shutil.copytree(workspace, ws)
    code, out, err = run(capsys, "project", str(ws), "--space", SPACE, "--method", "random", "--seed", "7", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["method"] == "random" and doc["count"] == 60 and doc["params"]["seed"] == 7
    assert 0 <= doc["quality"]["trustworthiness"] <= 1
    code, _, err = run(capsys, "project", str(ws), "--space", SPACE, "--method", "random", "--sample", "10")
    assert code != 0 and "--sample is for umap layouts, not random" in err


def test_quality_lists_a_registered_method_with_its_honesty(workspace: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "quality", str(workspace), "--space", SPACE, "--json")
    assert code == 0, err
    rows = {r["method"]: r for r in json.loads(out)["layouts"]}
    assert set(rows) == {"random", "umap"}
    r = rows["random"]
    assert r["k"] == 15 and r["n"] == 60 and r["stale"] is False and r["params"]["seed"] == 42
    for figure in ("trustworthiness", "continuity", "knn_recall"):
        assert 0 <= r[figure] <= 1, (figure, r)
    # a random map keeps less of the neighbourhoods than UMAP does
    assert r["trustworthiness"] < rows["umap"]["trustworthiness"]
    assert r["knn_recall"] < rows["umap"]["knn_recall"]


def test_server_lists_and_serves_a_registered_method(workspace: Path, random_method: LayoutMethod) -> None:
    scope = embedscope.open(workspace)
    client = client_for(scope, raise_server_exceptions=False)
    (space,) = client.get("/api/info").json()["spaces"]
    assert sorted(lay["method"] for lay in space["layouts"]) == ["random", "umap"]
    assert min(space["layouts"], key=lambda lay: lay["rank"])["method"] == "umap"  # the page's default
    (quality,) = [q for q in scope.quality(SPACE) if q["method"] == "random"]
    (listed,) = [lay for lay in space["layouts"] if lay["method"] == "random"]
    assert listed == {"method": "random", "k": 15, "trustworthiness": quality["trustworthiness"],
                                   "continuity": quality["continuity"], "knn_recall": quality["knn_recall"],
                                   "sampled": None, "stale": False, "has_xyz": False, "label": "random",
                                   "surface": "plane", "rank": 100}
    response = client.get(f"/api/spaces/{SPACE}/layouts/random")
    assert response.status_code == 200, response.text
    t = pa.ipc.open_stream(response.content).read_all()
    assert t.schema == pa.schema([("x", pa.float32()), ("y", pa.float32())]) and t.num_rows == 60
    got = np.stack([t.column("x").to_numpy(), t.column("y").to_numpy()], axis=1)
    assert np.array_equal(got, scope.layout(SPACE, "random").coords)


def test_server_still_serves_a_stored_method_no_longer_registered(workspace: Path) -> None:
    assert "random" not in method_names()
    client = client_for(embedscope.open(workspace), raise_server_exceptions=False)
    (space,) = client.get("/api/info").json()["spaces"]
    assert sorted((lay["method"], lay["label"], lay["surface"], lay["rank"]) for lay in space["layouts"]) == [
        ("random", "random", "plane", 100), ("umap", "UMAP", "plane", 0)]
    response = client.get(f"/api/spaces/{SPACE}/layouts/random")
    assert response.status_code == 200 and pa.ipc.open_stream(response.content).read_all().num_rows == 60


# ------------------------------------------------------------------------------------------- the page
@pytest.mark.browser
def test_page_draws_every_point_at_its_registered_method_coordinates(workspace: Path,
                                                                     random_method: LayoutMethod) -> None:
    from tests.web.pagekit import VIEWPORT, chromium, drawn_with, screenshot, serving, wait_ready

    coords = embedscope.open(workspace).layout(SPACE, "random").coords
    n = len(coords)
    with serving(workspace) as url, chromium() as browser:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)  # type: ignore[attr-defined]
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url + f"#space={SPACE}&layout=random")
        wait_ready(pg)
        assert pg.evaluate("[__embedscope.layout, __embedscope.count]") == ["random", n]
        screen = np.array([pg.evaluate(f"__embedscope.pointToScreen({row})") for row in range(n)], float)
        # every point sits where its coordinates put it: one scale and shift (y up) maps them to the screen
        design = np.column_stack([coords, np.ones(n)])
        fit, *_ = np.linalg.lstsq(design, screen, rcond=None)
        assert np.abs(design @ fit - screen).max() < 0.5
        assert fit[0, 0] > 0 and fit[1, 1] < 0 and abs(fit[0, 0] + fit[1, 1]) < 1e-3 * fit[0, 0]
        assert abs(fit[1, 0]) < 1e-3 * fit[0, 0] and abs(fit[0, 1]) < 1e-3 * fit[0, 0]
        # and is drawn there, in its colour
        rgb = {row: pg.evaluate(f"__embedscope.colorOf({row})") for row in range(n)}
        img = screenshot(pg, "map-random-layout")
        assert drawn_with(img, pg, list(range(n)), rgb) >= 0.8
        context.close()
        assert not errors, f"errors in the page: {errors}"


def test_sampled_honesty_says_how_many_items_it_was_measured_on(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Above EXACT_MAX items the honesty figures come from a sample; the quality table showed only the number of
    items on the map (issue 24 item 8). The CLI, --json and /api/info say how many were measured."""
    from embedscope.projection import quality as q
    from tests.helpers import client_for

    monkeypatch.setattr(q, "EXACT_MAX", 5_000)  # (10,000 in use; the sample is 5,000 items)
    s = embedscope.create(tmp_path / "ws.scope")
    x = np.random.default_rng(0).normal(size=(6_000, 8)).astype(np.float32)
    s.add_vectors("v", [f"i{i}" for i in range(6_000)], x)
    s.project("v", "pca")
    rows = s.quality("v")
    sampled = rows[0]["sampled"]
    assert rows[0]["n"] == 6_000 and sampled == 5_000
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "quality", str(s.path), "--space", "v")
    assert code == 0 and f"{sampled:,} sampled" in out and "measured on" in out
    info = client_for(s).get("/api/info").json()
    assert info["spaces"][0]["layouts"][0]["sampled"] == sampled
