"""The focus check: what a question asks beyond the corpus's topic (assistant/focus.py)."""

from dataclasses import replace

import pytest
from answer_checks import assert_verbatim

from assistant.answer import TEMPLATES
from assistant.evaluation import calibrate_focus
from assistant.focus import focus_text
from assistant.lexical import LexicalIndex

TOPIC = frozenset({"milia", "skin", "secondari"})
STOP = frozenset({"what", "are", "is", "the", "do", "does", "in", "than", "about", "me", "im"})


def test_topic_words_are_taken_out_and_the_rest_kept_as_typed():
    assert focus_text("Is milia more common in women than men?", TOPIC, STOP) == (
        "Is more common in women than men?"
    )
    # Stems: "Secondary" and "skin's" are the topic in any form.
    assert focus_text("Does secondary milia itch on oily skin", TOPIC, STOP) == "Does itch on oily"


@pytest.mark.parametrize(
    "question",
    [
        "What are milia?",
        "what is secondary milia",
        "milia skin milia",
        "How do I bake bread?",
        "hi! what are milia? thanks",
        "tell me about milia",
        "What are milia? <br>",
        "what are milia??? pls help, im worried",
    ],
)
def test_no_focus_when_the_question_is_all_topic_or_has_no_topic_word(question):
    assert focus_text(question, TOPIC, STOP) is None


def test_filler_words_are_left_out_of_the_focus():
    assert focus_text("what causes milia? thanks!", TOPIC, STOP) == "what causes ? !"
    assert focus_text("Hi, does retinol help milia?", TOPIC, STOP) == ", does retinol ?"


def test_no_topic_means_no_focus():
    assert focus_text("is milia more common in women?", frozenset(), STOP) is None


def test_common_stems_are_the_words_of_most_passages():
    lexical = LexicalIndex.build(
        ["milia on the skin", "milia after burns", "milia and retinol", "a skin cream"]
    )
    assert lexical.common_stems(0.5) == {"milia"}  # in 3 of 4 passages; "skin" in 2 is not more
    assert lexical.common_stems(0.25) == {"milia", "skin"}
    assert lexical.common_stems(1.0) == frozenset()


def _record(answerable, focus, kind="direct", relevance=0.8):
    return {
        "answerable": answerable,
        "kind": kind,
        "relevance": relevance,
        "focus_relevance": focus,
    }


def test_focus_calibration_refuses_no_answerable_question_by_default():
    results = [_record(True, f) for f in (0.5, 0.6, 0.4, None)]
    results += [_record(False, f, "not_covered") for f in (0.2, 0.3, 0.45)]
    results.append(_record(True, 0.1, relevance=0.2))  # refused by relevance already: ignored
    # Halfway between the lowest answerable focus (0.4) and the uncovered one just below (0.3).
    assert calibrate_focus(results, threshold=0.35) == pytest.approx(0.35)


def test_focus_calibration_may_give_up_a_share_of_answerable_questions():
    results = [_record(True, f) for f in (0.2, 0.5, 0.6, 0.7)]
    results += [_record(False, f, "not_covered") for f in (0.1, 0.3)]
    assert calibrate_focus(results, threshold=0.35, false_refusals=0.25) == pytest.approx(0.4)
    assert calibrate_focus([_record(True, None)], threshold=0.35) == -1.0


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "What is the ICD-10 code for milia?",
        "does milia have anything to do with the stock market?",
    ],
)
def test_uncovered_questions_about_the_topic_are_related_not_answered(real_assistant, question):
    """The source is about the question's topic but not about what it asks: the closest
    passages, under the fixed "does not answer this directly" sentence, never `answered`."""
    answer = real_assistant.ask(question)
    assert answer.status == "related"
    assert answer.answer.startswith(TEMPLATES["related"])
    assert answer.passages
    assert_verbatim(real_assistant, answer)
    assert answer.focus_relevance is not None
    assert answer.focus_relevance < real_assistant.settings.focus_threshold
    # Without the check (and the confidence check after it) the same question is answered:
    # its topic words match the source.
    unchecked = replace(real_assistant.settings, focus_check=False, confidence_check=False)
    assistant = type(real_assistant)(
        real_assistant.index,
        real_assistant.embedder,
        unchecked,
        real_assistant.corpus_dir,
        real_assistant.index_dir,
    )
    assert assistant.ask(question).status == "answered"


@pytest.mark.model
def test_the_apps_example_questions_are_answered(real_assistant):
    from assistant.web import load_product

    examples = load_product(real_assistant.corpus_dir, real_assistant.index.documents).examples
    assert examples
    for question in examples:
        assert real_assistant.ask(question).status == "answered", question


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "can you get these white bumps on your nose too?",
        "Can dermabrasion cause secondary milia?",
        "What are milia?",
        "hi! what are milia? thanks",
        "tell me about milia",
        "what are milia??? pls help, im worried",
        "What are milia? <br>",
    ],
)
def test_covered_questions_pass_the_focus_check(real_assistant, question):
    """The focus check lets them through: they show quotes, `answered` or, when the
    confidence model doubts the first one, `related` for that reason and no other."""
    answer = real_assistant.ask(question)
    assert answer.status in ("answered", "related")
    assert answer.confidence.reason not in ("focus", "relevance")
    assert answer.focus_relevance is None or (
        answer.focus_relevance >= real_assistant.settings.focus_threshold
    )
    assert "focus_relevance" in answer.to_dict()
    assert_verbatim(real_assistant, answer)
