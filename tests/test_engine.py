"""The assistant as users get it: the committed index and the real packaged model."""

import pytest
from answer_checks import QUOTING, assert_not_found, assert_verbatim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DISCLAIMER

from assistant.answer import TEMPLATES
from assistant.errors import SettingsError
from assistant.retrieval import MODES

pytestmark = pytest.mark.model


def test_steroid_question_shows_cited_quotes(real_assistant):
    """Its first quote answers it; the confidence model doubts it (two passages both answer,
    so the margin is small) and says `related`, still quoting it first (issue 21)."""
    answer = real_assistant.ask("Can steroid creams make milia worse?")
    assert answer.status in QUOTING
    assert "topical steroids promotes the appearance of Milia" in answer.passages[0].text
    assert 1 <= len(answer.passages) <= 3
    assert_verbatim(real_assistant, answer)
    assert any(
        "topical steroids promotes the appearance of Milia" in q.text for q in answer.passages
    )
    assert all(q.section == "Medication-associated Milia" for q in answer.passages[:2])
    assert DISCLAIMER in answer.answer
    d = answer.to_dict()
    for key in ("question", "status", "answer", "passages"):
        assert key in d
    for p in d["passages"]:
        assert set(p) >= {"text", "source", "section", "start", "end", "score", "highlight"}
        assert set(p["highlight"]) == {"start", "end"}


@pytest.mark.parametrize(
    "question",
    [
        "Who painted the Mona Lisa?",
        "What is a normal resting heart rate?",
        "How do I bake sourdough bread?",
    ],
)
def test_off_topic_is_not_found(real_assistant, question):
    assert_not_found(real_assistant.ask(question))


def test_lay_question_is_answered(real_assistant):
    answer = real_assistant.ask("tiny white bumps around my eyes, what are they")
    assert answer.status in QUOTING
    assert_verbatim(real_assistant, answer)


def test_promotional_quote_is_labelled(real_assistant):
    answer = real_assistant.ask("Which cream removes milia so they do not return?", top_k=5)
    promo = [q for q in answer.passages if "Cerobio" in q.text]
    assert promo and promo[0].flags == ("promotional",)
    assert "promotes a product" in answer.answer


@pytest.mark.parametrize(
    "question, status",
    [
        ("", "invalid"),
        ("   \t ", "invalid"),
        ("x" * 10_000, "invalid"),
        ("milia\x00\x07", "invalid"),
        ("hello", "chitchat"),
        ("thanks!", "chitchat"),
    ],
)
def test_bad_input_and_chitchat(real_assistant, question, status):
    answer = real_assistant.ask(question)
    assert answer.status == status
    assert answer.passages == ()
    assert answer.answer


def test_top_k_and_modes(real_assistant):
    for mode in MODES:
        answer = real_assistant.ask("What causes secondary milia?", top_k=5, mode=mode)
        assert answer.status in QUOTING
        assert 1 <= len(answer.passages) <= 5
        assert_verbatim(real_assistant, answer)
    with pytest.raises(SettingsError, match="top_k"):
        real_assistant.ask("milia", top_k=0)
    with pytest.raises(SettingsError, match="mode"):
        real_assistant.ask("milia", mode="magic")


def test_batch_equals_single(real_assistant):
    questions = ["What causes secondary milia?", "", "Is milia an allergy?"]
    batch = real_assistant.ask_many(questions)
    assert [a.to_dict() for a in batch] == [real_assistant.ask(q).to_dict() for q in questions]


# Words of the corpus's topic mixed with others, so the focus check (focus.py) runs too.
TOPICAL = st.lists(
    st.one_of(
        st.sampled_from(["milia", "Milia's", "secondary", "skin", "your", "can", "you", "have"]),
        st.sampled_from(["women", "bumps", "nose", "retinol", "?", "!", "…", "don't", "ΣΚΙΝ"]),
        st.text(max_size=12),
    ),
    max_size=12,
).map(" ".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=300), st.text(alphabet=st.characters(codec="utf-8"), max_size=50), TOPICAL
    )
)
def test_any_question_gives_a_well_formed_verbatim_answer(real_assistant, question):
    answer = real_assistant.ask(question)
    assert answer.status in (
        "answered",
        "related",
        "not_found",
        "chitchat",
        "invalid",
        "not_english",
    )
    assert answer.answer
    assert_verbatim(real_assistant, answer)
    if answer.status not in ("answered", "related"):
        assert answer.passages == ()
    else:
        assert answer.passages
    if answer.focus_relevance is not None:
        assert -1.0 <= answer.focus_relevance <= 1.0
        if answer.status == "answered":
            assert answer.focus_relevance >= real_assistant.settings.focus_threshold
        if answer.status == "related" and answer.confidence.reason == "focus":
            assert answer.focus_relevance < real_assistant.settings.focus_threshold


def test_related_status_shows_the_closest_passages_under_its_own_template(real_embedder):
    """With a focus threshold above every focus, an on-topic question with a focus gets
    `related`: quotes (verbatim) under "does not answer this directly", in every renderer."""
    from answer_checks import ROOT

    from assistant import Assistant
    from assistant.answer import render_text
    from assistant.settings import Settings

    assistant = Assistant.load(
        ROOT / "corpus",
        ROOT / "index",
        Settings(focus_threshold=0.99),
        embedder=real_embedder,
        rebuild=False,
    )
    answer = assistant.ask("Can steroid creams make milia worse?")
    assert answer.status == "related"
    assert answer.passages and answer.focus_relevance is not None
    assert_verbatim(assistant, answer)
    assert answer.answer.startswith(TEMPLATES["related"])
    assert TEMPLATES["intro"] not in answer.answer
    heading = f"── {TEMPLATES['related_heading']} ──\n"
    assert render_text(answer).startswith(heading + TEMPLATES["related"])
    assert answer.to_dict()["status"] == "related"
    # Off-topic questions are still refused outright, with nothing shown.
    assert_not_found(assistant.ask("Who painted the Mona Lisa?"))
    # A question that is all topic (no focus) cannot be `related`.
    assert assistant.ask("What are milia?").status == "answered"


def test_committed_index_is_calibrated_and_answers_its_examples_as_answered(real_assistant):
    calibration = real_assistant.index.manifest["calibration"]
    limits = real_assistant.settings.thresholds()
    assert limits.relevance == calibration["threshold"]
    assert limits.focus == calibration["focus_threshold"]
