"""Definition questions and the sentences that define their subject (assistant/answerness.py)."""

import pytest

from assistant.answerness import defines, definition_subject


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What are milia?", "milia"),
        ("what is milia", "milia"),
        ("What's a Contributor?", "contributor"),
        ('what is the "Work"?', "work"),
        ("What is secondary milia?", "secondary milia"),
        ("Who is the Licensor?", "licensor"),
    ],
)
def test_definition_questions_name_their_subject(question, subject):
    assert definition_subject(question) == subject


@pytest.mark.parametrize(
    "question",
    [
        "What are milia made of?",
        "what is the difference between milia and whiteheads",
        "What causes milia?",
        "How do I get rid of milia?",
        "milia under eyes",
        "What is the best cream for milia?",
    ],
)
def test_other_questions_are_not_definition_questions(question):
    assert definition_subject(question) is None


@pytest.mark.parametrize(
    ("sentence", "subject"),
    [
        ("Milia are clusters of small milium cysts which often form around the eyes.", "milia"),
        ('"Contributor" shall mean Licensor and any individual or Legal Entity.', "contributor"),
        ("The Licensor means the copyright owner.", "licensor"),
        ("• Secondary milia are a lot like primary milia.", "secondary milia"),
    ],
)
def test_defining_sentences(sentence, subject):
    assert defines(sentence, subject)


@pytest.mark.parametrize(
    ("sentence", "subject"),
    [
        ("Basically, there are two main types of milia: primary and secondary milia.", "milia"),
        ("These cysts are Milia.", "milia"),
        ("Milia may appear in newborns.", "milia"),
        ("Miliaria is a rash.", "milia"),
    ],
)
def test_sentences_that_only_mention_the_subject_do_not_define_it(sentence, subject):
    assert not defines(sentence, subject)
