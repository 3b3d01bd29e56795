"""The public storage API (:mod:`embedscope.store`): records, staleness, reads at the recorded version, the
per-version memo and the write lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import embedscope
from embedscope.errors import InputError, WorkspaceError
from embedscope.store.manifest import Record, fingerprint_arrays
from embedscope.store.tables import ITEMS, check_space_name, graph_arrays, graph_table, vectors_table
from embedscope.store.workspace import SpaceArrays, Workspace

IDS = [f"i{j}" for j in range(6)]


def _vectors(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((len(IDS), 4)).astype(np.float32)


@pytest.fixture
def store(tmp_path: Path) -> Workspace:
    scope = embedscope.create(tmp_path / "w.scope")
    scope.add_vectors("v", IDS, _vectors())
    return scope.store


def _derived(store: Workspace, name: str = "derived__v") -> Record:
    """A result made from the vectors of space v, recorded as every step records one."""
    rec = Record(table=name, kind="derived", inputs={vectors_table("v"): store.require(vectors_table("v")).fingerprint})
    with store.writing():
        store.write(rec, pa.table({"id": pa.array(IDS)}))
    return rec


def test_records_name_what_is_stored(store: Workspace) -> None:
    assert store.record(ITEMS) is not None and store.record(ITEMS).kind == "items"  # type: ignore[union-attr]
    assert store.record("nothing__here") is None
    assert [r.table for r in store.records("space")] == ["vectors__v"]
    assert {r.table for r in store.records()} == {ITEMS, "vectors__v"}
    rec = store.require("vectors__v")
    assert (rec.kind, rec.rows, rec.params["dim"]) == ("space", len(IDS), 4)
    assert rec.table_version is not None and rec.table in store.table_names()
    with pytest.raises(WorkspaceError, match="no table 'nothing__here'"):
        store.require("nothing__here")


def test_a_result_goes_stale_when_its_input_changes(store: Workspace) -> None:
    rec = _derived(store)
    assert not store.is_stale(store.require("derived__v"))
    with store.writing():
        store.write_space("v", IDS, _vectors(1), {"source": "vectors"})
    assert store.is_stale(rec)
    with store.writing():  # and when its input is gone
        store.drop("vectors__v")
    assert store.is_stale(rec)
    assert "vectors__v" not in store.table_names()


def test_an_embedded_space_goes_stale_when_its_texts_change(tmp_path: Path) -> None:
    scope = embedscope.create(tmp_path / "w.scope")
    scope.ingest(pa.table({"id": IDS, "text": [f"text {j}" for j in range(len(IDS))]}).to_pandas())
    store = scope.store
    items_fp = store.require(ITEMS).fingerprint
    with store.writing():
        store.write_space("e", IDS, _vectors(), {"source": "embedded", "model": "m"}, {ITEMS: items_fp})
        store.write_space("b", IDS, _vectors(), {"source": "vectors"})
    assert not store.space_is_stale(store.require("vectors__e"))
    with store.writing():
        done = store.upsert_items(pa.table({"id": ["i0"], "text": ["another text"]}), "edit")
    assert (done.added, done.updated, done.rows) == (0, 1, len(IDS))
    assert store.space_is_stale(store.require("vectors__e"))
    assert not store.space_is_stale(store.require("vectors__b"))  # brought vectors never are


def test_arrays_are_read_once_per_table_version(store: Workspace) -> None:
    first = store.arrays("v")
    assert isinstance(first, SpaceArrays)
    assert first.ids == IDS and first.pos == {s: j for j, s in enumerate(IDS)}
    np.testing.assert_array_equal(first.x, _vectors())
    assert store.arrays("v") is first  # the same version: not read again
    assert store.point_ids("v") == IDS
    with store.writing():
        store.write_space("v", IDS[::-1], _vectors(2), {"source": "vectors"})
    second = store.arrays("v")
    assert second is not first and second.ids == IDS[::-1]
    np.testing.assert_array_equal(second.x, _vectors(2))
    assert store.point_ids("v") == IDS[::-1]
    np.testing.assert_array_equal(first.x, _vectors())  # what a reader already holds is never changed in place


def test_reads_are_at_the_recorded_version(store: Workspace) -> None:
    """A commit that was never recorded (a process killed between the two) is not what the workspace holds."""
    x = _vectors(3)
    orphan = pa.table({"id": pa.array(IDS), "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 4)})
    with store.writing():
        version = store.commit("vectors__v", orphan)
    assert version != store.require("vectors__v").table_version
    np.testing.assert_array_equal(store.arrays("v").x, _vectors())
    np.testing.assert_array_equal(np.stack(store.read("vectors__v").column("vector").to_pylist()), _vectors())
    assert store.read_columns("vectors__v", ["id"]).column("id").to_pylist() == IDS
    assert store.open_table("vectors__v").version == store.require("vectors__v").table_version
    assert store.open_table("vectors__v", version).version == version  # the orphan, when asked for by version


def test_memo_computes_once_per_version_and_keeps_one_version(store: Workspace) -> None:
    calls: list[int] = []

    def compute(v: int) -> list[int]:
        calls.append(v)
        return [v]

    a = store.memo("k", 1, lambda: compute(1))
    assert store.memo("k", 1, lambda: compute(99)) is a and calls == [1]
    assert store.memo("k", 2, lambda: compute(2)) == [2] and calls == [1, 2]
    assert store.memo("k", 1, lambda: compute(1)) == [1] and calls == [1, 2, 1]  # version 1 was replaced by 2
    assert store.memo("other", 1, lambda: compute(5)) == [5]  # keys do not share
    forked = store.fork()
    assert forked.memo("other", 1, lambda: compute(6)) == [5]  # a fork starts with what was memoised


def test_writing_holds_the_lock_and_rereads_the_manifest(store: Workspace, tmp_path: Path) -> None:
    other = store.fork()
    fd = os.open(store.path / ".lock", os.O_RDWR)
    try:
        with store.writing():
            with pytest.raises(BlockingIOError):  # any other writer waits
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            store.write(Record(table="extra", kind="extra"), pa.table({"id": pa.array(["a"])}))
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the block ends
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    assert other.record("extra") is None  # another handle sees the write after reload or when it writes
    with other.writing():
        assert other.record("extra") is not None
    with pytest.raises(RuntimeError), store.writing():  # an error inside releases the lock, leaves no temporaries
        (store.path / "models").mkdir(exist_ok=True)
        (store.path / "models" / ".half.npz.tmp").write_bytes(b"x")
        raise RuntimeError("boom")
    assert not list((store.path / "models").glob(".*tmp"))
    with store.writing():
        pass


def test_model_files_and_the_embedding_cache_live_in_the_workspace(store: Workspace) -> None:
    name = store.save_model("v__codec", "codec", {"w": np.eye(2, dtype=np.float32)}, {"codec": "test"})
    assert store.model_path(name).is_file() and store.model_path(name).parent == store.path / "models"
    assert store.staging_path("job") == store.path / "staging" / "job"
    cache = store.lance_cache("model-key")
    assert cache.lookup(["h1"]) == {}
    cache.store(["h1", "h2"], np.array([[1, 0], [0, 1]], np.float32))
    found = store.lance_cache("model-key").lookup(["h2", "h3"])
    assert list(found) == ["h2"]
    np.testing.assert_array_equal(found["h2"], [0, 1])
    assert cache.name in store.table_names() and store.record(cache.name) is None  # never in the manifest
    assert store.lance_cache("another-key").lookup(["h1"]) == {}


def test_space_names_and_the_graph_table() -> None:
    assert check_space_name("a.b-c_9") == "a.b-c_9"
    for bad in ("a__b", "", "-a", "x" * 65, "a/b"):
        with pytest.raises(InputError, match="invalid space name"):
            check_space_name(bad)
    idx = np.array([[1, 2], [0, 2], [0, 1]], np.int32)
    sim = np.array([[0.9, 0.5], [0.9, 0.4], [0.5, 0.4]], np.float32)
    t = graph_table(["a", "b", "c"], idx, sim)
    back = graph_arrays(t, 2)
    np.testing.assert_array_equal(back[0], idx)
    np.testing.assert_array_equal(back[1], sim)
    empty = graph_arrays(graph_table(["a"], np.zeros((1, 0), np.int32), np.zeros((1, 0), np.float32)), 0)
    assert empty[0].shape == (1, 0) and empty[1].dtype == np.float32


def test_the_scope_reaches_storage_only_through_its_store(store: Workspace) -> None:
    scope = embedscope.open(store.path)
    assert isinstance(scope.store, Workspace) and scope.manifest is scope.store.manifest
    assert scope.fork().store is not scope.store
    assert fingerprint_arrays(pa.array(IDS), _vectors()) == scope.store.require("vectors__v").fingerprint
