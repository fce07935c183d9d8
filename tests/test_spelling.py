"""Typo correction towards the corpus's words (assistant/spelling.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.lexical import stem
from assistant.spelling import Speller, all_known

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


@pytest.mark.parametrize(
    ("text", "known"),
    [
        ("What are milia?", True),
        ("steroid creams cause milia", False),  # "creams": not in the subset given
        ("waht causes milya?", False),
        ("skn milia", True),  # too short to correct
    ],
)
def test_all_known_only_when_the_speller_leaves_the_text_alone(speller, text, known):
    words, stems = {"what", "cause", "causes"}, {stem(w) for w in CORPUS_WORDS}
    assert all_known(text, words, stems) is known
    if known:
        assert speller.correct(text) == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*CORPUS_WORDS, *KNOWN, "milya", "waht", "keratn", "cremes"])))
def test_all_known_never_skips_a_correction(words):
    """What `all_known` accepts (from a subset of the speller's words and stems), the speller
    leaves as it is, so skipping the speller for it changes nothing."""
    text = " ".join(words) + "?"
    speller = Speller.build(CORPUS_WORDS, KNOWN, {stem(w) for w in CORPUS_WORDS})
    if all_known(text, set(CORPUS_WORDS[:4]), {stem(w) for w in CORPUS_WORDS}):
        assert speller.correct(text) == text
