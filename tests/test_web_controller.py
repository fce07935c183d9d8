"""The chat's handlers and the page's own words, without a server (fast: fake embedder)."""

from __future__ import annotations

import html
import json
import re

import pytest

from assistant import Assistant, Settings
from assistant.errors import CorpusError
from assistant.product import DEFAULT_DISCLAIMER, DEFAULT_TITLE
from assistant.render import TEMPLATES, answer_text, chat_markdown, render_text
from assistant.web import PRODUCT_FILE, ChatController, Outbox, Questions, Session, load_product
from assistant.web.layout import header_html

SETTINGS = Settings(model="fake-hash-embedder", threshold=0.1, focus_check=False)
BREAD = """# Sourdough at home

Starter

A sourdough starter is flour and water left to ferment for about a week.

Feed the starter every day with equal weights of flour and water.

Baking

Bake the loaf at 230 degrees for forty minutes, with steam for the first twenty.
"""
BREAD_META = {
    "app_title": "Bread questions, answered from one recipe",
    "source_card": "A home baker's recipe, quoted as written.",
    "disclaimer": "These are quotes from the recipe, not baking advice of ours.",
    "placeholder": "Ask about the sourdough recipe",
    "examples": ["How long does a starter take?", "How hot is the oven?"],
}
DOMAIN_WORDS = re.compile(r"milia|skin|medical|doctor", re.IGNORECASE)


@pytest.fixture
def bread(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sourdough.md").write_text(BREAD, encoding="utf-8")
    return Assistant.load(corpus, tmp_path / "index", SETTINGS, embedder=fake_embedder)


@pytest.fixture
def control(bread):
    (bread.corpus_dir / PRODUCT_FILE).write_text(json.dumps(BREAD_META), encoding="utf-8")
    return ChatController(bread, load_product(bread.corpus_dir, bread.index.documents))


def answered(control, *messages, passages=3):
    outbox = Outbox()
    for m in messages:
        control.send(m, outbox)
    # recorded in the outbox, as the page's answer step does
    return outbox, outbox.record(control.answer_pending(outbox.snapshot(), Session(), passages))


# ---- the page's own words -----------------------------------------------------------------


def test_a_corpus_gets_its_own_title_card_disclaimer_and_examples(control):
    product = control.product
    assert product.app_title == BREAD_META["app_title"]
    assert product.examples == tuple(BREAD_META["examples"])
    header = header_html(product)
    for key in ("app_title", "source_card", "disclaimer"):
        assert html.escape(BREAD_META[key]) in header
    assert "Sourdough at home" in header  # the document's title, from the corpus
    assert not DOMAIN_WORDS.search(header)
    _, session = answered(control, "How long does the starter ferment?")
    reply = chat_markdown(session.turns[0].answer, 1, disclaimer=product.disclaimer)
    assert BREAD_META["disclaimer"] in reply and not DOMAIN_WORDS.search(reply)


def test_answers_carry_the_corpus_disclaimer_in_json_and_terminal_text(tmp_path, fake_embedder):
    """Not only the page: the engine's answer (the JSON `answer`) and the CLI's text carry the
    corpus's own disclaimer, and a corpus without metadata gets the generic one."""
    for meta, expected in ((BREAD_META, BREAD_META["disclaimer"]), (None, DEFAULT_DISCLAIMER)):
        corpus = tmp_path / ("with" if meta else "without")
        corpus.mkdir()
        (corpus / "sourdough.md").write_text(BREAD, encoding="utf-8")
        if meta:
            (corpus / PRODUCT_FILE).write_text(json.dumps(meta), encoding="utf-8")
        baker = Assistant.load(
            corpus, tmp_path / f"{corpus.name}-index", SETTINGS, embedder=fake_embedder
        )
        answer = baker.ask("How hot is the oven?")
        assert answer.status == "answered"
        text = render_text(answer, disclaimer=baker.product.disclaimer)
        for shown in (answer.to_dict()["answer"], text):
            assert expected in shown and not DOMAIN_WORDS.search(shown), shown


def test_without_metadata_the_page_uses_generic_words(bread):
    product = load_product(bread.corpus_dir, bread.index.documents)
    assert (product.app_title, product.disclaimer, product.examples) == (
        DEFAULT_TITLE,
        DEFAULT_DISCLAIMER,
        (),
    )
    assert not DOMAIN_WORDS.search(header_html(product))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"examples": "one"}', "list of questions"),
        ('{"disclaimer": ""}', "non-empty string"),
    ],
)
def test_a_bad_metadata_file_is_named_with_what_is_wrong(bread, content, words):
    (bread.corpus_dir / PRODUCT_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=words) as info:
        load_product(bread.corpus_dir, bread.index.documents)
    assert PRODUCT_FILE in str(info.value)


def test_the_metadata_file_is_not_part_of_the_index(bread, fake_embedder):
    (bread.corpus_dir / PRODUCT_FILE).write_text(json.dumps(BREAD_META), encoding="utf-8")
    Assistant.load(
        bread.corpus_dir, bread.index_dir, SETTINGS, embedder=fake_embedder, rebuild=False
    )


# ---- the conversation ---------------------------------------------------------------------


def test_questions_sent_before_an_answer_are_all_answered_in_order(control):
    outbox, session = answered(control, "When do I feed the starter?", "How hot is the oven?")
    assert [t.asked.text for t in session.turns] == [
        "When do I feed the starter?",
        "How hot is the oven?",
    ]
    assert [t.id for t in session.turns] == [1, 2]
    messages = control.messages(outbox, session)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert "#vb-cite-2-1" in messages[3]["content"]


def test_an_answer_written_over_a_newer_one_is_repaired_by_the_next_step(control):
    """Two answer steps overlapped and the older wrote last: the question it did not know
    about is answered by the step that follows, not lost."""
    outbox = Outbox()
    first = control.send("When do I feed the starter?", outbox)
    both = control.send("How hot is the oven?", outbox)
    stale = control.answer_pending(first, Session(), 3)  # the older step's result
    assert len(stale.turns) == 1
    repaired = control.answer_pending(both, stale, 3)
    assert [t.asked.text for t in repaired.turns] == [a.text for a in both.items]
    assert repaired.turns[0] is stale.turns[0]  # not answered twice


def test_sends_at_the_same_moment_are_all_kept(control):
    from concurrent.futures import ThreadPoolExecutor

    from assistant.web.controller import MAX_SENT

    outbox = Outbox()
    texts = [f"question {i}" for i in range(MAX_SENT)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda t: control.send(t, outbox), texts))
    sent = outbox.snapshot()
    assert sorted(a.text for a in sent.items) == sorted(texts)
    assert sorted(a.id for a in sent.items) == list(range(1, MAX_SENT + 1))


def test_a_question_shows_at_once_and_its_answer_follows(control):
    questions = control.send("How hot is the oven?", Outbox())
    shown = control.messages(questions, Session())
    assert [m["role"] for m in shown] == ["user"]
    assert shown[0]["content"] == "How hot is the oven?"


def test_too_long_a_question_is_refused_with_its_length_and_kept(control):
    limit = control.max_chars
    assert control.too_long("x" * limit) is None
    message = control.too_long("x" * (limit + 200))
    assert f"{limit + 200:,} characters" in message and "still in the box" in message


def test_retry_asks_the_question_again_and_drops_what_followed(control):
    outbox, session = answered(control, "When do I feed the starter?", "How hot is the oven?")
    again = control.retry(outbox, 1)  # the first answer's message
    assert [a.text for a in again.items] == ["When do I feed the starter?"]
    assert again.items[0].id == 3  # a new id: its answer is new too
    session = outbox.record(control.answer_pending(outbox, session, 3))
    assert [t.id for t in session.turns] == [3]
    assert control.retry(outbox, 99) is None


def test_edit_asks_the_edited_text_unescaped(control):
    outbox, session = answered(control, "Feed 1.5 cups [of flour]?")
    shown = control.messages(outbox, session)[0]["content"]
    assert shown != "Feed 1.5 cups [of flour]?"  # the chat shows (and edits) escaped markdown
    edited = control.edit(outbox, 0, shown + " (warm)")
    assert edited.items[-1].text == "Feed 1.5 cups [of flour]? (warm)"


def test_clear_empties_the_chat_and_old_links_stay_unknown(control):
    outbox, session = answered(control, "When do I feed the starter?")
    fresh, empty, panel = control.clear(outbox)
    assert control.messages(fresh, empty) == [] and "whole source" in panel
    again = control.answer_pending(control.send("How hot is the oven?", outbox), session, 3)
    assert [t.id for t in again.turns] == [2]  # the old answer was dropped
    assert control.cited_source(again, "1-1") is None


def test_a_step_that_finishes_late_never_takes_an_answer_back(control):
    """Two answer steps overlap: the one that started before the second question was sent
    finishes last. The chat keeps both answers (the browser test that lost a question)."""
    outbox = Outbox()
    control.send("When do I feed the starter?", outbox)
    early = control.answer_pending(outbox.snapshot(), outbox.answered(), 3)  # still running
    control.send("How hot is the oven?", outbox)
    late = control.answer_pending(outbox.snapshot(), outbox.answered(), 3)
    assert [t.id for t in outbox.record(late).turns] == [1, 2]
    assert [t.id for t in outbox.record(early).turns] == [1, 2]  # the older one is not kept
    shown = control.messages(outbox.snapshot(), outbox.answered())
    assert [m["role"] for m in shown] == ["user", "assistant", "user", "assistant"]
    # A retry replaces the last question: its old answer is no longer shown or kept.
    control.retry(outbox, 3)
    assert [t.id for t in outbox.answered().turns] == [1]
    outbox.clear()
    assert outbox.answered().turns == ()


# ---- rendering: copy text, source panel, feedback -----------------------------------------


def test_copy_text_is_plain_with_full_citations(control):
    _, session = answered(control, "How hot is the oven?")
    answer = session.turns[0].answer
    assert answer.status == "answered"
    questions = Questions((session.turns[0].asked,), 2)
    message = control.messages(questions, session)[1]["content"]
    copied = html.unescape(re.search(r'class="vb-copy" title="([^"]*)"', message).group(1))
    assert copied == answer_text(answer, disclaimer=control.product.disclaimer)
    assert copied.startswith(TEMPLATES["intro"])
    for quote in answer.passages:
        assert quote.text.strip().splitlines()[0] in copied
        assert f"[{quote.number}] {quote.citation()}" in copied
    assert not re.search(r"<[a-z/]|\*\*|\\[\[\].]|\]\(#", copied)


def test_source_panel_says_why_nothing_is_marked_after_not_found(control):
    from assistant.answer import make_answer
    from assistant.web.controller import Asked, Turn

    _, session = answered(control, "How hot is the oven?")
    asked = Asked(2, "Who painted the Mona Lisa?")
    nothing = Turn(asked, asked.text, False, make_answer(asked.text, "not_found"))
    session = Session((*session.turns, nothing))
    panel = control.latest_source(session)
    assert "found nothing" in panel and "vb-cited" not in panel


def test_feedback_says_whether_it_is_stored(control, tmp_path, monkeypatch):
    _, session = answered(control, "How hot is the oven?")
    monkeypatch.setattr(control.feedback, "path", None)
    assert "not stored" in control.like(session, 1, True)
    log = tmp_path / "feedback.jsonl"
    monkeypatch.setattr(control.feedback, "path", str(log))
    assert "is stored" in control.like(session, 1, True)
    assert json.loads(log.read_text(encoding="utf-8"))["question"] == "How hot is the oven?"
    assert "not stored" not in control.like(session, 0, True)  # a question: nothing to store
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1


def test_a_session_keeps_its_last_turns_and_sends(control):
    from assistant.web.controller import MAX_SENT
    from assistant.web_safety import MAX_TURNS

    outbox, session = Outbox(), Session()
    for i in range(MAX_SENT + 5):
        control.send(f"How hot is the oven? {i}", outbox)
        session = control.answer_pending(outbox, session, 1)
    assert len(session.turns) == MAX_TURNS and len(outbox.snapshot().items) == MAX_SENT
    assert session.turns[-1].asked.text == f"How hot is the oven? {MAX_SENT + 4}"
    messages = control.messages(outbox, session)
    assert len(messages) == 2 * MAX_TURNS
    outbox.record(session)
    again = control.retry(outbox, 2 * MAX_TURNS - 1)  # the last answer, still found
    assert again.items[-1].text == f"How hot is the oven? {MAX_SENT + 4}"


def test_only_votes_are_stored_and_not_too_many(control, tmp_path, monkeypatch):
    from assistant.web_safety import VOTES_PER_MINUTE

    _, session = answered(control, "How hot is the oven?")
    log = tmp_path / "feedback.jsonl"
    monkeypatch.setattr(control.feedback, "path", str(log))
    for liked in ("x" * 40, {"a": 1}, 7):
        control.like(session, 1, liked, "s1")
    assert not log.exists()
    notes = [control.like(session, 1, True, "s1") for _ in range(VOTES_PER_MINUTE + 2)]
    assert "Too many votes" in notes[-1]
    assert len(log.read_text(encoding="utf-8").splitlines()) == VOTES_PER_MINUTE


def test_votes_under_ever_new_session_ids_are_bounded_in_all():
    from assistant.web_safety import VoteLimiter

    limiter = VoteLimiter(per_minute=10, all_per_minute=25)
    allowed = [limiter.allow(f"made-up-{i}", now=100.0 + i / 100) for i in range(40)]
    assert allowed == [True] * 25 + [False] * 15  # each id votes once, the total is capped
    assert limiter.allow("another", now=161.0)  # a minute after the first votes: room again


def test_every_text_entering_a_session_is_bounded(control):
    """Issue 25, item 3: a send, an edit or /chat of 30 KB (or of a JSON object) keeps only
    what the chat shows and why it is refused, never the text itself."""
    import sys

    from assistant.web.controller import ECHO_CHARS, MAX_SENT, Refused

    outbox = Outbox(max_chars=1000)
    huge = "milia " * 5000
    control.send(huge, outbox)
    control.send({"nested": ["x" * 20000]}, outbox)
    control.edit(outbox, 0, huge)
    for _ in range(MAX_SENT):
        control.send(huge, outbox)
    items = outbox.snapshot().items
    assert all(isinstance(a.text, Refused) for a in items)
    assert all(len(a.text.shown) <= 2 * ECHO_CHARS for a in items)
    assert sum(sys.getsizeof(a.text.shown) + sys.getsizeof(a.text.problem) for a in items) < (
        MAX_SENT * 4 * (ECHO_CHARS + 200)
    )
    session = control.answer_pending(outbox, Session(), 3)
    assert {t.answer.status for t in session.turns} == {"invalid"}
    assert "30,000 characters long; the limit is 1,000" in session.turns[-1].answer.message
    assert control.messages(outbox, session)[0]["content"].endswith("…")


def test_the_same_question_sent_twice_while_it_waits_is_asked_once(control):
    """Issue 22: on a slow connection Enter pressed twice sent the question twice and gave two
    identical answers. While it waits, the same text is kept once; once it is answered, it can
    be asked again, and a different question is never merged."""
    outbox = Outbox()
    control.send("How hot is the oven?", outbox)
    control.send("How hot is the oven? ", outbox)  # Enter again, before the answer
    assert [a.text for a in outbox.snapshot().items] == ["How hot is the oven?"]
    outbox.record(control.answer_pending(outbox.snapshot(), Session(), 3))
    control.send("How hot is the oven?", outbox)  # answered: asking again is a new question
    control.send("When do I feed the starter?", outbox)
    control.send("How hot is the oven?", outbox)  # not the last one waiting: kept
    texts = [a.text for a in outbox.snapshot().items]
    assert texts == ["How hot is the oven?"] * 2 + [
        "When do I feed the starter?",
        "How hot is the oven?",
    ]
    session = outbox.record(control.answer_pending(outbox.snapshot(), outbox.answered(), 3))
    assert [t.id for t in session.turns] == [a.id for a in outbox.snapshot().items]
