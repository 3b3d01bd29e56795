"""Property-based tests (hypothesis): messy but valid input never crashes, and finite input never gives NaN.

Ingest: random small tables (odd ids, unicode, empty strings, duplicates, None) either ingest or raise the
project's :class:`~embedscope.errors.InputError`, never anything else. Numeric stages: small matrices with odd
dimensions, zero rows, duplicate rows, and huge or tiny magnitudes give finite outputs (or a clear
``InputError``) from neighbours, similarity histograms, layout quality, diagnostics, compare, compression codecs
and translation maps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedscope.errors import InputError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)

# ------------------------------------------------------------------------------------------------ helpers
odd_text = st.one_of(
    st.text(min_size=0, max_size=12),
    st.sampled_from(["", " ", "\t", "007", "1e3", "NaN", "null", "None", "True", "\u00e9t\u00e9", "\U0001f600",
                     "a,b", 'say "hi"', "line\nbreak", "\r\n", "\x00", "\ufeffbom", "-0", "1.0", "id"]),
)
cell = st.one_of(st.none(), odd_text, st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                 st.booleans())


@st.composite
def tables(draw: Any) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    ncols = draw(st.integers(1, 4))
    names = draw(st.lists(st.sampled_from(["id", "text", "title", "meta", "n", "\u00e9", ""]), min_size=ncols,
                          max_size=ncols))
    cols = {}
    for i, name in enumerate(names):
        cols[f"{name}{i}" if name in cols or not name else name] = draw(
            st.lists(cell, min_size=n, max_size=n))
    return pd.DataFrame(cols)


def _finite(v: Any) -> bool:
    """No NaN or inf anywhere in a (nested) JSON-like value or array."""
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return all(_finite(x) for x in v)
    if isinstance(v, np.ndarray):
        return bool(np.isfinite(v).all()) if v.dtype.kind == "f" else True
    if isinstance(v, (float, np.floating)):
        return math.isfinite(float(v))
    return True


MAGNITUDES = [1.0, 1e-40, 1e-30, 1e-12, 1e-3, 1e3, 1e12, 1e18]


@st.composite
def matrices(draw: Any, min_n: int = 3, max_n: int = 14, max_d: int = 9) -> np.ndarray:
    """Small float32 matrices: normal, integer-valued or constant values, some zero rows and duplicate rows,
    at one magnitude from 1e-30 to 1e12 (so norms and squared distances stay inside float32)."""
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, max_d))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["normal", "integers", "constant", "sparse"]))
    if kind == "normal":
        x = rng.normal(size=(n, d))
    elif kind == "integers":
        x = rng.integers(-2, 3, size=(n, d)).astype(np.float64)
    elif kind == "constant":
        x = np.ones((n, d))
    else:
        x = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.2)
    if draw(st.booleans()):  # duplicate rows
        m = draw(st.integers(1, n - 1))
        x[rng.integers(0, n, m)] = x[rng.integers(0, n, m)]
    if draw(st.booleans()):  # zero rows
        x[rng.integers(0, n, draw(st.integers(1, max(1, n // 3))))] = 0.0
    x = x * draw(st.sampled_from(MAGNITUDES))
    return np.ascontiguousarray(x, dtype=np.float32)


@st.composite
def nonzero_matrices(draw: Any, **kw: Any) -> np.ndarray:
    """As :func:`matrices`, with every row non-zero (what ingest lets into a workspace)."""
    x = draw(matrices(**kw))
    zero = ~x.any(axis=1)
    x[zero, 0] = x.dtype.type(abs(x).max() or 1.0)
    return x


METRICS = ("cosine", "dot", "euclidean", "manhattan")


# ------------------------------------------------------------------------------------------------- ingest
@SETTINGS
@given(df=tables(), fmt=st.sampled_from(["frame", "csv", "jsonl", "parquet"]))
def test_ingest_never_crashes(df: pd.DataFrame, fmt: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from embedscope.io.items import read_items

    src: Any = df
    if fmt != "frame":
        path = tmp_path_factory.mktemp("t") / f"t.{fmt}"
        try:
            if fmt == "csv":
                df.to_csv(path, index=False)
            elif fmt == "jsonl":
                df.to_json(path, orient="records", lines=True, force_ascii=False)
            else:
                df.astype(object).astype(str).to_parquet(path) if len(df.columns) else df.to_parquet(path)
        except (ValueError, TypeError, OverflowError, UnicodeEncodeError):
            return  # pandas cannot write this table in that format; nothing for us to read
        src = path
    try:
        res = read_items(src, require_text=False)
    except InputError as exc:
        assert exc.one_line() and "\n" not in exc.one_line()
        return
    t = res.table
    assert t.num_rows == len(df) and t.column_names[0] == "id"
    ids = t.column("id").to_pylist()
    assert len(set(ids)) == len(ids) and all(isinstance(i, str) and i.strip() for i in ids)
    if "text" in t.column_names:
        assert all(isinstance(s, str) and s.strip() for s in t.column("text").to_pylist())


@SETTINGS
@given(df=tables())
def test_ingest_into_workspace_never_crashes(df: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> None:
    import embedscope

    ws = tmp_path_factory.mktemp("w") / "w.scope"
    s = embedscope.create(ws)
    for _ in range(2):  # the second time upserts the same rows
        try:
            rep = s.ingest(df)
        except InputError:
            return
        assert rep.total == len(df)
    assert s.items().num_rows == len(df)


# -------------------------------------------------------------------------------------------- neighbours
@SETTINGS
@given(x=matrices(), metric=st.sampled_from(METRICS), k=st.integers(1, 20))
def test_search_and_graph_finite(x: np.ndarray, metric: str, k: int) -> None:
    from embedscope.search.exact import knn_graph, search

    n = len(x)
    res = search(x, x[: max(1, n // 2)], k, metric)
    assert res.indices.shape == (max(1, n // 2), min(k, n))
    assert np.isfinite(res.scores).all()
    assert ((res.indices >= 0) & (res.indices < n)).all()
    g = knn_graph(x, k, metric)
    assert g.indices.shape == (n, min(k, n - 1)) and np.isfinite(g.scores).all()
    assert not (g.indices == np.arange(n)[:, None]).any(), "an item is never its own neighbour"
    assert all(len(set(r)) == len(r) for r in g.indices.tolist())


# -------------------------------------------------------------------------------------------- similarity
@SETTINGS
@given(x=matrices(), metric=st.sampled_from(METRICS), bins=st.integers(1, 60))
def test_similarity_histograms_finite(x: np.ndarray, metric: str, bins: int) -> None:
    from embedscope.analyses import distributions as dist
    from embedscope.analyses import similarity as sim

    h = sim.query_histogram(x, x[0], metric, bins=bins)
    assert _finite(h.to_json())
    p = dist.pair_histogram(x, metric, bins=bins, sample=200)
    assert _finite(p.to_json())
    r = sim.rank(x, x[1], k=3, metric=metric)
    assert np.isfinite(np.asarray(r.scores)).all()
    labels = ["a" if i % 2 else "b" for i in range(len(x))]
    assert _finite(dist.label_separation(x, labels, metric, sample=200).to_json())
    assert _finite(dist.dimension_stats(x).to_json())


# -------------------------------------------------------------------------------------------- projection
@SETTINGS
@given(x=matrices(min_n=4), k=st.integers(1, 8), flat=st.booleans())
def test_layout_quality_finite(x: np.ndarray, k: int, flat: bool) -> None:
    from embedscope.projection.quality import layout_quality

    rng = np.random.default_rng(0)
    coords = np.zeros((len(x), 2), np.float32) if flat else rng.normal(size=(len(x), 2)).astype(np.float32)
    q = layout_quality(x, coords, k=min(k, len(x) - 1), rank_pairs=300)
    assert _finite(q.summary())
    for name, v in q.per_item.items():
        assert np.isfinite(v).all(), name


# ------------------------------------------------------------------------------------------- diagnostics
@SETTINGS
@given(x=nonzero_matrices(min_n=4))
def test_health_checks_finite(x: np.ndarray) -> None:
    from embedscope.analyses.diagnostics import health
    from embedscope.search.exact import knn_graph

    ids = [str(i) for i in range(len(x))]
    checks = health(x, ids, knn_graph(x, 10, "cosine"))
    for c in checks:
        assert _finite(c.to_json()), c.to_json()


# ----------------------------------------------------------------------------------------------- compare
@SETTINGS
@given(x=matrices(), seed=st.integers(0, 1000), k=st.integers(1, 6))
def test_cka_and_jaccard_in_range(x: np.ndarray, seed: int, k: int) -> None:
    from embedscope.analyses.compare import jaccard, linear_cka
    from embedscope.search.exact import knn_graph

    rng = np.random.default_rng(seed)
    y = (x @ rng.normal(size=(x.shape[1], 3))).astype(np.float32)
    for a, b in ((x, y), (x, x), (y, y)):
        c = linear_cka(a, b)
        assert math.isfinite(c) and -1e-6 <= c <= 1 + 1e-6
    ga, gb = knn_graph(x, k, "cosine"), knn_graph(y, k, "cosine")
    j = jaccard(ga.indices, gb.indices)
    assert np.isfinite(j).all() and (j >= 0).all() and (j <= 1).all()
    np.testing.assert_allclose(jaccard(ga.indices, ga.indices), 1.0 if ga.k else 0.0)


# ---------------------------------------------------------------------------------------------- compress
@SETTINGS
@given(x=matrices(min_n=5), data=st.data())
def test_codecs_roundtrip_and_search(x: np.ndarray, data: Any) -> None:
    from embedscope.analyses import compress as c
    from embedscope.search.exact import normalize

    raw, x = x, normalize(x)  # codecs work on unit vectors (evaluate and compressed_copy normalise first)
    d = x.shape[1]
    names = ["float32", "float16", "int8", "binary", "binary+rescore", *c.default_codecs(d)]
    name = data.draw(st.sampled_from(names))
    try:
        codec = c.codec_from_name(name).fit(x)
    except ValueError as exc:  # e.g. pca-D wider than the data allows: a clear refusal, not a crash
        assert str(exc)
        return
    if name.startswith("binary+rescore"):
        codec.attach_full(x)  # type: ignore[attr-defined]
    codes = codec.encode(x)
    back = codec.decode(codes)
    assert back.shape[0] == len(x) and np.isfinite(back).all()
    k = data.draw(st.integers(1, len(x)))
    found = codec.search(codes, x[:3], k)
    assert found.shape == (3, k) and ((found >= 0) & (found < len(x))).all()
    copy, _ = c.compressed_copy(raw, name) if not name.startswith("binary+rescore") else (back, None)
    assert np.isfinite(copy).all()


@settings(max_examples=10, deadline=None, derandomize=True)
@given(x=nonzero_matrices(min_n=10, max_n=30))
def test_compress_evaluate_finite(x: np.ndarray) -> None:
    from embedscope.analyses import compress as c

    ev = c.evaluate(x, ["int8", "binary", "float16"], queries=2, ks=(1, 5))
    for row in ev.rows:
        assert _finite(row.row()), row.row()


# --------------------------------------------------------------------------------------------- translate
@SETTINGS
@given(x=nonzero_matrices(min_n=6, max_n=20), method=st.sampled_from(["procrustes", "ridge", "lowrank", "identity",
                                                                      "mean"]), dt=st.integers(1, 7))
def test_translate_maps_finite(x: np.ndarray, method: str, dt: int) -> None:
    from embedscope.translate import fit_map

    rng = np.random.default_rng(1)
    y = (x @ rng.normal(size=(x.shape[1], dt))).astype(np.float32)
    if method == "identity":
        y = x.copy()
    y[~y.any(axis=1), 0] = 1.0
    try:
        tl = fit_map(x, y, method, folds=2)
    except InputError as exc:
        assert exc.one_line()
        return
    out = tl.transform(x)
    assert out.shape == (len(x), y.shape[1]) and np.isfinite(out).all()


def test_histogram_of_constant_huge_values() -> None:
    """Found by the property test: equal scores near 1e36 left numpy no finite bins (lo - 0.5 == lo)."""
    from embedscope.analyses import similarity as sim

    x = np.full((4, 3), 1e18, np.float32)
    for metric in ("dot", "euclidean", "manhattan"):
        h = sim.query_histogram(x, x[0], metric, bins=50)
        assert _finite(h.to_json()) and int(np.asarray(h.counts).sum()) == 4
