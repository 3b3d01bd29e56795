"""Translating vectors between spaces: planted maps are recovered, few pairs are flagged, files round-trip,
real spaces beat the mean-vector baseline, and the CLI keeps its contract (JSON shape, exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.errors import InputError
from embedscope.translate import METHODS, Translator, evaluate, fit, fit_map, load
from tests.helpers import run_cli as run

FAST_MLP = {"hidden": 64, "max_epochs": 40, "patience": 5}


def planted(n: int, ds: int, dt: int, *, noise: float = 0.02, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clustered, unnormalised, off-centre sources and a planted linear map to a space of another dimension."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, ds)) * 2
    x = centres[rng.integers(0, 12, n)] + rng.normal(size=(n, ds)) + 1.5
    m = rng.normal(size=(ds, dt)) / np.sqrt(ds)
    y = x @ m + 3.0 + noise * rng.normal(size=(n, dt))
    return (x * rng.uniform(0.5, 5, size=(n, 1))).astype(np.float32), y.astype(np.float32)


def test_planted_map_recovered_between_different_dimensions() -> None:
    xall, yall = planted(1700, 30, 48)
    x, y, xn, yn = xall[:1500], yall[:1500], xall[1500:], yall[1500:]
    ev = evaluate(x, y, ["procrustes", "ridge", "lowrank"], curve=False)
    assert ev.protocol == "held-out" and ev.n_test == 300 and ev.n_train == 1200 and ev.warning is None
    ridge = ev.score("ridge")
    assert ridge.top1 >= 0.99 and ridge.mean_cosine > 0.99 and ridge.median_rank == 1
    assert ridge.gain_over_mean_baseline > 0.05
    assert ev.best_linear == "ridge" and ev.score("mean").baseline and "identity" not in [s.method for s in ev.methods]
    assert ridge.recall_at_10 > 0.8
    # the fitted translator maps new points from the same planted map
    tl, ev2 = fit(x, y, "ridge")
    assert ev2 is not None and tl.meta["metrics"]["top1"] >= 0.99 and tl.meta["n_train"] == 1500
    out = tl.transform(xn)
    assert out.shape == (200, 48) and out.dtype == np.float32
    cos = (out * yn).sum(1) / np.linalg.norm(out, axis=1) / np.linalg.norm(yn, axis=1)
    assert cos.mean() > 0.99
    assert np.allclose(np.linalg.norm(out, axis=1), tl.output_norm, rtol=1e-4)  # target space is not unit-norm


def test_identity_baseline_and_rotation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 16)) + rng.normal(size=(8, 16))[rng.integers(0, 8, 600)] * 2
    q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    ev = evaluate(x, x @ q, ["procrustes", "ridge"], curve=False)
    names = [s.method for s in ev.methods]
    assert "identity" in names and "mean" in names
    assert ev.score("procrustes").top1 > 0.99 and ev.score("identity").top1 < ev.score("procrustes").top1
    same = evaluate(x, x, ["procrustes"], curve=False)
    assert same.score("identity").mean_cosine == pytest.approx(1.0, abs=1e-5)


def test_few_pairs_cross_validated_with_warning_and_no_flattering_figure() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 300)) * 7            # unrelated, unnormalised, 300 -> 384 dims
    y = rng.normal(size=(30, 384)) + 0.3
    ev = evaluate(x, y, ["procrustes", "ridge", "lowrank"], curve=True)
    assert ev.protocol == "k-fold cross-validation" and ev.folds == 5 and ev.n_test == 30 and ev.curve == []
    assert ev.warning is not None and "too few for a trustworthy figure" in ev.warning
    # in-sample, 30 pairs in 300 dimensions fit perfectly; out of sample there is nothing to find
    tl = fit_map(x, y, "ridge", params={"alpha": 1e-6})
    in_sample = (tl.transform(x) * (y / np.linalg.norm(y, axis=1, keepdims=True))).sum(1).mean()
    assert in_sample > 0.95
    for s in ev.methods:
        assert s.gain_over_mean_baseline < 0.05, s
        assert s.top1 < 0.3
    doc = ev.to_json("a", "b")
    assert doc["warning"] == ev.warning and doc["pairs"] == 30


@pytest.mark.parametrize("method", [*METHODS, "mean"])
def test_save_load_round_trips_bit_for_bit(method: str, tmp_path: Path) -> None:
    x, y = planted(300, 12, 20, noise=0.3)
    tl = fit_map(x, y, method, params=FAST_MLP if method == "mlp" else None, meta={"source": "a b", "target": "007"})
    path = tl.save(tmp_path / "m.translator")
    assert path.name == "m.translator" and sorted(p.name for p in tmp_path.iterdir()) == ["m.translator"]
    back = load(path)
    assert back.method == tl.method and (back.src_dim, back.tgt_dim) == (12, 20)
    assert back.output_norm == tl.output_norm and back.meta == tl.meta
    assert back.weights.keys() == tl.weights.keys()
    for k in tl.weights:
        assert back.weights[k].dtype == np.float32 and np.array_equal(back.weights[k], tl.weights[k])
    assert np.array_equal(back.src_mean, tl.src_mean) and np.array_equal(back.tgt_mean, tl.tgt_mean)
    assert np.array_equal(back.transform(x), tl.transform(x))
    back.save(tmp_path / "again.translator")
    assert (tmp_path / "again.translator").read_bytes() == path.read_bytes()
    with np.load(path, allow_pickle=False) as z:  # plain arrays + a JSON string: no pickle needed
        assert json.loads(str(z["meta"]))["format"] == "embedscope-translator"


def test_mlp_is_seeded_and_starts_from_ridge() -> None:
    x, y = planted(400, 10, 14, noise=0.2)
    a = fit_map(x, y, "mlp", seed=3, params=FAST_MLP)
    b = fit_map(x, y, "mlp", seed=3, params=FAST_MLP)
    assert np.array_equal(a.transform(x), b.transform(x))
    info = a.meta["params"]
    assert info["val_cosine"] >= info["ridge_val_cosine"] - 1e-6


def test_bad_input_errors() -> None:
    x, y = planted(50, 6, 8)
    with pytest.raises(InputError, match="at least"):
        evaluate(x[:1], y[:1])
    with pytest.raises(InputError, match="at least 2"):
        fit_map(x[:1], y[:1], "ridge")
    with pytest.raises(InputError, match="row for row"):
        evaluate(x, y[:40])
    bad = x.copy()
    bad[7, 3] = np.nan
    with pytest.raises(InputError) as exc:
        evaluate(bad, y)
    assert exc.value.row == 8 and exc.value.column == "3"
    tl = fit_map(x, y, "ridge")
    with pytest.raises(InputError, match="6"):
        tl.transform(np.ones((3, 7)), file="in.npy")
    late = np.ones((9, 6))
    late[6, 2] = np.inf
    with pytest.raises(InputError) as exc:  # checked batch by batch: the row counts from the whole input
        tl.transform(late, batch_size=4)
    assert exc.value.row == 7 and exc.value.column == "2"
    with pytest.raises(InputError):
        evaluate(x, y, ["nope"])
    with pytest.raises(InputError):
        fit_map(x, y, "identity")


def test_not_a_translator_file(tmp_path: Path) -> None:
    p = tmp_path / "x.npz"
    np.savez(p, a=np.ones(3))
    with pytest.raises(InputError, match="not an embedscope translator"):
        Translator.load(p)
    (tmp_path / "t.txt").write_text("hello")
    with pytest.raises(InputError, match="not an embedscope translator"):
        Translator.load(tmp_path / "t.txt")


def test_learning_curve_is_nested_and_on_the_same_held_out_pairs() -> None:
    x, y = planted(800, 20, 24, noise=0.5)
    ev = evaluate(x, y, ["ridge"], curve=True, curve_sizes=(50, 100, 250))
    sizes = sorted({c.n_train for c in ev.curve})
    assert sizes == [50, 100, 250, ev.n_train]
    ridge = [c for c in ev.curve if c.method == "ridge"]
    assert ridge[-1].mean_cosine >= ridge[0].mean_cosine
    assert {c.method for c in ev.curve} == {"ridge", "mean"}


# -------------------------------------------------------------------------------------------- workspace
@pytest.fixture()
def two_spaces(small_scope: embedscope.Scope) -> embedscope.Scope:
    """The 60-item MiniLM workspace plus a TF-IDF+SVD space of other dimensions."""
    small_scope.embed("lsa", "tfidf:24")
    return small_scope


@pytest.mark.slow
def test_every_method_beats_the_mean_baseline_on_real_spaces(two_spaces: embedscope.Scope) -> None:
    for a, b in (("minilm", "lsa"), ("lsa", "minilm")):
        doc = two_spaces.translate_eval(a, b, methods=["procrustes", "ridge", "lowrank", "mlp"])
        assert doc["pairs"] == 60 and doc["warning"] and "too few" in doc["warning"]
        base = next(m for m in doc["methods"] if m["method"] == "mean")
        for m in doc["methods"]:
            if not m["baseline"]:
                assert m["gain_over_mean_baseline"] > 0.02, (a, b, m)
                assert m["top10"] > base["top10"], (a, b, m)


def test_cli_eval_fit_apply(two_spaces: embedscope.Scope, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(two_spaces.path)
    code, out, err = run(capsys, "translate", "eval", ws, "--from", "minilm", "--to", "lsa", "--methods",
                         "ridge,procrustes", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["from"] == "minilm" and doc["to"] == "lsa" and doc["pairs"] == 60
    assert isinstance(doc["warning"], str)
    keys = {"method", "mean_cosine", "mean_baseline_cosine", "gain_over_mean_baseline", "top1", "top10",
            "mean_rank", "median_rank", "recall@10"}
    assert {m["method"] for m in doc["methods"]} == {"ridge", "procrustes", "mean"}
    for m in doc["methods"]:
        assert keys <= m.keys()
        assert all(isinstance(m[k], float) for k in keys - {"method"})

    model = tmp_path / "m.translator"
    code, out, err = run(capsys, "translate", "fit", ws, "--from", "minilm", "--to", "lsa", "--method", "ridge",
                         "-o", str(model), "--json")
    assert code == 0, err
    meta = json.loads(out)
    assert meta["method"] == "ridge" and meta["src_dim"] == 384 and meta["tgt_dim"] == 24 and meta["n_train"] == 60
    assert meta["source"] == "minilm" and meta["target"] == "lsa" and meta["metrics"]["top1"] > 0
    assert meta["evaluation"]["warning"]

    _, xa = two_spaces.vectors("minilm")
    np.save(tmp_path / "in.npy", np.asarray(xa[:10]) * 3)
    code, out, err = run(capsys, "translate", "apply", str(model), str(tmp_path / "in.npy"), "-o",
                         str(tmp_path / "out.npy"))
    assert code == 0, err
    got = np.load(tmp_path / "out.npy")
    assert got.shape == (10, 24) and np.array_equal(got, load(model).transform(np.asarray(xa[:10]) * 3))

    code, out, err = run(capsys, "translate", "apply", str(model), ws, "--space", "minilm", "--as", "lsa-from-minilm",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["query_space"] == "lsa"
    code, out, err = run(capsys, "info", ws, "--json")
    sp = {s["name"]: s for s in json.loads(out)["spaces"]}
    assert sp["lsa-from-minilm"]["kind"] == "translated" and sp["lsa-from-minilm"]["dim"] == 24


def test_cli_bad_input_exits_2(two_spaces: embedscope.Scope, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(two_spaces.path)
    rng = np.random.default_rng(0)
    two_spaces.add_vectors("other", ["x-1", "x-2", "x-3"], rng.normal(size=(3, 5)))
    code, _, err = run(capsys, "translate", "eval", ws, "--from", "minilm", "--to", "other")
    assert code == 2 and "share 0 item" in err
    code, _, err = run(capsys, "translate", "eval", ws, "--from", "minilm", "--to", "nope")
    assert code == 2 and "no space 'nope'" in err
    code, _, err = run(capsys, "translate", "fit", ws, "--from", "minilm", "--to", "lsa", "--method", "magic",
                       "-o", str(tmp_path / "m.tr"))
    assert code == 2 and "magic" in err
    model = tmp_path / "m.translator"
    x, y = planted(40, 6, 9)
    fit_map(x, y, "ridge").save(model)
    np.save(tmp_path / "wrong.npy", np.ones((4, 7), np.float32))
    code, _, err = run(capsys, "translate", "apply", str(model), str(tmp_path / "wrong.npy"), "-o", str(tmp_path / "o.npy"))
    assert code == 2 and "wrong.npy" in err and "7 dimensions" in err and not (tmp_path / "o.npy").exists()
    nan = np.ones((4, 6), np.float32)
    nan[2, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    code, _, err = run(capsys, "translate", "apply", str(model), str(tmp_path / "nan.npy"), "-o", str(tmp_path / "o.npy"))
    assert code == 2 and "row 3" in err and "column '1'" in err
    code, _, err = run(capsys, "translate", "apply", str(model), str(tmp_path / "nan.npy"))
    assert code == 2 and "-o" in err
    code, _, err = run(capsys, "translate", "apply", str(tmp_path / "nan.npy"), str(tmp_path / "nan.npy"), "-o", "x.npy")
    assert code == 2 and "not an embedscope translator" in err
    code, _, err = run(capsys, "translate", "apply", str(model), ws, "--space", "minilm", "--as", "t")
    assert code == 2 and "384 dimensions" in err
    code, _, err = run(capsys, "translate", "apply", str(model), ws, "--space", "minilm")
    assert code == 2 and "--as" in err


def test_translated_space_neighbours_and_target_model_queries(two_spaces: embedscope.Scope) -> None:
    tl = two_spaces.translate_fit("lsa", "minilm", "ridge")
    rep = two_spaces.translate_apply(tl, "lsa", "minilm-from-lsa")
    assert rep.total == 60 and rep.space == "minilm-from-lsa"
    info = two_spaces.space_info("minilm-from-lsa")
    assert info.kind == "translated" and info.dim == 384
    rec = two_spaces.manifest.records["vectors__minilm-from-lsa"]
    assert rec.params["method"] == "ridge" and rec.params["from"] == "lsa" and rec.params["metrics"]["top1"] > 0
    # neighbours in the translated space mostly stay within the topic
    res = two_spaces.neighbors("space-0-00", k=5, space="minilm-from-lsa")
    assert sum(i.startswith("space-") for i in res.ids) >= 4
    # a text query is embedded with the target model (MiniLM) and searches the translated vectors
    res = two_spaces.neighbors(query="astronauts on a rocket to the moon", k=5, space="minilm-from-lsa")
    assert sum(i.startswith("space-") for i in res.ids) >= 4
    # re-applying replaces a translated space; a real space is never overwritten
    two_spaces.translate_apply(tl, "lsa", "minilm-from-lsa")
    with pytest.raises(InputError, match="already exists"):
        two_spaces.translate_apply(tl, "lsa", "minilm")


def test_odd_ids_and_brought_vectors(tmp_path: Path) -> None:
    x, y = planted(40, 9, 13)
    ids = [f"0{i:02d} /é\"{i}" for i in range(40)]
    scope = embedscope.create(tmp_path / "v.scope")
    scope.add_vectors("a", ids, x)
    scope.add_vectors("b", ids[::-1], y[::-1])  # another order: pairs are matched by id
    shared, xa, xb = scope.translate_pairs("a", "b")
    assert shared == ids and np.array_equal(xa, x) and np.array_equal(xb, y)
    doc = scope.translate_eval("a", "b", methods=["ridge"])
    assert doc["warning"] and doc["methods"][0]["method"] == "ridge" and doc["methods"][0]["top1"] > 0.9
    with pytest.raises(InputError, match="both name"):
        scope.translate_pairs("a", "a")
    scope.translate_apply(scope.translate_fit("a", "b", "ridge"), "a", "b-from-a")
    assert scope.manifest.records["vectors__b-from-a"].params["query_space"] is None  # b has no model
    with pytest.raises(InputError, match="translated from 'a'"):
        scope.neighbors(query="hello", space="b-from-a")
    assert scope.neighbors(ids[0], space="b-from-a", k=3).ids[0] != ids[0]


@pytest.mark.slow
def test_stretch_selflearn_few_pairs_plus_unpaired_vectors(tmp_path: Path) -> None:
    """Experimental: 5 known pairs + unpaired vectors of other items recover a rotation that 5 pairs alone cannot."""
    from embedscope.translate.fewshot import evaluate_fewshot

    rng = np.random.default_rng(0)
    n, d = 1600, 16
    x = rng.normal(size=(n, d)) @ np.diag(np.linspace(3, 0.3, d)) + rng.normal(size=(12, d))[rng.integers(0, 12, n)] * 2
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    y = x @ q + 0.05 * rng.normal(size=(n, d))
    pts = {(c.n_train, c.method): c for c in evaluate_fewshot(x, y, sizes=(5,), test_size=300, pool=1000)}
    assert pts[(5, "selflearn")].top1 > 0.9 and pts[(5, "ridge")].top1 < 0.5
    assert pts[(5, "selflearn")].gain_over_mean_baseline > pts[(5, "ridge")].gain_over_mean_baseline


def test_auto_picks_the_best_held_out_figure() -> None:
    x, y = planted(600, 12, 20, noise=0.5)
    for select, key in (("mean_cosine", "mean_cosine"), ("top1", "top1")):
        tl, ev = fit(x, y, "auto", select=select, methods=["procrustes", "ridge"])
        assert ev is not None and tl.meta["evaluation"]["selected_by"] == select
        maps = [s for s in ev.methods if not s.baseline]
        assert getattr(ev.score(tl.method), key) == max(getattr(s, key) for s in maps)
        assert tl.meta["n_train"] == 600 and tl.meta["metrics"]["method"] == tl.method
    with pytest.raises(InputError, match="select"):
        fit(x, y, "auto", select="vibes")
