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
    assert m["false_not_found"] <= 0.05


def test_abstention_on_held_out_questions(test_split_results):
    m = metrics(test_split_results)
    assert m["off_topic_not_found"] >= 0.9
    assert m["not_covered_not_found"] >= 0.09  # the focus check (assistant/focus.py)
    chitchat = [r for r in test_split_results if r["kind"] == "chitchat"]
    assert chitchat and all(r["status"] == "chitchat" for r in chitchat)


def test_every_returned_passage_is_verbatim(test_split_results, real_assistant):
    for r in test_split_results:
        for p in r["passages"]:
            text = (ROOT / "corpus" / p["source"]).read_text(encoding="utf-8")
            assert p["text"] == text[p["start"] : p["end"]]
