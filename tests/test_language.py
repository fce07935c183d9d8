"""Questions not in English get the fixed not_english reply (assistant/language.py), and no
English question of the project's question set does."""

from __future__ import annotations

import json

import pytest
from paths import ROOT

from assistant.answer import TEMPLATES
from assistant.question import is_chitchat

pytestmark = pytest.mark.model


def rows(name: str) -> list[dict]:
    lines = (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_no_english_question_of_the_eval_sets_is_taken_for_another_language(real_assistant):
    questions = [r["question"] for r in rows("questions.jsonl")]
    for r in rows("followups.jsonl"):
        questions += [r["question"], *r["history"]]
    flagged = [(q, real_assistant.foreign_language(q)) for q in questions if not is_chitchat(q)]
    assert [f for f in flagged if f[1] is not None] == []
    assert len(flagged) > 200


@pytest.mark.parametrize(
    "question",
    [
        "why not?",
        "is it expensive?",
        "milia on nose",
        "are milia painful",
        "can i pop milia",
        "Is tretinoin safe for milia?",
        "does it hurt",
        "Milienbehandlung",  # one word: not enough to judge, left to retrieval
        # Issue 25, item 7: two words the model guessed Catalan, Finnish, Estonian, Latin...
        "zinc ointment",
        "coconut oil",
        "dermatologist visit",
        "milia deep",
        "ｗｈａｔ ｃａｕｓｅｓ ｍｉｌｉａ？",  # full-width: the same letters (NFKC)
    ],
)
def test_short_english_questions_are_read(real_assistant, question):
    assert real_assistant.ask(question).status != "not_english"


def test_spanish_german_and_french_questions_get_the_fixed_message(real_assistant):
    translated = rows("languages.jsonl")
    assert {r["language"] for r in translated} >= {"es", "de", "fr"}
    answers = real_assistant.ask_many([r["question"] for r in translated])
    for r, answer in zip(translated, answers):
        assert answer.status == "not_english", r
        assert answer.answer == TEMPLATES["not_english"] and answer.passages == ()
        assert answer.question == r["question"]
        d = answer.to_dict()
        assert d["status"] == "not_english" and d["language"] == answer.language
    named = sum(a.language == r["language"] for r, a in zip(translated, answers))
    assert named >= 0.9 * len(translated)  # the language is named right almost always


def test_the_english_original_is_searched_and_quoted(real_assistant):
    for r in rows("languages.jsonl")[:17]:
        assert real_assistant.ask(r["english"]).status in ("answered", "related"), r["english"]


def test_the_check_can_be_turned_off(real_assistant):
    from dataclasses import replace

    from assistant.settings import from_environment

    assert from_environment({"VERBATIM_LANGUAGE": "0"}).language_check is False
    off = real_assistant.with_settings(replace(real_assistant.settings, language_check=False))
    assert off.ask("Sind Milien gefährlich?").status in {"answered", "not_found"}
