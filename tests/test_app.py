"""The Gradio app served on 127.0.0.1, driven through its API with gradio_client.

One app per session over the committed index and the real model (the `real_assistant` fixture).
"""

from __future__ import annotations

import importlib.util
import json
import logging

import httpx
import pytest
from paths import DISCLAIMER, ROOT

from assistant.answer import LABELS, TEMPLATES, escape_markdown
from benchmarks.gradio_queue import queue_event
from scripts.ports import free_port

pytestmark = pytest.mark.server

gradio_client = pytest.importorskip("gradio_client")

ON_TOPIC = "Can medications cause milia?"  # `answered` (the check is confident)
OFF_TOPIC = "Who painted the Mona Lisa?"
FIRST = "Do milia go away on their own?"
FOLLOWUP = "what about on babies?"


def source_text(name: str) -> str:
    # Bytes decoded as the engine does: no newline translation.
    return (ROOT / "corpus" / name).read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def feedback_log():
    """Where the app's thumbs go (app.py gives it $VERBATIM_FEEDBACK_LOG); off until a test
    names a file."""
    from assistant.web import FeedbackLog

    return FeedbackLog()


@pytest.fixture(scope="module")
def demo(real_assistant, feedback_log):
    from assistant.web import build_demo

    app = build_demo(real_assistant, feedback=feedback_log)
    app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True
    )
    yield app
    app.close()


@pytest.fixture(scope="module")
def url(demo) -> str:
    return demo.local_url


@pytest.fixture
def client(url):
    """A fresh client (and so a fresh chat session) per test."""
    return gradio_client.Client(url, verbose=False, analytics_enabled=False)


@pytest.fixture(scope="module")
def api(url):
    """One client for the stateless /ask endpoint."""
    return gradio_client.Client(url, verbose=False, analytics_enabled=False)


def last_reply(history: list[dict]) -> str:
    message = history[-1]
    assert message["role"] == "assistant"
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return content


# ---- /ask --------------------------------------------------------------------------------


def test_ask_returns_verbatim_passages_with_offsets_and_highlight(api):
    result = api.predict(ON_TOPIC, api_name="/ask")
    assert result["status"] == "answered"
    assert result["question"] == ON_TOPIC
    assert 1 <= len(result["passages"]) <= 3
    assert set(result) >= {"question", "status", "answer", "passages", "message", "relevance"}
    for number, p in enumerate(result["passages"], start=1):
        text = source_text(p["source"])
        assert p["number"] == number
        assert p["text"] == text[p["start"] : p["end"]]
        h = p["highlight"]
        assert p["start"] <= h["start"] < h["end"] <= p["end"]
        assert p["section"] in p["citation"] and f"paragraph {p['paragraph']}" in p["citation"]
    assert DISCLAIMER in result["answer"]


def test_ask_is_the_same_json_as_the_cli(api, real_assistant):
    expected = real_assistant.ask(ON_TOPIC, top_k=2).to_dict()
    assert api.predict(ON_TOPIC, 2, api_name="/ask") == json.loads(json.dumps(expected))


@pytest.mark.parametrize("k", [1, 5])
def test_ask_respects_the_passage_count(api, k):
    result = api.predict("What causes secondary milia?", k, api_name="/ask")
    assert result["status"] == "answered"
    assert 1 <= len(result["passages"]) <= k


def test_off_topic_question_is_not_found(api):
    result = api.predict(OFF_TOPIC, api_name="/ask")
    assert result["status"] == "not_found"
    assert result["passages"] == []
    assert result["answer"] == TEMPLATES["not_found"]


@pytest.mark.parametrize(
    ("question", "passages", "words"),
    [
        ("", 3, "empty"),
        ("   \n\t ", 3, "empty"),
        ("x" * 10_000, 3, "10,000 characters"),
        ("what are\x00 milia", 3, "control characters"),
        (12345, 3, "must be text"),
        (None, 3, "must be text"),
        (["a", "list"], 3, "must be text"),
        (ON_TOPIC, "three", "whole number"),
        (ON_TOPIC, "3", "whole number"),
        (ON_TOPIC, 999, "from 1 to 20"),
        (ON_TOPIC, 0, "from 1 to 20"),
        (ON_TOPIC, -2, "from 1 to 20"),
        (ON_TOPIC, 2.5, "whole number"),
        (ON_TOPIC, True, "whole number"),
        (ON_TOPIC, [3], "whole number"),
        (ON_TOPIC, {"k": 3}, "whole number"),
    ],
)
def test_bad_input_gets_a_clear_message_not_an_exception(api, question, passages, words):
    result = api.predict(question, passages, api_name="/ask")
    assert result["status"] == "invalid"
    assert result["passages"] == []
    assert words in result["message"]
    assert result["answer"].startswith(TEMPLATES["invalid"])
    assert "Traceback" not in json.dumps(result)


def test_whole_number_floats_are_accepted_as_counts(api):
    result = api.predict(ON_TOPIC, 2.0, api_name="/ask")
    assert result["status"] == "answered" and len(result["passages"]) <= 2


def test_ask_takes_an_optional_history(api, real_assistant):
    expected = real_assistant.ask(FOLLOWUP, history=[FIRST]).to_dict()
    result = api.predict(FOLLOWUP, 3, [FIRST], api_name="/ask")
    assert result == json.loads(json.dumps(expected))
    assert result["status"] == "answered" and result["previous_question"] == FIRST
    named = api.predict(question=FOLLOWUP, history=["hi", FIRST], api_name="/ask")
    assert named["previous_question"] == FIRST
    alone = api.predict(FOLLOWUP, api_name="/ask")  # one argument, as before
    assert alone["status"] == "not_found" and alone["previous_question"] is None


@pytest.mark.parametrize(
    ("history", "words"),
    [("Do milia go away?", "must be a list"), ([FIRST, 3], "History entry 2"), (7, "list")],
)
def test_a_bad_history_gets_a_clear_message(api, history, words):
    result = api.predict(FOLLOWUP, 3, history, api_name="/ask")
    assert result["status"] == "invalid" and words in result["message"]


def rest_ask(url: str, data: list) -> dict:
    """/ask over Gradio's REST API, as curl does (docs/app.md)."""
    with httpx.Client(base_url=url, timeout=60) as http:
        posted = http.post("gradio_api/call/ask", json={"data": data})
        posted.raise_for_status()
        event = posted.json()["event_id"]
        text = http.get(f"gradio_api/call/ask/{event}").text
    lines = text.splitlines()
    assert "event: complete" in lines, text
    return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))[0]


def test_rest_callers_with_one_two_or_three_arguments(url):
    assert rest_ask(url, [ON_TOPIC])["status"] == "answered"  # the rest take their defaults
    two = rest_ask(url, [ON_TOPIC, 2])
    assert two["status"] == "answered" and len(two["passages"]) <= 2
    three = rest_ask(url, [FOLLOWUP, 3, [FIRST]])
    assert three["status"] == "answered" and three["previous_question"] == FIRST
    assert rest_ask(url, [FOLLOWUP, 3, None])["previous_question"] is None


def test_markup_in_the_question_is_escaped_in_the_answer(api):
    result = api.predict(
        '<img src=x onerror="alert(1)"> ![x](http://127.0.0.2:9/i.png)', api_name="/ask"
    )
    assert result["status"] in {"answered", "related", "not_found", "not_english"}
    assert "<img" not in result["answer"] and "![x](" not in result["answer"]


# ---- /chat -------------------------------------------------------------------------------


def test_chat_answers_with_cited_highlighted_quotes(client):
    history, box = client.predict(ON_TOPIC, 3, api_name="/chat")
    assert box == ""
    assert history[0]["role"] == "user"
    reply = last_reply(history)
    assert reply.startswith(TEMPLATES["intro"])
    assert '<mark class="vb-hl">' in reply
    assert "**\\[1\\]**" in reply and "[Show quote 1 in source](#vb-cite-1-1)" in reply
    assert DISCLAIMER in reply


def test_chat_labels_promotional_quotes(client):
    history, _ = client.predict("Will a milia removal cream work?", 5, api_name="/chat")
    reply = last_reply(history)
    assert f'<span class="vb-label">{escape_markdown(LABELS["promotional"])}</span>' in reply


def test_chat_says_when_the_source_does_not_cover_it(client):
    client.predict("What causes secondary milia?", 3, api_name="/chat")
    history, _ = client.predict(OFF_TOPIC, 3, api_name="/chat")
    reply = last_reply(history)  # not rescued by the previous question:
    assert (
        reply == TEMPLATES["not_found"] + '<span class="vb-status-mark vb-status-not_found"></span>'
    )

    assert len(history) == 4


def test_follow_up_is_read_with_the_previous_question_as_the_engine_does(client, real_assistant):
    """The chat hands its history to the engine: the same rules as the CLI and the API."""
    expected = real_assistant.ask(FOLLOWUP, history=[FIRST])
    assert expected.previous_question == FIRST
    client.predict(FIRST, 3, api_name="/chat")
    history, _ = client.predict(FOLLOWUP, 3, api_name="/chat")
    reply = last_reply(history)
    assert reply.startswith(f"*{TEMPLATES['followup']} “{escape_markdown(FIRST)}”*")
    assert TEMPLATES["intro"] in reply and "#vb-cite-2-1" in reply
    for p in expected.passages:
        assert f"characters {p.start}–{p.end}" in reply


def test_a_new_question_in_the_chat_is_read_alone(client):
    client.predict(FIRST, 3, api_name="/chat")
    history, _ = client.predict("Can a tattoo cause milia?", 3, api_name="/chat")
    reply = last_reply(history)
    assert reply.startswith(TEMPLATES["intro"]) and TEMPLATES["followup"] not in reply


def test_a_question_not_in_english_gets_the_fixed_message(client, api):
    history, _ = client.predict("Sind Milien gefährlich?", 3, api_name="/chat")
    marker = '<span class="vb-status-mark vb-status-not_english"></span>'
    assert last_reply(history) == TEMPLATES["not_english"] + marker
    result = api.predict("¿Qué causa los milia secundarios?", api_name="/ask")
    assert result["status"] == "not_english" and result["language"] == "es"
    assert result["passages"] == [] and result["answer"] == TEMPLATES["not_english"]


@pytest.mark.parametrize(
    ("message", "passages", "words"),
    [
        ("", 3, "empty"),
        ("   ", 3, "empty"),
        ("x" * 10_000, 3, "10,000 characters"),
        ("milia\x00", 3, "control characters"),
        (ON_TOPIC, "lots", "whole number"),
        (ON_TOPIC, 999, "from 1 to 10"),
        (ON_TOPIC, 11, "from 1 to 10"),
    ],
)
def test_chat_bad_input_gets_a_clear_message(client, message, passages, words):
    history, _ = client.predict(message, passages, api_name="/chat")
    reply = last_reply(history)
    assert reply.startswith(TEMPLATES["invalid"])
    assert words in reply.replace("\\", "")
    shown = history[0]["content"][0]["text"]
    assert len(shown) <= 1010  # a long message is not echoed whole


def test_chat_escapes_the_users_own_message(client):
    payload = '<img src=x onerror="window.__pwned=1"> <script>x()</script> $5 ![i](http://127.0.0.2:9/i.png)'
    history, _ = client.predict(payload, 3, api_name="/chat")
    shown = history[0]["content"][0]["text"]
    assert "<img" not in shown and "<script" not in shown and "![i](" not in shown
    assert "&lt;img" in shown and "\\$5" in shown


# ---- feedback ----------------------------------------------------------------------------


def like(demo, url: str, session_hash: str, message_index: int, liked: object) -> dict:
    """Send a thumbs up/down exactly as the browser does (the like event is not in the API)."""
    fn_index = next(i for i, fn in demo.fns.items() if fn.name == "on_like")
    event = {"index": message_index, "value": "…", "liked": liked}
    with httpx.Client(base_url=url, timeout=30) as http:
        return queue_event(http, fn_index, [None], session_hash, event_data=event)


def test_like_appends_one_json_line(demo, url, client, tmp_path, monkeypatch, feedback_log):
    log_file = tmp_path / "feedback.jsonl"
    monkeypatch.setattr(feedback_log, "path", str(log_file))
    history, _ = client.predict(ON_TOPIC, 2, api_name="/chat")
    done = like(demo, url, client.session_hash, message_index=1, liked=True)
    assert done["success"] is True
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == {"timestamp", "vote", "question", "followup", "status", "passages"}
    assert record["vote"] == "up" and record["question"] == ON_TOPIC
    assert record["status"] == "answered" and record["followup"] is False
    assert 1 <= len(record["passages"]) <= 2
    first = record["passages"][0]
    assert set(first) == {"number", "source", "start", "end"}
    assert f"characters {first['start']}–{first['end']}" in last_reply(history)

    like(demo, url, client.session_hash, message_index=1, liked=False)
    assert json.loads(log_file.read_text(encoding="utf-8").splitlines()[1])["vote"] == "down"


def test_no_feedback_is_stored_when_the_variable_is_unset(
    demo, url, client, tmp_path, monkeypatch, feedback_log
):
    monkeypatch.setattr(feedback_log, "path", None)
    monkeypatch.chdir(tmp_path)
    client.predict(ON_TOPIC, 1, api_name="/chat")
    assert like(demo, url, client.session_hash, 1, True)["success"] is True
    assert list(tmp_path.iterdir()) == []


def test_failed_feedback_write_never_breaks_the_chat(
    demo, url, client, monkeypatch, caplog, feedback_log
):
    monkeypatch.setattr(feedback_log, "path", "/dev/full")
    caplog.set_level(logging.WARNING, logger="assistant.web")
    client.predict(ON_TOPIC, 1, api_name="/chat")
    for vote in (True, False, True):
        assert like(demo, url, client.session_hash, 1, vote)["success"] is True
    history, _ = client.predict("What causes secondary milia?", 1, api_name="/chat")
    assert last_reply(history).startswith(TEMPLATES["intro"])
    failures = [r for r in caplog.records if "/dev/full" in r.getMessage()]
    assert len(failures) == 1  # three failed writes, one log line


def test_concurrent_questions_get_the_same_answers(url, real_assistant):
    """Two engine calls run at once (concurrency limit 2); answers must not mix."""
    from concurrent.futures import ThreadPoolExecutor

    questions = ["What are milia?", ON_TOPIC, OFF_TOPIC, "Do milia go away on their own?"] * 2
    expected = [json.loads(json.dumps(real_assistant.ask(q).to_dict())) for q in questions]

    def one(question):
        client = gradio_client.Client(url, verbose=False, analytics_enabled=False)
        return client.predict(question, api_name="/ask")

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        assert list(pool.map(one, questions)) == expected


# ---- the app itself ----------------------------------------------------------------------


def test_launch_settings_are_the_safe_ones(demo):
    assert demo.share is False
    assert demo.show_error is False
    assert demo.allowed_paths == []
    assert demo.max_file_size is not None and demo.max_file_size <= 64 * 1024
    assert demo._queue.max_size == 64
    assert demo._queue.default_concurrency_limit == 2
    assert demo.run_history is False


def test_api_lists_exactly_ask_and_chat(client):
    info = client.view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask", "/chat"}


def test_import_app_gives_a_demo(real_assistant, monkeypatch):
    """app.py is a thin entry point: it loads once and builds the demo at import."""
    from assistant.engine import Assistant

    calls = []

    def fake_load(cls, *args, **kwargs):
        calls.append(kwargs)
        return real_assistant

    monkeypatch.setattr(Assistant, "load", classmethod(fake_load))
    monkeypatch.delenv("VERBATIM_QDRANT", raising=False)
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)
    spec = importlib.util.spec_from_file_location("verbatim_app_under_test", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert calls == [{"rebuild": False, "qdrant": None, "qdrant_api_key": None}]
    assert module.demo.__class__.__name__ == "VerbatimBlocks"
    assert module.assistant is real_assistant


# ---- formatting (no server needed, but cheap) --------------------------------------------


def _documents(text: str, source: str = "doc.txt"):
    from types import SimpleNamespace

    return {source: SimpleNamespace(title="T <u>", text=text)}


def _passage(number: int, start: int, end: int, text: str, hl: tuple[int, int]):
    from assistant.answer import Quote, Span

    return Quote(
        number=number, id=f"p{number}", text=text[start:end], source="doc.txt", title="T <u>",
        section="S", paragraph=number, start=start, end=end, score=1.0, relevance=1.0,
        highlight=Span(*hl),
    )  # fmt: skip


def test_source_panel_escapes_and_keeps_the_whole_text():
    import html
    import re

    from assistant.web import render_source

    text = "Intro <img src=x onerror=alert(1)>.\n\nQuoted <script>bad()</script> part. Tail & end."
    start = text.index("Quoted")
    end = text.index(" Tail")
    focus = _passage(1, start, end, text, (start, start + 6))
    out = render_source(_documents(text), focus=focus, turn=1, question="q <i>")
    assert "<img" not in out and "<script" not in out and "<u>" not in out and "<i>" not in out
    body = out[out.index('<div class="vb-source-body"') :]
    assert html.unescape(re.sub(r"<[^>]+>", "", body)) == text
    assert f'data-start="{start}" data-end="{end}"' in out
    assert "matches the source exactly" in out


def test_source_panel_shows_a_window_of_a_huge_document():
    from assistant.web import SOURCE_WINDOW_CHARS, render_source

    text = "word " * (SOURCE_WINDOW_CHARS // 2)
    start = len(text) // 2
    focus = _passage(1, start, start + 20, text, (start, start + 10))
    out = render_source(_documents(text), focus=focus, turn=1)
    assert "characters before this are not shown" in out and "after this are not shown" in out
    assert len(out) < SOURCE_WINDOW_CHARS + 5_000


def test_feedback_to_a_folder_fails_quietly_and_logs_once(tmp_path, monkeypatch, caplog):
    from assistant.web import FeedbackLog

    caplog.set_level(logging.WARNING, logger="assistant.web")
    log = FeedbackLog(tmp_path)
    assert log.write({"vote": "up"}) is False
    assert log.write({"vote": "down"}) is False
    assert len([r for r in caplog.records if str(tmp_path) in r.getMessage()]) == 1
