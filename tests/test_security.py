"""Security: bad input through every door, Gradio's file routes, uploads, trust in the index,
and privacy of the logs.

The same bad inputs go through the Python API, the Gradio REST API and the CLI (one batch
subprocess, logging at DEBUG, which is also where the logs are checked for questions).
"""

from __future__ import annotations

import html
import http.client
import json
import logging
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DISCLAIMER, ROOT

from assistant.answer import LABELS, STATUSES, TEMPLATES
from scripts.ports import free_port

SEED = (ROOT / "corpus" / "secondary-milia.txt").read_bytes().decode("utf-8")
MARKER = "zqxj-private-question-7741"  # must never reach a log

# (id, question, predicate on the answer dict). Newline-free, so the CLI can take them on stdin.
CASES = [
    ("empty", "", lambda a: a["status"] == "invalid" and "empty" in a["message"]),
    ("whitespace", " \t  \u3000 ", lambda a: a["status"] == "invalid" and "empty" in a["message"]),
    (
        "100k",
        "a" * 100_000,
        lambda a: a["status"] == "invalid" and "100,000 characters" in a["message"],
    ),
    (
        "1M",
        "milia " * 166_667,
        lambda a: a["status"] == "invalid" and "1,000,002 characters" in a["message"],
    ),
    ("nul", "what are\x00 milia", lambda a: a["status"] == "invalid" and "control" in a["message"]),
    (
        "controls",
        "\x1b[31mmilia\x07\x08",
        lambda a: a["status"] == "invalid" and "control" in a["message"],
    ),
    (
        "bidi and zero-width",
        "\u202eWhat\u200b are \u200dmilia?\u202c\ufeff",
        lambda a: a["status"] == "answered" and a["question"] == "What are milia?",
    ),
    ("french", "Qu'est-ce que la milia secondaire ?", lambda a: a["status"] != "invalid"),
    ("chinese", "继发性粟粒疹是什么？", lambda a: a["status"] != "invalid"),
    ("arabic", "ما هي الدخينات الثانوية؟", lambda a: a["status"] != "invalid"),
    ("emoji", "🙂🧴 milia 🤔?", lambda a: a["status"] != "invalid"),
    (
        "html",
        '<img src=x onerror="alert(1)"><script>alert(2)</script> what are milia?',
        lambda a: "<img" not in a["answer"] and "<script" not in a["answer"],
    ),
    (
        "markdown image",
        "![x](http://127.0.0.2:9/x.png) [a](javascript:alert(1)) milia",
        lambda a: "![" not in a["answer"] and "](" not in a["answer"],
    ),
]


def verbatim(answer: dict) -> bool:
    """Well formed: a known status, and passages only when answered (or `related`: the closest
    passages), each exactly the source."""
    if answer["status"] not in STATUSES or not isinstance(answer["answer"], str):
        return False
    if (answer["status"] in ("answered", "related")) != bool(answer["passages"]):
        return False
    return all(SEED[p["start"] : p["end"]] == p["text"] for p in answer["passages"])


@pytest.fixture(scope="module")
def app(real_assistant) -> Iterator[tuple[str, int]]:
    from assistant.web import build_demo

    demo = build_demo(real_assistant)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    yield demo.local_url.rstrip("/"), port
    demo.close()


def rest_ask(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
    """POST /gradio_api/call/ask, then the final SSE event: (HTTP status, body or event)."""
    with httpx.Client(base_url=url, timeout=60) as http:
        posted = http.post(
            "/gradio_api/call/ask", content=body, headers={"Content-Type": content_type}
        )
        if posted.status_code != 200:
            return posted.status_code, posted.text
        result = http.get(f"/gradio_api/call/ask/{posted.json()['event_id']}")
        return result.status_code, result.text


def final_data(sse: str) -> tuple[str, object]:
    event = None
    for line in sse.splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            return event, json.loads(line[5:])
    raise AssertionError(f"no final event in {sse[:300]!r}")


# ---- bad input: Python API, Gradio API, CLI -------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize(("name", "question", "ok"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_python_api(real_assistant, name, question, ok):
    started = time.perf_counter()
    answer = real_assistant.ask(question).to_dict()
    assert time.perf_counter() - started < 0.5 or len(question) < 1000
    assert ok(answer), answer
    assert verbatim(answer)


@pytest.mark.model
def test_lone_surrogates_python_api(real_assistant):
    answer = real_assistant.ask("what are \ud800 milia?").to_dict()
    assert answer["status"] == "invalid" and "lone surrogates" in answer["message"]


@pytest.mark.server
@pytest.mark.model
@pytest.mark.parametrize(("name", "question", "ok"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gradio_api(app, name, question, ok):
    from assistant.http_guard import MAX_BODY_BYTES

    body = json.dumps({"data": [question, 3]}).encode()
    started = time.perf_counter()
    code, sse = rest_ask(app[0], body)
    elapsed = time.perf_counter() - started
    if len(body) > MAX_BODY_BYTES:  # refused at the door, before anything parses it
        assert code == 413 and "larger than" in json.loads(sse)["detail"]
        assert elapsed < 1.0
        return
    assert code == 200
    event, data = final_data(sse)
    assert event == "complete" and ok(data[0]) and verbatim(data[0]), data
    if len(question) > 1000:
        assert elapsed < 1.0  # the length check comes first


@pytest.mark.server
@pytest.mark.model
def test_escaped_lone_surrogate_in_json(app):
    code, sse = rest_ask(app[0], b'{"data": ["what are \\ud800 milia?", 3]}')
    event, data = final_data(sse)
    assert code == 200 and event == "complete"
    assert data[0]["status"] == "invalid" and "lone surrogates" in data[0]["message"]


@pytest.mark.server
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{}", "application/json"),
        (b'{"data": "What are milia?"}', "application/json"),
        (b'{"data": {"question": "x"}}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"not json at all", "application/json"),
        (b"data=What+are+milia", "application/x-www-form-urlencoded"),
        (b'{"data": []}', "application/json"),
        (b'{"data": [null]}', "application/json"),
        (b'{"data": ["What are milia?"]}', "application/json"),
        (b'{"data": ["What are milia?", 3, 4, "extra"]}', "application/json"),
        (b'{"data": [{"a": 1}, [3]]}', "application/json"),
        (b'{"data": ["x", 3], "fn_index": 9999}', "application/json"),
    ],
    ids=[
        "no data",
        "data a string",
        "data an object",
        "body a list",
        "not json",
        "form",
        "no args",
        "null arg",
        "one arg",
        "extra args",
        "wrong types",
        "fn_index",
    ],
)
def test_malformed_requests_get_4xx_or_an_error_event_never_a_traceback(app, body, content_type):
    code, text = rest_ask(app[0], body, content_type)
    assert code != 500 and "Traceback" not in text and 'File "' not in text
    if code == 200:
        event, data = final_data(text)
        if event == "complete":
            assert data[0]["status"] in STATUSES and verbatim(data[0])
    else:
        assert 400 <= code < 500


@pytest.mark.model
def test_bad_input_cli_batch_and_no_question_in_debug_logs():
    """One subprocess: every case on stdin (plus a line of invalid UTF-8), `-vv` logging; then
    the logs must hold no question and no corpus text."""
    questions = [q for _, q, _ in CASES] + [f"What causes secondary milia? {MARKER}"]
    stdin = ("\n".join(questions) + "\n").encode("utf-8") + b"milia \xff\xfe?\n"
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "-vv", "ask", "--json", "--no-rebuild"],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    answers = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(answers) == len(CASES) + 2
    for (name, _, ok), answer in zip(CASES, answers):
        assert ok(answer) and verbatim(answer), (name, answer)
    marked = answers[len(CASES)]
    assert marked["status"] in ("answered", "related") and verbatim(marked)
    assert answers[-1]["status"] == "invalid"
    assert answers[-1]["message"] == (  # the bytes named, not the "lone surrogates" they become
        "The question is not valid UTF-8 text (bad byte 0xff at byte 6). Please send it as UTF-8."
    )
    logs = result.stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in logs
    assert MARKER not in logs and "secondary milia?" not in logs
    for p in marked["passages"]:
        assert p["text"][:60] not in logs


@pytest.mark.server
@pytest.mark.model
def test_no_question_or_corpus_text_in_app_logs_at_debug(app, real_assistant, caplog):
    caplog.set_level(logging.DEBUG)
    question = f"What causes secondary milia? {MARKER}"
    code, sse = rest_ask(app[0], json.dumps({"data": [question, 2]}).encode())
    _, data = final_data(sse)
    answer = real_assistant.ask(question)
    assert data[0]["status"] == answer.status and answer.status in ("answered", "related")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert MARKER not in logged
    for p in data[0]["passages"]:
        assert p["text"][:60] not in logged


# ---- the displayed markdown is templates, the question and verbatim quotes only -----------

_MESSAGES = [
    r"The question must be text, not \w+\.",
    r"The question is [\d,]+ characters long; the limit is [\d,]+\. Please ask a shorter question\.",
    r"The question contains invalid characters \(lone surrogates\)\.",
    r"The question contains control characters \(such as NUL\)\. Please type it as plain text\.",
    r"The question is empty\. Please type a question about the source\.",
    r"The question has no letters or digits\. Please type a question in words\.",
]


def _unescape(markdown: str) -> str:
    """The exact inverse of assistant.answer.escape_markdown (see tests/test_answer.py)."""
    return re.sub(r"\\(.)", r"\1", html.unescape(markdown))


def unexplained(answer: dict) -> str:
    """What is left of the answer markdown after removing every piece it may be made of:
    templates, the corpus's reviewed disclaimer (corpus.meta.json), labels, the message of an
    invalid answer, and each quote with its citation.
    Only markdown syntax (blockquote marks, emphasis) and whitespace may remain."""
    lines = []
    for line in answer["answer"].split("\n"):  # blockquote syntax is raw, a quoted ">" escaped
        lines.append(line[2:] if line.startswith("> ") else line[1:] if line == ">" else line)
    plain = _unescape("\n".join(lines).replace("**", ""))  # emphasis is raw, a quoted * escaped
    plain = " ".join(plain.split())  # blank quote lines lose their spaces in blockquotes
    pieces = [f"— [{p['number']}] {p['citation']}" for p in answer["passages"]]
    pieces += [p["text"] for p in answer["passages"]]
    pieces += [*LABELS.values(), *TEMPLATES.values(), DISCLAIMER, answer["question"]]
    if answer["status"] == "invalid":
        assert any(re.fullmatch(m, answer["message"]) for m in _MESSAGES), answer["message"]
        pieces.append(answer["message"])
    for piece in sorted((" ".join(p.split()) for p in pieces if p.strip()), key=len, reverse=True):
        plain = plain.replace(piece, " ")
    return re.sub(r"[\s*_]", "", plain)


def test_the_checker_catches_a_sentence_of_its_own():
    from assistant.answer import make_answer

    answer = make_answer("q", "not_found").to_dict()
    assert unexplained(answer) == ""
    answer["answer"] += "\n\nYou should see a doctor about this"
    assert unexplained(answer) == "Youshouldseeadoctoraboutthis"


_SENTENCES = [s for s in re.split(r"(?<=[.?!])\s+", SEED) if 10 < len(s) < 300]


@pytest.mark.model
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.text(max_size=200),
        st.sampled_from(_SENTENCES),
        st.builds(lambda a, b: f"{a} {b}", st.sampled_from(_SENTENCES), st.text(max_size=40)),
        st.text(alphabet="<>&*_[]()!#`\\|~$:-.\"' \n\tmilia", max_size=80),
    ),
    st.integers(min_value=1, max_value=5),
)
def test_displayed_markdown_is_templates_question_and_verbatim_quotes(real_assistant, text, k):
    answer = real_assistant.ask(text, top_k=k).to_dict()
    assert verbatim(answer)
    assert unexplained(answer) == "", answer["answer"]


# ---- Gradio's file routes and uploads -------------------------------------------------------

TRAVERSALS = [
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=../index/manifest.json",
    "/gradio_api/file=index/manifest.json",
    "/gradio_api/file=corpus/secondary-milia.txt",
    f"/gradio_api/file={ROOT}/corpus/secondary-milia.txt",
    f"/gradio_api/file={ROOT}/app.py",
    "/gradio_api/file=/proc/self/environ",
    "/gradio_api/file=..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/gradio_api/file=%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/gradio_api/file=http://127.0.0.1:1/",
    "/file=/etc/passwd",
    "/file=../index/manifest.json",
    "/static/..%2f..%2fetc/passwd",
    "/static/../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/assets/..%2f..%2f..%2fetc/passwd",
    "/gradio_api/static/..%2f..%2f..%2fetc/passwd",
    "/favicon.ico/..%2f..%2fetc/passwd",
]


@pytest.mark.server
@pytest.mark.parametrize("path", TRAVERSALS)
def test_file_routes_never_serve_files_outside_the_static_assets(app, path):
    # http.client sends the path exactly as written (httpx would normalise the dots away).
    conn = http.client.HTTPConnection("127.0.0.1", app[1], timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode("utf-8", errors="replace")
    finally:
        conn.close()
    assert response.status in (400, 403, 404), (response.status, body[:200])
    assert "root:x:" not in body and "format_version" not in body
    assert SEED[:200] not in body and "HF_HUB_OFFLINE" not in body


@pytest.mark.server
def test_every_upload_is_413(app):
    with httpx.Client(base_url=app[0], timeout=60) as http:
        for size in (1, 1_000_000):
            r = http.post("/gradio_api/upload", files={"files": ("f.txt", b"a" * size)})
            assert r.status_code == 413
            assert "Uploads are refused" in r.text


# ---- trust in the index ---------------------------------------------------------------------


def test_no_pickle_torch_load_or_remote_code_in_the_source():
    sources = [*sorted((ROOT / "assistant").glob("*.py")), ROOT / "app.py"]
    pattern = re.compile(
        r"\bimport\s+pickle\b|\bfrom\s+pickle\b|\bcloudpickle\b|\bjoblib\b|\bdill\b"
        r"|torch\.load\b|trust_remote_code\s*=\s*True|allow_pickle\s*=\s*True|(?<![.\w])(?:eval|exec)\("
    )
    hits = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "replace"])
def test_faiss_never_reads_an_index_file_that_failed_its_checksum(tmp_path, monkeypatch, damage):
    from assistant import dense
    from assistant.errors import IndexCorruptError
    from assistant.settings import Settings
    from assistant.store import load_index

    index = tmp_path / "index"
    shutil.copytree(ROOT / "index", index)
    target = index / "passages.faiss"
    data = bytearray(target.read_bytes())
    if damage == "truncate":
        data = data[:100]
    elif damage == "flip":
        data[-1] ^= 0xFF
    else:
        data = bytearray(b"\x00" * len(data))
    target.write_bytes(bytes(data))
    calls = []
    real = dense.faiss.read_index
    monkeypatch.setattr(dense.faiss, "read_index", lambda *a: calls.append(a) or real(*a))
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    with pytest.raises(IndexCorruptError, match="passages.faiss does not match its checksum"):
        load_index(index, ROOT / "corpus", Settings(), manifest["model"])
    assert calls == []
    # The intact index does reach FAISS, through the recorded function.
    load_index(ROOT / "index", ROOT / "corpus", Settings(), manifest["model"])
    assert len(calls) == 1
