"""The page as a person meets it, in real Chromium: phone and desktop, reading order (and the
"New answer" cue when the reader scrolled away), copies, long input, retry and edit, no lost
questions, and an axe-core accessibility check (WCAG 2.1 A/AA) in light and dark mode. One
server and one browser for the module (and a slow server for the cue).

axe-core comes from the npm registry (package.json at the repository root; `npm ci`).
"""

from __future__ import annotations

import re
import time

import pytest
from paths import ROOT
from test_browser import serve  # skips when test_browser skips

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
BOTS = "document.querySelectorAll('#vb-chat [data-testid=\"bot\"]').length"
USERS = "document.querySelectorAll('#vb-chat [data-testid=\"user\"]').length"

#: How much of an element is inside both the window and the chat's scrolling area (0..1).
SHOWN = """(el) => {
  const r = el.getBoundingClientRect();
  let clip = {top: 0, bottom: window.innerHeight};
  for (let p = el.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (/(auto|scroll|hidden)/.test(s.overflowY)) {
      const b = p.getBoundingClientRect();
      clip = {top: Math.max(clip.top, b.top), bottom: Math.min(clip.bottom, b.bottom)};
    }
  }
  const h = Math.min(r.bottom, clip.bottom) - Math.max(r.top, clip.top);
  return Math.max(0, h) / Math.max(1, Math.min(r.height, 60));
}"""


#: Controls under 24x24 px (links inside a sentence are exempt, as in WCAG 2.2) and text under
#: 13 px that is on screen.
SMALL = """() => {
  const small = [], tiny = [];
  for (const e of document.querySelectorAll('button, a, input, textarea, [role=tab]')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    if (r.right <= 0 || r.bottom <= 0) continue;  // off screen (the skip link until focused)
    if (e.tagName === 'A' && e.closest('p, li')) continue;
    if (r.width < 24 || r.height < 24) {
      const name = e.getAttribute('aria-label') || e.textContent.trim() || e.tagName;
      small.push(name.slice(0, 30) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const t = walker.currentNode, e = t.parentElement;
    if (!t.textContent.trim() || !e.getBoundingClientRect().width) continue;
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < 13) tiny.push(t.textContent.trim().slice(0, 30) + ' ' + size + 'px');
  }
  return {small, tiny};
}"""


@pytest.fixture(scope="module")
def port(real_assistant):
    demo, port = serve(real_assistant)
    yield port
    demo.close()


def open_page(browser, port, viewport=DESKTOP, dark=False):
    context = browser.new_context(
        viewport=viewport,
        color_scheme="dark" if dark else "light",
        reduced_motion="reduce",
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    page.wait_for_selector("#vb-question textarea", state="visible", timeout=30_000)
    page.wait_for_function("window.__verbatim === true", timeout=10_000)
    return page


def wait_answers(page, n: int) -> None:
    page.wait_for_function(f"{BOTS} >= {n}", timeout=30_000)
    page.wait_for_timeout(300)  # the script arranges the view on the next frame


def shown(page, selector: str) -> float:
    return page.locator(selector).last.evaluate(SHOWN)


def ask(page, question: str, answers_before: int) -> None:
    page.fill("#vb-question textarea", question)
    page.keyboard.press("Enter")
    wait_answers(page, answers_before + 1)


def test_phone_opens_at_the_top_and_an_example_keeps_question_and_quote_in_view(browser, port):
    page = open_page(browser, port, PHONE)
    page.wait_for_timeout(500)
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.activeElement.tagName") not in ("TEXTAREA", "INPUT")
    header = page.locator("#vb-header")
    box = header.bounding_box()
    assert box["y"] >= 0 and box["y"] < PHONE["height"] / 2
    text = header.inner_text()
    assert "What is Secondary Milia" in text and "quoted exactly as published" in text
    assert page.locator("#vb-tab-chat").is_visible() and page.locator("#vb-tab-source").is_visible()
    assert not page.locator("#vb-source").is_visible()  # the chat is shown, not the source

    example = page.get_by_role("button", name="Can medications cause milia?")
    example.scroll_into_view_if_needed()
    example.tap()
    wait_answers(page, 1)
    assert shown(page, '#vb-chat [data-testid="user"]') > 0.9  # the question
    first_quote = '#vb-chat [data-testid="bot"] blockquote'
    assert page.locator(first_quote).first.evaluate(SHOWN) > 0.5  # quote [1]
    assert not page.locator("#vb-source").is_visible()  # no jump to the source panel

    # Show in source switches to the source, on request only.
    page.locator('#vb-chat a[href$="-1-1"], #vb-chat a[href*="-1"]').first.tap()
    page.wait_for_function("document.querySelector('#vb-source mark.vb-cited')?.dataset.n === '1'")
    assert page.locator("#vb-source").is_visible() and not page.locator("#vb-chat").is_visible()
    page.context.close()


def test_desktop_long_answer_keeps_quote_one_in_view_and_copies_clean_text(browser, port):
    page = open_page(browser, port)
    page.locator("#vb-passages input[type=number]").fill("10")
    page.locator("#vb-passages input[type=number]").press("Enter")
    ask(page, "What causes secondary milia?", 0)
    ask(page, "Can medications cause milia?", 1)
    bot = page.locator('#vb-chat [data-testid="bot"]').last
    assert bot.locator("blockquote").count() >= 5  # a long answer
    assert shown(page, '#vb-chat [data-testid="user"]') > 0.9
    assert bot.locator("blockquote").first.evaluate(SHOWN) > 0.5
    assert (
        "[1]" in bot.inner_text() and "Medication-associated Milia, paragraph" in bot.inner_text()
    )
    # The citation line is short; the file and offsets are one hover away (its tooltip).
    cite = bot.locator(".vb-cite").first
    assert "characters" not in cite.inner_text() and "secondary-milia.txt" not in cite.inner_text()
    assert re.fullmatch(r"secondary-milia\.txt, characters \d+–\d+", cite.get_attribute("title"))

    # Copy: plain text, with full citations, no markup.
    row = page.locator("#vb-chat .bot-row").last
    row.get_by_role("button", name=re.compile("^Copy")).click()
    page.wait_for_function("window.__verbatimCopied !== undefined")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("The source text says:")
    assert re.search(
        r"\[1\] What is Secondary Milia.*paragraph \d+ \(secondary-milia\.txt, characters \d+–\d+\)",
        copied,
    )
    assert not re.search(r"<[a-z/]|\*\*|\\[\[\].()]|\]\(#|&[a-z]+;", copied), copied[:300]
    # Screen readers get the same readable text, not markdown.
    assert bot.get_attribute("aria-label").startswith("Answer: The source text says:")
    assert "<mark" not in bot.get_attribute("aria-label")
    page.context.close()


def test_a_long_question_stays_in_the_box_with_the_limit_shown(browser, port):
    page = open_page(browser, port)
    question = "Can steroid creams make milia worse? " * 33  # 1,221 characters
    page.fill("#vb-question textarea", question)
    counter = page.locator("#vb-counter-row .vb-counter")
    assert "1,221 / 1,000 characters" in counter.inner_text() and "too many" in counter.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#vb-notice').innerText.includes('limit')")
    assert page.locator("#vb-question textarea").input_value() == question
    assert "still in the box" in page.locator("#vb-notice").inner_text()
    assert page.evaluate(BOTS) == 0
    page.context.close()


def test_no_question_is_lost_and_each_status_shows_in_the_source_panel(browser, port):
    """An example, then typed questions sent at once, without waiting for the answers."""
    page = open_page(browser, port)
    page.get_by_role("button", name="Will a milia removal cream work?").click()
    for n, question in enumerate(("Who painted the Mona Lisa?", "What are milia?", "thanks!"), 2):
        page.fill("#vb-question textarea", question)
        page.keyboard.press("Enter")
        # As fast as a person can: the question shows in the chat; its answer may not have.
        page.wait_for_function(
            "n => document.querySelectorAll('#vb-chat [data-testid=\"user\"]').length >= n", arg=n
        )
    wait_answers(page, 4)
    users = page.locator('#vb-chat [data-testid="user"]').all_inner_texts()
    assert [u.strip() for u in users] == [
        "Will a milia removal cream work?",
        "Who painted the Mona Lisa?",
        "What are milia?",
        "thanks!",
    ]
    bots = page.locator('#vb-chat [data-testid="bot"]').all_inner_texts()
    assert "does not cover this" in bots[1] and bots[2].startswith("The source text says:")
    # After the last message (small talk), the panel says nothing is marked.
    page.wait_for_function("!!document.querySelector('#vb-source .vb-no-quote')")
    assert page.locator("#vb-source mark.vb-cited").count() == 0
    # Retry the last answer: asked again, answered again.
    page.locator("#vb-chat .bot-row").last.get_by_role("button", name="Retry").click()
    page.wait_for_timeout(1500)
    assert page.evaluate(BOTS) == 4
    assert "not stored" in page.locator("#vb-feedback-note").inner_text()
    page.context.close()


def test_a_question_typed_while_an_example_is_on_its_way_arrives_whole(browser, port):
    """An example clicked, then a question typed and sent before the example shows in the chat:
    the example showing first must not empty the box (the typed question once reached the
    server empty, as "(empty question)"). The network is held so the order is certain."""
    page = open_page(browser, port)
    example, typed = "Will a milia removal cream work?", "Who painted the Mona Lisa?"
    held = {}

    def hold(route):
        body = route.request.post_data or ""
        for text in (example, typed):
            if text in body:
                held[text] = route
                return
        route.continue_()

    page.route("**/gradio_api/queue/join*", hold)
    page.get_by_role("button", name=example).click()
    page.fill("#vb-question textarea", typed)
    page.keyboard.press("Enter")
    for _ in range(600):  # both sends are waiting at the network (15 s at most)
        if len(held) == 2:
            break
        page.wait_for_timeout(25)
    assert set(held) == {example, typed}
    box = page.locator("#vb-question textarea")
    held.pop(example).continue_()
    page.wait_for_function(USERS + " === 1")
    page.wait_for_timeout(300)  # the page's script has seen the example appear
    assert box.input_value() == typed  # still in the box: its question has not shown yet
    held.pop(typed).continue_()
    page.wait_for_function(USERS + " === 2")
    page.wait_for_function("document.querySelector('#vb-question textarea').value === ''")
    users = page.locator('#vb-chat [data-testid="user"]').all_inner_texts()
    assert [u.strip() for u in users] == [example, typed]
    wait_answers(page, 2)
    assert "does not cover this" in page.locator('#vb-chat [data-testid="bot"]').last.inner_text()
    page.context.close()


@pytest.mark.parametrize(
    "viewport, dark", [(DESKTOP, True), (PHONE, False)], ids=["desktop-dark", "phone-light"]
)
def test_closest_passages_and_followups_look_like_what_they_are(browser, port, viewport, dark):
    """A question the source does not answer directly (`related`) shows its closest passages
    under their own heading and look, never as an answer; a follow-up says which question it
    was read with. On a laptop in dark mode (where custom colours fail first) and a phone in
    light mode."""
    page = open_page(browser, port, viewport, dark=dark)
    ask(page, "is milia more common in women than men?", 0)
    bot = page.locator('#vb-chat [data-testid="bot"]').last
    assert bot.inner_text().startswith(
        "No direct answer\n\nThe source does not answer this directly."
    )
    page.wait_for_function(
        "document.querySelector('#vb-chat [data-testid=\"bot\"]')?.dataset.vbStatus === 'related'"
    )
    line = bot.locator("blockquote").first.evaluate("e => getComputedStyle(e).borderLeftStyle")
    assert line == "dashed"  # answered quotes keep the theme's plain line
    # The panel marks the closest passage, as for an answer.
    page.wait_for_function("!!document.querySelector('#vb-source mark.vb-cited')")
    ask(page, "what about on babies?", 1)
    second = page.locator('#vb-chat [data-testid="bot"]').last.inner_text()
    assert second.startswith(
        "Read together with your previous question: “is milia more common in women than men?”"
    )
    assert second.count("Read together with your previous question") == 1
    page.wait_for_timeout(1000)  # the new message has faded in
    name = f"related-{'phone' if viewport is PHONE else 'desktop'}-{'dark' if dark else 'light'}"
    (ROOT / "artifacts").mkdir(exist_ok=True)
    bot.scroll_into_view_if_needed()
    page.screenshot(path=str(ROOT / "artifacts" / f"{name}.png"))
    assert _axe(page) == []
    page.context.close()


def _axe(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
          return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return result


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: run `npm ci`")
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(browser, port, viewport, dark):
    page = open_page(browser, port, viewport, dark)
    assert (
        page.evaluate(
            "document.body.classList.contains('dark') || !!document.querySelector('.dark')"
        )
        is dark
    )
    page.wait_for_timeout(500)
    found = {"start": _axe(page)}
    ask(page, "Can medications cause milia?", 0)
    page.wait_for_function("!!document.querySelector('#vb-source mark.vb-cited')")
    if viewport is PHONE:
        page.locator("#vb-tab-source").click()
    page.wait_for_timeout(1000)  # the new message has faded in
    found["answer"] = _axe(page)
    assert found == {"start": [], "answer": []}
    assert page.evaluate(SMALL) == {"small": [], "tiny": []}
    page.context.close()


class _Slow:
    """An assistant that takes `delay` seconds per question: time to scroll away meanwhile."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def ask(self, *args, **kwargs):
        time.sleep(self.delay)
        return self.inner.ask(*args, **kwargs)


#: The chat's scrolling element (as the page's script finds it), scrolled to its top.
SCROLL_CHAT_TO_TOP = """() => {
  let el = document.querySelector('#vb-chat [role="log"]');
  while (el && el !== document.body) {
    const s = getComputedStyle(el);
    if (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight) break;
    el = el.parentElement;
  }
  el.scrollTop = 0;
  return el.scrollHeight > el.clientHeight;
}"""


def test_an_answer_arriving_while_the_reader_scrolled_away_shows_a_new_answer_cue(
    browser, real_assistant
):
    """The reader scrolls up while an answer is on its way: the text stays where it is, a
    "New answer" button appears, and it brings the question and quote [1] into view."""
    demo, slow_port = serve(_Slow(real_assistant, 1.5))
    try:
        page = open_page(browser, slow_port)
        ask(page, "What causes secondary milia?", 0)
        ask(page, "Can medications cause milia?", 1)
        cue = page.locator("#vb-chat .vb-new-answer")
        assert not cue.is_visible()
        page.fill("#vb-question textarea", "Should I squeeze milia myself?")
        page.keyboard.press("Enter")
        page.wait_for_function(USERS + " >= 3")
        page.wait_for_timeout(300)  # the script has shown the new question
        assert page.evaluate(SCROLL_CHAT_TO_TOP)  # the chat is long enough to scroll
        wait_answers(page, 3)
        cue.wait_for(state="visible", timeout=5_000)
        assert shown(page, '#vb-chat [data-testid="user"]') == 0  # not moved under the reader
        cue.click()
        page.wait_for_timeout(300)
        assert shown(page, '#vb-chat [data-testid="user"]') > 0.9
        assert (
            page.locator('#vb-chat [data-testid="bot"]')
            .last.locator("blockquote")
            .first.evaluate(SHOWN)
            > 0.5
        )
        assert not cue.is_visible()
        page.context.close()
    finally:
        demo.close()


def test_editing_the_last_question_asks_the_edited_text_in_its_place(browser, port):
    page = open_page(browser, port)
    ask(page, "Who painted the Mona Lisa?", 0)
    assert "does not cover this" in page.locator('#vb-chat [data-testid="bot"]').last.inner_text()
    row = page.locator("#vb-chat .user-row").last
    row.hover()
    row.get_by_role("button", name="Edit").click()
    page.locator("#vb-chat textarea").fill("Can medications cause milia?")
    page.locator("#vb-chat").get_by_role("button", name="Submit").click()
    page.wait_for_function(
        "document.querySelector('#vb-chat [data-testid=\"bot\"]')?.innerText"
        ".startsWith('The source text says:')",
        timeout=30_000,
    )
    users = page.locator('#vb-chat [data-testid="user"]').all_inner_texts()
    assert [u.strip() for u in users] == ["Can medications cause milia?"]
    assert page.evaluate(BOTS) == 1
    page.context.close()


def test_retry_asks_the_last_question_again(browser, port):
    """Retry re-asks, with the settings as they are now: fewer passages, a shorter answer."""
    page = open_page(browser, port)
    ask(page, "Can medications cause milia?", 0)
    bot = page.locator('#vb-chat [data-testid="bot"]').last
    assert bot.locator("blockquote").count() >= 2
    page.locator("#vb-passages input[type=number]").fill("1")
    page.locator("#vb-passages input[type=number]").press("Enter")
    page.locator("#vb-chat .bot-row").last.get_by_role("button", name="Retry").click()
    page.wait_for_function(
        "document.querySelectorAll('#vb-chat [data-testid=\"bot\"] blockquote').length === 1",
        timeout=30_000,
    )
    users = page.locator('#vb-chat [data-testid="user"]').all_inner_texts()
    assert [u.strip() for u in users] == ["Can medications cause milia?"]
    assert page.evaluate(BOTS) == 1
    assert bot.inner_text().startswith("The source text says:")
    page.context.close()


def test_the_first_tab_stop_is_a_skip_link_to_the_question_box(browser, port):
    """Issue 22: the first Tab stop was the chat's bin "Clear", which wipes the chat at once.
    Now it is a skip link, shown when focused; Enter puts the cursor in the question box. Each
    citation link names its quote, so a screen reader's list of links tells them apart."""
    page = open_page(browser, port)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const e = document.activeElement; const r = e.getBoundingClientRect();"
        " return [e.tagName, e.textContent.trim(), r.width > 20 && r.top >= 0 && r.top < 200]; })()"
    )
    assert focused == ["A", "Skip to the question box", True]
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement?.closest('#vb-question') !== null")
    page.keyboard.type("Can medications cause milia?")
    page.keyboard.press("Enter")
    wait_answers(page, 1)
    links = page.locator('#vb-chat [data-testid="bot"] a[href^="#vb-cite-"]').all_inner_texts()
    assert links and links == [f"Show quote {n} in source" for n in range(1, len(links) + 1)]
    assert _axe(page) == []
    page.context.close()
