"""Typo correction towards the corpus's words (assistant/spelling.py)."""

import pytest

from assistant.lexical import stem
from assistant.spelling import Speller

CORPUS_WORDS = ["milia", "what", "cause", "causes", "steroids", "treatment", "keratin", "skin"]
KNOWN = {"causes", "is", "are", "the", "docs", "distribute", "does", "redistribute"}


@pytest.fixture
def speller():
    return Speller.build(CORPUS_WORDS, KNOWN, {stem(w) for w in CORPUS_WORDS})


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("waht causes milya?", "what causes milia?"),  # a swap and a substitution
        ("Milya", "milia"),
        ("treatmnet for milia", "treatment for milia"),
        ("keratn", "keratin"),
    ],
)
def test_one_edit_typos_become_the_corpus_word(speller, typed, meant):
    assert speller.correct(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "are docs part of it",  # a known word one edit from a corpus word ("does")
        "redistribute the code",  # not one edit, and known
        "steroid creams",  # a form of a corpus word (same stem as "steroids")
        "skn",  # too short to correct
        "xmilia",  # first letter differs
        "zzzzzz qqqq",  # nothing near
    ],
)
def test_known_words_forms_and_far_words_are_left_alone(speller, text):
    assert speller.correct(text) == text


def test_an_ambiguous_typo_is_left_alone():
    speller = Speller.build(["cart", "card"], set())
    assert speller.correct("carx") == "carx"
