"""The explorer's HTTP API over real workspaces (FastAPI TestClient; no browser)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

import embedscope
from embedscope.server import create_app
from embedscope.server.app import STATIC_DIR
from embedscope.server.arrow import ARROW_STREAM
from tests.helpers import client_for

SPACE = "minilm"


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def scope(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    """One copy of the 60-item MiniLM workspace (3 topics, UMAP) shared by the read-only tests here."""
    dst = tmp_path_factory.mktemp("server") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    return embedscope.open(dst)


@pytest.fixture(scope="module")
def client(scope: embedscope.Scope) -> TestClient:
    return client_for(scope, raise_server_exceptions=False)


N_VEC = 3000


@pytest.fixture(scope="module")
def vec_scope(tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    """3,000 items with user vectors (space ``vec``, PCA layout), long texts, nulls, a bool and a wide column."""
    rng = np.random.default_rng(0)
    ids = [f"v{i:05d}" for i in range(N_VEC)]
    texts = [("long " * 250).strip() if i % 10 == 0 else f"short text {i}" for i in range(N_VEC)]
    frame = pd.DataFrame({
        "id": ids,
        "text": texts,
        "flag": [i % 2 == 0 for i in range(N_VEC)],
        "wide": [f"w{i % 100}" for i in range(N_VEC)],
        "rating": [None if i % 7 == 0 else float(i % 5) for i in range(N_VEC)],
    })
    path = tmp_path_factory.mktemp("vec") / "vec.scope"
    s = embedscope.create(path)
    s.ingest(frame)
    centers = rng.normal(size=(3, 8)) * 5
    x = centers[np.arange(N_VEC) % 3] + rng.normal(size=(N_VEC, 8))
    s.add_vectors("vec", ids, x.astype(np.float32))
    s.project("vec", "pca")
    return s


@pytest.fixture(scope="module")
def vec_client(vec_scope: embedscope.Scope) -> TestClient:
    return client_for(vec_scope, raise_server_exceptions=False)


def read_arrow(response) -> pa.Table:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ARROW_STREAM
    return pa.ipc.open_stream(response.content).read_all()


# ----------------------------------------------------------------------------------------------- info
def test_info_lists_spaces_layouts_and_counts(client: TestClient, scope: embedscope.Scope) -> None:
    info = client.get("/api/info").json()
    assert info["count"] == 60
    assert info["default_space"] == SPACE
    assert info["has_text"] is True
    (space,) = info["spaces"]
    (quality,) = scope.quality(SPACE)
    assert space == {"name": SPACE, "kind": "embedded", "model": "local", "dim": 384, "count": 60,
                     "layouts": [{"method": "umap", "k": 15, "trustworthiness": quality["trustworthiness"],
                                  "continuity": quality["continuity"], "knn_recall": quality["knn_recall"],
                                  "sampled": None, "stale": False, "has_xyz": False, "label": "UMAP",
                                  "surface": "plane", "rank": 0}],
                     "stale": False, "has_clusters": False, "tuned": None}
    assert 0 < quality["knn_recall"] <= quality["trustworthiness"] <= 1


def test_info_of_vectors_only_space(vec_client: TestClient) -> None:
    info = vec_client.get("/api/info").json()
    assert info["count"] == N_VEC and info["default_space"] == "vec"
    assert info["spaces"][0]["kind"] == "vectors" and info["spaces"][0]["model"] is None
    assert info["spaces"][0]["dim"] == 8 and [lay["method"] for lay in info["spaces"][0]["layouts"]] == ["pca"]
    assert info["spaces"][0]["layouts"][0]["has_xyz"] is True


def test_info_of_workspace_without_space(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "empty.scope")
    s.ingest(pd.DataFrame({"id": ["a", "b"], "text": ["one", "two"]}))
    info = client_for(s).get("/api/info").json()
    assert info == {"count": 2, "default_space": None, "spaces": [], "has_text": True, "images": False,
                    "images_version": None, "contexts": None}


# -------------------------------------------------------------------------------------------- columns
def test_columns_are_classified(client: TestClient, vec_client: TestClient) -> None:
    cols = {c["name"]: c for c in client.get(f"/api/spaces/{SPACE}/columns").json()}
    assert cols == {"topic": {"name": "topic", "kind": "categorical", "n_unique": 3},
                    "length": {"name": "length", "kind": "numeric", "n_unique": cols["length"]["n_unique"]}}
    vcols = {c["name"]: c for c in vec_client.get("/api/spaces/vec/columns").json()}
    assert vcols["flag"] == {"name": "flag", "kind": "categorical", "n_unique": 2}
    assert vcols["wide"] == {"name": "wide", "kind": "text", "n_unique": 100}  # > 64 values: not a colour
    assert vcols["rating"]["kind"] == "numeric"


def test_categorical_column_is_int16_dictionary_in_point_order(client: TestClient, scope: embedscope.Scope) -> None:
    t = read_arrow(client.get(f"/api/spaces/{SPACE}/columns/topic"))
    assert t.column_names == ["topic"] and t.num_rows == 60
    assert t.schema.field("topic").type == pa.dictionary(pa.int16(), pa.string())
    expected = scope.items_for(SPACE).column("topic").to_pylist()
    assert t.column("topic").to_pylist() == expected
    assert len(client.get(f"/api/spaces/{SPACE}/columns/topic").content) <= 4 * 60 + 1024


def test_numeric_column_is_float32_with_nulls(client: TestClient, vec_client: TestClient,
                                              scope: embedscope.Scope) -> None:
    t = read_arrow(client.get(f"/api/spaces/{SPACE}/columns/length"))
    assert t.schema.field("length").type == pa.float32()
    assert t.column("length").to_pylist() == [float(v) for v in scope.items_for(SPACE).column("length").to_pylist()]
    r = read_arrow(vec_client.get("/api/spaces/vec/columns/rating")).column("rating")
    assert r.null_count == len(range(0, N_VEC, 7))
    assert r.to_pylist()[:3] == [None, 1.0, 2.0]


def test_bool_column_is_categorical(vec_client: TestClient) -> None:
    t = read_arrow(vec_client.get("/api/spaces/vec/columns/flag"))
    assert t.column("flag").to_pylist()[:4] == ["true", "false", "true", "false"]


def test_text_column_cannot_be_a_colour(vec_client: TestClient) -> None:
    r = vec_client.get("/api/spaces/vec/columns/wide")
    assert r.status_code == 400 and "free text" in r.json()["detail"]


# -------------------------------------------------------------------------------------------- layouts
def test_layout_is_arrow_float32_in_point_order(client: TestClient, scope: embedscope.Scope) -> None:
    r = client.get(f"/api/spaces/{SPACE}/layouts/umap")
    t = read_arrow(r)
    assert t.schema == pa.schema([("x", pa.float32()), ("y", pa.float32())])
    layout = scope.layout(SPACE, "umap")
    assert layout.ids == scope.point_ids(SPACE)
    np.testing.assert_array_equal(t.column("x").to_numpy(), layout.coords[:, 0])
    np.testing.assert_array_equal(t.column("y").to_numpy(), layout.coords[:, 1])
    assert r.headers["etag"]
    assert client.get(f"/api/spaces/{SPACE}/layouts/umap", headers={"If-None-Match": r.headers["etag"]}
                      ).status_code == 304


def test_kdorder_is_a_spatial_index_of_the_layout(client: TestClient, scope: embedscope.Scope) -> None:
    """The page's hover index order: a permutation of the rows whose kd-tree splits hold for the coordinates."""
    from embedscope.server.kdorder import NODE_SIZE
    from tests.server.kdtree import check_kd_tree

    layout = read_arrow(client.get(f"/api/spaces/{SPACE}/layouts/umap"))
    r = client.get(f"/api/spaces/{SPACE}/layouts/umap/kdorder")
    assert r.status_code == 200 and r.headers["etag"]
    rows = read_arrow(r).column("row")
    assert rows.type == pa.uint32()
    ids = rows.to_numpy()
    assert np.array_equal(np.sort(ids), np.arange(len(ids)))
    check_kd_tree(layout.column("x").to_numpy(), layout.column("y").to_numpy(), ids, NODE_SIZE)
    assert client.get(f"/api/spaces/{SPACE}/layouts/nope/kdorder").status_code == 404


def test_layout_first_paint_is_at_most_12_bytes_a_point(vec_client: TestClient) -> None:
    r = vec_client.get("/api/spaces/vec/layouts/pca")
    assert read_arrow(r).num_rows == N_VEC
    assert len(r.content) / N_VEC <= 12  # 8 bytes of x, y + a fixed header
    colour = vec_client.get("/api/spaces/vec/columns/flag")
    assert (len(r.content) + len(colour.content)) / N_VEC <= 12


@pytest.fixture(scope="module")
def globe_scope(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    """The 60-item workspace with sphere and PCA layouts as well (the sphere: ~30 s the first time, numba)."""
    dst = tmp_path_factory.mktemp("globe") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    s = embedscope.open(dst)
    s.project(SPACE, "sphere")
    s.project(SPACE, "pca")
    return s


@pytest.fixture(scope="module")
def globe_client(globe_scope: embedscope.Scope) -> TestClient:
    return client_for(globe_scope, raise_server_exceptions=False)


@pytest.mark.slow
def test_info_layouts_carry_their_honesty(globe_client: TestClient, globe_scope: embedscope.Scope) -> None:
    (space,) = globe_client.get("/api/info").json()["spaces"]
    got = {lay["method"]: lay for lay in space["layouts"]}
    listed = [lay["method"] for lay in space["layouts"]]
    assert listed == sorted(listed)  # the workspace's order, as before the ranks: the page picks by rank
    assert min(space["layouts"], key=lambda lay: lay["rank"])["method"] == "umap"
    traits = {"umap": ("UMAP", "plane", 0), "pca": ("PCA", "plane", 2), "sphere": ("sphere", "sphere", 3)}
    for q in globe_scope.quality(SPACE):
        label, surface, rank = traits[q["method"]]
        assert got[q["method"]] == {"method": q["method"], "k": 15, "trustworthiness": q["trustworthiness"],
                                    "continuity": q["continuity"], "knn_recall": q["knn_recall"], "sampled": None,
                                    "stale": False,
                                    "has_xyz": q["method"] in ("sphere", "pca"), "label": label,
                                    "surface": surface, "rank": rank}


@pytest.mark.slow
def test_sphere_map_is_longitude_and_latitude(globe_client: TestClient, globe_scope: embedscope.Scope) -> None:
    t = read_arrow(globe_client.get(f"/api/spaces/{SPACE}/layouts/sphere"))
    assert t.schema == pa.schema([("x", pa.float32()), ("y", pa.float32())])
    layout = globe_scope.layout(SPACE, "sphere")
    lon, lat = t.column("x").to_numpy(), t.column("y").to_numpy()
    np.testing.assert_array_equal(lon, layout.coords[:, 0])
    np.testing.assert_array_equal(lat, layout.coords[:, 1])
    assert lon.min() >= -180 and lon.max() <= 180 and lat.min() >= -90 and lat.max() <= 90
    assert np.ptp(lon) > 2  # degrees, not the unit-sphere x, y stored in the table's x, y columns
    # And they are the angles of the unit vectors.
    assert layout.xyz is not None
    np.testing.assert_allclose(np.sin(np.radians(lat)), layout.xyz[:, 2], atol=1e-4)


@pytest.mark.slow
def test_xyz_of_sphere_and_pca(globe_client: TestClient, globe_scope: embedscope.Scope) -> None:
    r = globe_client.get(f"/api/spaces/{SPACE}/layouts/sphere/xyz")
    t = read_arrow(r)
    assert t.schema == pa.schema([("x", pa.float32()), ("y", pa.float32()), ("z", pa.float32())])
    xyz = np.stack([t.column(c).to_numpy() for c in "xyz"], axis=1)
    np.testing.assert_array_equal(xyz, globe_scope.layout(SPACE, "sphere").xyz)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1, atol=1e-5)
    assert len(r.content) / 60 <= 12 + 1200 / 60  # 12 bytes a point + a fixed header
    assert globe_client.get(f"/api/spaces/{SPACE}/layouts/sphere/xyz",
                            headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    pca = read_arrow(globe_client.get(f"/api/spaces/{SPACE}/layouts/pca/xyz"))
    want = globe_scope.layout(SPACE, "pca")
    assert want.xyz is not None
    np.testing.assert_array_equal(np.stack([pca.column(c).to_numpy() for c in "xyz"], axis=1), want.xyz)
    np.testing.assert_array_equal(pca.column("x").to_numpy(), want.coords[:, 0])  # same map, one more axis
    r = globe_client.get(f"/api/spaces/{SPACE}/layouts/umap/xyz")
    assert r.status_code == 404 and "no 3-D coordinates" in r.json()["detail"]


@pytest.mark.slow
def test_honesty_per_item_in_point_order(globe_client: TestClient, globe_scope: embedscope.Scope) -> None:
    for method in ("umap", "sphere", "pca"):
        t = read_arrow(globe_client.get(f"/api/spaces/{SPACE}/layouts/{method}/honesty"))
        assert t.schema == pa.schema([("trustworthiness", pa.float32()), ("continuity", pa.float32()),
                                      ("knn_recall", pa.float32())])
        layout = globe_scope.layout(SPACE, method)
        for col in t.column_names:
            np.testing.assert_array_equal(t.column(col).to_numpy(), layout.per_item[col])
        recall = t.column("knn_recall").to_numpy()
        assert ((recall >= 0) & (recall <= 1)).all()
        # Its mean is the layout's kNN recall (the header shows it).
        assert float(recall.mean()) == pytest.approx(layout.quality["knn_recall"], abs=1e-5)


def test_honesty_of_a_missing_layout_is_404(vec_client: TestClient) -> None:
    assert vec_client.get("/api/spaces/vec/layouts/pca/honesty").status_code == 200
    assert vec_client.get("/api/spaces/vec/layouts/umap/honesty").status_code == 404


# ------------------------------------------------------------------------------------------- clusters
@pytest.fixture(scope="module")
def clustered(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> embedscope.Scope:
    """The 60-item workspace clustered by k-means into 3 clusters."""
    dst = tmp_path_factory.mktemp("clustered") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    s = embedscope.open(dst)
    s.cluster(SPACE, "kmeans", n_clusters=3)
    return s


@pytest.fixture(scope="module")
def clustered_client(clustered: embedscope.Scope) -> TestClient:
    return client_for(clustered, raise_server_exceptions=False)


def test_info_says_which_spaces_have_clusters(client: TestClient, clustered_client: TestClient) -> None:
    assert client.get("/api/info").json()["spaces"][0]["has_clusters"] is False
    assert clustered_client.get("/api/info").json()["spaces"][0]["has_clusters"] is True


def test_clusters_are_listed_biggest_first_with_labels(clustered_client: TestClient,
                                                       clustered: embedscope.Scope) -> None:
    found = clustered.clusters(SPACE)
    body = clustered_client.get(f"/api/spaces/{SPACE}/clusters").json()
    assert set(body) == {"params", "unclustered", "total", "offset", "stale", "version", "clusters"}
    assert body["params"]["method"] == "kmeans" and body["params"]["n_clusters"] == 3
    assert body["unclustered"] == int((found.labels < 0).sum()) == 0
    assert body["total"] == 3 and body["offset"] == 0 and body["stale"] is False and body["version"]
    want = sorted(found.clusters, key=lambda c: (-c["size"], c["id"]))
    assert body["clusters"] == [{"id": c["id"], "size": c["size"], "keywords": c["keywords"], "label": c["label"]}
                                for c in want]
    assert sum(c["size"] for c in body["clusters"]) + body["unclustered"] == 60
    assert all(c["label"] and c["keywords"] for c in body["clusters"])
    # Paged.
    page = clustered_client.get(f"/api/spaces/{SPACE}/clusters", params={"offset": 1, "limit": 1}).json()
    assert page["total"] == 3 and page["offset"] == 1 and page["clusters"] == body["clusters"][1:2]


def test_cluster_labels_are_int32_in_point_order(clustered_client: TestClient, clustered: embedscope.Scope) -> None:
    r = clustered_client.get(f"/api/spaces/{SPACE}/clusters/labels")
    table = read_arrow(r)
    assert table.schema.names == ["cluster"] and table.schema.field("cluster").type == pa.int32()
    np.testing.assert_array_equal(table.column("cluster").to_numpy(), clustered.clusters(SPACE).labels)
    assert len(r.content) < 60 * 4 + 600
    again = clustered_client.get(f"/api/spaces/{SPACE}/clusters/labels", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url", [f"/api/spaces/{SPACE}/clusters", f"/api/spaces/{SPACE}/clusters/labels",
                                 "/api/spaces/nope/clusters", "/api/spaces/nope/clusters/labels"])
def test_clusters_of_a_space_without_them_are_404(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404 and "detail" in r.json()
    if "nope" not in url:
        assert "embedscope cluster" in r.json()["detail"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10_001}, {"offset": -1}])
def test_cluster_pages_are_bounded(clustered_client: TestClient, params: dict[str, int]) -> None:
    assert clustered_client.get(f"/api/spaces/{SPACE}/clusters", params=params).status_code == 422


def test_reclustering_is_picked_up(small_scope: embedscope.Scope) -> None:
    c = client_for(small_scope, raise_server_exceptions=False)
    assert c.get(f"/api/spaces/{SPACE}/clusters").status_code == 404
    small_scope.cluster(SPACE, "kmeans", n_clusters=3)
    first = c.get(f"/api/spaces/{SPACE}/clusters").json()
    assert first["total"] == 3 and c.get("/api/info").json()["spaces"][0]["has_clusters"] is True
    # Another process clusters again with another k: the running app sees it, under a new version.
    embedscope.open(small_scope.path).cluster(SPACE, "kmeans", n_clusters=4)
    second = c.get(f"/api/spaces/{SPACE}/clusters").json()
    assert second["total"] == 4 and second["version"] != first["version"]
    labels = read_arrow(c.get(f"/api/spaces/{SPACE}/clusters/labels")).column("cluster").to_numpy()
    assert sorted(set(labels.tolist())) == [0, 1, 2, 3]


def test_clusters_that_no_longer_fit_the_space_are_404(clustered: embedscope.Scope,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.analyses.clusters import Clustering

    found = clustered.clusters(SPACE)
    monkeypatch.setattr(clustered, "clusters", lambda space=None: Clustering(found.labels[:50], found.clusters))
    c = client_for(clustered, raise_server_exceptions=False)
    r = c.get(f"/api/spaces/{SPACE}/clusters/labels")
    assert r.status_code == 404 and "recompute" in r.json()["detail"]
    assert c.get("/api/info").json()["spaces"][0]["has_clusters"] is False


# ---------------------------------------------------------------------------------------------- items
def test_item_has_text_and_metadata(client: TestClient, scope: embedscope.Scope) -> None:
    items = scope.items_for(SPACE).to_pylist()
    for row in (0, 17, 59):
        body = client.get(f"/api/spaces/{SPACE}/items/{row}").json()
        assert body == {"row": row, "id": scope.point_ids(SPACE)[row], "text": items[row]["text"],
                        "metadata": {"topic": items[row]["topic"], "length": items[row]["length"]}, "has_image": False}


def test_item_metadata_nulls_are_json_null(vec_client: TestClient) -> None:
    body = vec_client.get("/api/spaces/vec/items/0").json()
    assert body["metadata"] == {"flag": True, "wide": "w0", "rating": None}


def test_neighbors_match_the_scope_api(client: TestClient, scope: embedscope.Scope) -> None:
    ids = scope.point_ids(SPACE)
    texts = scope.items_for(SPACE).column("text").to_pylist()
    for row in (0, 25):
        body = client.get(f"/api/spaces/{SPACE}/items/{row}/neighbors").json()
        want = scope.neighbors(ids[row], k=10, space=SPACE)
        assert body["row"] == row and body["id"] == ids[row] and body["metric"] == "cosine" and body["k"] == 10
        assert [n["id"] for n in body["neighbors"]] == want.ids
        assert [n["row"] for n in body["neighbors"]] == want.rows.tolist()
        np.testing.assert_allclose([n["score"] for n in body["neighbors"]], want.scores, rtol=1e-6)
        assert all(n["text"] == texts[n["row"]] for n in body["neighbors"])
        assert ids[row] not in [n["id"] for n in body["neighbors"]]


@pytest.mark.parametrize("metric", ["dot", "euclidean", "manhattan"])
def test_neighbors_other_metrics(client: TestClient, scope: embedscope.Scope, metric: str) -> None:
    body = client.get(f"/api/spaces/{SPACE}/items/3/neighbors", params={"k": 5, "metric": metric}).json()
    want = scope.neighbors(scope.point_ids(SPACE)[3], k=5, metric=metric, space=SPACE)
    assert body["metric"] == metric and [n["id"] for n in body["neighbors"]] == want.ids
    scores = [n["score"] for n in body["neighbors"]]
    assert scores == sorted(scores, reverse=metric == "dot")


def test_neighbors_k_larger_than_the_space(client: TestClient) -> None:
    body = client.get(f"/api/spaces/{SPACE}/items/0/neighbors", params={"k": 1000}).json()
    assert len(body["neighbors"]) == 59


def test_neighbor_texts_are_cut_to_300_chars(vec_client: TestClient, vec_scope: embedscope.Scope) -> None:
    body = vec_client.get("/api/spaces/vec/items/0/neighbors", params={"k": 50}).json()
    lengths = [len(n["text"]) for n in body["neighbors"]]
    assert max(lengths) == 300 and any(n["text"].endswith("…") for n in body["neighbors"])
    assert len(vec_client.get("/api/spaces/vec/items/0").json()["text"]) > 1000  # the item keeps it all


def test_vectors_only_items_have_null_text(tmp_path: Path) -> None:
    s = embedscope.create(tmp_path / "v.scope")
    s.add_vectors("v", ["a", "b", "c"], np.eye(3, dtype=np.float32) + 0.1)
    c = client_for(s)
    assert c.get("/api/info").json()["has_text"] is False
    assert c.get("/api/spaces/v/items/1").json() == {"row": 1, "id": "b", "text": None, "metadata": {}, "has_image": False}
    nbrs = c.get("/api/spaces/v/items/1/neighbors", params={"k": 2}).json()["neighbors"]
    assert [n["text"] for n in nbrs] == [None, None]
    assert c.get("/api/spaces/v/columns").json() == []


def test_big_space_without_graph_answers_by_one_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.server.routes import items as items_route

    monkeypatch.setattr(items_route, "SCAN_ABOVE", 100)
    rng = np.random.default_rng(3)
    s = embedscope.create(tmp_path / "scan.scope")
    ids = [f"i{i}" for i in range(300)]
    s.add_vectors("v", ids, rng.normal(size=(300, 12)).astype(np.float32))
    body = client_for(s).get("/api/spaces/v/items/7/neighbors", params={"k": 10}).json()
    assert not any(name.startswith("neighbors__") for name in s.manifest.records)  # no graph was built
    want = embedscope.open(s.path).neighbors("i7", k=10, space="v")  # from the graph
    assert [n["id"] for n in body["neighbors"]] == want.ids
    np.testing.assert_allclose([n["score"] for n in body["neighbors"]], want.scores, rtol=1e-5)


# --------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("url", "status"), [
    ("/api/spaces/nope/columns", 404),
    ("/api/spaces/nope/layouts/umap", 404),
    ("/api/spaces/nope/items/0", 404),
    (f"/api/spaces/{SPACE}/layouts/tsne", 404),
    (f"/api/spaces/{SPACE}/layouts/tsne/xyz", 404),
    (f"/api/spaces/{SPACE}/layouts/tsne/honesty", 404),
    (f"/api/spaces/{SPACE}/layouts/umap/xyz", 404),
    ("/api/spaces/nope/layouts/umap/honesty", 404),
    (f"/api/spaces/{SPACE}/columns/nope", 404),
    (f"/api/spaces/{SPACE}/columns/text", 404),
    (f"/api/spaces/{SPACE}/items/60", 404),
    (f"/api/spaces/{SPACE}/items/60/neighbors", 404),
    (f"/api/spaces/{SPACE}/items/-1", 422),
    (f"/api/spaces/{SPACE}/items/abc", 422),
    (f"/api/spaces/{SPACE}/items/0/neighbors?k=0", 422),
    (f"/api/spaces/{SPACE}/items/0/neighbors?k=1001", 422),
    (f"/api/spaces/{SPACE}/items/0/neighbors?k=ten", 422),
    (f"/api/spaces/{SPACE}/items/0/neighbors?metric=jaccard", 422),
    ("/api/spaces/..%2F..%2Fetc/items/0", 404),
])
def test_user_mistakes_are_4xx_with_detail(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text
    assert "detail" in r.json()


# ------------------------------------------------------------------------------------ cache and token
def test_workspace_changes_are_picked_up(small_scope: embedscope.Scope) -> None:
    c = client_for(small_scope, raise_server_exceptions=False)
    before = c.get(f"/api/spaces/{SPACE}/layouts/umap")
    assert [col["name"] for col in c.get(f"/api/spaces/{SPACE}/columns").json()] == ["topic", "length"]
    items = small_scope.items_for(SPACE)
    ids = items.column("id").to_pylist()
    # Another process adds a metadata column: the running app sees it without a restart.
    other = embedscope.open(small_scope.path)
    other.ingest(pd.DataFrame({"id": ids, "text": items.column("text").to_pylist(),
                               "score": [float(i) for i in range(len(ids))]}))
    cols = {col["name"]: col["kind"] for col in c.get(f"/api/spaces/{SPACE}/columns").json()}
    assert cols["score"] == "numeric"
    assert read_arrow(c.get(f"/api/spaces/{SPACE}/columns/score")).column("score").to_pylist()[:3] == [0.0, 1.0, 2.0]
    after = c.get(f"/api/spaces/{SPACE}/layouts/umap")
    assert after.content == before.content and after.headers["etag"] != before.headers["etag"]


def test_token_is_required_when_set(scope: embedscope.Scope) -> None:
    c = client_for(scope, token="s3cret")
    assert c.get("/api/info").status_code == 401
    assert c.get("/api/info", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/api/info", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/", params={"token": "s3cret"}).status_code in (200, 503)
    assert c.get("/api/info").status_code == 200  # the cookie set by the page's URL


# --------------------------------------------------------------------------------------------- static
def test_page_without_built_front_end_says_how_to_build(scope: embedscope.Scope, tmp_path: Path) -> None:
    r = client_for(scope, static_dir=tmp_path).get("/")
    assert r.status_code == 503 and "npm run build" in r.text


@pytest.mark.skipif(not (STATIC_DIR / "index.html").is_file(), reason="front end not built (cd web && npm run build)")
def test_page_and_assets_are_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="\.?/?(assets/[^"]+)"', r.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for a in assets:
        assert client.get(f"/{a}").status_code == 200


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/info", "/api/spaces/{space}/columns", "/api/spaces/{space}/columns/{name}",
            "/api/spaces/{space}/layouts/{method}", "/api/spaces/{space}/layouts/{method}/xyz",
            "/api/spaces/{space}/layouts/{method}/honesty", "/api/spaces/{space}/items/{row}",
            "/api/spaces/{space}/items/{row}/neighbors", "/api/spaces/{space}/clusters",
            "/api/spaces/{space}/clusters/labels"} <= set(paths)


# ---------------------------------------------------------------------------------------------- pages
def test_items_are_paged_in_point_order(vec_client: TestClient, vec_scope: embedscope.Scope) -> None:
    url = "/api/spaces/vec/items"
    first = vec_client.get(url).json()
    assert first["total"] == N_VEC and first["offset"] == 0 and len(first["items"]) == 100
    page = vec_client.get(url, params={"offset": 2990, "limit": 50}).json()
    ids = [str(i) for i in vec_scope.point_ids("vec")]
    assert [it["row"] for it in page["items"]] == list(range(2990, 3000))
    assert [it["id"] for it in page["items"]] == ids[2990:]
    assert first["items"][0]["metadata"] == {"flag": True, "wide": "w0", "rating": None}
    assert page["items"][0]["metadata"]["rating"] == 0.0
    assert all(len(it["text"]) <= 300 for it in first["items"]) and first["items"][0]["text"].endswith("…")
    assert vec_client.get(url, params={"offset": 5000}).json()["items"] == []
    for bad in ({"limit": 1001}, {"limit": 0}, {"offset": -1}):
        assert vec_client.get(url, params=bad).status_code == 422
    assert vec_client.get("/api/spaces/nope/items").status_code == 404


# ------------------------------------------------------------------------------------- first-paint warm-up
def test_warm_up_prepares_what_the_first_paint_asks_for(clustered: embedscope.Scope,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from embedscope.server.warm import warm_first_paint

    app = create_app(clustered)
    state = app.state.explorer
    steps = warm_first_paint(state)
    assert {"spaces and columns", "clusters", "umap layout"} <= set(steps)
    colour = next(k for k in steps if k.startswith("colours ("))[len("colours ("):-1]
    assert colour == "topic"  # the page's default colour column (categorical, in PREFERRED)
    # Every first-paint request is now answered from memory: reading the workspace again would fail.
    for name in ("layout", "items_for", "clusters", "items", "point_ids"):
        monkeypatch.setattr(clustered, name, lambda *a, **k: pytest.fail("read the workspace after warm-up"))
    client = TestClient(app, raise_server_exceptions=False)
    info = client.get("/api/info").json()
    assert info["count"] == 60 and info["has_text"] is True and info["default_space"] == SPACE
    assert [c["name"] for c in client.get(f"/api/spaces/{SPACE}/columns").json()] == ["topic", "length"]
    for url in (f"/api/spaces/{SPACE}/layouts/umap", f"/api/spaces/{SPACE}/columns/topic",
                f"/api/spaces/{SPACE}/clusters/labels"):
        assert len(read_arrow(client.get(url))) == 60
    assert client.get(f"/api/spaces/{SPACE}/clusters").json()["total"] == 3
    # the page names those requests as preloads, with the URLs the page's own fetches use
    assert state.preload == ("api/info", f"api/spaces/{SPACE}/columns", f"api/spaces/{SPACE}/clusters?limit=10000",
                             f"api/spaces/{SPACE}/layouts/umap", f"api/spaces/{SPACE}/columns/topic")


def test_page_names_the_warmed_requests_as_preloads(clustered: embedscope.Scope, tmp_path: Path) -> None:
    from embedscope.server.warm import warm_first_paint, warm_routes

    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<html><head><title>t</title></head><body></body></html>")
    app = create_app(clustered, token="T0K", static_dir=static)
    client = TestClient(app)
    plain = client.get("/", headers={"Authorization": "Bearer T0K"}).text
    assert "preload" not in plain  # nothing warmed, nothing named
    warm_first_paint(app.state.explorer)
    assert warm_routes(app, "T0K") == 200 and warm_routes(app) == 401  # the page's route, through the guard
    page = client.get("/", headers={"Authorization": "Bearer T0K"}).text
    links = re.findall(r'<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]+)">', page)
    assert links == list(app.state.explorer.preload) and page.index("preload") < page.index("</head>")


def test_warm_up_of_an_empty_workspace_does_nothing(tmp_path: Path) -> None:
    from embedscope.server.warm import warm_first_paint

    assert warm_first_paint(create_app(embedscope.create(tmp_path / "empty.scope")).state.explorer) == {}


def test_health_checks_carry_their_titles_and_the_cli_figures(client: TestClient, scope: embedscope.Scope) -> None:
    from embedscope.analyses.diagnostics import CHECKS

    doc = client.get(f"/api/spaces/{SPACE}/health").json()
    assert [c["name"] for c in doc["checks"]] == list(CHECKS)
    assert [c["title"] for c in doc["checks"]] == list(CHECKS.values())
    cli = {c["name"]: c for c in scope.health(SPACE)}
    for check in doc["checks"]:  # everything `embedscope health --json` prints, plus the title
        rest = {k: v for k, v in check.items() if k != "title"}
        assert rest.keys() == cli[check["name"]].keys()
    assert {"counts", "edges", "n", "exact", "population", "seed", "stats", "metric", "kind"} <= doc["histogram"].keys()
    assert doc["labels"]["column"] == "topic" and {"counts", "edges", "n"} == doc["labels"]["same"].keys()


def test_keyword_search_matches_whole_words(vec_client: TestClient) -> None:
    """'text 12' finds the item with the words "text" and "12", not "text 120" or "text 1299" (a substring
    match found 11 of them; issue 24 item 10)."""
    body = vec_client.get("/api/spaces/vec/search", params={"q": "text 12", "mode": "keyword", "k": 50}).json()
    assert body["total"] == 1 and [h["id"] for h in body["hits"]] == ["v00012"]
    scores = read_arrow(vec_client.get("/api/spaces/vec/search/scores", params={"q": "text 12", "mode": "keyword"}))
    assert int(np.asarray(scores.column("score")).sum()) == 1
    none = vec_client.get("/api/spaces/vec/search", params={"q": "?!", "mode": "keyword"})
    assert none.status_code == 200 and none.json()["total"] == 0  # no words: a substring match, none here
