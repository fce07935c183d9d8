"""Rank fusion: a pure function, deterministic on ties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .settings import RRF_K


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """Reciprocal rank fusion (Cormack et al. 2009): score(d) = sum_r w_r / (k + rank_r(d)).

    Ranks start at 1. `k` (60 by default, see `settings.RRF_K`) flattens the curve so that
    agreement between rankings matters more than any single first place.

    >>> reciprocal_rank_fusion([["a", "b"], ["b", "a"]])["a"] == reciprocal_rank_fusion([["a", "b"], ["b", "a"]])["b"]
    True
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, doc_id in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (k + rank)
    return fused


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """(id, score) best first; ties broken on id so the order never depends on dict order."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
