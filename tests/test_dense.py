"""The dense index: type chosen by size, approximate types agree with exact search, round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.dense import DenseIndex, IndexPlan


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray]:
    """4,000 vectors in 40 clusters (embeddings are clustered, not uniform), and 50 queries."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, 32))
    vectors = _unit(centres[rng.integers(0, 40, 4000)] + 0.6 * rng.standard_normal((4000, 32)))
    queries = _unit(centres[rng.integers(0, 40, 50)] + 0.6 * rng.standard_normal((50, 32)))
    return vectors, queries


def _recall(approx: DenseIndex, exact: DenseIndex, queries: np.ndarray, k: int = 10) -> float:
    _, truth = exact.search_many(queries, k)
    _, found = approx.search_many(queries, k)
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found)]))


def test_index_type_follows_size() -> None:
    plan = IndexPlan(hnsw_threshold=100)
    assert DenseIndex.build(_unit(np.ones((99, 8))), plan).kind == "flat"
    big = _unit(np.random.default_rng(0).standard_normal((100, 8)))
    assert DenseIndex.build(big, plan).kind == "hnsw"
    assert DenseIndex.build(big, IndexPlan(hnsw_threshold=100, compress=True)).kind == "hnsw_sq8"
    assert DenseIndex.build(big, IndexPlan(kind="ivf")).kind == "ivf"
    # The default plan keeps small corpora exact, as the committed index is.
    assert DenseIndex.build(big).kind == "flat"


def test_plan_validation_names_the_bad_value() -> None:
    with pytest.raises(ValueError, match="'annoy'"):
        IndexPlan(kind="annoy")
    with pytest.raises(ValueError, match="ef_search"):
        IndexPlan(ef_search=0)


@pytest.mark.parametrize("kind", ["hnsw", "hnsw_sq8", "ivf", "ivf_sq8"])
def test_approximate_search_agrees_with_exact(kind: str, clustered, tmp_path: Path) -> None:
    vectors, queries = clustered
    exact = DenseIndex.build(vectors, IndexPlan(kind="flat"))
    approx = DenseIndex.build(vectors, IndexPlan(kind=kind, nprobe=8))
    assert approx.kind == kind and approx.size == len(vectors) and approx.dimension == 32
    assert _recall(approx, exact, queries) >= 0.95
    # Scores are cosines, and reconstruct() works for every type (retrieval relies on it).
    row, score = approx.search(queries[0], 1)[0]
    assert abs(score - float(vectors[row] @ queries[0])) < 0.02
    np.testing.assert_allclose(approx.index.reconstruct(row), vectors[row], atol=0.02)
    # Round trip: same results, same search parameters.
    approx.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.kind == kind
    assert loaded.search(queries[1], 10) == approx.search(queries[1], 10)


def test_hnsw_returns_k_results_even_above_ef_search(clustered) -> None:
    vectors, queries = clustered
    index = DenseIndex.build(vectors, IndexPlan(kind="hnsw", ef_search=8))
    assert len(index.search(queries[0], 50)) == 50


def test_flat_round_trip_mmap_and_edge_cases(tmp_path: Path) -> None:
    vectors = _unit(np.random.default_rng(1).standard_normal((30, 16)))
    index = DenseIndex.build(vectors)
    assert index.search(vectors[3], 1)[0][0] == 3
    assert len(index.search(vectors[0], 100)) == 30
    assert index.search(vectors[0], 0) == []
    index.save(tmp_path / "flat.faiss")
    for mmap in (False, True):
        loaded = DenseIndex.load(tmp_path / "flat.faiss", mmap=mmap)
        assert loaded.search(vectors[5], 3) == index.search(vectors[5], 3)
    empty = DenseIndex.build(np.zeros((0, 16), np.float32))
    assert (empty.size, empty.dimension, empty.search(vectors[0], 3)) == (0, 16, [])
