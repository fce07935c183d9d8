"""Retrieval internals checked against their plain definitions."""

import numpy as np

from assistant.retrieval import MODES, best_sentences, search


def test_best_sentences_match_a_plain_loop(real_assistant):
    index = real_assistant.index
    rng = np.random.default_rng(0)
    rows = list(range(len(index.passages)))
    for _ in range(20):
        query = rng.normal(size=index.dense.dimension).astype(np.float32)
        query /= np.linalg.norm(query)
        subset = sorted(rng.choice(rows, size=7, replace=False).tolist())
        got = best_sentences(index, subset, query)
        for r in subset:
            lo, hi = int(index.sentence_offsets[r]), int(index.sentence_offsets[r + 1])
            sims = index.sentence_vectors[lo:hi] @ query
            assert got[r][1] == int(np.argmax(sims))
            assert abs(got[r][0] - float(sims.max())) < 1e-6


def test_every_mode_highlights_a_sentence_inside_its_passage(real_assistant):
    index = real_assistant.index
    question = "Can steroid creams make milia worse?"
    [vector] = real_assistant.embedder.encode([question])
    for mode in MODES:
        hits = search(index, vector, question, mode=mode)
        assert hits
        for hit in hits:
            passage = index.passages[hit.row]
            assert hit.highlight in passage.sentences
            assert passage.start <= hit.highlight[0] < hit.highlight[1] <= passage.end
