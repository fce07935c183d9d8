"""Checks on answers shared by the engine tests: quotes verbatim, refusals empty."""

from __future__ import annotations

from paths import ROOT

from assistant.answer import TEMPLATES


def assert_verbatim(assistant, answer) -> None:
    """Every quote is exactly its file's text[start:end], with the highlight inside it."""
    for q in answer.passages:
        text = (ROOT / "corpus" / q.source).read_text(encoding="utf-8")
        assert q.text == text[q.start : q.end]
        assert q.start <= q.highlight.start < q.highlight.end <= q.end
        assert assistant.index.documents[q.source].text == text


#: The statuses that show quotes: `answered`, or `related` when a check doubts the first one.
QUOTING = ("answered", "related")


def assert_not_found(answer) -> None:
    """The fixed "not covered" answer, with no passage dressed up as one."""
    assert answer.status == "not_found"
    assert answer.passages == ()
    assert answer.answer == TEMPLATES["not_found"]
