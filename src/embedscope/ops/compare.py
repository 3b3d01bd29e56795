"""Comparing spaces of a workspace on the items they share: agreement, similarity scales, retrieval quality.

The numbers come from :mod:`embedscope.analyses.compare`; these functions align the spaces by id, build what
they need (kNN graphs, query rankings), and store each comparison as ``compare__{a}__{b}`` (per-item
agreement, and the whole result) so the explorer and a rerun reuse it until either space changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..analyses import compare as measures
from ..errors import EmbedscopeError, InputError
from ..io.qrels import read_qrels
from ..search.exact import KNN, knn_graph, normalize, search
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import compare_table, vectors_table
from .base import ScopeLike

#: Bumped when what a stored comparison holds changes (older ones are then recomputed).
COMPARE_VERSION = 3
#: Histogram bins of the similarity scales and of the agreement.
BINS = 50


# --------------------------------------------------------------------------------------- alignment


def shared_rows(scope: ScopeLike, spaces: Sequence[str]) -> tuple[list[str], dict[str, np.ndarray]]:
    """The ids every space holds (in the first space's order) and each space's rows of them."""
    first_ids, _, _ = scope.store.arrays(spaces[0])
    maps = [scope.store.arrays(s).pos for s in spaces]
    shared = [i for i in first_ids if all(i in m for m in maps[1:])]
    if len(shared) < 3:
        raise InputError(f"spaces {', '.join(map(repr, spaces))} share {len(shared)} items; comparing needs "
                         f"at least 3")
    return shared, {s: np.fromiter((m[i] for i in shared), np.int64, len(shared))
                    for s, m in zip(spaces, maps, strict=True)}


def shared_graph(scope: ScopeLike, space: str, rows: np.ndarray, k: int) -> KNN:
    """Cosine kNN graph among the shared items (the stored graph when the space holds exactly those)."""
    ids, x, _ = scope.store.arrays(space)
    if len(rows) == len(ids) and (rows == np.arange(len(ids))).all():
        return scope.knn(space, max(k, 1))
    return knn_graph(np.asarray(x)[rows], k)


#: A numeric label column with more distinct values than this is binned for same-label retrieval.
NUMERIC_CLASSES = 20
#: Bins of such a column: quantiles of its values (quintiles), so each bin holds about a fifth of the items.
NUMERIC_BINS = 5


def label_values(scope: ScopeLike, space: str, rows: np.ndarray, label: str) -> tuple[np.ndarray, str | None]:
    """The metadata column ``label`` of the given rows of ``space`` as classes, and a note when they are not
    its values.

    Strings (``""`` for a missing value), object array of shape ``(len(rows),)``. A numeric column with more
    than :data:`NUMERIC_CLASSES` distinct values (word counts, prices) is not a set of classes: its values are
    binned into :data:`NUMERIC_BINS` quantile bins (``"q1 [3, 12)"``) and the note says so.
    """
    items = scope.items_for(space)
    if label not in items.column_names:
        raise InputError(f"no column {label!r}; columns: {', '.join(items.column_names)}")
    column = items.column(label)
    col = column.to_pylist()
    typ = column.type
    if (pa.types.is_integer(typ) or pa.types.is_floating(typ)) and \
            len({v for v in col if v is not None}) > NUMERIC_CLASSES:
        values = np.array([np.nan if col[r] is None else float(col[r]) for r in rows], dtype=np.float64)
        seen = values[np.isfinite(values)]
        edges = np.unique(np.quantile(seen, np.linspace(0, 1, NUMERIC_BINS + 1))) if len(seen) else np.zeros(1)
        where = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, max(len(edges) - 2, 0))
        names = [f"q{i + 1} [{edges[i]:g}, {edges[i + 1]:g}{']' if i == len(edges) - 2 else ')'}"
                 for i in range(max(len(edges) - 1, 1))] if len(edges) > 1 else [f"{edges[0]:g}"]
        out = np.array(["" if not np.isfinite(v) else names[int(w)] for v, w in zip(values, where, strict=True)],
                       dtype=object)
        note = (f"{label!r} is numeric with many values: same-label retrieval uses {len(names)} quantile bins of it "
                f"({', '.join(names)}), not each value as a class")
        return out, note
    return np.array(["" if col[r] is None else str(col[r]) for r in rows], dtype=object), None


# --------------------------------------------------------------------------------------- compare


def compare(scope: ScopeLike, a: str, b: str, *, k: int = 10, label: str | None = None,
            qrels: str | Path | None = None, top: int = 10, seed: int = 0) -> dict[str, Any]:
    """Compare two spaces on the items they share (see :mod:`embedscope.analyses.compare`); JSON-ready, stored.

    Parameters
    ----------
    a, b
        Space names (any dimensions: they share ids, not coordinates).
    k
        Neighbourhood size for agreement and retrieval.
    label
        A metadata column for same-label retrieval (precision, recall, nDCG at k), or ``None``.
    qrels
        A file of query / relevant-item judgements (see :mod:`embedscope.io.qrels`), or ``None``.
    top
        How many "changed most" items to list with both neighbour lists.
    seed
        Seed of the random pairs and of the bootstrap.

    Returns
    -------
    dict
        ``{"spaces": [a, b], "k", "items", "dims", "jaccard_mean", "jaccard_median", "jaccard_histogram",
        "chance_jaccard", "cka", "spearman", "spearman_pairs", "similarity": {"edges", "a", "b"},
        "calibration": {"percentiles", "a", "b"}, "retrieval": {...} | None, "qrels": {...} | None,
        "changed_most": [{"id", "jaccard", "neighbors_a", "neighbors_b"}], "verdict": str}``.
    """
    a, b = scope.resolve_space(a), scope.resolve_space(b)
    if a == b:
        raise InputError(f"compare needs two different spaces, got {a!r} twice")
    qrels_key = file_digest(qrels) if qrels is not None else None
    want = {"k": int(k), "label": label, "qrels": qrels_key, "top": int(top), "seed": int(seed),
            "version": COMPARE_VERSION}
    name = compare_table(a, b)
    rec = scope.store.record(name)
    if rec is not None and not scope.store.is_stale(rec) and rec.params == want:
        return dict(rec.metrics["result"])
    shared, rows = shared_rows(scope, [a, b])
    xa = np.asarray(scope.store.arrays(a).x)[rows[a]]
    xb = np.asarray(scope.store.arrays(b).x)[rows[b]]
    ga, gb = shared_graph(scope, a, rows[a], k), shared_graph(scope, b, rows[b], k)
    labels, note = label_values(scope, a, rows[a], label) if label is not None else (None, None)
    res = measures.compare(xa, xb, ga, gb, k=k, labels=labels, seed=seed)
    order = measures.changed_most(res.jaccard, xa, xb, ga.indices[:, :res.k], gb.indices[:, :res.k], top)
    changed = [{"id": shared[i], "jaccard": float(res.jaccard[i]),
                "neighbors_a": [shared[j] for j in ga.indices[i, :res.k]],
                "neighbors_b": [shared[j] for j in gb.indices[i, :res.k]]} for i in order]
    hist, _ = np.histogram(res.jaccard, bins=10, range=(0.0, 1.0))
    doc: dict[str, Any] = {
        "spaces": [a, b], "k": res.k, "items": len(shared), "dims": [int(xa.shape[1]), int(xb.shape[1])],
        "jaccard_mean": float(res.jaccard.mean()), "jaccard_median": float(np.median(res.jaccard)),
        "jaccard_histogram": hist.tolist(), "chance_jaccard": res.chance, "cka": res.cka,
        "spearman": res.spearman, "spearman_pairs": res.pairs,
        "similarity": measures.similarity_scales(xa, xb, seed=seed, bins=BINS),
        "calibration": res.calibration.table() if res.calibration is not None else None,
        "retrieval": label_doc(res.retrieval, a, b, label, note) if res.retrieval is not None else None,
        "qrels": retrieval(scope, [a, b], k=k, qrels=qrels, seed=seed)["qrels"] if qrels is not None else None,
        "changed_most": changed}
    doc["verdict"] = verdict(doc)
    with scope.store.writing():
        table = pa.table({"id": pa.array(shared, pa.string()), "jaccard": pa.array(res.jaccard, pa.float32())})
        inputs = {vectors_table(s): scope.store.require(vectors_table(s)).fingerprint for s in (a, b)}
        scope.store.write(Record(table=name, kind="compare", params=want, inputs=inputs,
                           fingerprint=fingerprint_arrays(res.jaccard), metrics={"result": doc}), table)
    return doc


def comparison(scope: ScopeLike, a: str, b: str) -> tuple[list[str], np.ndarray, dict[str, Any]] | None:
    """The stored comparison of ``a`` and ``b``: ids, per-item Jaccard@k (float32, ``(n,)``) and the result.

    ``None`` when it was never computed or either space changed since.
    """
    name = compare_table(scope.resolve_space(a), scope.resolve_space(b))
    rec = scope.store.record(name)
    if rec is None or scope.store.is_stale(rec):
        return None
    t = scope.store.read(name)
    return (t.column("id").to_pylist(), t.column("jaccard").to_numpy().astype(np.float32),
            dict(rec.metrics["result"]))

# --------------------------------------------------------------------------------------- retrieval

def retrieval(scope: ScopeLike, spaces: Sequence[str], *, k: int = 10, label: str | None = None,
              qrels: str | Path | None = None, bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Retrieval quality of two or more spaces on the items they share: which model wins on this data.

    Parameters
    ----------
    spaces
        Two or more space names.
    label
        Same-label retrieval: every item with at least one other item of its label is a query.
    qrels
        Query / relevant-item judgements (:mod:`embedscope.io.qrels`): a query that is an item id is that item
        (left out of its own results); any other query is a text embedded with each space's own model.

    Returns
    -------
    dict
        ``{"spaces", "k", "label": {...} | None, "qrels": {...} | None}``; each part is ``{"queries",
        "rows": [{"metric", "values": {space: mean}, "best", "runner_up", "difference", "ci95", "winner"}]}``
        (``winner`` is ``None`` when the 95% interval of the best-minus-runner-up difference holds 0).
    """
    names = [scope.resolve_space(s) for s in spaces]
    if len(set(names)) < 2:
        raise InputError("retrieval compares two or more different spaces")
    if label is None and qrels is None:
        raise InputError("give a label column (--label) or a qrels file (--qrels) to measure retrieval")
    shared, rows = shared_rows(scope, names)
    out: dict[str, Any] = {"spaces": names, "k": int(k), "items": len(shared), "label": None, "qrels": None}
    if label is not None:
        lab, note = label_values(scope, names[0], rows[names[0]], label)
        per = {s: measures.label_retrieval(shared_graph(scope, s, rows[s], k).indices[:, :k], lab) for s in names}
        out["label"] = {"column": label, "queries": len(per[names[0]]["rows"]), "note": note,
                        "rows": measures.retrieval_table(per, ("precision", "recall", "ndcg"), k,
                                                         bootstrap=bootstrap, seed=seed)}
    if qrels is not None:
        out["qrels"] = qrels_retrieval(scope, names, shared, rows, qrels, k, bootstrap, seed)
    return out


def qrels_retrieval(scope: ScopeLike, names: list[str], shared: list[str], rows: dict[str, np.ndarray],
                    path: str | Path, k: int, bootstrap: int, seed: int) -> dict[str, Any]:
    """Retrieval quality of the spaces ``names`` on the judgements of the qrels file ``path``.

    Parameters
    ----------
    shared, rows
        The items every space holds and each space's rows of them (:func:`shared_rows`).
    path
        The qrels file (:mod:`embedscope.io.qrels`): a query that is a shared item id is that item (left out of
        its own results); any other query is a text embedded with each space's own model.

    Returns
    -------
    dict
        ``{"file", "queries", "text_queries", "judgements", "rows"}`` (rows as in :func:`retrieval`).
    """
    q = read_qrels(path)
    pos = {i: n for n, i in enumerate(shared)}
    for query, rel in zip(q.queries, q.relevant, strict=True):
        for item in rel:
            if item not in pos:
                raise InputError(f"item {item!r} (relevant to query {query!r}) is not in every compared space",
                                 file=q.source, row=q.rows[(query, item)], column="relevant")
    is_item = [query in pos for query in q.queries]
    relevant = [{pos[i]: g for i, g in rel.items()} for rel in q.relevant]
    per = {}
    for s in names:
        x = np.asarray(scope.store.arrays(s).x)[rows[s]]
        qv = np.empty((len(q.queries), x.shape[1]), np.float32)
        texts = [t for t, it in zip(q.queries, is_item, strict=True) if not it]
        if texts:
            try:
                emb = scope.embedder(s).embed_queries(texts)
            except EmbedscopeError as exc:
                raise InputError(f"space {s!r} cannot embed the text queries of {q.source} ({exc}); use item "
                                 f"ids as queries") from None
            qv[[i for i, it in enumerate(is_item) if not it]] = emb
        for i, (query, it) in enumerate(zip(q.queries, is_item, strict=True)):
            if it:
                qv[i] = x[pos[query]]
        # one extra so a query item can be dropped from its own results
        hits = search(normalize(x), normalize(qv), min(k + 1, len(x)), "cosine").indices
        ranked = np.empty((len(hits), min(k, len(x) - 1)), np.int64)
        for i, (query, it) in enumerate(zip(q.queries, is_item, strict=True)):
            row = [h for h in hits[i] if not (it and h == pos[query])]
            ranked[i] = row[:ranked.shape[1]]
        per[s] = measures.qrels_retrieval(ranked, relevant)
    return {"file": q.source, "queries": len(q.queries), "text_queries": int(len(is_item) - sum(is_item)),
            "judgements": q.judgements,
            "rows": measures.retrieval_table(per, ("precision", "recall", "ndcg", "mrr"), k, bootstrap=bootstrap,
                                             seed=seed)}


def file_digest(path: str | Path) -> str:
    """A short digest of a qrels file's bytes (a stored comparison is reused only for the same judgements)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such qrels file", file=p)
    return hashlib.sha256(p.read_bytes()).hexdigest()[:16]


def label_doc(r: dict[str, Any], a: str, b: str, label: str | None, note: str | None = None) -> dict[str, Any]:
    """The label retrieval of :func:`embedscope.analyses.compare.compare` with the space names put back (and
    the note of :func:`label_values` when the classes are bins of a numeric column)."""
    rename = {"a": a, "b": b}
    rows = [{**row, "values": {rename[s]: v for s, v in row["values"].items()}, "best": rename[row["best"]],
             "runner_up": rename[row["runner_up"]], "winner": rename.get(row["winner"]) if row["winner"] else None}
            for row in r["rows"]]
    return {**r, "column": label, "rows": rows, "note": note}


def verdict(doc: dict[str, Any]) -> str:
    """One sentence on how far the two spaces agree and which retrieves better."""
    a, b = doc["spaces"]
    j, chance = doc["jaccard_mean"], doc["chance_jaccard"]
    parts = [f"{a} and {b} share {j:.0%} of their {doc['k']} nearest neighbours on average "
             f"({j / chance:.0f}x chance)" if chance > 0 else f"mean Jaccard@{doc['k']} {j:.3f}"]
    for key in ("qrels", "retrieval"):
        part = doc.get(key)
        if not part:
            continue
        row = part["rows"][-1 if key == "retrieval" else 2]  # nDCG@k
        if row["winner"]:
            parts.append(f"on {'the qrels' if key == 'qrels' else 'same-' + str(part.get('column')) + ' retrieval'}, "
                         f"{row['winner']} wins {row['metric']} by {row['difference']:.3f} "
                         f"(95% CI {row['ci95'][0]:.3f}..{row['ci95'][1]:.3f})")
        else:
            parts.append(f"on {'the qrels' if key == 'qrels' else 'same-' + str(part.get('column')) + ' retrieval'}, "
                         f"{row['metric']} is a tie (95% CI of the difference holds 0)")
        break
    return "; ".join(parts) + "."
