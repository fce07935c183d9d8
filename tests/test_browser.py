"""The chat in a real Chromium (Debian's /usr/bin/chromium, driven by Python playwright).

1. A question is answered with cited, highlighted quotes; a citation opens the source panel
   scrolled to the cited span; thumbs up writes feedback; the chat clears.
2. Markup in a question and in the corpus renders as inert text and fetches nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import ROOT

from scripts.chromium import CHROMIUM
from scripts.ports import free_port

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("needs Debian's Chromium at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

ARTIFACTS = ROOT / "artifacts"
QUESTION = "Can medications cause milia?"

PAYLOADS = (
    '<img src=http://127.0.0.2:9/x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    "![x](http://127.0.0.2:9/img.png)",
    "<form action=http://127.0.0.2:9/><input></form>",
    "<iframe src=http://127.0.0.2:9/>",
    "[click](javascript:window.__pwned=1)",
    "${window.__pwned=1}",
    "{{constructor.constructor('window.__pwned=1')()}}",
    "<svg onload=window.__pwned=1>",
)


#: Payload traces left in the DOM: attributes, scripts, or live elements where text belongs.
LEFTOVERS = r"""() => {
  const bad = [];
  for (const e of document.querySelectorAll('*')) {
    for (const a of e.attributes) {
      // Text-only attributes (a screen reader's label, the text the copy button copies)
      // rightly hold the question and quotes as typed; nothing ever loads or runs them.
      if (a.name === 'aria-label' || (a.name === 'title' && e.classList.contains('vb-copy'))) continue;
      if (/127\.0\.0\.2|__pwned|javascript:/i.test(a.value)) bad.push(e.outerHTML.slice(0, 200));
    }
    if (/^(SCRIPT|STYLE)$/.test(e.tagName) && /__pwned/.test(e.textContent)) {
      // Only Gradio's page config may hold the corpus text, entity-escaped.
      const config = e.textContent.trimStart().startsWith('window.gradio_config');
      if (!config || /<(img|script|iframe|form|svg)\b|<\/script/i.test(e.textContent)) {
        bad.push(e.outerHTML.slice(0, 200));
      }
    }
  }
  const places = ['#vb-chat .message-content', '#vb-source', '#vb-header'];
  for (const tag of ['img', 'iframe', 'form', 'input', 'svg', 'script', 'object', 'embed']) {
    for (const e of document.querySelectorAll(places.map(p => p + ' ' + tag).join(', '))) {
      bad.push(e.outerHTML.slice(0, 200));
    }
  }
  return bad;
}"""


def squash(text: str) -> str:
    """Whitespace-insensitive text (the page turns newlines and NBSPs into what it likes)."""
    return " ".join(text.split())


def serve(assistant, feedback=None):
    from assistant.web import build_demo

    demo = build_demo(assistant, feedback=feedback)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return demo, port


@pytest.fixture(scope="module")
def feedback_log():
    """Where the app's thumbs go (app.py gives it $VERBATIM_FEEDBACK_LOG); off until a test
    names a file."""
    from assistant.web import FeedbackLog

    return FeedbackLog()


@pytest.fixture(scope="module")
def app(real_assistant, feedback_log):
    demo, port = serve(real_assistant, feedback_log)
    yield port
    demo.close()


def open_chat(browser, port: int):
    # Reduced motion: the panel jumps to a citation instead of scrolling smoothly.
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, reduced_motion="reduce")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    page.wait_for_selector("#vb-question textarea", state="visible", timeout=30_000)
    return page, requests


def ask(page, question: str, answers_before: int) -> None:
    page.fill("#vb-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#vb-chat [data-testid=\"bot\"]').length > n",
        arg=answers_before,
        timeout=30_000,
    )


#: True when the cited span is inside the visible part of the source panel and the window.
IN_VIEW = """() => {
  const body = document.querySelector('#vb-source .vb-source-body');
  const mark = document.querySelector('#vb-source mark.vb-cited');
  if (!body || !mark) return false;
  const b = body.getBoundingClientRect(), m = mark.getBoundingClientRect();
  const shown = Math.min(b.bottom, m.bottom) - Math.max(b.top, m.top);
  return shown >= Math.min(40, m.height) && m.top < window.innerHeight && m.bottom > 0;
}"""


def test_answer_citation_and_source_view(
    browser, app, real_assistant, tmp_path, monkeypatch, feedback_log
):
    feedback = tmp_path / "feedback.jsonl"
    monkeypatch.setattr(feedback_log, "path", str(feedback))
    expected = real_assistant.ask(QUESTION).to_dict()
    assert expected["status"] == "answered" and len(expected["passages"]) >= 2
    first, second = expected["passages"][0], expected["passages"][1]

    page, _ = open_chat(browser, app)
    header = page.locator("#vb-header").inner_text()
    assert "not medical advice" in header and "doctor" in header
    assert real_assistant.index.documents[first["source"]].title in header

    ask(page, QUESTION, 0)
    bot = page.locator('#vb-chat [data-testid="bot"]').last
    answer_text = bot.inner_text()
    assert answer_text.startswith("The source text says:")
    assert "[1]" in answer_text and first["section"] in answer_text
    assert f"paragraph {first['paragraph']}" in answer_text

    # The best-matching sentence is visibly highlighted in the answer.
    marks = bot.locator("mark.vb-hl")
    marks.first.wait_for(state="visible")
    h = first["highlight"]
    best = real_assistant.index.documents[first["source"]].text[h["start"] : h["end"]]
    assert squash(marks.first.inner_text()) == squash(best)
    color = marks.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color not in ("rgba(0, 0, 0, 0)", "transparent")

    # The source panel follows the answer: quote [1] in place, already scrolled to.
    cited = page.locator("#vb-source mark.vb-cited")
    page.wait_for_function("document.querySelector('#vb-source mark.vb-cited')?.dataset.n === '1'")
    assert cited.get_attribute("data-start") == str(first["start"])

    # A citation link opens quote [2] in its place in the whole source.
    bot.locator('a[href$="-2"]', has_text="Show quote 2 in source").click()
    page.wait_for_function("document.querySelector('#vb-source mark.vb-cited')?.dataset.n === '2'")
    assert (cited.get_attribute("data-start"), cited.get_attribute("data-end")) == (
        str(second["start"]),
        str(second["end"]),
    )
    assert squash(cited.inner_text()) == squash(second["text"])
    best2 = page.locator("#vb-source mark.vb-cited mark.vb-best")
    assert (best2.get_attribute("data-start"), best2.get_attribute("data-end")) == (
        str(second["highlight"]["start"]),
        str(second["highlight"]["end"]),
    )
    page.wait_for_function(f"({IN_VIEW})()", timeout=10_000)  # scrolled to the cited span
    source = page.locator("#vb-source").inner_text()
    assert "Quote [2]" in source and "matches the source exactly" in source
    # The panel holds the whole source, character for character, marks and all.
    body = page.locator("#vb-source .vb-source-body").evaluate("e => e.textContent")
    assert body == real_assistant.index.documents[second["source"]].text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-answer.png"))

    # Thumbs up on the answer writes one feedback line.
    bot_row = page.locator("#vb-chat .bot-row").last
    bot_row.get_by_role("button", name="Like", exact=True).click()
    page.wait_for_function("1", timeout=1_000)
    for _ in range(50):
        if feedback.exists() and feedback.read_text(encoding="utf-8").strip():
            break
        page.wait_for_timeout(100)
    records = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1
    assert records[0]["vote"] == "up" and records[0]["question"] == QUESTION
    assert [p["start"] for p in records[0]["passages"]] == [
        p["start"] for p in expected["passages"]
    ]

    # An example question is one click; a promotional quote carries its fixed label.
    page.get_by_role("button", name="Will a milia removal cream work?").click()
    page.wait_for_function(
        "document.querySelectorAll('#vb-chat [data-testid=\"bot\"]').length > 1", timeout=30_000
    )
    from assistant.answer import LABELS

    label = page.locator("#vb-chat .vb-label").first
    label.wait_for(state="visible")
    assert label.inner_text() == LABELS["promotional"]

    # Off-topic: a clear "the source does not cover this".
    ask(page, "Who painted the Mona Lisa?", 2)
    assert "does not cover this" in page.locator('#vb-chat [data-testid="bot"]').last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-chat.png"), full_page=True)

    # Clear chat empties it.
    page.get_by_role("button", name="Clear chat").click()
    page.wait_for_function(
        "document.querySelectorAll('#vb-chat [data-testid=\"bot\"]').length === 0"
    )
    page.close()


def _injection_corpus(folder: Path) -> None:
    folder.mkdir()
    lines = [f"Milia injection test {PAYLOADS[0]}", ""]
    for i, payload in enumerate(PAYLOADS):
        lines.append(
            f"Milia are small white bumps on the skin, case {i}: {payload} They cost $5 and $10 "
            "to treat and go away in weeks."
        )
        lines.append("")
    (folder / "injection.md").write_text("\n".join(lines), encoding="utf-8")


def test_markup_in_question_and_corpus_is_inert(browser, real_embedder, tmp_path):
    from assistant import Assistant, Settings

    _injection_corpus(tmp_path / "corpus")
    # This corpus is nine copies of one sentence, so every word but the markup is its topic and
    # the question's focus (focus.py) would be the markup alone, which is refused. What is
    # tested here is how answers render, so the focus check (and the confidence check, which
    # such a corpus cannot inform) is off.
    hostile = Assistant.load(
        tmp_path / "corpus",
        tmp_path / "index",
        Settings(focus_check=False, confidence_check=False),
        embedder=real_embedder,
    )
    demo, port = serve(hostile)
    try:
        page, requests = open_chat(browser, port)
        ask(page, "What are milia, the small white bumps? " + " ".join(PAYLOADS), 0)
        bot = page.locator('#vb-chat [data-testid="bot"]').last
        assert "The source text says:" in bot.inner_text()
        for link in bot.locator('a[href^="#vb-cite-"]').all():
            link.click()
            page.wait_for_timeout(300)
        page.wait_for_selector("#vb-source mark.vb-cited")
        ask(page, "Milia " + PAYLOADS[1] + PAYLOADS[0], 1)
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser-injection.png"), full_page=True)

        # The payloads are shown, as text, in the question, the quotes and the source panel.
        user = page.locator('#vb-chat [data-testid="user"]').first.inner_text()
        quotes = bot.inner_text()
        panel = page.locator("#vb-source").inner_text()
        for payload in PAYLOADS:
            assert squash(payload) in squash(user)
            assert squash(payload) in squash(panel)
        assert any(squash(p) in squash(quotes) for p in PAYLOADS)
        assert "$5 and $10" in quotes  # no LaTeX ate the dollars

        assert page.evaluate("typeof window.__pwned") == "undefined"
        found = page.evaluate(LEFTOVERS)
        assert found == []
        origin = f"http://127.0.0.1:{port}/"
        strays = [u for u in requests if not u.startswith((origin, "data:", "blob:"))]
        assert strays == [], strays
        page.close()
    finally:
        demo.close()
