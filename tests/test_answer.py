import html
import re

from assistant.answer import (
    LABELS,
    TEMPLATES,
    Quote,
    Span,
    escape_markdown,
    make_answer,
    render_text,
)


def _quote(text: str, flags=()) -> Quote:
    return Quote(
        number=1,
        id="p1",
        text=text,
        source="d.txt",
        title="T",
        section="S",
        paragraph=2,
        start=10,
        end=10 + len(text),
        score=0.5,
        relevance=0.7,
        highlight=Span(10, 10 + len(text)),
        flags=flags,
    )


def _unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", html.unescape(markdown))


def test_escaped_text_round_trips():
    nasty = "<img src=x onerror=alert(1)> ![x](http://evil/x.png) *bold* $x$ [l](javascript:1) it's &#x27;"
    escaped = escape_markdown(nasty)
    assert "<" not in escaped and "](" not in escaped
    assert _unescape(escaped) == nasty


def test_answer_is_templates_and_quotes_only():
    text = "Milia are <b>small</b> cysts."
    answer = make_answer("q?", "answered", (_quote(text),))
    assert answer.status == "answered"
    plain = _unescape(answer.answer.replace("**", ""))
    assert TEMPLATES["intro"] in plain and TEMPLATES["disclaimer"] in plain
    assert text in plain
    assert "<b>" not in answer.answer


def test_promotional_label_is_fixed_text():
    answer = make_answer("q?", "answered", (_quote("Buy the cream.", flags=("promotional",)),))
    assert _unescape(answer.answer).count(LABELS["promotional"]) == 1
    d = answer.to_dict()
    assert d["passages"][0]["flags"] == ["promotional"]
    assert d["passages"][0]["labels"] == [LABELS["promotional"]]


def test_not_found_shows_no_passage():
    answer = make_answer("q?", "not_found", (_quote("anything"),))
    assert answer.passages == ()
    assert answer.answer == TEMPLATES["not_found"]


def test_render_text_marks_best_sentence():
    q = _quote("One. Two.")
    q = Quote(**{**q.__dict__, "highlight": Span(15, 19)})
    out = render_text(make_answer("q", "answered", (q,)))
    assert ">>Two.<<" in out and "d.txt, characters 10–19" in out


def test_small_talk_gets_a_fitting_fixed_reply():
    replies = {
        q: make_answer(q, "chitchat").answer
        for q in (
            "thanks!",
            "Thank you so much",
            "ok",
            "bye",
            "ok thank you, bye",
            "hi",
            "who are you?",
        )
    }
    assert replies["thanks!"] == replies["Thank you so much"] == TEMPLATES["chitchat_thanks"]
    assert replies["ok"] == TEMPLATES["chitchat_ok"]
    assert replies["bye"] == replies["ok thank you, bye"] == TEMPLATES["chitchat_bye"]
    assert replies["hi"] == replies["who are you?"] == TEMPLATES["chitchat"]


def test_status_is_one_enum_and_json_gets_plain_strings():
    from assistant.answer import STATUSES, Status

    assert tuple(s.value for s in Status) == STATUSES
    answer = make_answer("q?", "not_found")
    assert answer.status is Status.NOT_FOUND
    status = answer.to_dict()["status"]
    assert type(status) is str and status == "not_found"


def test_a_related_follow_up_says_each_fixed_sentence_once():
    """A follow-up read with the previous question whose answer is `related`: the "read
    together" line, the "No direct answer" heading and the related sentence, each once, in the
    terminal text, the copy text and the chat message alike."""
    from assistant.answer import read_with
    from assistant.render import answer_text, chat_markdown

    related = make_answer("and on babies?", "related", (_quote("Babies get milia."),))
    answer = read_with(related, "Do milia go away?")
    text = answer_text(answer)
    message = chat_markdown(answer, 1, followup_of=answer.previous_question)
    copied = html.unescape(re.search(r'class="vb-copy" title="([^"]*)"', message).group(1))
    assert copied == text
    chat = _unescape(re.sub(r'<span class="vb-copy" title="[^"]*"></span>', "", message))
    for shown in (text, render_text(answer), chat):
        assert shown.count(TEMPLATES["followup"]) == 1, shown
        assert shown.count(TEMPLATES["related"]) == 1, shown
        assert shown.count(TEMPLATES["related_heading"]) == 1, shown
        assert TEMPLATES["intro"] not in shown
    assert text.index(TEMPLATES["followup"]) < text.index(TEMPLATES["related_heading"])


def test_citations_name_a_section_only_when_it_is_not_the_title():
    """Issue 22: paragraphs before the first heading cited "What is … with It., paragraph 4"
    (the title again as the section, and a stray ".,")."""
    from dataclasses import replace

    from assistant.render import citation, short_citation

    intro = replace(
        _quote("Milia are small."), title="How to Deal with It", section="How to\u00a0Deal with It."
    )
    assert citation(intro) == "How to Deal with It, paragraph 2 (d.txt, characters 10–26)"
    assert short_citation(intro) == "How to Deal with It, paragraph 2"
    later = replace(intro, section="Causes.")
    assert citation(later).startswith("How to Deal with It, section “Causes”, paragraph 2 (")
    assert short_citation(later) == "Causes, paragraph 2"
