import pytest

from assistant.question import is_chitchat, validate_question


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 10_000, "10,000 characters"),
        ("what\x00is milia", "control characters"),
        ("milia\x1b[31m", "control characters"),
        ("milia \ud800", "surrogates"),
        ("?!? ...", "no letters"),
        (None, "must be text"),
        (42, "must be text"),
    ],
)
def test_bad_questions_say_why(value, fragment):
    checked = validate_question(value, max_chars=1000)
    assert checked.problem and fragment in checked.problem


def test_invisible_formatting_is_removed_not_refused():
    checked = validate_question("what\u200b causes\u202e milia\u2066?", max_chars=1000)
    assert checked.problem is None
    assert checked.text == "what causes milia?"


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hello there!",
        "thanks",
        "Thank you so much",
        "who are you?",
        "What can you do",
        "bye",
        "ok thank you, bye",
        "great, thanks a lot!",
        "thank you and goodbye",
    ],
)
def test_chitchat(text):
    assert is_chitchat(text)


@pytest.mark.parametrize(
    "text",
    [
        "hi, what causes milia?",
        "thanks to steroids I have milia",
        "What are milia?",
        "help me get rid of white bumps",
        "ok so what causes milia",
        "thanks, and does retinol help?",
    ],
)
def test_real_questions_are_not_chitchat(text):
    assert not is_chitchat(text)
