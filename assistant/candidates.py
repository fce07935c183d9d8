"""What the engine needs from an index, whatever stores it (the embedded folder or Qdrant).

A store supplies, for one question, the candidate passages (the dense top N and the BM25 top N)
with their passage cosines and BM25 scores, and then, for any candidate rows, the passages and
their stored sentence vectors. Ranking (retrieval.py), abstention and highlighting (engine.py)
run on top of that, unchanged, so two stores holding the same vectors give the same answers.

Rows are passage numbers, 0..N-1 in build order; both stores number passages the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .chunking import Passage
from .corpus import Document
from .expansion import Vocabulary
from .manifest import Manifest


@dataclass(frozen=True)
class Candidates:
    """One question's candidate passages. `dense` and `bm25` are each retriever's own top N,
    best first (ties by row); `cosine` and `bm25_scores` cover every row in `rows`."""

    rows: tuple[int, ...]  # the union of both retrievers' candidates, ascending
    dense: tuple[tuple[int, float], ...]  # (row, passage cosine), best first
    bm25: tuple[tuple[int, float], ...]  # (row, BM25 > 0), best first
    cosine: Mapping[int, float]  # passage cosine of every candidate row
    bm25_scores: Mapping[int, float]  # BM25 of every candidate row (0 when no word matched)

    @property
    def bm25_top(self) -> float:
        """The question's best BM25 score over the whole index (1.0 when nothing matched)."""
        return self.bm25[0][1] if self.bm25 else 1.0


class Store(Protocol):
    """The index interface of `retrieval.search` and `engine.Assistant` (store.Index is one)."""

    # Read-only attributes (a frozen dataclass's fields satisfy them).
    @property
    def manifest(self) -> Manifest: ...

    @property
    def documents(self) -> dict[str, Document]:
        """The source documents on this machine (may be empty)."""
        ...

    @property
    def vocabulary(self) -> Vocabulary | None: ...

    @property
    def encoder_dir(self) -> Path | None:
        """The verified ONNX query encoder, if there is one."""
        ...

    @property
    def dimension(self) -> int: ...

    def candidates(
        self,
        query_vector: np.ndarray,
        question: str,
        n: int,
        expansion: Mapping[str, float] | None = None,
    ) -> Candidates:
        """The dense and BM25 top `n` for a question (BM25 of the weighted `expansion` when
        given, of the question's words otherwise)."""
        ...

    def sentence_vectors_of(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The stored sentence vectors of `rows`, stacked in row order, and how many each has."""
        ...

    def passage(self, row: int) -> Passage: ...

    def quote_text(self, passage: Passage) -> str:
        """The passage's text, checked against its source (or its build-time checksum)."""
        ...

    def title(self, source: str) -> str: ...

    def common_stems(self, share: float) -> frozenset[str]:
        """The BM25 stems found in more than `share` of the passages (the corpus's topic)."""
        ...
