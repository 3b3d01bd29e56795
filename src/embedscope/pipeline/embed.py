"""Embedding: a space from the items' texts, and queries embedded with a space's own model (the steps behind
:meth:`embedscope.scope.Scope.embed`, ``embedder`` and ``embed_query``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..embedders import DryRun, Embedder, get_embedder
from ..engines import get_engine
from ..errors import InputError, ManifestError, WorkspaceError
from ..io.modelfiles import is_legacy, load_state, recorded_file
from ..results import EmbedReport, Progress
from ..store.manifest import Record
from ..store.tables import IMAGES, ITEMS, check_space_name, vectors_table
from .base import ScopeLike


def recorded_backend(params: dict[str, Any]) -> str | None:
    """The backend that embedded a space of a local model (``torch`` for spaces recorded before backends
    existed), ``None`` for other models."""
    if str(params.get("model", "")).partition(":")[0] != "local":
        return None
    return str(params.get("backend") or "torch")


def embed(
    scope: ScopeLike,
    space: str | None = None,
    model: str | None = None,
    *,
    batch_size: int | None = None,
    device: str | None = None,
    dimensions: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    engine: str = "local",
    address: str | None = None,
    concurrency: int | None = None,
    backend: str | None = None,
) -> EmbedReport | DryRun:
    """Embed every item's text into ``space`` with ``model``; cached, batched and resumable.

    Parameters
    ----------
    scope
        The scope (:class:`embedscope.scope.Scope`; typed by :class:`.base.ScopeLike`).
    space
        Space name; default: named after the model (``minilm`` for the default model).
    model
        ``local``, ``local:PATH``, ``openai:MODEL``, ``tfidf:DIM``, ``e5``, ``image``, ``clip:PATH``,
        ``avg:word2vec`` or ``avg:glove``
        (:func:`embedscope.embedders.get_embedder`); ``None``: :func:`default_model`. An image model embeds the
        items' images (:meth:`embedscope.scope.Scope.image_files`), cached by each file's content hash.
    batch_size, device, dimensions
        Passed to the embedder.
    dry_run
        Count items, tokens and cost; embed nothing.
    progress
        Called with (stage, done, total).
    engine
        ``local`` (this process) or ``ray`` (:mod:`embedscope.engines.ray`: an actor pool on a Ray cluster,
        same vectors; needs ``embedscope[ray]``).
    address, concurrency
        With ``engine="ray"``: the cluster (``None``: a local runtime on 127.0.0.1) and how many actors.
    backend
        Local models: ``torch``, ``onnx`` or ``onnx-int8``. ``None``: the backend an existing space of this
        model recorded (``torch`` if it recorded none), else the default
        (:func:`embedscope.embedders.local.default_backend`). Another backend than the space's re-embeds the
        whole space (its vectors are cached under another key), so a space never mixes backends.

    Returns
    -------
    EmbedReport or DryRun
    """
    runner = get_engine(engine, address)
    items = scope.items()
    if model is None:
        model = default_model(scope, items.column_names)
    emb = get_embedder(model, batch_size=batch_size, device=device, dimensions=dimensions, backend=backend)
    space = check_space_name(space or emb.default_space)
    ids, texts, hashes, skipped, inputs = embed_inputs(scope, emb, items)
    name = vectors_table(space)
    rec = scope.store.record(name)
    if rec is not None and rec.params.get("model") not in (None, model):
        raise InputError(f"space {space!r} holds vectors from {rec.params.get('model')!r}; "
                         f"choose another --space for {model!r}")
    if rec is not None and rec.params.get("source") == "vectors":
        raise InputError(f"space {space!r} holds vectors you brought; choose another --space to embed into")
    recorded = recorded_backend(rec.params) if rec is not None and rec.params.get("source") == "embedded" else None
    if backend is None and recorded is not None and getattr(emb, "backend", recorded) != recorded:
        emb = get_embedder(model, batch_size=batch_size, device=device, dimensions=dimensions, backend=recorded)
    if emb.needs_fit:
        emb.fit(texts)
    if hashes is not None and not dry_run:
        check_image_files(scope, emb, texts, hashes)
    if dry_run:
        from ..embedders.run import text_hash

        cache = scope.store.lance_cache(emb.key)
        keys = hashes if hashes is not None else [text_hash(t) for t in texts]
        first = dict(zip(keys, texts, strict=True))
        found = cache.lookup(list(first))
        todo = [t for h, t in first.items() if h not in found]
        what = "images" if hashes is not None else "texts"
        dr = DryRun(len(todo), 0, True, 0) if hashes is not None else emb.dry_run(todo)
        dr.notes.append(f"{len(texts)} {what}, {len(first)} distinct, {len(found)} already cached")
        return dr
    with scope.store.writing():
        cache = scope.store.lance_cache(emb.key)
        stage = "embed images" if hashes is not None else "embed"
        cb = (lambda d, t: progress(stage, d, t)) if progress else None
        opts = {"batch_size": batch_size, "device": device, "dimensions": dimensions,
                "backend": getattr(emb, "backend", None)}
        vecs, stats = runner.embed_texts(texts, emb, cache, model=model, options=opts,
                                         staging=scope.store.staging_path(f"ray-{cache.name}.lance"),
                                         batch_size=batch_size, concurrency=concurrency, on_batch=cb,
                                         hashes=hashes)
        model_file = None
        if emb.needs_fit and hasattr(emb, "save"):
            # one file per fit, named in the space's record: a kill between saving it and recording the new
            # vectors leaves the old vectors with their own (old) model, never with the new one
            import hashlib

            model_file = f"{space}__fit-{hashlib.blake2b(emb.key.encode(), digest_size=8).hexdigest()}.npz"
            emb.save(scope.store.model_path(model_file))
        params = {"source": "embedded", "model": model, "modality": emb.modality, **emb.spec(),
                  **({"model_file": model_file} if model_file else {})}
        scope.store.write_space(space, ids, vecs, params, inputs)
        if model_file:  # earlier fits of this space (and their pickles, if an older version wrote them)
            for old in (*(scope.path / "models").glob(f"{space}__fit-*.pkl"),  # are no longer recorded
                        *(scope.path / "models").glob(f"{space}__fit-*.npz")):
                if old.name != model_file:
                    old.unlink(missing_ok=True)
            scope.store.model_path(f"{space}.pkl").unlink(missing_ok=True)
        cache.compact()
    scope.query_embedders.pop(space, None)
    if emb.text_queries:  # else text queries go through a translator (embedder())
        scope.query_embedders[space] = emb
    return EmbedReport(space, model, int(vecs.shape[1]), stats, skipped, getattr(emb, "backend", None),
                       emb.modality)


def check_image_files(scope: ScopeLike, emb: Embedder, paths: list[str], hashes: list[str]) -> None:
    """Refuse, before anything runs, to embed images whose files are gone (moved or deleted since ingest) and
    whose vectors are not cached: one line naming the first, and what to do."""
    if all(Path(p).is_file() for p in paths):
        return
    found = scope.store.lance_cache(emb.key).lookup(list(dict.fromkeys(hashes)))
    missing = [p for p, h in zip(paths, hashes, strict=True) if h not in found and not Path(p).is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"the image file is missing{more}: moved or deleted since it was ingested; ingest its "
                         "folder again from where it is now, then embed", file=missing[0])


def default_model(scope: ScopeLike, columns: list[str]) -> str:
    """The ``--model`` of ``embed`` when none is given: ``image`` (the bundled image model) for a workspace of
    images without texts, else ``local`` (the bundled text model)."""
    return "image" if "text" not in columns and scope.has_images() else "local"


def embed_inputs(scope: ScopeLike, emb: Embedder, items: pa.Table
                 ) -> tuple[list[str], list[str], list[str] | None, int, dict[str, str]]:
    """What ``emb`` embeds of the items: texts, or for an image model the items' image files.

    Returns
    -------
    ids : list of str
        The items embedded, in item order.
    inputs : list of str
        Their texts, or the absolute paths of their image files.
    hashes : list of str or None
        Cache keys (``"image:" + sha256`` of each file's bytes) for images; ``None`` for texts (hashed by content).
    skipped : int
        Items without a text (or an image).
    deps : dict
        The tables the space is computed from, with their fingerprints (its staleness).
    """
    deps = {ITEMS: scope.store.require(ITEMS).fingerprint}
    if emb.modality == "image":
        ids, paths, shas = scope.image_files()
        if not ids:
            raise InputError(f"{scope.path} has no images to embed with {emb.model_spec or 'an image model'}; "
                             f"ingest a folder of images first: embedscope ingest {scope.path} FOLDER")
        deps[IMAGES] = scope.store.require(IMAGES).fingerprint
        return ids, paths, ["image:" + h for h in shas], items.num_rows - len(ids), deps
    if "text" not in items.column_names:
        hint = " (it holds images: embed them with --model image or clip:PATH)" if scope.has_images() else \
            " (it holds vectors only)"
        raise InputError(f"{scope.path} has no texts to embed{hint}")
    text_col = items.column("text")
    mask = text_col.is_valid().to_numpy(zero_copy_only=False)
    ids = [s for s, m in zip(items.column("id").to_pylist(), mask, strict=True) if m]
    texts = [t for t in text_col.to_pylist() if t is not None]
    if not texts:
        raise InputError("no item has a text to embed")
    return ids, texts, None, len(mask) - len(ids), deps


def embedder(scope: ScopeLike, space: str | None = None) -> Embedder:
    """The embedder of text queries into ``space``.

    The space's own model when it embeds texts; for a space without one (vectors you brought, an image model
    without a text tower: ``text_queries`` false) the best kept translator from a space that has one (its model,
    then the map: :func:`translated_query_embedder`). :func:`query_route` says which.
    """
    space = scope.resolve_space(space)
    if space in scope.query_embedders:
        return scope.query_embedders[space]
    rec = scope.store.require(vectors_table(space))
    if rec.params.get("source") == "translated" and rec.params.get("query_space") in scope.spaces():
        return scope.embedder(str(rec.params["query_space"]))  # queries go through the target space's model
    if rec.params.get("source") == "compressed" and rec.params.get("codec_file") and \
            rec.params.get("from") in scope.spaces():
        return compressed_embedder(scope, space, rec)
    if rec.params.get("source") != "embedded":
        routed = translated_query_embedder(scope, space)
        if routed is not None:
            return routed
        what = (f"was translated from {rec.params.get('from')!r} by a translator whose target space has no model "
                "in this workspace" if rec.params.get("source") == "translated"
                else "holds vectors you brought, with no model to embed a query")
        raise InputError(f"space {space!r} {what}; search it by item id, or search it by words through a space "
                         f"with a text model: {fit_hint(scope, space)}")
    emb = model_embedder(scope, space, rec)
    if not getattr(emb, "text_queries", True):  # an image model without a text tower
        routed = translated_query_embedder(scope, space)
        if routed is not None:
            return routed
        raise InputError(f"space {space!r} has no text model ({rec.params.get('model')} embeds images only); to "
                         f"search it by words: {fit_hint(scope, space)}")
    scope.query_embedders[space] = emb
    return emb


def fit_hint(scope: ScopeLike, space: str) -> str:
    """The command that fits a translator into ``space`` from a space with a text model (one is named when the
    workspace has one)."""
    texts = [s for s in scope.spaces() if s != space and
             (r := scope.store.record(vectors_table(s))) is not None and r.params.get("source") == "embedded" and
             r.params.get("modality", "text") == "text"]
    return f"embedscope translate fit {scope.path} --from {texts[0] if texts else 'TEXT'} --to {space}"


def model_embedder(scope: ScopeLike, space: str, rec: Record) -> Embedder:
    """The model that embedded ``space`` (a space of ``source: "embedded"``), loaded as recorded."""
    check_recorded_model(scope, rec)
    emb = get_embedder(str(rec.params["model"]), dimensions=rec.params.get("dimensions"),
                       backend=recorded_backend(rec.params))
    recorded_key = rec.params.get("key")
    if str(rec.params["model"]).startswith("openai:") and isinstance(recorded_key, str) and \
            recorded_key.startswith("openai:") and recorded_key != emb.key:
        # the endpoint comes from this machine's OPENAI_BASE_URL only, never from the workspace; a space
        # embedded through another endpoint is not queried through this one (other vectors, maybe a model
        # of the same name that is not the same model)
        raise InputError(f"space {space!r} was embedded through another endpoint ({recorded_key}); queries "
                         f"go to this machine's {emb.key}; set OPENAI_BASE_URL to that endpoint if you trust "
                         "it, or search the space by item id")
    if emb.needs_fit:
        path = recorded_file(scope.path, rec.params.get("model_file") or f"{space}.pkl", table=rec.table,
                             key="model_file")
        again = (f"embedscope train {scope.path} --base {rec.params.get('base', 'local')} --space {space}"
                 if str(rec.params["model"]).startswith("tuned:") else
                 f"embedscope embed {scope.path} --model {rec.params['model']} --space {space}")
        if is_legacy(path.name):  # written by an earlier version as a pickle: never opened
            raise WorkspaceError(f"the fitted model of space {space!r} is a pickle from an earlier embedscope "
                                 f"({path}), which is never opened (it could run code); embed the space "
                                 f"again: {again}")
        if not path.exists():
            raise WorkspaceError(f"the fitted model of space {space!r} is missing ({path}); embed it again: "
                                 f"{again}")
        emb.load(path)  # type: ignore[attr-defined]
    return emb


def translated_query_embedder(scope: ScopeLike, space: str) -> Embedder | None:
    """Text queries of ``space`` through a kept translator: the source space's text model, then the map.

    Among the translators kept into ``space`` (``translate fit`` keeps them, see
    :func:`embedscope.ops.translate.keep_translator`) that are not stale and whose source space was embedded by a
    model with a text side, the one with the best held-out recall@10. ``None`` when there is none. The embedder's
    ``route`` says so (:func:`query_route`).
    """
    from ..embedders.derived import MappedEmbedder
    from ..translate import Translator

    kept = [r for r in scope.store.records("translator")
            if r.params.get("to") == space and r.params.get("from") in scope.spaces() and not scope.store.is_stale(r)]
    def recall(r: Record) -> float:
        v = r.metrics.get("recall@10")
        return float(v) if isinstance(v, (int, float)) else -1.0

    kept.sort(key=recall, reverse=True)
    for rec in kept:
        src = str(rec.params["from"])
        src_rec = scope.store.require(vectors_table(src))
        if src_rec.params.get("source") != "embedded":  # a text model of its own only: no chains, no loops
            continue
        src_emb = scope.query_embedders.get(src) or model_embedder(scope, src, src_rec)
        if not getattr(src_emb, "text_queries", True):
            continue
        scope.query_embedders.setdefault(src, src_emb)
        try:
            tl = Translator.load(recorded_file(scope.path, rec.params.get("model_file"), table=rec.table,
                                               key="model_file"))
        except InputError as exc:
            raise WorkspaceError(f"the translator kept from {src!r} to {space!r} cannot be read ({exc}); fit it "
                                 f"again: embedscope translate fit {scope.path} --from {src} --to {space}") from None
        route = {"route": "translator", "space": space, "via": src, "model": src_emb.model_spec,
                 "method": tl.method, "recall_at_10": rec.metrics.get("recall@10"),
                 "baseline_recall_at_10": rec.metrics.get("baseline_recall@10"),
                 "protocol": rec.metrics.get("protocol"), "n_test": rec.metrics.get("n_test")}
        emb = MappedEmbedder(src_emb, tl.transform, f"translator:{tl.method}", route=route)
        scope.query_embedders[space] = emb
        return emb
    return None


def query_route(scope: ScopeLike, space: str | None = None) -> dict[str, Any]:
    """How a text query of ``space`` is embedded.

    Returns
    -------
    dict
        ``route``: ``"model"`` (a model with a text side: the space's own, its source's for a compressed or
        translated copy) or ``"translator"``; ``space``; ``model`` (the model that embeds the text); and for a
        translator ``via`` (the text space), ``method``, ``recall_at_10`` (held-out) and
        ``baseline_recall_at_10`` (the mean-vector baseline's), ``protocol``, ``n_test``.

    Raises
    ------
    InputError
        No way to embed a text into ``space`` (says how to fit a translator).
    """
    space = scope.resolve_space(space)
    emb = scope.embedder(space)
    route = getattr(emb, "route", None)
    if isinstance(route, dict):
        return {**route, "space": space}
    return {"route": "model", "space": space, "model": emb.model_spec, "via": None}


def check_recorded_model(scope: ScopeLike, rec: Record) -> None:
    """Refuse a ``local:PATH`` model that the manifest places inside the workspace: a workspace from
    elsewhere must not bring the model that embeds your queries (a relative path resolves against the
    current directory, as ``embed`` resolved it)."""
    kind, _, arg = str(rec.params.get("model", "")).partition(":")
    if kind == "tuned":  # tuned:local[:PATH]: the base model is the local model
        kind, _, arg = arg.partition(":")
    if kind != "local" or not arg:
        return
    where = Path(arg).expanduser().resolve()
    if where.is_relative_to(scope.path.resolve()):
        raise ManifestError(f"names local model {arg!r}, which lies inside this workspace; a workspace "
                            "never brings its own model: embed the space again with a model you trust",
                            file=scope.path / "scope.json", column=f"records.{rec.table}.params.model")


def embed_query(scope: ScopeLike, text: str, space: str | None = None) -> np.ndarray:
    """One text embedded with the space's own model; float32, shape ``(d,)``."""
    if not text or not text.strip():
        raise InputError("the query text is empty")
    return scope.embedder(space).embed_queries([text])[0]



def compressed_embedder(scope: ScopeLike, space: str, rec: Record) -> Embedder:
    """Queries of a compressed copy: the source space's model, then the codec's query map."""
    from ..analyses import compress as _c
    from ..embedders.derived import MappedEmbedder

    path = recorded_file(scope.path, rec.params["codec_file"], table=rec.table, key="codec_file")
    if is_legacy(path.name):
        # a pickle from an earlier version is never opened; the codec is refitted on the source vectors
        # (deterministic, so the same codec when those vectors have not changed since)
        if scope.store.is_stale(rec):
            raise WorkspaceError(f"the codec of space {space!r} is a pickle from an earlier embedscope ({path}), "
                                 f"never opened, and {rec.params['from']!r} changed since; store the copy "
                                 f"again: embedscope compress {scope.path} --space {rec.params['from']} "
                                 f"--store {rec.params['codec']} --as NEW")
        print(f"note: {path.name} is a pickle from an earlier embedscope and is not opened; the "
              f"{rec.params['codec']} codec is refitted from space {rec.params['from']!r}", file=sys.stderr)
        try:
            _, codec = _c.compressed_copy(np.asarray(scope.store.arrays(str(rec.params["from"])).x),
                                          str(rec.params["codec"]))
        except ValueError as exc:
            raise WorkspaceError(f"space {space!r}: {exc}") from None
    else:
        arrays, header = load_state(path, "codec")
        try:
            codec = _c.codec_from_state(arrays, header)
        except ValueError as exc:
            raise WorkspaceError(f"{path}: a damaged codec ({exc}); store the compressed copy again") from None
    emb = MappedEmbedder(scope.embedder(str(rec.params["from"])), lambda q: _c.query_transform(codec, q),
                         str(rec.params["codec"]))
    scope.query_embedders[space] = emb
    return emb
