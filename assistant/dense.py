"""The dense index: FAISS inner product over unit-length vectors, i.e. cosine similarity.

The index type follows the corpus size (`IndexPlan`):

- `flat` (exact, `IndexFlatIP`) below `hnsw_threshold` vectors (50,000 by default). At that size
  a brute-force scan of 384-dim vectors takes a few milliseconds, less than embedding the question.
- `hnsw` (`IndexHNSWFlat`, inner product) above it: a graph search whose cost grows with log N.
  `ef_search` trades recall for speed; it is stored in the index file and raised to `k` if lower.
- `hnsw_sq8` (`IndexHNSWSQ`, 8-bit scalar quantisation): the same graph over 1-byte components,
  about 3x less memory per vector at a small recall cost.
- `ivf` / `ivf_sq8` (`IndexIVFFlat` / `IndexIVFScalarQuantizer`): `nlist = 4 * sqrt(N)` clusters
  trained by k-means on a sample; a query scans `nprobe` of them. Builds much faster than HNSW
  on millions of vectors, for a somewhat slower query.

Every type can give back a row's stored vector (`DenseIndex.vector`: retrieval scores passages
that only BM25 found by it), so an IVF index is built with a direct map.

>>> import numpy as np
>>> vectors = np.eye(4, dtype=np.float32)
>>> DenseIndex.build(vectors).search(vectors[2], 1)
[(2, 1.0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .choices import INDEX_KINDS, IndexKind


@dataclass(frozen=True)
class IndexPlan:
    """How to index a set of vectors; `kind="auto"` picks flat or HNSW by size.

    >>> str(IndexPlan().choose(1_000)), str(IndexPlan().choose(200_000))
    ('flat', 'hnsw')
    >>> str(IndexPlan(compress=True).choose(200_000))
    'hnsw_sq8'
    """

    kind: IndexKind | str = IndexKind.AUTO
    #: At and above this many vectors `auto` leaves exact search for HNSW.
    hnsw_threshold: int = 50_000
    #: `auto` with `compress=True` picks `hnsw_sq8` instead of `hnsw`.
    compress: bool = False
    hnsw_m: int = 32
    #: Graph build depth. 64 reached recall@10 0.89 at 1M vectors whatever efSearch; 200 reached
    #: 0.96 (benchmarks/scale.py, docs/scaling.md), for 3x the build time.
    ef_construction: int = 200
    #: Search depth; None picks by size: 128 below 500k vectors, 512 from there (the cheapest
    #: values with recall@10 >= 0.95 at 100k and 1M in benchmarks/scale.py).
    ef_search: int | None = None
    #: IVF clusters; 0 means 4 * sqrt(N), the usual rule of thumb.
    nlist: int = 0
    nprobe: int = 16
    #: How many vectors k-means sees when training IVF centroids (FAISS wants 39-256 per list).
    train_sample: int = 100_000
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise ValueError(f"kind must be one of {', '.join(INDEX_KINDS)}, got {self.kind!r}")
        object.__setattr__(self, "kind", IndexKind(self.kind))
        for name in ("hnsw_m", "ef_construction", "ef_search", "nprobe", "train_sample"):
            value = getattr(self, name)
            if name == "ef_search" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.nlist, bool) or not isinstance(self.nlist, int) or self.nlist < 0:
            raise ValueError(
                f"nlist must be 0 (automatic) or a positive integer, got {self.nlist!r}"
            )
        if self.hnsw_threshold < 0:
            raise ValueError(f"hnsw_threshold must be >= 0, got {self.hnsw_threshold!r}")

    def choose(self, n: int) -> IndexKind:
        """The concrete index type for `n` vectors."""
        if self.kind != IndexKind.AUTO:
            return IndexKind(self.kind)
        if n < self.hnsw_threshold:
            return IndexKind.FLAT
        return IndexKind.HNSW_SQ8 if self.compress else IndexKind.HNSW

    def search_depth(self, n: int) -> int:
        """HNSW efSearch for an index of `n` vectors."""
        if self.ef_search is not None:
            return self.ef_search
        return 128 if n < 500_000 else 512

    def lists(self, n: int) -> int:
        return self.nlist or max(1, min(n // 39, round(4 * math.sqrt(n))))


def _kind_of(index: faiss.Index) -> IndexKind:
    if isinstance(index, faiss.IndexHNSWSQ):
        return IndexKind.HNSW_SQ8
    if isinstance(index, faiss.IndexHNSW):
        return IndexKind.HNSW
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return IndexKind.IVF_SQ8
    if isinstance(index, faiss.IndexIVF):
        return IndexKind.IVF
    return IndexKind.FLAT


@dataclass(frozen=True)
class DenseIndex:
    index: faiss.Index

    @classmethod
    def build(cls, vectors: np.ndarray, plan: IndexPlan | None = None) -> DenseIndex:
        """Index unit-length float32 rows; the row number is the id."""
        plan = plan or IndexPlan()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        kind = plan.choose(n)
        ip = faiss.METRIC_INNER_PRODUCT
        if kind == IndexKind.FLAT:
            index: faiss.Index = faiss.IndexFlatIP(d)
        elif kind in (IndexKind.HNSW, IndexKind.HNSW_SQ8):
            if kind == IndexKind.HNSW:
                index = faiss.IndexHNSWFlat(d, plan.hnsw_m, ip)
            else:
                index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, plan.hnsw_m, ip)  # type: ignore[arg-type]
                if n:
                    index.train(_sample(vectors, plan.train_sample, plan.seed))
            index.hnsw.efConstruction = plan.ef_construction
            index.hnsw.efSearch = plan.search_depth(n)
        else:
            nlist = plan.lists(max(n, 1))
            quantizer = faiss.IndexFlatIP(d)
            if kind == IndexKind.IVF:
                index = faiss.IndexIVFFlat(quantizer, d, nlist, ip)
            else:
                index = faiss.IndexIVFScalarQuantizer(
                    quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, ip
                )
            index.cp.seed = plan.seed
            if n:
                index.train(_sample(vectors, max(plan.train_sample, 39 * nlist), plan.seed))
            index.nprobe = min(plan.nprobe, nlist)
            index.set_direct_map_type(faiss.DirectMap.Array)  # type: ignore[attr-defined]
            # The quantizer is owned by the IVF index from here on (not freed with `quantizer`).
            index.own_fields = True
            quantizer.this.disown()  # type: ignore[attr-defined]
        if n:
            index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> IndexKind:
        """flat, hnsw, hnsw_sq8, ivf or ivf_sq8 (what the manifest records)."""
        return _kind_of(self.index)

    def vector(self, row: int) -> np.ndarray:
        """The stored vector of `row` (approximate for the `_sq8` kinds)."""
        return np.asarray(self.index.reconstruct(row))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The `k` nearest rows to one query vector as (row, cosine), best first."""
        k = min(k, self.size)
        if k <= 0:
            return []
        # One query gains nothing from OpenMP threads, and waking them costs more than the
        # scan: a 10k-vector flat search takes ~15 ms with 2 threads, ~1 ms with 1. The thread
        # count is an OpenMP per-thread setting, so this does not affect other threads.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, rows = self.search_many(query.reshape(1, -1), k)
        finally:
            faiss.omp_set_num_threads(threads)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def search_many(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS-shaped (scores, rows) for a batch of queries; row -1 pads missing results."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        params = None
        index = self.index
        if isinstance(index, faiss.IndexHNSW) and index.hnsw.efSearch < k:
            params = faiss.SearchParametersHNSW(efSearch=k)  # type: ignore[attr-defined]
        return self.index.search(queries, k, params=params)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, *, mmap: bool = False) -> DenseIndex:
        """Read an index file; `mmap=True` maps it instead of reading it into memory (for
        indexes larger than RAM, or many processes sharing one page cache)."""
        # Only called after the file's checksum matched the manifest.
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        # read_index returns the concrete type, owning its memory. (Wrapping it in
        # faiss.downcast_index would return a non-owning view of a soon-freed object.)
        return cls(faiss.read_index(str(path), flags))


def _sample(vectors: np.ndarray, size: int, seed: int) -> np.ndarray:
    if len(vectors) <= size:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size, replace=False))
    return vectors[rows]
