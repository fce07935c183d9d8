"""The BM25 tokenisation agrees with bm25s' own, on real text and on any text; the index
loaded without bm25s scores exactly as bm25s does."""

import json

import bm25s
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import INDEX, ROOT

from assistant.lexical import LexicalIndex, _stemmer, bm25s_stopwords, tokenize, words
from assistant.store import BM25_DIR


def reference(texts, stemmer=None):
    out = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )
    return [list(t) for t in out]


def real_texts():
    seed = (ROOT / "corpus" / "secondary-milia.txt").read_text(encoding="utf-8")
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return seed.split("\n") + questions + ["", "  ", "Ünïcödé wörds, ÇA VA? l'été 2024 x1"]


def test_same_tokens_as_bm25s_on_the_corpus_and_questions():
    texts = real_texts()
    assert words(texts) == reference(texts)
    assert tokenize(texts) == reference(texts, _stemmer())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=4))
def test_same_tokens_as_bm25s_on_any_text(texts):
    assert tokenize(texts) == reference(texts, _stemmer())


def test_stop_words_are_bm25s_own():
    from bm25s.stopwords import STOPWORDS_EN

    assert bm25s_stopwords() == tuple(STOPWORDS_EN)


def test_scores_of_the_committed_index_are_bm25s_own_bit_for_bit(tmp_path):
    """LexicalIndex loads and scores bm25s' saved arrays without bm25s; every question's scores
    (a repeated word counted twice, as bm25s does) equal bm25s.BM25.load(...).get_scores."""
    ours = LexicalIndex.load(INDEX / BM25_DIR)
    theirs = bm25s.BM25.load(str(INDEX / BM25_DIR), allow_pickle=False, show_progress=False)
    assert ours.vocab == theirs.vocab_dict and ours.num_docs == theirs.scores["num_docs"]
    for text in [*real_texts(), "milia milia milia cream"]:
        tokens = [t for t in tokenize([text])[0] if t in theirs.vocab_dict]
        expected = (
            np.asarray(theirs.get_scores(tokens), dtype=np.float32)
            if tokens
            else np.zeros(ours.num_docs, np.float32)
        )
        assert ours.scores(text).tobytes() == expected.tobytes(), text


def test_build_save_load_round_trip_is_bm25s_format(tmp_path):
    """What `build` then `save` write is bm25s' own saved index (bm25s loads it and scores as
    the loaded LexicalIndex does), and saving a loaded index writes the same bytes."""
    texts = real_texts()[:40]
    LexicalIndex.build(texts).save(tmp_path / "a")
    loaded = LexicalIndex.load(tmp_path / "a")
    loaded.save(tmp_path / "b")
    for name in sorted(p.name for p in (tmp_path / "a").iterdir()):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    theirs = bm25s.BM25.load(str(tmp_path / "a"), allow_pickle=False, show_progress=False)
    for text in texts:
        tokens = [t for t in tokenize([text])[0] if t in theirs.vocab_dict]
        if tokens:
            expected = np.asarray(theirs.get_scores(tokens), dtype=np.float32)
            assert loaded.scores(text).tobytes() == expected.tobytes(), text
