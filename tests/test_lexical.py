"""The BM25 tokenisation agrees with bm25s' own, on real text and on any text."""

import json

import bm25s
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT

from assistant.lexical import _stemmer, tokenize, words


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
