"""Quality gate on the held-out test split of eval/questions.jsonl (never tuned on).

The floors are today's measured figures (docs/quality.md), so any regression fails CI.
"""

import pytest
from paths import ROOT

from assistant.evaluation import load_dataset, metrics, run_mode

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def test_split_results(real_assistant):
    items = load_dataset(ROOT / "eval" / "questions.jsonl", split="test")
    return run_mode(real_assistant, items, "rerank", depth=10)


def test_answers_on_held_out_questions(test_split_results):
    m = metrics(test_split_results)
    assert m["hit@1"] >= 0.65
    assert m["hit@3"] >= 0.775
    # Answerable questions always get their passages (answered or related): never none.
    assert m["no_passages"] <= 0.05
    # "The source text says:" only when it does (issue 21; 0.739 measured, 0.56 before).
    assert m["answered_precision"] >= 0.7


def test_abstention_on_held_out_questions(test_split_results):
    m = metrics(test_split_results)
    assert m["off_topic_not_found"] >= 0.9
    # The focus check (assistant/focus.py): `related` or `not_found`, never `answered`.
    assert m["not_covered_not_answered"] >= 0.09
    chitchat = [r for r in test_split_results if r["kind"] == "chitchat"]
    assert chitchat and all(r["status"] == "chitchat" for r in chitchat)


def test_every_returned_passage_is_verbatim(test_split_results, real_assistant):
    for r in test_split_results:
        for p in r["passages"]:
            text = (ROOT / "corpus" / p["source"]).read_text(encoding="utf-8")
            assert p["text"] == text[p["start"] : p["end"]]


def test_app_examples_get_an_answering_first_quote(real_assistant):
    """Each example question the app offers is answered, and quote [1] holds a passage that
    answers it (tests/data/app_examples.json, judged by reading the article)."""
    import json

    from assistant.evaluation import is_hit

    examples = json.loads((ROOT / "tests" / "data" / "app_examples.json").read_text("utf-8"))
    for question, spans in examples.items():
        if question.startswith("_"):
            continue
        answer = real_assistant.ask(question)
        assert answer.status == "answered", question
        first = answer.passages[0]
        evidence = [(first.source, s, e) for s, e in spans]
        assert is_hit(first.source, first.start, first.end, evidence), (question, first.text)
        # An advert, when quoted, is labelled before its text.
        if "promotional" in first.flags:
            assert answer.answer.index("promotes a product") < answer.answer.index("Cerobio")


def _one_typo(question: str, rng) -> str:
    """`question` with one edit (swap, drop or double a letter) inside one word of 5+ letters."""
    import re

    words = [m.span() for m in re.finditer(r"[A-Za-z]{5,}", question)]
    if not words:
        return question
    start, end = rng.choice(words)
    word = question[start:end]
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(["swap", "drop", "double"])
    if edit == "swap":
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif edit == "drop":
        word = word[:i] + word[i + 1 :]
    else:
        word = word[:i] + word[i] + word[i:]
    return question[:start] + word + question[end:]


def test_question_mark_case_and_one_typo_rarely_change_an_answer(real_assistant):
    """For >= 95 % of the eval questions (dev and test splits), adding or removing a trailing
    "?", changing the case, or one typo changes neither whether quotes are shown nor the
    first passage.
    Typos are drawn three times per question (seeded), so the share does not hang on one draw."""
    import random

    rng = random.Random(20261202)
    draws = 3
    items = [i for i in load_dataset(ROOT / "eval" / "questions.jsonl") if i.kind != "chitchat"]

    def outcome(question: str) -> tuple[bool, str | None]:
        """Whether quotes are shown, and the first one. `answered` and `related` both quote;
        which of the two a question gets may flip near the confidence cutoff (checked below)."""
        answer = real_assistant.ask(question)
        statuses.append(answer.status)
        return bool(answer.passages), answer.passages[0].id if answer.passages else None

    statuses: list[str] = []

    same = {"question mark": 0, "case": 0, "typo": 0}
    for item in items:
        q = item.question
        base = outcome(q)
        toggled = q[:-1] if q.endswith("?") else q + "?"
        recased = q.lower() if q != q.lower() else q.upper()
        same["question mark"] += outcome(toggled) == base
        same["case"] += outcome(recased) == base
        same["typo"] += sum(outcome(_one_typo(q, rng)) == base for _ in range(draws)) / draws
    shares = {k: v / len(items) for k, v in same.items()}
    assert all(share >= 0.95 for share in shares.values()), shares
    # The status itself (answered or related) holds for >= 90 % of the variants.
    per_question = 3 + draws
    kept = [
        sum(s == group[0] for s in group[1:]) / (per_question - 1)
        for group in (statuses[i : i + per_question] for i in range(0, len(statuses), per_question))
    ]
    assert sum(kept) / len(kept) >= 0.9, sum(kept) / len(kept)
