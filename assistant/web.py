"""The browser chat: a Gradio app around an `Assistant`. It formats answers; it never retrieves.

`build_demo(assistant)` returns the app. Its endpoints:

- ``/ask`` (API only): question, optional number of passages and optional history (the previous
  questions, oldest first) in, `Answer.to_dict()` out: the same JSON object as
  ``assistant ask --json``.
- ``/chat``: what the chat box does. Message and number of passages in, the chat history out.

Everything shown in the page is escaped on the server: corpus text and the user's question go
through `escape_markdown` (chat) or `html.escape` (source panel), so no HTML, link or image in
either ever renders. See docs/app.md for the user-facing documentation.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import math
import os
import re
import threading
import unicodedata
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import gradio as gr

from .answer import TEMPLATES, compose, escape_markdown
from .conversation import MAX_HISTORY
from .question import check
from .web_safety import VoteLimiter, log_failure, trim_session, vote_of

if TYPE_CHECKING:
    from .engine import Assistant

log = logging.getLogger(__name__)

#: Environment variable naming the feedback file (JSON lines). Unset: no feedback is stored.
FEEDBACK_ENV = "VERBATIM_FEEDBACK_LOG"

#: Engine calls at once, across /ask, /chat and the example buttons (a 2-core CPU box).
CONCURRENCY_LIMIT = 2
#: Requests waiting in the queue before new ones are turned away with "queue full".
QUEUE_SIZE = 64
#: Passage counts: the chat (its slider, and /chat) takes 1..10; /ask takes the engine's 1..20.
UI_MAX_PASSAGES = 10
API_MAX_PASSAGES = 20
#: Longest user message echoed back into the chat (longer ones are refused anyway).
ECHO_CHARS = 1000
#: Documents longer than this are shown in the source panel as a window around the quote.
SOURCE_WINDOW_CHARS = 200_000

EXAMPLES = (
    "What are milia?",
    "What causes secondary milia?",
    "Can steroid creams make milia worse?",
    "Should I squeeze milia myself?",
    "Do milia go away on their own?",
    "Will a milia removal cream work?",
)

#: Fixed text of the header; `{title}` is the escaped title of the source.
HEADER = (
    "## Verbatim: questions about secondary milia, answered from one article\n\n"
    "Every answer quotes the article {title} word for word, with a numbered citation "
    "(section and paragraph). Click **Show in source** under a quote to see it in its place in "
    "the whole article.\n\n"
    "**These are the source's own words, not medical advice.** "
    "A doctor is the one to ask about your own skin."
)

PLACEHOLDER = "Ask a question about secondary milia, or click one of the example questions below."

ERROR_TEXT = (
    "Sorry, something went wrong on our side and this question could not be answered. "
    "Please try again."
)

CITE_HREF = "#vb-cite-"
_CITE_KEY = re.compile(r"^(\d{1,9})-(\d{1,2})$")

CSS = """
#vb-header h2 { margin-bottom: .3em; }
#vb-chat mark.vb-hl { background: #ffe27a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.dark #vb-chat mark.vb-hl { background: #7a5c00; color: #fff; }
#vb-chat blockquote { margin-left: 0; }
#vb-chat .vb-label, #vb-source .vb-label {
  display: inline-block; background: #fff1e0; color: #7a3a00; border: 1px solid #f0a35e;
  border-radius: 6px; padding: .1em .5em; font-size: .92em;
}
.dark #vb-chat .vb-label, .dark #vb-source .vb-label { background: #4a2a00; color: #ffd9b0; }
#vb-source .vb-source-head { margin-bottom: .6em; line-height: 1.45; }
#vb-source .vb-source-title { font-weight: 600; }
#vb-source .vb-source-cite { margin-top: .25em; }
#vb-source .vb-check { color: #1a7f37; font-size: .92em; }
#vb-source .vb-check.vb-bad { color: #b42318; font-weight: 600; }
#vb-source .vb-legend { font-size: .85em; opacity: .85; margin-top: .3em; }
#vb-source .vb-source-body {
  position: relative; white-space: pre-wrap; overflow-wrap: anywhere; overflow-y: auto;
  max-height: 68vh; padding: .8em 1em; line-height: 1.6;
  border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: var(--background-fill-secondary);
}
#vb-source mark { color: inherit; }
#vb-source mark.vb-cited {
  background: #d4e5ff; outline: 2px solid #3b7ddd; border-radius: 3px; scroll-margin: 4em;
  animation: vb-flash 1.6s ease-out 1;
}
#vb-source mark.vb-best, #vb-source .vb-key-best { background: #ffe27a; }
#vb-source .vb-key-cited { background: #d4e5ff; outline: 1px solid #3b7ddd; }
.dark #vb-source mark.vb-cited, .dark #vb-source .vb-key-cited { background: #1d3a66; }
.dark #vb-source mark.vb-best, .dark #vb-source .vb-key-best { background: #7a5c00; }
#vb-source .vb-other { text-decoration: underline dotted 1px; text-underline-offset: 3px; }
#vb-source .vb-badge { text-decoration: none; font-size: .75em; vertical-align: super; }
#vb-source .vb-badge::before { content: "[" attr(data-n) "]"; }
#vb-source .vb-gap { font-style: italic; opacity: .7; }
@keyframes vb-flash { 0% { background: #ffd23f; } 100% { background: #d4e5ff; } }
@media (prefers-reduced-motion: reduce) { #vb-source mark.vb-cited { animation: none; } }
"""

#: Runs once in the browser when the source panel loads. Clicks on citation links anywhere in
#: the page ("#vb-cite-<turn>-<n>") ask the server for that citation's source view; each new
#: view scrolls the panel (not the page) so the cited span is centred, then focuses it.
SOURCE_JS = r"""
const KEY = /^#vb-cite-(\d{1,9}-\d{1,2})$/;
function onCiteClick(ev) {
  const t = ev.target;
  if (!(t instanceof Element)) return;
  const a = t.closest('a[href^="#vb-cite-"]');
  if (!a) return;
  const m = KEY.exec(a.getAttribute('href') || '');
  if (!m) return;
  ev.preventDefault();
  ev.stopPropagation();
  trigger('cite', {key: m[1]});
}
if (window.__verbatimCite) document.removeEventListener('click', window.__verbatimCite, true);
window.__verbatimCite = onCiteClick;
document.addEventListener('click', onCiteClick, true);
function showCited() {
  const body = element.querySelector('.vb-source-body');
  const mark = element.querySelector('mark.vb-cited');
  if (!body || !mark) return;
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const room = body.clientHeight - Math.min(mark.offsetHeight, body.clientHeight);
  body.scrollTo({top: Math.max(0, mark.offsetTop - room / 2), behavior: smooth ? 'smooth' : 'auto'});
  const box = element.getBoundingClientRect();
  if (box.bottom < 0 || box.top > window.innerHeight) element.scrollIntoView({block: 'start'});
  mark.focus({preventScroll: true});
}
watch('value', () => requestAnimationFrame(showCited));
"""

_view_counter = itertools.count(1)

# --------------------------------------------------------------------------------------------
# Input rules shared by the API and the UI
# --------------------------------------------------------------------------------------------


def parse_passages(
    value: object, default: int, maximum: int = API_MAX_PASSAGES
) -> tuple[int, str | None]:
    """(count, None) for a usable passage count, else (default, message saying what is wrong).

    None means the default. Whole numbers sent as floats (3.0, as JSON clients often do) count.
    """
    if value is None:
        return default, None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        return default, (
            f"The number of passages must be a whole number from 1 to {maximum}, "
            f"not {type(value).__name__} {shown}."
        )
    if not 1 <= value <= maximum:
        return default, f"The number of passages must be from 1 to {maximum}, not {value}."
    return value, None


def answer_json(answer_dict: dict[str, Any]) -> dict[str, Any]:
    """`Answer.to_dict()` made plain JSON (lists, not tuples)."""
    out = dict(answer_dict)
    out["passages"] = [dict(p) for p in answer_dict.get("passages", ())]
    return out


# --------------------------------------------------------------------------------------------
# Formatting: chat messages
# --------------------------------------------------------------------------------------------


def _display_text(text: str) -> str:
    """Control characters (other than newline and tab) shown as U+FFFD, so they are visible."""
    return "".join(
        "\ufffd" if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text
    )


def _keep_indent(markdown: str) -> str:
    """Leading spaces of each line as &nbsp; (four of them would start a code block)."""
    out = []
    for line in markdown.split("\n"):
        stripped = line.lstrip(" \t")
        out.append("&nbsp;" * (len(line) - len(stripped)) + stripped)
    return "\n".join(out)


def _mark(text: str) -> str:
    """The best-matching sentence, marked line by line (a mark never spans a paragraph)."""
    return "\n".join(
        f'<mark class="vb-hl">{escape_markdown(line)}</mark>' if line.strip() else line
        for line in text.split("\n")
    )


def format_user_message(question: object) -> str:
    """The user's own message as the chat shows it: escaped, never rendered."""
    if not isinstance(question, str):
        return "*(not text)*"
    if not question.strip():
        return "*(empty question)*"
    shown = question if len(question) <= ECHO_CHARS else question[:ECHO_CHARS] + "…"
    return _keep_indent(escape_markdown(_display_text(shown)))


def format_quote(passage: dict[str, Any], turn: int) -> str:
    """One quote: the passage with its best sentence marked, its citation and any label."""
    text, start = passage["text"], passage["start"]
    a = max(0, passage["highlight"]["start"] - start)
    b = min(len(text), max(a, passage["highlight"]["end"] - start))
    body = _keep_indent(escape_markdown(text[:a]) + _mark(text[a:b]) + escape_markdown(text[b:]))
    n = passage["number"]
    lines = [f"> {line}" if line.strip() else ">" for line in body.split("\n")]
    lines.append(">")
    lines.append(
        f"> — **\\[{n}\\]** {escape_markdown(passage['citation'])} · [Show in source]({CITE_HREF}{turn}-{n})"
    )
    for label in passage.get("labels", ()):
        lines.append(">")
        lines.append(f'> <span class="vb-label">{escape_markdown(label)}</span>')
    return "\n".join(lines)


def format_answer(answer: dict[str, Any], turn: int) -> str:
    """The assistant's chat message for an answer (fixed templates and escaped quotes only)."""
    if answer["status"] != "answered":
        # Fixed templates; an invalid question's message is escaped by the engine.
        return answer["answer"]
    parts = [TEMPLATES["intro"], *(format_quote(p, turn) for p in answer["passages"])]
    if answer.get("previous_question") is not None:
        previous = escape_markdown(_display_text(answer["previous_question"]))
        parts.insert(0, f"*{TEMPLATES['followup']} “{previous}”*")
    parts.append(f"*{TEMPLATES['disclaimer']}*")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------------
# Formatting: the source panel
# --------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def render_source(
    assistant: Assistant,
    source: str | None = None,
    *,
    focus: dict[str, Any] | None = None,
    others: tuple[dict[str, Any], ...] = (),
    turn: int | None = None,
    question: str = "",
) -> str:
    """The whole source document as HTML, the focused quote marked and scrolled to.

    `focus` and `others` are passages of one answer (`to_dict()` form); others get a small
    clickable [n] badge so every quote of the answer can be found in the text.
    """
    documents = assistant.index.documents
    if not documents:
        return '<div class="vb-source"><p>No source is loaded.</p></div>'
    source = focus["source"] if focus else source
    if source not in documents:
        source = next(iter(documents))
    doc = documents[source]
    text = doc.text
    view = next(_view_counter)

    head = [
        f'<div class="vb-source-title">Source: “{_esc(doc.title)}” '
        f'<span class="vb-file">({_esc(source)})</span></div>'
    ]
    spans: list[tuple[int, int, str]] = []
    if focus is None:
        head.append(
            '<div class="vb-source-cite">This is the whole source. Ask a question, then click '
            "<b>Show in source</b> under a quote to see the quote in its place here.</div>"
        )
        lo, hi = 0, min(len(text), SOURCE_WINDOW_CHARS)
    else:
        n, start, end = focus["number"], focus["start"], focus["end"]
        asked = question if len(question) <= 120 else question[:120] + "…"
        head.append(
            f'<div class="vb-source-cite"><b>Quote [{n}]</b>'
            + (f" of the answer to “{_esc(_display_text(asked))}”" if asked else "")
            + f"<br>Section “{_esc(focus['section'])}”, paragraph {focus['paragraph']}, "
            f"characters {start}–{end}</div>"
        )
        if text[start:end] == focus["text"]:
            head.append(
                '<div class="vb-check">✓ The quote matches the source exactly, '
                "character for character.</div>"
            )
        else:
            head.append(
                '<div class="vb-check vb-bad">✗ The quote does not match the source text at '
                "these offsets. Please report this.</div>"
            )
        for label in focus.get("labels", ()):
            head.append(f'<div class="vb-label">{_esc(label)}</div>')
        head.append(
            '<div class="vb-legend"><span class="vb-key-cited">quoted passage</span> · '
            '<span class="vb-key-best">best-matching sentence</span>'
            + (" · [n] the answer's other quotes (click to show)" if others else "")
            + "</div>"
        )
        spans.append((start, end, "focus"))
        for other in others:
            s, e = other["start"], other["end"]
            if other["source"] == source and all(e <= s2 or s >= e2 for s2, e2, _ in spans):
                spans.append((s, e, f"other:{other['number']}"))
        lo, hi = 0, len(text)
        if len(text) > SOURCE_WINDOW_CHARS:
            half = (SOURCE_WINDOW_CHARS - (end - start)) // 2
            lo = max(0, start - max(half, 0))
            hi = min(len(text), max(end, lo + SOURCE_WINDOW_CHARS))
            spans = [sp for sp in spans if sp[0] >= lo and sp[1] <= hi]

    body: list[str] = []
    if lo > 0:
        body.append(
            f'<span class="vb-gap">[… {lo:,} characters before this are not shown …]\n</span>'
        )
    pos = lo
    for s, e, kind in sorted(spans):
        body.append(_esc(text[pos:s]))
        if kind == "focus" and focus is not None:
            hs = min(max(focus["highlight"]["start"], s), e)
            he = min(max(focus["highlight"]["end"], hs), e)
            body.append(
                f'<mark class="vb-cited" id="vb-cited-{view}" tabindex="-1" '
                f'data-n="{focus["number"]}" data-start="{s}" data-end="{e}">'
                f"{_esc(text[s:hs])}"
                f'<mark class="vb-best" data-start="{hs}" data-end="{he}">{_esc(text[hs:he])}</mark>'
                f"{_esc(text[he:e])}</mark>"
            )
        else:
            number = int(kind.split(":", 1)[1])
            body.append(
                f'<a class="vb-badge" href="{CITE_HREF}{turn}-{number}" data-n="{number}" '
                f'aria-label="Show quote {number} in the source"></a>'
                f'<span class="vb-other" data-n="{number}">{_esc(text[s:e])}</span>'
            )
        pos = e
    body.append(_esc(text[pos:hi]))
    if hi < len(text):
        body.append(
            f'<span class="vb-gap">\n[… {len(text) - hi:,} characters after this are not shown …]</span>'
        )
    return (
        f'<div class="vb-source" data-view="{view}">'
        f'<div class="vb-source-head">{"".join(head)}</div>'
        f'<div class="vb-source-body" role="document" aria-label="Full text of the source">'
        f"{''.join(body)}</div></div>"
    )


# --------------------------------------------------------------------------------------------
# Feedback
# --------------------------------------------------------------------------------------------


class FeedbackLog:
    """Appends feedback as JSON lines to the file named by $VERBATIM_FEEDBACK_LOG, if set.

    Off by default (health questions are private). A failed write never raises: it is logged
    once per file and the chat goes on.
    """

    def __init__(self, env: str = FEEDBACK_ENV) -> None:
        self.env = env
        self._lock = threading.Lock()
        self._failed: set[str] = set()

    def write(self, record: dict[str, Any]) -> bool:
        path = os.environ.get(self.env, "").strip()
        if not path:
            return False
        try:
            line = json.dumps(record, ensure_ascii=False) + "\n"
            with self._lock, open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except Exception as exc:  # noqa: BLE001 - feedback must never break the chat
            with self._lock:
                first = path not in self._failed
                self._failed.add(path)
            if first:
                reason = getattr(exc, "strerror", None) or exc
                log.warning(
                    "cannot write feedback to %s (%s); feedback is not being saved", path, reason
                )
            return False
        return True


def feedback_record(turn: dict[str, Any], liked: object) -> dict[str, Any] | None:
    """What one thumbs up/down stores: no more than is needed to judge the answer. None when
    `liked` is not a vote (up, down or cleared): nothing else is stored."""
    vote = vote_of(liked)
    if vote is None:
        return None
    answer = turn["answer"]
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "vote": vote,
        "question": turn["question"],
        "followup": turn["followup"],
        "status": answer["status"],
        "passages": [
            {"number": p["number"], "source": p["source"], "start": p["start"], "end": p["end"]}
            for p in answer["passages"]
        ],
    }


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


def new_session() -> dict[str, Any]:
    """Per-browser-session state: the chat messages and one record per answered message."""
    return {"messages": [], "turns": [], "next_turn": 1}


class VerbatimBlocks(gr.Blocks):
    """gr.Blocks whose `launch()` defaults are the safe ones for this app (see docs/app.md).

    Gradio 6 takes css/theme at launch; keeping them here means `demo.launch()` (app.py, a
    Space) and `demo.launch(prevent_thread_lock=True, ...)` (tests) serve the same page.
    Any default can still be overridden by passing it explicitly.
    """

    launch_defaults: dict[str, Any] = {
        "share": False,
        "show_error": False,
        "max_file_size": 1,  # bytes: no component takes files, so refuse uploads (413)
        # Gradio keeps each API session's state in memory until this many sessions exist
        # (10,000 by default, ~80 KB each: the soak test saw memory climb without this cap).
        "state_session_capacity": 1000,
        "run_history": False,  # never keep questions in the browser's run history
        "enable_monitoring": False,
        "ssr_mode": False,
        "footer_links": ["api", "gradio"],
        "css": CSS,
    }

    def launch(self, **kwargs: Any) -> Any:  # type: ignore[override]
        for key, value in self.launch_defaults.items():
            kwargs.setdefault(key, value)
        # The front door (assistant/http_guard.py): body limit, no uploads, request shapes,
        # hosts, origins and security headers, around everything Gradio serves.
        from .http_guard import guard_lifespan, public_root

        kwargs["app_kwargs"] = {
            "lifespan": guard_lifespan(self),
            **(kwargs.get("app_kwargs") or {}),
        }
        kwargs.setdefault("num_workers", 0)  # static-file workers would bypass the guard
        if public_root():
            kwargs.setdefault("root_path", public_root())
        return super().launch(**kwargs)

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        """A REST call to /ask may leave out trailing arguments (`{"data": [question, 3]}`, as
        before `history` existed): they take their defaults, as gradio_client does. Gradio
        itself would refuse a short `data` list."""
        if getattr(block_fn, "api_name", None) == "ask":
            inputs.extend(block.value for block in block_fn.inputs[len(inputs) :])
        super().validate_inputs(block_fn, inputs)


def build_demo(assistant: Assistant) -> VerbatimBlocks:
    """The Gradio app for `assistant`. Load the assistant once and share it: it is read-only."""
    feedback = FeedbackLog()
    votes = VoteLimiter()
    default_k = assistant.settings.top_k
    max_chars = assistant.settings.max_question_chars
    titles = [doc.title for doc in assistant.index.documents.values()]
    title_md = " / ".join(f"*“{escape_markdown(t)}”*" for t in titles) or "*(none)*"

    # ---- handlers -------------------------------------------------------------------------

    def ask(question: str, passages: int = default_k, history: list[str] | None = None) -> dict:
        """Answer one question by quoting the source verbatim.

        Returns the same JSON object as `assistant ask --json`: question, status (answered,
        not_found, chitchat, invalid or not_english), answer (markdown), passages (each with
        text, source, section, paragraph, start/end offsets, highlight, flags, labels,
        citation), message, relevance, previous_question and language. `history`: the
        previous questions of the conversation, oldest first; a follow-up ("what about on
        babies?") is then read together with the last of them. Bad input gives status
        "invalid" and a message, never an error.
        """
        try:
            k, problem = parse_passages(passages, default_k)
            if problem:
                checked = check(question, max_chars)
                if checked.problem:  # the question's own problem comes first
                    return answer_json(assistant.ask(question, top_k=default_k).to_dict())
                return answer_json(compose(checked.text, "invalid", message=problem).to_dict())
            return answer_json(assistant.ask(question, history=history, top_k=k).to_dict())
        except Exception as exc:
            log_failure(log, "/ask", exc)
            raise gr.Error(ERROR_TEXT, print_exception=False) from None

    def answer_turn(message: object, passages: object, session: dict[str, Any]) -> dict[str, Any]:
        k, problem = parse_passages(passages, default_k, UI_MAX_PASSAGES)
        if problem:
            text = check(message, max_chars).text
            return {
                "question": text,
                "followup": False,
                "answer": answer_json(compose(text, "invalid", message=problem).to_dict()),
            }
        # The engine decides whether this is a follow-up (conversation.py).
        history = [t["question"] for t in session["turns"]][-MAX_HISTORY:]
        answer = assistant.ask(message, history=history, top_k=k)
        question = check(message, max_chars).text
        return {
            "question": question,
            "followup": answer.previous_question is not None,
            "answer": answer_json(answer.to_dict()),
        }

    def chat(message: object, passages: object, session: dict[str, Any] | None):
        session = session if isinstance(session, dict) else new_session()
        messages = list(session["messages"])
        messages.append({"role": "user", "content": format_user_message(message)})
        try:
            turn = answer_turn(message, passages, session)
            turn["turn"] = session["next_turn"]
            turn["message_index"] = len(messages)
            messages.append(
                {"role": "assistant", "content": format_answer(turn["answer"], turn["turn"])}
            )
            session = {
                "messages": messages,
                "turns": [*session["turns"], turn],
                "next_turn": session["next_turn"] + 1,
            }
        except Exception as exc:
            log_failure(log, "chat", exc)
            messages.append({"role": "assistant", "content": ERROR_TEXT})
            session = {**session, "messages": messages}
        session = trim_session(session)  # the oldest turns go past MAX_TURNS
        return session["messages"], "", session

    def latest_source(session: dict[str, Any] | None):
        """After an answer: show its first quote in the source panel."""
        try:
            turns = (session or {}).get("turns") or []
            if not turns or turns[-1]["answer"]["status"] != "answered":
                return gr.skip()
            turn = turns[-1]
            passages = tuple(turn["answer"]["passages"])
            return render_source(
                assistant,
                focus=passages[0],
                others=passages[1:],
                turn=turn["turn"],
                question=turn["question"],
            )
        except Exception as exc:
            log_failure(log, "source view", exc)
            return gr.skip()

    def cited_source(session: dict[str, Any] | None, evt: gr.EventData):
        """A citation link was clicked: show that quote in its place in the source."""
        try:
            data = getattr(evt, "_data", None)
            key = data.get("key") if isinstance(data, dict) else None
            match = _CITE_KEY.match(key) if isinstance(key, str) else None
            if not match:
                return gr.skip()
            turn_id, number = int(match.group(1)), int(match.group(2))
            turn = next((t for t in (session or {}).get("turns", []) if t["turn"] == turn_id), None)
            if turn is None:
                return gr.skip()
            passages = tuple(turn["answer"]["passages"])
            focus = next((p for p in passages if p["number"] == number), None)
            if focus is None:
                return gr.skip()
            others = tuple(p for p in passages if p is not focus)
            return render_source(
                assistant, focus=focus, others=others, turn=turn_id, question=turn["question"]
            )
        except Exception as exc:
            log_failure(log, "source view", exc)
            return gr.skip()

    def on_like(session: dict[str, Any] | None, evt: gr.EventData, request: gr.Request) -> None:
        # gr.EventData, not gr.LikeData: LikeData fails inside Gradio (a traceback in the
        # log) on event data without "index" or "value"; here any shape is just ignored.
        try:
            data = getattr(evt, "_data", None)
            data = data if isinstance(data, dict) else {}
            index = data.get("index")
            turn = next(
                (t for t in (session or {}).get("turns", []) if t["message_index"] == index), None
            )
            record = feedback_record(turn, data.get("liked", True)) if turn else None
            if record is not None and votes.allow(getattr(request, "session_hash", None)):
                feedback.write(record)
        except Exception as exc:
            log_failure(log, "feedback", exc)

    def clear():
        return [], "", new_session(), render_source(assistant)

    # ---- layout ---------------------------------------------------------------------------

    with VerbatimBlocks(title="Verbatim: secondary milia", analytics_enabled=False) as demo:
        session = gr.State(new_session())
        gr.Markdown(HEADER.format(title=title_md), elem_id="vb-header", latex_delimiters=[])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="vb-chat",
                    height=560,
                    latex_delimiters=[],
                    sanitize_html=True,
                    render_markdown=True,
                    allow_tags=False,
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder=PLACEHOLDER,
                    layout="panel",
                )
                with gr.Row():
                    box = gr.Textbox(
                        label="Question",
                        show_label=False,
                        placeholder="Type a question, e.g. “Can steroid creams make milia worse?”",
                        lines=1,
                        max_lines=4,
                        scale=5,
                        elem_id="vb-question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                gr.Markdown("**Example questions**: click one to ask it.")
                with gr.Row(elem_id="vb-examples"):
                    example_buttons = [
                        gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES
                    ]
                with gr.Row():
                    passages = gr.Slider(
                        1,
                        UI_MAX_PASSAGES,
                        value=default_k,
                        step=1,
                        label="Passages to show",
                        elem_id="vb-passages",
                        scale=3,
                    )
                    clear_btn = gr.Button("Clear chat", variant="secondary", scale=1)
            with gr.Column(scale=2, min_width=320):
                source_panel = gr.HTML(
                    render_source(assistant),
                    elem_id="vb-source",
                    js_on_load=SOURCE_JS,
                    padding=True,
                )

        # ---- events -----------------------------------------------------------------------
        engine: dict[str, Any] = {
            "concurrency_id": "engine",
            "concurrency_limit": CONCURRENCY_LIMIT,
        }
        chat_io: dict[str, Any] = {
            "inputs": [box, passages, session],
            "outputs": [chatbot, box, session],
        }
        show_latest: dict[str, Any] = {
            "fn": latest_source,
            "inputs": [session],
            "outputs": [source_panel],
            "api_visibility": "private",
            "show_progress": "hidden",
        }

        box.submit(chat, **chat_io, api_name="chat", preprocess=False, **engine).then(**show_latest)
        send.click(chat, **chat_io, api_visibility="private", preprocess=False, **engine).then(
            **show_latest
        )
        for button in example_buttons:
            button.click(
                chat,
                inputs=[button, passages, session],
                outputs=[chatbot, box, session],
                api_visibility="private",
                preprocess=False,
                **engine,
            ).then(**show_latest)
        source_panel.cite(
            cited_source,
            inputs=[session],
            outputs=[source_panel],
            api_visibility="private",
            show_progress="hidden",
        )
        chatbot.like(on_like, inputs=[session], outputs=None, api_visibility="private")
        clear_io: dict[str, Any] = {
            "inputs": None,
            "outputs": [chatbot, box, session, source_panel],
        }
        clear_btn.click(clear, **clear_io, api_visibility="private")
        chatbot.clear(clear, **clear_io, api_visibility="private")
        gr.api(ask, api_name="ask", **engine)

    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return demo
