"""Translators between the spaces of a workspace: paired items, held-out evaluation (stored), fitting,
applying a map into a new space. The maps and their measurement are :mod:`embedscope.translate`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..results import IngestReport, Progress
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import check_space_name, translate_table, translator_table, vectors_table
from .base import ScopeLike


def translate_pairs(scope: ScopeLike, a: str, b: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Items embedded in both spaces: ids (in ``a``'s point order) and their vectors ``(n, d_a)``, ``(n, d_b)``."""
    from ..translate import MIN_PAIRS

    a, b = scope.resolve_space(a), scope.resolve_space(b)
    if a == b:
        raise InputError(f"--from and --to both name space {a!r}; translate between two different spaces")
    ids_a, xa, _ = scope.store.arrays(a)
    _, xb, pos_b = scope.store.arrays(b)
    shared = [i for i in ids_a if i in pos_b]
    if len(shared) < MIN_PAIRS:
        raise InputError(f"spaces {a!r} and {b!r} share {len(shared)} item id(s); a translator needs at least "
                         f"{MIN_PAIRS} items present in both (better 1,000): embed the same items in both spaces")
    ra = np.fromiter((i for i, s in enumerate(ids_a) if s in pos_b), np.int64, len(shared))
    rb = np.fromiter((pos_b[s] for s in shared), np.int64, len(shared))
    return shared, np.asarray(xa)[ra], np.asarray(xb)[rb]


def translate_eval(scope: ScopeLike, a: str, b: str, *, methods: Sequence[str] | None = None, curve: bool = True,
                   test_size: int | None = None, seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
    """Evaluate translators from space ``a`` to ``b`` on held-out shared items, with baselines and a
    learning curve (see :func:`embedscope.translate.evaluate`). Returns the ``translate eval`` JSON document."""
    from ..translate import evaluate

    a, b = scope.resolve_space(a), scope.resolve_space(b)
    _, xa, xb = translate_pairs(scope, a, b)
    ev = evaluate(xa, xb, list(methods) if methods else None, curve=curve, test_size=test_size, seed=seed,
                  progress=progress, names=(a, b))
    doc = ev.to_json(a, b)
    # keep the latest evaluation of this pair of spaces (the explorer's Translate sheet shows it)
    table = pa.Table.from_pylist([{"method": str(m["method"]), "mean_cosine": float(m["mean_cosine"]),
                                   "top1": float(m["top1"]), "top10": float(m["top10"])} for m in doc["methods"]])
    inputs = {vectors_table(s): scope.store.require(vectors_table(s)).fingerprint for s in (a, b)}
    with scope.store.writing():
        scope.store.write(Record(table=translate_table(a, b), kind="translate-eval",
                           params={"from": a, "to": b, "methods": list(methods) if methods else None,
                                   "test_size": test_size, "seed": seed},
                           inputs=inputs, fingerprint=fingerprint_arrays(table.column("mean_cosine").to_numpy()),
                           metrics={"result": doc}), table)
    return doc


def translation(scope: ScopeLike, a: str, b: str) -> dict[str, Any] | None:
    """The latest stored ``translate eval`` document from space ``a`` to ``b`` (plus ``stale``: either
    space changed since), or ``None``."""
    a, b = scope.resolve_space(a), scope.resolve_space(b)
    rec = scope.store.record(translate_table(a, b))
    if rec is None:
        return None
    return {**rec.metrics["result"], "stale": scope.store.is_stale(rec)}


def translate_fit(scope: ScopeLike, a: str, b: str, method: str = "auto", *, path: str | Path | None = None, seed: int = 0,
                  test_size: int | None = None, select: str = "mean_cosine", progress: Progress | None = None,
                  keep: bool = True) -> Any:
    """Fit a translator from space ``a`` to ``b`` on every shared item, after measuring it on held-out items.

    Parameters
    ----------
    method
        ``procrustes``, ``ridge``, ``lowrank``, ``mlp`` or ``auto`` (best held-out ``select`` figure).
    select
        What ``auto`` maximises: ``mean_cosine``, ``top1``, ``top10`` or ``recall@10``.
    path
        Where to save the translator file (``.npz`` format, any name), if given.
    keep
        Also keep it in the workspace (:func:`keep_translator`): text queries of ``b`` then go through
        ``a``'s model and this map when ``b`` has no text model of its own.

    Returns
    -------
    embedscope.translate.Translator
        With the held-out figures in ``meta["metrics"]`` and ``meta["evaluation"]``.
    """
    from ..translate import fit

    a, b = scope.resolve_space(a), scope.resolve_space(b)
    _, xa, xb = translate_pairs(scope, a, b)
    models = {k: scope.store.require(vectors_table(s)).params.get("model") for k, s in
              (("source_model", a), ("target_model", b))}
    tl, _ = fit(xa, xb, method, seed=seed, test_size=test_size, select=select, progress=progress, names=(a, b),
                meta=models)
    if keep:
        keep_translator(scope, tl, a, b)
    if path is not None:
        tl.save(path)
        tl.meta["file"] = str(path)
    return tl


def translator_figures(meta: dict[str, Any]) -> dict[str, Any]:
    """The held-out figures of a fitted translator's metadata that a query route shows: ``recall@10``,
    ``top10``, ``mean_cosine`` of the map and ``baseline_recall@10`` of the mean-vector baseline (``None``
    when not measured), the protocol and the pairs."""
    m = meta.get("metrics") or {}
    ev = meta.get("evaluation") or {}
    base: dict[str, Any] = next((s for s in ev.get("methods") or [] if s.get("method") == "mean"), {})
    return {"recall@10": m.get("recall@10"), "top10": m.get("top10"), "mean_cosine": m.get("mean_cosine"),
            "baseline_recall@10": base.get("recall@10"), "baseline_top10": base.get("top10"),
            "protocol": ev.get("protocol"), "n_test": ev.get("n_test"), "n_train": meta.get("n_train")}


def keep_translator(scope: ScopeLike, tl: Any, a: str, b: str) -> None:
    """Keep translator ``tl`` (from space ``a`` to ``b``) in the workspace: the map in ``models/`` and a
    ``translator__{a}__{b}`` record with its held-out figures, so text queries of ``b`` can go through ``a``'s
    model and this map (:func:`embedscope.pipeline.embed.embedder`). Replaces an earlier one of the pair."""
    figures = translator_figures(tl.meta)
    stem = translator_table(a, b)
    fp = fingerprint_arrays(tl.src_mean, tl.tgt_mean, *tl.weights.values(), tl.method)
    file = f"{stem}-{fp[:16]}.npz"  # one file per fit: a kill before the record leaves the old pair intact
    inputs = {vectors_table(s): scope.store.require(vectors_table(s)).fingerprint for s in (a, b)}
    table = pa.Table.from_pylist([{"method": str(tl.method), "recall_at_10": figures["recall@10"],
                                   "baseline_recall_at_10": figures["baseline_recall@10"],
                                   "mean_cosine": figures["mean_cosine"]}],
                                 schema=pa.schema([("method", pa.string()), ("recall_at_10", pa.float64()),
                                                   ("baseline_recall_at_10", pa.float64()),
                                                   ("mean_cosine", pa.float64())]))
    with scope.store.writing():
        scope.store.model_path(file).parent.mkdir(parents=True, exist_ok=True)
        if not scope.store.model_path(file).is_file():  # the same name holds the same map: never rewritten
            tl.save(scope.store.model_path(file))
        scope.store.write(Record(table=stem, kind="translator",
                                 params={"from": a, "to": b, "method": tl.method, "model_file": file,
                                         "src_dim": tl.src_dim, "tgt_dim": tl.tgt_dim},
                                 inputs=inputs, fingerprint=fp, metrics=figures), table)
        for other in scope.store.model_path(file).parent.glob(f"{stem}-*.npz"):  # earlier fits, no longer recorded
            tail = other.name[len(stem) + 1:-len(".npz")]  # a space "b-x" must not lose its own: 16 hex digits only
            if other.name != file and len(tail) == 16 and all(c in "0123456789abcdef" for c in tail):
                other.unlink(missing_ok=True)
    scope.forget_embedder(b)


def translate_apply(scope: ScopeLike, translator: Any, space: str, name: str, *, batch_size: int = 65_536,
                    progress: Progress | None = None) -> IngestReport:
    """Translate every vector of ``space`` into a new space ``name``, flagged as translated.

    Parameters
    ----------
    translator
        A :class:`~embedscope.translate.Translator` or the path of a translator file.
    space
        The source space (its dimension must be the translator's source dimension).
    name
        The new space. An existing space is replaced only if it was itself translated.
    batch_size
        Vectors per batch.

    The new space records ``source: "translated"``, the method, the translator file and its held-out
    figures; if the translator's target space is in this workspace, text queries on the new space are
    embedded with that space's model.
    """
    from ..translate import Translator

    file = None
    if not isinstance(translator, Translator):
        file = str(translator)
        translator = Translator.load(translator)
    space = scope.resolve_space(space)
    check_space_name(name)
    if name == space:
        raise InputError(f"--as {name!r} is the source space; choose a new space name")
    old = scope.store.record(vectors_table(name))
    if old is not None and old.params.get("source") != "translated":
        raise InputError(f"space {name!r} already exists ({old.params.get('source')}); choose another --as name")
    ids, x, _ = scope.store.arrays(space)
    if x.shape[1] != translator.src_dim:
        raise InputError(f"space {space!r} has {x.shape[1]} dimensions but the translator maps "
                         f"{translator.src_dim}-dimensional vectors", file=file)
    cb = (lambda d, t: progress("translate", d, t)) if progress else None
    if progress:
        progress("translate", 0, len(ids))
    out = translator.transform(x, batch_size=batch_size, progress=cb)
    target = translator.meta.get("target")
    trec = scope.store.record(vectors_table(str(target))) if target else None
    query_space = target if trec is not None and trec.params.get("source") == "embedded" and \
        int(trec.params.get("dim", 0)) == translator.tgt_dim else None
    params = {"source": "translated", "model": f"translated:{translator.method}", "method": translator.method,
              "from": space, "to": target, "query_space": query_space, "translator": file,
              "n_train": translator.meta.get("n_train"), "metrics": translator.meta.get("metrics")}
    with scope.store.writing():
        src_fp = scope.store.require(vectors_table(space)).fingerprint
        scope.store.write_space(name, ids, out, params, {vectors_table(space): src_fp})
    scope.forget_embedder(name)
    return IngestReport(file or "<translator>", len(ids), 0, 0, len(ids), space=name)
