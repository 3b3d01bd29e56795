"""Crash safety: jobs killed with SIGKILL at seeded random moments never corrupt a workspace.

For each job kind (embed, project, translate fit, translate apply, compress --store) an uninterrupted run of a
copy of one prepared workspace gives the reference result and the job's duration. Then, for each of
``KILLS`` seeded moments uniform in [0, 1.2 x duration], a fresh copy runs the job and is killed at that
moment with SIGKILL (a fork server, ``tests/robustness/crashkit.py``, starts jobs with the imports already done, so
the moments fall in the job's work, not in Python's start-up). After each kill:

- the workspace opens, ``info`` works, and every table its manifest records reads in full;
- every result that was there before the job is unchanged (equal tables, equal model files);
- a result the job recorded before it died equals the reference (nothing half-written is ever recorded);
- rerunning the same command completes (exit 0) with results equal to the reference.

A workspace failing any of these counts as corrupted; the summary line reports kill points and corrupted
workspaces, and the test asserts zero.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import embedscope

from .crashkit import ForkServer

pytestmark = pytest.mark.slow

KILLS = 20
SEED = 20261122
N_ITEMS = 300


@dataclass
class Job:
    """A CLI job to kill: its arguments (given the workspace and a scratch folder) and its result."""

    name: str
    args: Callable[[Path, Path], list[str]]
    result: Callable[[Path, Path], Any]
    same: Callable[[Any, Any], bool]
    fresh: bool = False  # the job creates its workspace (there is none before it)
    base: str = "base.scope"  # the prepared workspace it runs on


QUERY = "a lamp unto my feet, and a light unto my path"


def _reembedded(ws: Path, _: Path) -> Any:
    s = embedscope.open(ws)
    return s.vectors("lsa"), s.embed_query(QUERY, "lsa")


def _same_reembedded(a: Any, b: Any) -> bool:
    return _same_vectors(a[0], b[0]) and bool(np.allclose(a[1], b[1], atol=1e-6))


def _items(ws: Path, _: Path) -> Any:
    return embedscope.open(ws).items()


def _vectors(space: str) -> Callable[[Path, Path], Any]:
    def get(ws: Path, _: Path) -> Any:
        return embedscope.open(ws).vectors(space)
    return get


def _same_vectors(a: Any, b: Any) -> bool:
    return bool(a[0] == b[0] and a[1].shape == b[1].shape and np.allclose(a[1], b[1], atol=1e-5))


def _layout(ws: Path, _: Path) -> Any:
    lay = embedscope.open(ws).layout("lsa", "pca")
    return lay.ids, lay.coords


def _translator(_: Path, scratch: Path) -> Any:
    from embedscope.translate import load

    tl = load(scratch / "lsa-lsb.translator")
    return tl.method, {k: np.asarray(v) for k, v in tl.weights.items()}


def _same_translator(a: Any, b: Any) -> bool:
    return bool(a[0] == b[0] and a[1].keys() == b[1].keys()
                and all(np.allclose(a[1][k], b[1][k], atol=1e-6) for k in a[1]))


def _compressed(ws: Path, _: Path) -> Any:
    s = embedscope.open(ws)
    table = s.compression("lsa")
    assert table is not None
    recalls = [(r["codec"], r["recall@1"], r["recall@10"], r["recall@100"]) for r in table["rows"]]
    return recalls, s.vectors("lsa-int8")


def _same_compressed(a: Any, b: Any) -> bool:
    return bool(a[0] == b[0] and _same_vectors(a[1], b[1]))


JOBS = [
    Job("ingest-new", lambda ws, d: ["ingest", ws, d / "items.csv"], _items, lambda a, b: bool(a.equals(b)),
        fresh=True),
    Job("ingest-upsert", lambda ws, d: ["ingest", ws, d / "changes.csv"], _items, lambda a, b: bool(a.equals(b))),
    Job("embed", lambda ws, _: ["embed", ws, "--model", "tfidf:24", "--space", "lsc", "--batch-size", "10"],
        _vectors("lsc"), _same_vectors),
    # the items changed since lsa was embedded: a new fit replaces the vectors and the query model together
    Job("re-embed", lambda ws, _: ["embed", ws, "--model", "tfidf:32", "--space", "lsa", "--batch-size", "25"],
        _reembedded, _same_reembedded, base="stale.scope"),
    Job("project", lambda ws, _: ["project", ws, "--space", "lsa", "--method", "pca", "--seed", "7"],
        _layout, lambda a, b: bool(a[0] == b[0] and np.array_equal(a[1], b[1]))),
    Job("translate-fit", lambda ws, d: ["translate", "fit", ws, "--from", "lsa", "--to", "lsb", "--method", "ridge",
                                        "-o", d / "lsa-lsb.translator", "--test-size", "50"],
        _translator, _same_translator),
    Job("translate-apply", lambda ws, d: ["translate", "apply", d / "base.translator", ws, "--space", "lsa",
                                          "--as", "lsb-from-lsa"],
        _vectors("lsb-from-lsa"), _same_vectors),
    Job("compress", lambda ws, _: ["compress", ws, "--space", "lsa", "--codec", "int8",
                                   "--codec", "pca-8", "--queries", "40", "--store", "int8", "--as", "lsa-int8"],
        _compressed, _same_compressed),
]


def contents(ws: Path, scratch: Path | None = None) -> dict[str, Any]:
    """Everything the manifest records, read in full (tables as Arrow, the record's parameters, with the job's
    scratch folder written as ``<scratch>``), and the model files; raises if the workspace does not open or a
    table does not read."""
    s = embedscope.open(ws)
    s.info()
    out: dict[str, Any] = {}
    for name, rec in s.manifest.records.items():
        params = json.dumps(rec.params, sort_keys=True, default=str)
        if scratch is not None:
            params = params.replace(str(scratch), "<scratch>")
        query = b""
        if rec.kind == "space" and rec.params.get("source") != "vectors":  # its query model goes with it
            query = s.embed_query(QUERY, name.removeprefix("vectors__")).tobytes()
        out[name] = (s.store.read(name), rec.kind, params, rec.fingerprint, query)
    models = ws / "models"
    if models.is_dir():
        for f in sorted(models.glob("*.npz")):
            out[f"models/{f.name}"] = f.read_bytes()
    return out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, pa.Table):
        return bool(a.equals(b))
    return bool(a == b)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 Bible verses in two TF-IDF spaces (lsa: 32 dims, lsb: 16), a stored kNN graph and PCA layout of lsb,
    and a translator lsa -> lsb beside the workspace (``base.translator``)."""
    from embedscope.io.samples import bible

    root = tmp_path_factory.mktemp("crash")
    s = embedscope.create(root / "base.scope")
    s.ingest(bible(N_ITEMS)[["id", "text", "book"]])
    s.embed("lsa", "tfidf:32")
    s.embed("lsb", "tfidf:16")
    s.project("lsb", "pca")
    tl = s.translate_fit("lsa", "lsb", "ridge", test_size=50)
    tl.save(root / "base.translator")
    df = bible(N_ITEMS + 100)[["id", "text", "book"]]
    df.iloc[:N_ITEMS].to_csv(root / "items.csv", index=False)
    changes = df.iloc[N_ITEMS - 100:].copy()  # 100 new items, 100 changed texts
    changes.iloc[:100, 1] = changes.iloc[:100, 1] + " (revised)"
    changes.to_csv(root / "changes.csv", index=False)
    shutil.copytree(root / "base.scope", root / "stale.scope")
    embedscope.open(root / "stale.scope").ingest(root / "changes.csv")
    return root / "base.scope"


def check_after_kill(job: Job, ws: Path, scratch: Path, before: dict[str, Any], reference: dict[str, Any],
                     ref_result: Any, server: ForkServer, log: Path) -> list[str]:
    """What is wrong with ``ws`` after a kill (empty when nothing is)."""
    problems = []
    try:
        now = contents(ws, scratch) if ws.exists() or not job.fresh else {}
    except Exception as exc:
        return [f"does not open or read: {type(exc).__name__}: {exc}"]
    for name, value in before.items():  # each earlier result: as it was, or as the finished job leaves it
        if name not in now:
            if name in reference:
                problems.append(f"{name} vanished")
        elif not _equal(value, now[name]) and not (name in reference and _equal(reference[name], now[name])):
            problems.append(f"{name} changed into neither its old nor its new state")
    for name, value in now.items():
        if name in before or name.startswith("models/"):
            continue
        if name not in reference:
            problems.append(f"{name} recorded, but an uninterrupted run does not make it")
        elif not _equal(value[1:], reference[name][1:]) or value[0].num_rows != reference[name][0].num_rows:
            problems.append(f"{name} recorded half-made")
    res = server.run(job.args(ws, scratch), log)
    if res["code"] != 0:
        return [*problems, f"rerun exit {res['code']}: {res['stderr'].strip()[-300:]}"]
    try:
        if not job.same(job.result(ws, scratch), ref_result):
            problems.append("rerun result differs from the uninterrupted run")
    except Exception as exc:
        problems.append(f"rerun result unreadable: {type(exc).__name__}: {exc}")
    return problems


def _stage(prepared: Path, scratch: Path) -> None:
    """The job's input files, beside the workspace (a translator, the CSVs to ingest)."""
    for name in ("base.translator", "items.csv", "changes.csv"):
        shutil.copy(prepared.parent / name, scratch)


@pytest.fixture(scope="module")
def server() -> Any:
    srv = ForkServer()
    yield srv
    srv.close()


@pytest.mark.parametrize("job", JOBS, ids=[j.name for j in JOBS])
def test_kill_job(job: Job, prepared: Path, server: ForkServer, tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    prepared = prepared.parent / job.base
    before = {} if job.fresh else contents(prepared)
    ref_ws, ref_dir = tmp_path / "ref.scope", tmp_path / "ref"
    if not job.fresh:
        shutil.copytree(prepared, ref_ws)
    ref_dir.mkdir()
    _stage(prepared, ref_dir)
    ref = server.run(job.args(ref_ws, ref_dir), tmp_path / "ref")
    assert ref["code"] == 0, ref["stderr"]
    # the job's duration: the shorter of two uninterrupted runs (the first may pay for cold caches)
    again_ws = tmp_path / "again.scope"
    if not job.fresh:
        shutil.copytree(prepared, again_ws)
    again = server.run(job.args(again_ws, ref_dir), tmp_path / "again")
    assert again["code"] == 0, again["stderr"]
    shutil.rmtree(again_ws)
    duration = min(float(ref["seconds"]), float(again["seconds"]))
    reference = contents(ref_ws, ref_dir)
    ref_result = job.result(ref_ws, ref_dir)
    assert job.same(ref_result, ref_result)

    rnd = random.Random(f"{SEED}-{job.name}")
    moments = sorted(rnd.uniform(0.0, 1.2 * duration) for _ in range(KILLS))
    corrupted: dict[float, list[str]] = {}
    killed = litter = 0
    for i, t in enumerate(moments):
        ws, scratch = tmp_path / f"k{i}.scope", tmp_path / f"k{i}"
        if not job.fresh:
            shutil.copytree(prepared, ws)
        scratch.mkdir()
        _stage(prepared, scratch)
        out = server.kill_at(job.args(ws, scratch), tmp_path / f"k{i}", t)
        killed += bool(out["killed"])
        # temporary files a kill leaves behind (harmless: never read; counted, not failed)
        litter += len([*tmp_path.glob(f".k{i}.scope.creating-*"), *scratch.glob(".*.tmp"), *ws.glob(".scope.*.tmp")])
        problems = check_after_kill(job, ws, scratch, before, reference, ref_result, server, tmp_path / f"r{i}")
        if problems:
            corrupted[t] = problems
        shutil.rmtree(ws)
        shutil.rmtree(scratch)
    with capsys.disabled():  # the summary shows in every run, passing or not
        print(f"\ncrash harness: {job.name}: {len(moments)} kill points over {1.2 * duration:.2f} s "
              f"(job {duration:.2f} s, {killed} killed mid-run, {len(moments) - killed} finished first); "
              f"corrupted workspaces: {len(corrupted)}; stray temporary files: {litter}")
    assert len(moments) >= 20
    assert not corrupted, corrupted


def test_refit_dying_before_its_commit_keeps_the_old_query_model(prepared: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The narrow window the random kills rarely hit: a refit's model is saved, then the process dies before the
    new vectors are recorded. The old vectors must still embed queries with their own model."""
    ws = tmp_path / "s.scope"
    shutil.copytree(prepared.parent / "stale.scope", ws)
    s = embedscope.open(ws)
    q0, v0 = s.embed_query(QUERY, "lsa"), np.array(s.vectors("lsa")[1])

    def die(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt  # the process ends here, before the vectors are written

    monkeypatch.setattr(type(s.store), "write_space", die)
    with pytest.raises(KeyboardInterrupt):
        s.embed("lsa", "tfidf:32")
    monkeypatch.undo()
    again = embedscope.open(ws)
    np.testing.assert_array_equal(again.vectors("lsa")[1], v0)
    np.testing.assert_array_equal(again.embed_query(QUERY, "lsa"), q0)
    again.embed("lsa", "tfidf:32")  # the rerun then replaces both, and only one model file remains
    assert np.asarray(again.embed_query(QUERY, "lsa")).shape == q0.shape
    assert len(list((ws / "models").glob("lsa__fit-*.npz"))) == 1
