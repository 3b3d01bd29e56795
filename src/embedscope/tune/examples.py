"""Training examples for :func:`embedscope.tune.finetune.finetune`: from labels, from pairs of texts, from qrels.

Two kinds, each with the loss that suits it:

- ``labels``: texts with a label each, trained with a batch triplet loss (``BatchHardSoftMarginTripletLoss``,
  cosine distance): every text is pulled towards the farthest text of its label in the batch and pushed from
  the nearest of another label. Batches are made of small groups of the same label (:data:`PER_LABEL`), so
  every text has a positive in its batch however many labels there are;
- ``pairs``: (anchor, positive) texts (a pairs file, or a qrels query and a relevant item), trained with
  ``MultipleNegativesRankingLoss``: the other positives of the batch are the negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Items of one label placed together in a batch (labels loss).
PER_LABEL = 4
LABEL_LOSS = "BatchHardSoftMarginTripletLoss"
PAIR_LOSS = "MultipleNegativesRankingLoss"


@dataclass
class Examples:
    """Training examples of one kind.

    Attributes
    ----------
    kind
        ``labels`` or ``pairs``.
    anchors
        Texts, length ``m``.
    positives
        ``pairs``: the positive text of each anchor (length ``m``); ``labels``: ``None``.
    labels
        ``labels``: int64 label codes, shape ``(m,)``; ``pairs``: ``None``.
    """

    kind: str
    anchors: list[str]
    positives: list[str] | None = None
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.anchors)

    @property
    def loss(self) -> str:
        """The name of the sentence-transformers loss these examples are trained with."""
        return LABEL_LOSS if self.kind == "labels" else PAIR_LOSS

    def batches(self, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
        """The batches of one epoch: row indices, seeded by ``(seed, epoch)`` (a resumed run replays them).

        ``labels``: same-label groups of :data:`PER_LABEL` in random order, never split across batches;
        ``pairs``: a random permutation cut into ``batch_size`` rows. Batches of one row are dropped (nothing
        to contrast)."""
        rng = np.random.default_rng([seed, epoch])
        if self.kind == "labels":
            assert self.labels is not None
            groups: list[np.ndarray] = []
            for code in np.unique(self.labels):
                rows = rng.permutation(np.flatnonzero(self.labels == code))
                groups.extend(rows[s:s + PER_LABEL] for s in range(0, len(rows), PER_LABEL))
            out: list[np.ndarray] = []
            current: list[np.ndarray] = []
            size = 0
            for g in (groups[i] for i in rng.permutation(len(groups))):
                if size + len(g) > batch_size and current:
                    out.append(np.concatenate(current))
                    current, size = [], 0
                current.append(g)
                size += len(g)
            if current:
                out.append(np.concatenate(current))
        else:
            perm = rng.permutation(len(self.anchors))
            out = [perm[s:s + batch_size] for s in range(0, len(perm), batch_size)]
        return [b for b in out if len(b) > 1]


def from_labels(texts: Sequence[str], labels: Sequence[object] | np.ndarray) -> Examples:
    """Examples from labelled texts (items without a label are left out by the caller).

    Parameters
    ----------
    texts, labels
        Length ``m`` each.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts for {len(labels)} labels")
    _, codes = np.unique(np.asarray([str(v) for v in labels]), return_inverse=True)
    return Examples("labels", list(texts), labels=codes.astype(np.int64))


def from_pairs(pairs: Sequence[tuple[str, str]]) -> Examples:
    """Examples from pairs of similar texts ``(anchor, positive)``."""
    return Examples("pairs", [a for a, _ in pairs], positives=[b for _, b in pairs])


def from_qrels(queries: Sequence[str], relevant: Sequence[Sequence[str]]) -> Examples:
    """Examples from relevance judgements: one ``(query text, relevant text)`` pair per relevant item.

    Parameters
    ----------
    queries
        Query texts (an item query already replaced by its text).
    relevant
        Same length: the texts of each query's relevant items (grade > 0).
    """
    return from_pairs([(q, r) for q, rel in zip(queries, relevant, strict=True) for r in rel])
