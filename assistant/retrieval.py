"""Hybrid retrieval: candidates from the dense and BM25 indexes, scored in one of four modes.

Modes (what `assistant eval --modes` compares):

- `bm25`: BM25 alone.
- `dense`: cosine of the question with each passage alone.
- `hybrid`: RRF of dense and BM25.
- `rerank` (default): a weighted sum of the passage cosine, the cosine of the passage's best
  sentence (which rewards a passage holding one sentence that answers the question even when
  the rest is about something else) and BM25 scaled to [0, 1] by the best BM25 score of the
  question. Unlike RRF it keeps how strongly each signal prefers a passage, so a rare word
  matched by BM25 can outweigh a generic dense match. Weights: `Settings.rerank_weights`,
  chosen on the development split of `eval/questions.jsonl` (docs/quality.md). When the engine
  passes an `expansion` (expansion.py), BM25 here scores the expanded, weighted query, both to
  pick candidates and in the sum.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .answerness import defines, definition_subject
from .candidates import Store
from .choices import DEFAULT_MODE, MODES, Mode
from .fusion import ranked, reciprocal_rank_fusion
from .settings import DEFINITION_BONUS, PROMO_PENALTY, RERANK_WEIGHTS, RRF_K

#: How many passages each retriever contributes before fusion.
CANDIDATES = 50


@dataclass(frozen=True)
class Hit:
    row: int  # passage number (Store.passage(row))
    score: float  # fused ranking score, higher is better
    relevance: float  # max(cosine with passage, cosine with its best sentence)
    highlight: tuple[int, int]  # offsets of the best-matching sentence
    # What the answer's confidence reads (confidence.py): the best sentence's own cosine, the
    # passage's rank in each retriever's own list (1-based; None: not in that list) and in
    # their RRF fusion (the `hybrid` ranking; tied scores share a rank), and its BM25 score over the question's best
    # BM25 score (0 when BM25 does not match it).
    sentence: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None
    hybrid_rank: int | None = None
    lexical: float = 0.0
    defines: bool = False  # it holds a sentence defining a definition question's subject


class BestSentence(NamedTuple):
    cosine: float  # the sentence's cosine with the query
    number: int  # which sentence of its passage (0-based)


def best_sentences(
    index: Store, rows: list[int], query_vector: np.ndarray
) -> dict[int, BestSentence]:
    """For each candidate row its best sentence (cosine and number), in one matrix product
    over the candidates' sentences (the first best sentence wins a tie)."""
    vectors, lengths = index.sentence_vectors_of(rows)
    first = np.cumsum(lengths) - lengths  # where each candidate's sentences begin
    sims = vectors @ query_vector
    owner = np.repeat(np.arange(len(rows)), lengths)
    order = np.lexsort((np.arange(len(sims)), -sims, owner))  # by candidate, best first
    top = order[first]
    return {
        r: BestSentence(float(sims[t]), int(t - f))
        for r, t, f in zip(rows, top.tolist(), first.tolist())
    }


def defining_sentences(index: Store, rows: list[int], question: str) -> dict[int, int]:
    """For a definition question ("what are X?"), the candidates with a sentence that defines
    X ("X are ..."), mapped to that sentence's number (answerness.py)."""
    subject = definition_subject(question)
    if subject is None:
        return {}
    found = {}
    for r in rows:
        p = index.passage(r)
        text = index.quote_text(p)
        for number, (start, end) in enumerate(p.sentences):
            if defines(text[start - p.start : end - p.start], subject):
                found[r] = number
                break
    return found


def search(
    index: Store,
    query_vector: np.ndarray,
    question: str,
    *,
    mode: Mode | str = DEFAULT_MODE,
    rrf_k: int = RRF_K,
    rerank_weights: tuple[float, float, float] = RERANK_WEIGHTS,
    candidates: int = CANDIDATES,
    expansion: Mapping[str, float] | None = None,
    promo_penalty: float = PROMO_PENALTY,
    definition_bonus: float = DEFINITION_BONUS,
) -> list[Hit]:
    """Every candidate passage for a question, best first. `expansion` (stem -> weight),
    `promo_penalty` (subtracted from passages flagged `promotional`) and `definition_bonus`
    (added to passages that define a definition question's subject) are used by the `rerank`
    mode only."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    mode = Mode(mode)
    found = index.candidates(
        query_vector, question, candidates, expansion if mode == Mode.RERANK else None
    )
    rows = list(found.rows)
    if not rows:
        return []
    passage_cos = found.cosine
    bm25 = found.bm25_scores
    top_bm25 = [r for r, _ in found.bm25]
    best = best_sentences(index, rows, query_vector)
    defining = defining_sentences(index, rows, question) if mode == "rerank" else {}
    for r, number in defining.items():
        best[r] = BestSentence(best[r].cosine, number)  # the definition is what to highlight

    ids = {r: index.passage(r).id for r in rows}

    def order(key: dict[int, float]) -> list[str]:
        return [ids[r] for r in sorted(key, key=lambda r: (-key[r], ids[r]))]

    by_dense = order({r: passage_cos[r] for r in rows})
    by_bm25 = order({r: bm25[r] for r in top_bm25})
    # The hybrid ranking is the `hybrid` mode's, and in every mode the confidence's agreement.
    hybrid = reciprocal_rank_fusion([by_dense, by_bm25], k=rrf_k)
    top = found.bm25_top
    if mode == Mode.BM25:
        fused = {ids[r]: bm25[r] for r in top_bm25}
    elif mode == Mode.DENSE:
        fused = {ids[r]: passage_cos[r] for r in rows}
    elif mode == Mode.HYBRID:
        fused = hybrid
    else:
        w_dense, w_sentence, w_bm25 = rerank_weights
        fused = {
            ids[r]: w_dense * passage_cos[r]
            + w_sentence * best[r].cosine
            + w_bm25 * bm25[r] / top
            - (promo_penalty if "promotional" in index.passage(r).flags else 0.0)
            + (definition_bonus if r in defining else 0.0)
            for r in rows
        }
    row_of = {pid: r for r, pid in ids.items()}
    dense_rank = {pid: rank for rank, pid in enumerate(by_dense, start=1)}
    bm25_rank = {pid: rank for rank, pid in enumerate(by_bm25, start=1)}
    # Ties share a rank here (1 + how many fuse higher): two passages tied first are both first.
    fused_scores = sorted(hybrid.values())
    hybrid_rank = {
        pid: len(fused_scores) - bisect_right(fused_scores, score) + 1
        for pid, score in hybrid.items()
    }
    hits = []
    for pid, score in ranked(fused):
        r = row_of[pid]
        passage = index.passage(r)
        hits.append(
            Hit(
                row=r,
                score=score,
                relevance=max(passage_cos[r], best[r].cosine),
                highlight=passage.sentences[best[r].number],
                sentence=best[r].cosine,
                dense_rank=dense_rank.get(pid),
                bm25_rank=bm25_rank.get(pid),
                hybrid_rank=hybrid_rank[pid],
                lexical=bm25[r] / top,
                defines=r in defining,
            )
        )
    return hits
