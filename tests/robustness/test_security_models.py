"""Opening a workspace someone sent you never runs their code: fitted models are data, never unpickled.

Each test plants a crafted pickle (an object whose ``__reduce__`` creates a marker file when unpickled) under
every name the code could read for one kind of model (the file the manifest records, the legacy ``.pkl`` name,
and the manifest pointed at a ``.pkl``), runs the real path that reads the model, and checks that the marker was
never written and that the answer is right or a clear one-line error.
"""

from __future__ import annotations

import builtins
import io
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import embedscope
from embedscope.errors import InputError, ManifestError, WorkspaceError
from tests.helpers import topic_frame

QUERY = "rocket orbit satellite"


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: the marker file appears if anything unpickles it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (builtins.open, (str(self.marker), "w"))


def plant(path: Path, marker: Path) -> None:
    """Write the crafted pickle to ``path`` (replacing what is there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Payload(marker)))


def point_manifest(ws: Path, table: str, key: str, name: str) -> None:
    """Edit ``scope.json`` as a hostile author would: the record of ``table`` names model file ``name``."""
    doc = json.loads((ws / "scope.json").read_text())
    doc["records"][table]["params"][key] = name
    (ws / "scope.json").write_text(json.dumps(doc))


def attempt(call: Any) -> Any:
    """``call()``'s result, or the exception it raised (checked after the marker)."""
    try:
        return call()
    except Exception as exc:
        return exc


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "embedscope", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def tfidf_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 short texts in a TF-IDF space ``lsa`` (16 dims) and its compressed copy ``lsa8`` (pca-8)."""
    path = tmp_path_factory.mktemp("secmodels") / "base.scope"
    s = embedscope.create(path)
    s.ingest(topic_frame(2))
    s.embed("lsa", "tfidf:16")
    s.compress_space("lsa", "pca-8", "lsa8")
    return path


def fresh(tfidf_ws: Path, tmp_path: Path) -> Path:
    import shutil

    dst = tmp_path / "ws.scope"
    shutil.copytree(tfidf_ws, dst)
    return dst


def test_tfidf_recorded_model_file_replaced_by_a_pickle(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the author swaps the TF-IDF model file the manifest names (and plants lsa.pkl) for a pickle that
    # runs code; the victim runs `neighbors --query` on the space
    ws = fresh(tfidf_ws, tmp_path)
    marker = tmp_path / "pwned"
    rec = embedscope.open(ws).manifest.records["vectors__lsa"]
    plant(ws / "models" / str(rec.params["model_file"]), marker)
    plant(ws / "models" / "lsa.pkl", marker)
    p = cli("neighbors", str(ws), "--space", "lsa", "--query", QUERY)
    assert not marker.exists(), "the planted pickle was unpickled"
    assert p.returncode == 1 and p.stdout == "", p
    assert len(p.stderr.strip().splitlines()) == 1 and "not a readable model file" in p.stderr, p.stderr


def test_tfidf_manifest_points_at_a_legacy_pickle(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the manifest names a legacy `.pkl` model (as workspaces of earlier versions did) holding the
    # payload; the answer is a clear error that says how to re-embed, never the pickle
    ws = fresh(tfidf_ws, tmp_path)
    marker = tmp_path / "pwned"
    plant(ws / "models" / "lsa__fit-0123456789abcdef.pkl", marker)
    point_manifest(ws, "vectors__lsa", "model_file", "lsa__fit-0123456789abcdef.pkl")
    p = cli("neighbors", str(ws), "--space", "lsa", "--query", QUERY)
    assert not marker.exists(), "the planted pickle was unpickled"
    assert p.returncode == 1 and p.stdout == "", p
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "is never opened" in p.stderr and f"embedscope embed {ws} --model tfidf:16 --space lsa" in p.stderr


def test_tfidf_model_with_a_pickled_object_array(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: a well-formed .npz whose `idf` member is an object array (numpy stores it as a pickle)
    ws = fresh(tfidf_ws, tmp_path)
    marker = tmp_path / "pwned"
    rec = embedscope.open(ws).manifest.records["vectors__lsa"]
    path = ws / "models" / str(rec.params["model_file"])
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["idf"] = np.array([_Payload(marker)], dtype=object)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    p = cli("neighbors", str(ws), "--space", "lsa", "--query", QUERY)
    assert not marker.exists(), "the planted object array was unpickled"
    assert p.returncode == 1 and "not a readable model file" in p.stderr, p


def test_tfidf_query_after_reopen_is_the_fitted_model(tfidf_ws: Path, tmp_path: Path) -> None:
    # the data format loses nothing: a reopened workspace embeds queries and items exactly as the fitted model
    ws = fresh(tfidf_ws, tmp_path)
    s = embedscope.create(tmp_path / "again.scope")
    s.ingest(topic_frame(2))
    s.embed("lsa", "tfidf:16")
    fitted = s.query_embedders["lsa"]
    texts = [QUERY, *topic_frame(2).text.tolist()[:10]]
    reopened = embedscope.open(tmp_path / "again.scope").embedder("lsa")
    np.testing.assert_allclose(reopened.embed(texts), fitted.embed(texts), rtol=0, atol=1e-6)
    np.testing.assert_allclose(reopened.embed(texts[1:]), s.vectors("lsa")[1][:10], rtol=0, atol=1e-6)
    assert list((tmp_path / "again.scope" / "models").glob("*.pkl")) == []
    p = cli("neighbors", str(ws), "--space", "lsa", "--query", QUERY, "-k", "2")
    assert p.returncode == 0 and "space-0-00" in p.stdout and "space-1-00" in p.stdout, p


def test_codec_file_replaced_by_a_pickle(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the compression codec file of a stored copy (and the legacy name lsa8__codec.pkl) holds the
    # payload; the victim searches the compressed space with a text query
    ws = fresh(tfidf_ws, tmp_path)
    marker = tmp_path / "pwned"
    rec = embedscope.open(ws).manifest.records["vectors__lsa8"]
    plant(ws / "models" / str(rec.params["codec_file"]), marker)
    plant(ws / "models" / "lsa8__codec.pkl", marker)
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa8"))
    assert not marker.exists(), "the planted pickle was unpickled"
    assert isinstance(err, WorkspaceError) and "not a readable model file" in str(err), err


def test_codec_manifest_points_at_a_legacy_pickle(tfidf_ws: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # attack: the manifest names a legacy `.pkl` codec holding the payload; the codec is refitted from the
    # source space instead (the same codec: the query lands where it did), with a note
    ws = fresh(tfidf_ws, tmp_path)
    want = embedscope.open(ws).embed_query(QUERY, "lsa8")
    marker = tmp_path / "pwned"
    plant(ws / "models" / "lsa8__codec.pkl", marker)
    point_manifest(ws, "vectors__lsa8", "codec_file", "lsa8__codec.pkl")
    got = attempt(lambda: embedscope.open(ws).embed_query(QUERY, "lsa8"))
    assert not marker.exists(), "the planted pickle was unpickled"
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert "is not opened" in capsys.readouterr().err


def _sampled_umap_ws(path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """400 clustered vectors laid out by a UMAP fitted on 150 of them (the rest placed), 100 more added;
    returns the model file the layout's record names."""
    import embedscope.projection.base as projection_base
    import embedscope.projection.umap as um

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 32))
    x = (centres[rng.integers(0, 5, 500)] + 0.3 * rng.normal(size=(500, 32))).astype(np.float32)
    monkeypatch.setattr(projection_base, "SAMPLE_FIT_MIN", 200)
    monkeypatch.setattr(um, "SAMPLE_SIZE", 150)
    s = embedscope.create(path)
    s.add_vectors("v", [f"p{i}" for i in range(400)], x[:400])
    lay = s.project("v", "umap")
    assert lay.params["fit_sample"] == 150
    s.add_vectors("v", [f"p{i}" for i in range(400, 500)], x[400:])
    return str(lay.params["model_file"])


@pytest.mark.slow
def test_umap_placement_file_replaced_by_a_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # attack: the file that places new items into a sampled UMAP layout (and the legacy v__umap.pkl) holds the
    # payload; the victim adds items and lays the space out again
    name = _sampled_umap_ws(tmp_path / "u.scope", monkeypatch)
    marker = tmp_path / "pwned"
    plant(tmp_path / "u.scope" / "models" / name, marker)
    plant(tmp_path / "u.scope" / "models" / "v__umap.pkl", marker)
    lay = attempt(lambda: embedscope.open(tmp_path / "u.scope").project("v", "umap"))
    assert not marker.exists(), "the planted pickle was unpickled"
    assert len(lay.ids) == 500 and np.isfinite(lay.coords).all()  # refitted: a whole layout
    assert "cannot place new items" in capsys.readouterr().err


@pytest.mark.slow
def test_umap_manifest_points_at_a_legacy_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # attack: the layout's record names a legacy `.pkl` model holding the payload (as earlier versions wrote)
    _sampled_umap_ws(tmp_path / "u.scope", monkeypatch)
    marker = tmp_path / "pwned"
    plant(tmp_path / "u.scope" / "models" / "v__umap.pkl", marker)
    point_manifest(tmp_path / "u.scope", "layout__v__umap", "model_file", "v__umap.pkl")
    lay = attempt(lambda: embedscope.open(tmp_path / "u.scope").project("v", "umap"))
    assert not marker.exists(), "the planted pickle was unpickled"
    assert len(lay.ids) == 500 and np.isfinite(lay.coords).all()
    assert "is not opened" in capsys.readouterr().err


@pytest.mark.slow
def test_umap_placement_from_stored_data_equals_the_fitted_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # the data that replaces the pickle places items exactly as the fitted model's own transform
    import embedscope.projection.umap as um

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 16))
    x = (centres[rng.integers(0, 4, 300)] + 0.3 * rng.normal(size=(300, 16))).astype(np.float32)
    model, fit_rows, _, _, _ = um.fit_sample(x[:250], seed=3, n_neighbors=15, min_dist=0.1, sample=120)
    embedding, params = um.placement_state(model)
    json.dumps(params, allow_nan=False)  # plain JSON
    np.testing.assert_array_equal(um.place_from_state(x[:250][fit_rows], embedding, params, x[250:]),
                                  um.place(model, x[250:]))


# ------------------------------------------------------------------ paths and models the manifest names


def edit_manifest(ws: Path, table: str, **params: Any) -> None:
    """Set (or, with ``None``, remove) parameters of one record in ``scope.json``, as a hostile author would."""
    doc = json.loads((ws / "scope.json").read_text())
    rec = doc["records"][table]["params"]
    for key, value in params.items():
        if value is None:
            rec.pop(key, None)
        else:
            rec[key] = value
    (ws / "scope.json").write_text(json.dumps(doc))


def test_model_file_outside_the_workspace_by_dot_dot(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the manifest names model file '../../elsewhere/x.npz', so opening the workspace reads a file
    # outside it (here a valid model, so the old code answered from it)
    ws = fresh(tfidf_ws, tmp_path)
    rec = embedscope.open(ws).manifest.records["vectors__lsa"]
    (tmp_path / "elsewhere").mkdir()
    (ws / "models" / str(rec.params["model_file"])).rename(tmp_path / "elsewhere" / "x.npz")
    point_manifest(ws, "vectors__lsa", "model_file", "../../elsewhere/x.npz")
    p = cli("neighbors", str(ws), "--space", "lsa", "--query", QUERY)
    assert p.returncode == 2 and p.stdout == "", p
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "scope.json" in p.stderr and "records.vectors__lsa.params.model_file" in p.stderr, p.stderr
    assert "not a file inside" in p.stderr, p.stderr


def test_codec_file_at_an_absolute_path(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the manifest names an absolute codec file ('/home/victim/...'), read although it is not the
    # workspace's
    ws = fresh(tfidf_ws, tmp_path)
    rec = embedscope.open(ws).manifest.records["vectors__lsa8"]
    outside = tmp_path / "codec.npz"
    (ws / "models" / str(rec.params["codec_file"])).rename(outside)
    point_manifest(ws, "vectors__lsa8", "codec_file", str(outside))
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa8"))
    assert isinstance(err, ManifestError) and "records.vectors__lsa8.params.codec_file" in str(err), err


def test_model_file_symlinked_out_of_the_workspace(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the workspace ships models/<name>.npz as a symbolic link to a file elsewhere on the victim's disk
    ws = fresh(tfidf_ws, tmp_path)
    rec = embedscope.open(ws).manifest.records["vectors__lsa"]
    inside = ws / "models" / str(rec.params["model_file"])
    inside.rename(tmp_path / "target.npz")
    inside.symlink_to(tmp_path / "target.npz")
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert isinstance(err, ManifestError) and "not a file inside" in str(err), err


class _FakeSentenceTransformer:
    """Stands in for sentence-transformers: records which directories it was asked to load (an older
    sentence-transformers imports any module type a model's modules.json names)."""

    loaded: ClassVar[list[str]] = []

    def __init__(self, path: str, **kwargs: Any) -> None:
        self.loaded.append(path)
        self.max_seq_length = 128

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        return np.ones((len(texts), 16), np.float32)


def _local_space(ws: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record space ``lsa`` as embedded by ``local:model_dir`` (torch backend) and fake the loader."""
    import sentence_transformers

    edit_manifest(ws, "vectors__lsa", model=f"local:{model_dir}", backend="torch", model_file=None,
                  key="local:x:0")
    _FakeSentenceTransformer.loaded = []
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", _FakeSentenceTransformer)
    return _FakeSentenceTransformer.loaded


def _model_dir(path: Path, modules: list[dict[str, str]] | None = None, config: dict[str, Any] | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config or {"model_type": "bert"}))
    if modules is not None:
        (path / "modules.json").write_text(json.dumps(modules))
    return path


def test_local_model_inside_the_workspace_is_not_loaded(tfidf_ws: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # attack: the workspace carries its own model folder and the manifest records `local:<that folder>`, so
    # the victim's queries are embedded by (and the loader runs on) whatever the author put there
    ws = fresh(tfidf_ws, tmp_path)
    loaded = _local_space(ws, _model_dir(ws / "evil-model"), monkeypatch)
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert loaded == [], "the workspace's own model was loaded"
    assert isinstance(err, ManifestError) and "inside this workspace" in str(err), err


def test_local_model_relative_path_into_the_workspace(tfidf_ws: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # attack: the same with a relative `local:ws.scope/evil-model`, which resolves into the workspace when the
    # victim runs embedscope from the folder that holds it
    ws = fresh(tfidf_ws, tmp_path)
    _model_dir(ws / "evil-model")
    loaded = _local_space(ws, Path("ws.scope/evil-model"), monkeypatch)
    monkeypatch.chdir(tmp_path)
    err = attempt(lambda: embedscope.open("ws.scope").neighbors(query=QUERY, k=3, space="lsa"))
    assert loaded == [] and isinstance(err, ManifestError), err


@pytest.mark.parametrize("kind", ["os.system", "subprocess.Popen", "builtins.exec"])
def test_local_model_with_a_foreign_module_type(tfidf_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                kind: str) -> None:
    # attack: a model folder (outside the workspace) whose modules.json names a class outside
    # sentence_transformers; sentence-transformers < 6 imported it and called its `load`
    ws = fresh(tfidf_ws, tmp_path)
    model = _model_dir(tmp_path / "m", modules=[{"idx": 0, "name": "0", "path": "", "type": kind}])
    loaded = _local_space(ws, model, monkeypatch)
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert loaded == [] and isinstance(err, InputError) and kind in str(err), err


def test_local_model_asking_for_remote_code(tfidf_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # attack: config.json carries `auto_map` (custom modelling code in the folder); transformers asks on the
    # terminal whether to run it, or runs it where trust_remote_code is on
    ws = fresh(tfidf_ws, tmp_path)
    model = _model_dir(tmp_path / "m", config={"model_type": "evil", "auto_map": {"AutoModel": "modeling.Evil"}})
    (model / "modeling.py").write_text("open('pwned', 'w')\n")
    loaded = _local_space(ws, model, monkeypatch)
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert loaded == [] and isinstance(err, InputError) and "auto_map" in str(err), err


def test_local_model_at_the_filesystem_root(tfidf_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # attack: `local:/` (or any large folder) makes the loader walk and read every file under it before it
    # fails; a folder without modules.json or config.json is refused first
    ws = fresh(tfidf_ws, tmp_path)
    big = tmp_path / "not-a-model"
    (big / "sub").mkdir(parents=True)
    (big / "sub" / "weights.bin").write_bytes(b"\0" * 16)
    loaded = _local_space(ws, big, monkeypatch)
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert loaded == [] and isinstance(err, InputError) and "not a sentence-transformers model" in str(err), err


def test_openai_space_from_another_endpoint_is_not_queried_here(tfidf_ws: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # attack: the space's record says it was embedded through the author's endpoint; the endpoint (and the
    # API key that goes with it) come from this machine only, and a mismatch is said instead of querying
    from embedscope.embedders.openai import OpenAIEmbedder

    ws = fresh(tfidf_ws, tmp_path)
    edit_manifest(ws, "vectors__lsa", model="openai:text-embedding-3-small", model_file=None,
                  key="openai:https://attacker.example/v1:text-embedding-3-small")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-victim")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    sent: list[str] = []
    monkeypatch.setattr(OpenAIEmbedder, "embed", lambda self, texts: sent.append(self.base_url) or
                        np.ones((len(texts), 16), np.float32))
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert sent == [] and isinstance(err, InputError) and "https://attacker.example/v1" in str(err), err
    monkeypatch.setenv("OPENAI_BASE_URL", "https://attacker.example/v1")  # the user's own choice: queried
    assert len(embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa").ids) == 3
    assert sent == ["https://attacker.example/v1"]


def test_report_escapes_what_the_manifest_says_about_a_layout(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: the manifest's stored layout figures carry HTML (`k` is "<script>..."); `report` wrote it into the
    # page unescaped, so opening the report ran the author's script
    ws = fresh(tfidf_ws, tmp_path)
    embedscope.open(ws).project("lsa", "pca")
    doc = json.loads((ws / "scope.json").read_text())
    doc["records"]["layout__lsa__pca"]["metrics"]["quality"]["k"] = "<script>alert(1)</script>"
    (ws / "scope.json").write_text(json.dumps(doc))
    out = tmp_path / "r.html"
    embedscope.open(ws).report(out, spaces=["lsa"])
    page = out.read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_table_folder_symlinked_to_a_dataset_elsewhere(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: db/vectors__lsa.lance is a symbolic link to a Lance dataset elsewhere on the victim's disk; every
    # write to the space (embed, compress --store over it) would add a version to that dataset
    ws = fresh(tfidf_ws, tmp_path)
    table = ws / "db" / "vectors__lsa.lance"
    table.rename(tmp_path / "elsewhere.lance")
    table.symlink_to(tmp_path / "elsewhere.lance")
    err = attempt(lambda: embedscope.open(ws))
    assert isinstance(err, WorkspaceError) and "outside the workspace" in str(err), err
    p = cli("info", str(ws))
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "symbolic link" in p.stderr, p


def test_models_folder_symlinked_elsewhere(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: models/ is a link to a folder of the victim's; fitting writes there and deletes old fits there
    ws = fresh(tfidf_ws, tmp_path)
    (ws / "models").rename(tmp_path / "victim-folder")
    (ws / "models").symlink_to(tmp_path / "victim-folder")
    err = attempt(lambda: embedscope.open(ws))
    assert isinstance(err, WorkspaceError) and "outside the workspace" in str(err), err


def test_lock_file_symlinked_elsewhere(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: .lock links to a file path of the author's choosing; the first write opens (and creates) it there
    ws = fresh(tfidf_ws, tmp_path)
    (ws / ".lock").unlink(missing_ok=True)
    (ws / ".lock").symlink_to(tmp_path / "created-by-embedscope")
    attempt(lambda: embedscope.open(ws).project("lsa", "pca"))
    assert not (tmp_path / "created-by-embedscope").exists(), "the lock was created outside the workspace"


def test_a_link_inside_the_workspace_is_fine(tfidf_ws: Path, tmp_path: Path) -> None:
    # not an attack: a link that stays inside the workspace folder opens as before
    ws = fresh(tfidf_ws, tmp_path)
    (ws / "models").rename(ws / "models-real")
    (ws / "models").symlink_to("models-real")
    assert len(embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa").ids) == 3


def test_manifest_table_name_with_odd_characters(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: a table (and its manifest entry) named with characters no space name may hold (here a space and
    # a leading dot), which then flow into file names under models/ and staging/
    ws = fresh(tfidf_ws, tmp_path)
    (ws / "db" / "vectors__lsa8.lance").rename(ws / "db" / "vectors__.x y.lance")
    doc = json.loads((ws / "scope.json").read_text())
    rec = doc["records"].pop("vectors__lsa8")
    rec["table"] = "vectors__.x y"
    doc["records"]["vectors__.x y"] = rec
    (ws / "scope.json").write_text(json.dumps(doc))
    err = attempt(lambda: embedscope.open(ws))
    assert isinstance(err, ManifestError) and "records.vectors__.x y" in str(err), err


OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # a terminal escape sequence that writes "pwned" to the clipboard


def test_info_prints_no_terminal_escapes_from_the_manifest(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: a manifest value (the space's model) holds an escape sequence that `info` wrote to the terminal
    # as it was (clipboard write, window title, screen clear)
    ws = fresh(tfidf_ws, tmp_path)
    edit_manifest(ws, "vectors__lsa", model=f"tfidf:16{OSC52}")
    p = cli("info", str(ws))
    assert p.returncode == 0 and "tfidf:16" in p.stdout, p
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout


def test_neighbours_print_no_terminal_escapes_from_texts(tmp_path: Path) -> None:
    # attack: an item's text (and id) in the workspace hold the escape sequence; `neighbors` printed them, and
    # an error naming the recorded model quoted it as it was
    import pandas as pd

    ws = tmp_path / "t.scope"
    s = embedscope.create(ws)
    s.ingest(pd.DataFrame({"id": [f"a{OSC52}", "b", "c"], "text": [f"rocket {OSC52}", "orbit", "satellite"]}))
    s.embed("lsa", "tfidf:2")
    p = cli("neighbors", str(ws), "b", "--space", "lsa", "-k", "2")
    assert p.returncode == 0 and "rocket" in p.stdout, p
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout
    edit_manifest(ws, "vectors__lsa", model_file=f"x{OSC52}.npz")
    p = cli("neighbors", str(ws), "--space", "lsa", "--query", QUERY)
    assert p.returncode == 1 and "missing" in p.stderr, p
    assert "\x1b" not in p.stderr and "\x07" not in p.stderr


def test_model_file_that_expands_a_thousandfold(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: a model file whose member is 256 MiB of zeros deflated to a quarter of a megabyte (a zip bomb:
    # 10 MB on disk would take 10 GB of memory); it is refused from the zip directory, before any reading
    import zipfile

    ws = fresh(tfidf_ws, tmp_path)
    rec = embedscope.open(ws).manifest.records["vectors__lsa"]
    path = ws / "models" / str(rec.params["model_file"])
    n = 256 << 20
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("bomb.npy", "w", force_zip64=True) as fh:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (n,)})
        fh.write(header.getvalue())
        chunk = bytes(1 << 20)
        for _ in range(n >> 20):
            fh.write(chunk)
    assert path.stat().st_size < 2 << 20
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert isinstance(err, WorkspaceError) and "would expand" in str(err), err


def test_local_model_with_pickled_weights_under_an_old_torch(tfidf_ws: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # attack: the model folder holds pytorch_model.bin, a pickle; torch older than 2.6 (which pyproject still
    # allowed) unpickles it with code execution when no safetensors file is there
    import embedscope.embedders.local as local

    ws = fresh(tfidf_ws, tmp_path)
    model = _model_dir(tmp_path / "m")
    (model / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload(tmp_path / "pwned")))
    loaded = _local_space(ws, model, monkeypatch)
    monkeypatch.setattr(local, "_torch_loads_safely", lambda: False, raising=False)
    err = attempt(lambda: embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa"))
    assert loaded == [] and isinstance(err, InputError) and "pytorch_model.bin" in str(err), err
    monkeypatch.setattr(local, "_torch_loads_safely", lambda: True)  # torch >= 2.6: read with weights_only
    assert len(embedscope.open(ws).neighbors(query=QUERY, k=3, space="lsa").ids) == 3 and len(loaded) == 1


def test_staging_folder_symlinked_elsewhere(tfidf_ws: Path, tmp_path: Path) -> None:
    # attack: staging/umap-lsa (where a long step keeps its shards, emptied with rmtree and refilled) links to a
    # folder of the victim's; a resumed step would read and write its files there
    ws = fresh(tfidf_ws, tmp_path)
    (tmp_path / "victim-folder").mkdir()
    (ws / "staging").mkdir(exist_ok=True)
    (ws / "staging" / "umap-lsa").symlink_to(tmp_path / "victim-folder")
    err = attempt(lambda: embedscope.open(ws))
    assert isinstance(err, WorkspaceError) and "outside the workspace" in str(err), err
