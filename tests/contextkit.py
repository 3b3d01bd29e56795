"""A contexts workspace built to the contract of ``embedscope contexts`` (notes/WORDS.md, "Contexts workspace"),
with planted vectors, for the server and browser tests of the explorer's contexts view.

:func:`build_contexts` stands in for ``embedscope contexts WS --word bank --label sense`` until that command is
merged; it can then become one call of the command. The layout of what it writes is the command's:

- items: one per occurrence, id ``"{source id}@{char start}"``, text the sentence, columns ``item`` (source id),
  ``word_start``/``word_end`` (the word's span inside the text), ``form``, ``kind`` (``"occurrence"``), ``sense``
  (the label column); plus the word alone (id ``"bank (alone)"``, kind ``"static"``, item ``""``);
- spaces ``layer_0`` .. ``layer_6`` over all items, each with a UMAP layout and a k-means clustering;
- the table ``contexts`` (``layer``, ``space``, ``purity``, ``silhouette``, ``clusters``) with its record (kind
  ``"contexts"``, params ``word``, ``source``, ``model``, ``layers``, ``default_layer``, ``label``,
  ``occurrences``, ``window``).

The vectors: each occurrence is noise plus its sense's direction times a strength that grows with the layer (0 at
layer 0), so the senses do not separate at layer 0 and do at the last layers, as MiniLM's "bank" does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import silhouette_score

import embedscope
from embedscope.store.manifest import Record

WORD = "bank"
LAYERS = list(range(7))
#: How far a sense's direction moves its occurrences, by layer (the noise has unit scale a dimension).
STRENGTH = [0.0, 0.2, 0.7, 1.6, 2.6, 3.4, 4.0]
DIM = 24

RIVER = [f"{who} {did} on the {adj} bank of the {river}"
         for who, did in [("The heron", "waited"), ("A fisherman", "sat"), ("Two otters", "played"),
                          ("The children", "picnicked"), ("An old boat", "lay"), ("Wild flowers", "grew")]
         for adj, river in [("muddy", "river"), ("steep", "stream"), ("grassy", "Thames"), ("far", "creek")]]
MONEY = [f"{who} {did} at the {adj} bank {tail}"
         for who, did in [("She", "opened an account"), ("He", "asked for a loan"), ("They", "paid the cheque in"),
                          ("My aunt", "changed her savings"), ("The firm", "borrowed money"),
                          ("A clerk", "counted notes")]
         for adj, tail in [("local", "on Monday"), ("national", "last week"), ("big", "downtown"),
                           ("new", "before noon")]]


def occurrences() -> pd.DataFrame:
    """The items: 24 river and 24 money occurrences of "bank" (each in its own source item) and the word alone."""
    rows = []
    for i, (text, sense) in enumerate([*((t, "river") for t in RIVER), *((t, "money") for t in MONEY)]):
        start = text.index(WORD)
        rows.append({"id": f"s{i:02d}@{start}", "text": text, "item": f"s{i:02d}", "word_start": start,
                     "word_end": start + len(WORD), "form": WORD, "kind": "occurrence", "sense": sense})
    rows.append({"id": f"{WORD} (alone)", "text": WORD, "item": "", "word_start": 0, "word_end": len(WORD),
                 "form": WORD, "kind": "static", "sense": None})
    return pd.DataFrame(rows)


def build_contexts(path: Path, *, seed: int = 0) -> Path:
    """Write the contexts workspace of "bank" at ``path`` (see the module's docstring); returns ``path``."""
    items = occurrences()
    scope = embedscope.create(path)
    scope.ingest(items, text="text", id="id")
    rng = np.random.default_rng(seed)
    n = len(items)
    senses = items["sense"].to_numpy()
    directions = {s: v / np.linalg.norm(v) for s, v in (("river", rng.normal(size=DIM)),
                                                        ("money", rng.normal(size=DIM)))}
    common = rng.normal(size=(n, DIM))
    ids = items["id"].tolist()
    occ = np.flatnonzero(items["kind"].to_numpy() == "occurrence")
    rows = []
    for layer in LAYERS:
        x = 0.6 * common + 0.4 * rng.normal(size=(n, DIM))
        for s, d in directions.items():
            x[senses == s] += STRENGTH[layer] * np.sqrt(DIM) * 0.35 * d
        space = f"layer_{layer}"
        scope.add_vectors(space, ids, x.astype(np.float32))
        scope.project(space, "umap", seed=seed)
        found = scope.cluster(space, "kmeans", n_clusters=2, seed=seed)
        labels = found.labels[occ]
        truth = senses[occ]
        purity = sum(pd.Series(truth[labels == c]).value_counts().iloc[0] for c in np.unique(labels)) / len(occ)
        rows.append({"layer": layer, "space": space, "purity": float(purity),
                     "silhouette": float(silhouette_score(x[occ], labels, metric="cosine")),
                     "clusters": len(np.unique(labels))})
    table = pa.Table.from_pylist(rows, schema=pa.schema([("layer", pa.int64()), ("space", pa.string()),
                                                         ("purity", pa.float64()), ("silhouette", pa.float64()),
                                                         ("clusters", pa.int64())]))
    store = scope.store
    with store.writing():
        record = Record(table="contexts", kind="contexts",
                        params={"word": WORD, "source": "planted", "model": "planted", "layers": LAYERS,
                                "default_layer": LAYERS[-1], "label": "sense", "occurrences": len(occ),
                                "window": 0})
        store.record_version(record, store.commit("contexts", table), table.num_rows)
    return path
