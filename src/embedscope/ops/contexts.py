"""A word's occurrences as a workspace of their own: one contextual vector per occurrence, at every layer.

``embedscope contexts WS --word bank`` finds the word in the workspace's texts (:mod:`embedscope.words.contexts`),
takes each occurrence's token vectors from the bundled model (:mod:`embedscope.embedders.tokens`) and stores them
in the sub-workspace ``WS/contexts/<word>`` (an ordinary workspace, so every tool works on it):

- items: one per occurrence (id ``"{source id}@{char start}"``, text the snippet, columns ``item``,
  ``word_start``, ``word_end`` (the span inside the snippet), ``form``, ``kind`` = ``"occurrence"``, the
  ``--label`` column copied) and the word alone (id ``"{word} (alone)"``, kind ``"static"``);
- spaces ``layer_0`` ... ``layer_L`` over all items (0: the embedding layer), each with its kNN graph, a UMAP
  layout and a k-means clustering (``clusters__layer_N``, the normal pipelines);
- the table ``contexts`` (one row a layer: ``layer``, ``space``, ``purity``, ``silhouette``, ``clusters``)
  recorded with kind ``contexts`` and the run's parameters.

Purity and silhouette are measured on k-means of the occurrences' unit vectors (the static item left out); k
is the number of label values with a label, else ``--clusters``, else the best silhouette in 2..6.

A rerun with the same inputs returns the stored result. A new build goes to a folder beside the target whose
name carries the inputs' fingerprint, renamed into place at the end: a kill leaves the old workspace (or none)
and the partial build, which the rerun resumes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from ..errors import InputError
from ..results import Progress
from ..store.items import items_fingerprint
from ..store.manifest import Record, fingerprint_arrays
from ..store.tables import ITEMS, clusters_table, vectors_table
from ..words.contexts import WINDOW, Occurrence, choose_k, kmeans, occurrences, purity, silhouette
from ..words.tokens import normalise, words
from .base import ScopeLike

#: Fewer occurrences than this are refused (nothing to cluster).
MIN_OCCURRENCES = 4
#: The table of per-layer figures, and its record's kind.
TABLE = "contexts"
#: Item columns the command writes (a ``--label`` column may not take one of these names).
COLUMNS = ("id", "text", "item", "word_start", "word_end", "form", "kind")


def layer_space(layer: int) -> str:
    """The space of a layer: ``layer_{n}``."""
    return f"layer_{layer}"


def static_id(word: str) -> str:
    """The id of the word-alone item."""
    return f"{word} (alone)"


class TargetScope(ScopeLike, Protocol):
    """What building a contexts workspace does to the sub-workspace beyond :class:`~.base.ScopeLike`."""

    def ingest(self, source: Any) -> object:
        """Add or update items (a DataFrame)."""
        ...

    def items(self) -> pa.Table:
        """All items."""
        ...

    def project(self, space: str | None = ..., method: str = ..., *, seed: int = ...,
                progress: Progress | None = ...) -> object:
        """Compute and store a layout."""
        ...

    def cluster(self, space: str | None = ..., method: str = ..., *, n_clusters: int | None = ...,
                seed: int = ...) -> object:
        """Cluster a space and store the clusters."""
        ...


@dataclass
class ContextsReport:
    """What ``contexts`` built (``to_json`` is the CLI's ``--json``).

    Attributes
    ----------
    workspace
        The contexts workspace's path.
    word
        The word (normalised).
    occurrences
        Occurrences stored (the static item not counted).
    default_layer
        The layer shown first (the last by default).
    label
        The label column compared with, or ``None``.
    layers
        One dict a layer: ``layer``, ``space``, ``purity`` (``None`` without a label), ``silhouette``, ``clusters``.
    reused
        Whether the stored result was returned as it was.
    """

    workspace: str
    word: str
    occurrences: int
    default_layer: int
    label: str | None
    layers: list[dict[str, Any]] = field(default_factory=list)
    reused: bool = False

    @property
    def purity(self) -> float | None:
        """Purity at the default layer."""
        return next((r["purity"] for r in self.layers if r["layer"] == self.default_layer), None)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {"workspace": self.workspace, "word": self.word, "occurrences": self.occurrences,
                "default_layer": self.default_layer, "label": self.label, "layers": self.layers,
                "purity": self.purity}


def check_word(word: str) -> str:
    """The normalised word, refusing what is not one word of the tokeniser."""
    found = words(word)
    if len(found) != 1 or found[0] != normalise(word.strip()):
        raise InputError(f"--word {word!r} is not one word (letters, digits, inner ' or -); give a single word")
    return found[0]


def occurrence_table(ids: Sequence[str], occ: list[Occurrence], word: str, label: str | None,
                     label_values: pa.ChunkedArray | None) -> pa.Table:
    """The items of a contexts workspace: the occurrences, then the word alone."""
    n = len(occ)
    cols: dict[str, pa.Array] = {
        "id": pa.array([f"{ids[o.index]}@{o.start}" for o in occ] + [static_id(word)], pa.string()),
        "text": pa.array([o.snippet for o in occ] + [word], pa.string()),
        "item": pa.array([ids[o.index] for o in occ] + [""], pa.string()),
        "word_start": pa.array([o.snippet_start for o in occ] + [0], pa.int64()),
        "word_end": pa.array([o.snippet_end for o in occ] + [len(word)], pa.int64()),
        "form": pa.array([o.form for o in occ] + [word], pa.string()),
        "kind": pa.array(["occurrence"] * n + ["static"], pa.string()),
    }
    if label is not None and label_values is not None:
        taken = label_values.take(pa.array([o.index for o in occ], pa.int64())).combine_chunks()
        cols[label] = pa.concat_arrays([taken, pa.nulls(1, taken.type)])
    return pa.table(cols)


def parse_layers(layers: str | Sequence[int] | None, count: int) -> list[int]:
    """``None`` or ``"all"``: every layer ``0..count-1``; else the given layers (``"0,3,6"`` or ints), checked."""
    if layers is None or (isinstance(layers, str) and layers.strip().lower() == "all"):
        return list(range(count))
    if isinstance(layers, str):
        try:
            chosen = [int(p) for p in layers.split(",") if p.strip()]
        except ValueError:
            raise InputError(f"--layers {layers!r}: give 'all' or layer numbers separated by commas, "
                             f"from 0 to {count - 1}") from None
    else:
        chosen = [int(p) for p in layers]
    bad = [p for p in chosen if not 0 <= p < count]
    if bad or not chosen:
        raise InputError(f"--layers: the model has layers 0 to {count - 1} (0 = the embedding layer); "
                         f"got {', '.join(map(str, bad)) or 'none'}")
    return sorted(set(chosen))


def contexts(scope: ScopeLike, word: str, *, open_target: Callable[[Path], TargetScope], to: str | Path | None = None,
             label: str | None = None, layer: int | None = None, layers: str | Sequence[int] | None = None,
             clusters: int | None = None, window: int = WINDOW, limit: int | None = None, model: str | None = None,
             seed: int = 0, progress: Progress | None = None, log: Callable[[str], Any] | None = None
             ) -> ContextsReport:
    """Build (or reuse) the contexts workspace of ``word`` from ``scope``'s texts; see the module docstring.

    Parameters
    ----------
    scope
        The workspace whose texts are searched.
    word
        One word (matched whole, case-insensitively).
    open_target
        Creates or opens a workspace at a path (``Scope.create(path, exist_ok=True)``).
    to
        Where to build it (default ``WS/contexts/<word>``).
    label
        An item column of known senses to measure purity against.
    layer
        The default layer (the last of ``layers`` by default).
    layers
        Layers to store (``"all"``, ``"0,3,6"`` or ints; default all).
    clusters
        k of the k-means (default: the label's number of values, else the best silhouette in 2..6).
    window
        Snippet length bound in characters.
    limit
        At most this many occurrences (the first ones in item order).
    model
        ``None`` (the bundled MiniLM) or ``local:PATH``.
    seed
        Seed of k-means and UMAP.

    Raises
    ------
    InputError
        Not one word, an unknown label column, fewer than :data:`MIN_OCCURRENCES` occurrences, bad layers.
    """
    from ..embedders.tokens import TokenVectors

    say = log or (lambda _m: None)
    w = check_word(word)
    if window < 20:
        raise InputError(f"--window {window}: give at least 20 characters")
    if clusters is not None and clusters < 1:
        raise InputError(f"--clusters {clusters}: give at least 1")
    if not scope.has_items():
        raise InputError(f"{scope.path} holds no items; ingest texts first: embedscope ingest {scope.path} FILE")
    items = scope.store.items()
    if "text" not in items.column_names:
        raise InputError(f"{scope.path} has no texts to find {w!r} in (its items have no text column)")
    if label is not None:
        if label not in items.column_names or label in COLUMNS:
            usable = [c for c in items.column_names if c not in COLUMNS]
            raise InputError(f"--label {label!r} is not a column of the items of {scope.path}"
                             + (" (it names a column the contexts workspace writes)" if label in COLUMNS else "")
                             + f"; columns: {', '.join(usable) or 'none'}")
    ids = items.column("id").to_pylist()
    occ = occurrences(items.column("text").to_pylist(), w, window=window, limit=limit)
    if len(occ) < MIN_OCCURRENCES:
        raise InputError(f"{w!r} occurs {len(occ)} time{'s' if len(occ) != 1 else ''} in the texts of {scope.path} "
                         f"(whole words, any case); contexts need at least {MIN_OCCURRENCES}: choose a more "
                         "frequent word or add texts")
    table = occurrence_table(ids, occ, w, label, items.column(label) if label else None)
    tv = TokenVectors(model)
    chosen = parse_layers(layers, tv.layers)
    default = chosen[-1] if layer is None else int(layer)
    if default not in chosen:
        raise InputError(f"--layer {layer} is not among the stored layers ({', '.join(map(str, chosen))})")
    items_fp = fingerprint_arrays(table.column("id"), table.column("text"), table.column("word_start"),
                                  table.column("word_end"))
    vkey = fingerprint_arrays(items_fp, tv.key)
    key = fingerprint_arrays(vkey, repr((chosen, default, label, clusters, seed, window, limit)))
    target = Path(to) if to is not None else scope.path / "contexts" / w
    params = {"word": w, "source": str(scope.path), "model": tv.name, "layers": chosen, "default_layer": default,
              "label": label, "occurrences": len(occ), "window": int(window)}

    done = stored_report(target, key, open_target)
    if done is not None:
        say(f"{target}: already built from these inputs")
        return done
    build = target
    if (target / "scope.json").exists():
        old = open_target(target)
        if old.has_items() and old.store.require(ITEMS).fingerprint != items_fingerprint(table):
            check_ours(old)
            build = target.parent / f".{target.name}.building-{key[:12]}"
    t = open_target(build)
    say(f"{len(occ)} occurrences of {w!r} in {scope.path}; building {target}")
    t.ingest(table.to_pandas())  # a no-op when the stored items are these
    missing = [p for p in chosen if not space_ok(t, layer_space(p), vkey)]
    if missing:
        say(f"token vectors of {len(occ) + 1} items at layers {', '.join(map(str, missing))} ({tv.name})")
        texts = table.column("text").to_pylist()
        spans = list(zip(table.column("word_start").to_pylist(), table.column("word_end").to_pylist(), strict=True))
        vecs = tv.vectors(texts, spans, progress=progress)
        row_ids = table.column("id").to_pylist()
        with t.store.writing():
            for p in missing:
                t.store.write_space(layer_space(p), row_ids, vecs[p],
                                    {"source": "contexts", "model": tv.key, "layer": p, "word": w,
                                     "vectors_key": vkey}, inputs={ITEMS: t.store.require(ITEMS).fingerprint})
    static = table.num_rows - 1
    labels = table.column(label).to_pylist()[:static] if label else None
    n_labels = len({v for v in labels if v is not None and v == v}) if labels is not None else 0
    rows = []
    for p in chosen:
        space = layer_space(p)
        say(f"{space}: kNN graph, UMAP layout, clusters")
        x = t.store.arrays(space).x
        occ_x = x[:static]
        if clusters is not None or n_labels >= 2:
            k = int(clusters if clusters is not None else n_labels)
            lab = kmeans(occ_x, k, seed=seed)
        else:
            k, lab = choose_k(occ_x, seed=seed)
        t.knn(space)
        t.project(space, "umap", seed=42 + seed, progress=progress)
        t.cluster(space, "kmeans", n_clusters=k, seed=seed)
        rows.append({"layer": p, "space": space, "purity": purity(lab, labels) if labels is not None else None,
                     "silhouette": silhouette(occ_x, lab, seed=seed), "clusters": k})
    out = pa.table({"layer": pa.array([r["layer"] for r in rows], pa.int64()),
                    "space": pa.array([r["space"] for r in rows], pa.string()),
                    "purity": pa.array([r["purity"] for r in rows], pa.float64()),
                    "silhouette": pa.array([r["silhouette"] for r in rows], pa.float64()),
                    "clusters": pa.array([r["clusters"] for r in rows], pa.int64())})
    with t.store.writing():
        inputs = {vectors_table(layer_space(p)): t.store.require(vectors_table(layer_space(p))).fingerprint
                  for p in chosen}
        t.store.write(Record(table=TABLE, kind=TABLE, params=params, inputs=inputs, fingerprint=key), out)
    if build != target:
        swap(build, target)
    return ContextsReport(str(target), w, len(occ), default, label, rows)


def space_ok(t: ScopeLike, space: str, vkey: str) -> bool:
    """Whether ``space`` holds the vectors of these items and this model."""
    rec = t.store.record(vectors_table(space))
    return rec is not None and rec.params.get("vectors_key") == vkey and not t.store.is_stale(rec)


def check_ours(t: ScopeLike) -> None:
    """Refuse to replace a workspace that is not a contexts workspace."""
    if t.store.record(TABLE) is None and not all(s.startswith("layer_") for s in t.spaces()):
        raise InputError(f"{t.path} is a workspace that embedscope contexts did not make; give another --to")


def stored_report(target: Path, key: str, open_target: Callable[[Path], TargetScope]) -> ContextsReport | None:
    """The stored result at ``target`` when it was built from the same inputs (its record's fingerprint)."""
    if not (target / "scope.json").exists():
        return None
    t = open_target(target)
    rec = t.store.record(TABLE)
    if rec is None or rec.fingerprint != key or t.store.is_stale(rec):
        return None
    if any(t.store.record(clusters_table(layer_space(p))) is None for p in rec.params.get("layers", [])):
        return None
    tab = t.store.read(TABLE)
    rows = [{"layer": int(r["layer"]), "space": r["space"], "purity": r["purity"],
             "silhouette": r["silhouette"], "clusters": int(r["clusters"])} for r in tab.to_pylist()]
    p = rec.params
    return ContextsReport(str(target), str(p["word"]), int(p["occurrences"]), int(p["default_layer"]), p.get("label"),
                          rows, reused=True)


def swap(build: Path, target: Path) -> None:
    """Put the finished ``build`` in ``target``'s place (the old one removed after the rename)."""
    trash = target.parent / f".{target.name}.old"
    shutil.rmtree(trash, ignore_errors=True)
    target.rename(trash)
    build.rename(target)
    shutil.rmtree(trash, ignore_errors=True)

