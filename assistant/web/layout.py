"""The page: Gradio components, their layout, and which controller handler each event runs.

How a question travels (so that none is ever lost or answered twice):

1. Sending (Enter, Ask, an example) only appends the message to the session's `Outbox`, at
   once (not behind the engine's limit) and under a lock (so sends at the same moment all
   count), and shows it in the chat. Retry, edit and clear replace part of the outbox.
2. Then the answer step answers every sent question that the outbox's furthest answered
   conversation does not answer yet, in order, and records its result there (`Outbox.record`
   keeps whichever conversation answers further, so a step that finishes late never takes an
   answer back).
3. A second answer step follows each one: if two answer steps overlapped (a question sent while
   the previous was being answered), it answers what is missing. Every step, sends included,
   shows the outbox's furthest conversation, and the second step always redraws the chat: an
   older picture of the chat that reached the page late (a send's, drawn while another step
   was answering) is replaced by the last step of the last question sent.

The `session` state mirrors the outbox's conversation for the handlers that read it (Show in
source, thumbs). The question box is an output of no step: the page's script empties it once
the question it held shows in the chat, so nothing typed meanwhile is ever erased.
"""

from __future__ import annotations

import html
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..freshness import CorpusChangedError
from ..http_guard import PublicAddress, guard_lifespan
from ..product import Product
from ..web_safety import log_failure
from .controller import (
    ERROR_TEXT,
    SOURCE_CHANGED_TEXT,
    UI_MAX_PASSAGES,
    ChatController,
    Outbox,
    Session,
)
from .feedback import FeedbackLog
from .source_view import render_source

if TYPE_CHECKING:
    from ..engine import Assistant

#: Engine calls at once, across /ask, /chat and the page's answer steps (a 2-core CPU box).
CONCURRENCY_LIMIT = 2
#: Requests waiting in the queue before new ones are turned away with "queue full".
QUEUE_SIZE = 64

STATIC = Path(__file__).resolve().parent / "static"
CSS_FILE = STATIC / "verbatim.css"
JS_FILE = STATIC / "verbatim.js"

log = logging.getLogger(__name__)


class VerbatimBlocks(gr.Blocks):
    """gr.Blocks whose `launch()` defaults are the safe ones for this app (see docs/app.md).

    Gradio 6 takes css/head at launch; keeping them here means `demo.launch()` (app.py, a
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
        "css_paths": [CSS_FILE],
        # The page's script is a static file (no inline code, so a Content-Security-Policy
        # with script-src 'self' allows it).
        "head": f'<script src="gradio_api/file={JS_FILE}" defer></script>',
    }

    #: How the app is reached from outside (build_demo sets it; app.py reads the environment).
    address = PublicAddress()

    def launch(self, **kwargs: Any) -> Any:  # type: ignore[override]
        for key, value in self.launch_defaults.items():
            kwargs.setdefault(key, value)
        # The front door (assistant/http_guard.py): body limit, no uploads, request shapes,
        # hosts, origins and security headers, around everything Gradio serves.
        kwargs["app_kwargs"] = {
            "lifespan": guard_lifespan(self, self.address),
            **(kwargs.get("app_kwargs") or {}),
        }
        kwargs.setdefault("num_workers", 0)  # static-file workers would bypass the guard
        # Uvicorn would apply X-Forwarded-Proto/-For from 127.0.0.1 before the guard sees the
        # request (the page's root turned https, the guard accepted an https Origin): no
        # client's forwarded headers are trusted (the public URL is configured instead).
        os.environ["FORWARDED_ALLOW_IPS"] = ""
        if self.address.root():
            kwargs.setdefault("root_path", self.address.root())
        return super().launch(**kwargs)

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        """A REST call to /ask may leave out trailing arguments (`{"data": [question, 3]}`, as
        before `history` existed): they take their defaults, as gradio_client does. Gradio
        itself would refuse a short `data` list."""
        if getattr(block_fn, "api_name", None) == "ask":
            inputs.extend(block.value for block in block_fn.inputs[len(inputs) :])
        super().validate_inputs(block_fn, inputs)


def _usable_temp_folder() -> None:
    """Point Gradio at a private temp folder when its own is not writable.

    Gradio creates `<temp>/vibe_edit_history` when the app is built, and died with a traceback
    when its temp folder (GRADIO_TEMP_DIR, or /tmp/gradio) was read-only or another user's.
    This app writes nothing there (no uploads, no cached examples), so any writable folder
    will do; if none can be made, Gradio's own error stands (app.py shows it in one line).
    """
    import gradio.routes

    folder = Path(gradio.routes.DEFAULT_TEMP_DIR)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vibe_edit_history").mkdir(exist_ok=True)
        return
    except OSError as exc:
        problem = f"{type(exc).__name__}: {exc.strerror or exc}"
    try:
        private = tempfile.mkdtemp(prefix="verbatim-gradio-")
    except OSError:
        return
    log.warning("Gradio's temp folder %s is not writable (%s); using %s", folder, problem, private)
    gradio.routes.DEFAULT_TEMP_DIR = private


def header_html(product: Product) -> str:
    """The header: a skip link to the question box (the first Tab stop, shown when focused),
    the app's title, a card per source document, the disclaimer."""
    cards = "".join(
        '<div class="vb-card">'
        f'<div class="vb-card-title">Source: “{html.escape(c.title)}”</div>'
        + (f'<div class="vb-card-about">{html.escape(c.about)}</div>' if c.about else "")
        + "</div>"
        for c in product.cards
    )
    return (
        '<a class="vb-skip" href="#vb-question">Skip to the question box</a>'
        f'<h1 class="vb-title">{html.escape(product.app_title)}</h1>'
        f"{cards}"
        '<p class="vb-how">Every answer quotes the source word for word, with a numbered '
        "citation. <b>Show quote 1 in source</b> (and so on) shows a quote in its place in the whole "
        "text.</p>"
        f'<p class="vb-disclaimer"><b>{html.escape(product.disclaimer)}</b></p>'
    )


SWITCH_HTML = (
    '<div class="vb-switch" role="tablist" aria-label="Show">'
    '<button type="button" role="tab" id="vb-tab-chat" aria-selected="true" '
    'aria-controls="vb-chat-col">Chat</button>'
    '<button type="button" role="tab" id="vb-tab-source" aria-selected="false" '
    'aria-controls="vb-source-col">Source</button>'
    "</div>"
)


def counter_html(limit: int) -> str:
    return (
        f'<div class="vb-counter" data-limit="{limit}" aria-live="polite">'
        f"0 / {limit:,} characters</div>"
    )


def build_demo(
    assistant: Assistant,
    product: Product | None = None,
    *,
    feedback: FeedbackLog | None = None,
    address: PublicAddress | None = None,
) -> VerbatimBlocks:
    """The Gradio app for `assistant`. Load the assistant once and share it: it is read-only.

    `product` (the page's own words) defaults to the corpus's metadata file (product.py).
    `feedback` is where thumbs up/down go (default: nowhere); `address` how the app is reached
    from outside (default: 127.0.0.1/localhost only). app.py gives both from the environment.
    """
    if product is None:
        product = assistant.product
    gr.set_static_paths([STATIC])
    _usable_temp_folder()  # Gradio builds its routes (and makes a temp folder) in Blocks()
    control = ChatController(assistant, product, feedback or FeedbackLog())
    with VerbatimBlocks(title=product.app_title, analytics_enabled=False) as demo:
        page = page_components(product, control, assistant)
        wire_events(demo, page, Handlers(control))
        gr.api(ask_endpoint(control, assistant.settings.top_k), api_name="ask", **ON_ENGINE)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    demo.address = address or PublicAddress()
    return demo


# ---- the /ask endpoint ---------------------------------------------------------------------


def ask_endpoint(control: ChatController, default_k: int) -> Callable[..., dict]:
    """The function behind `/ask`: its signature and docstring are the endpoint's API page."""

    def ask(question: str, passages: int = default_k, history: list[str] | None = None) -> dict:
        """Answer one question by quoting the source verbatim.

        Returns the same JSON object as `assistant ask --json`: question, status (answered,
        related, not_found, chitchat, invalid or not_english), answer (markdown), passages (each with
        text, source, section, paragraph, start/end offsets, highlight, flags, labels,
        citation), message, relevance, previous_question and language. `history`: the
        previous questions of the conversation, oldest first; a follow-up ("what about on
        babies?") is then read together with the last of them. Bad input gives status
        "invalid" and a message, never an error.
        """
        try:
            return control.ask(question, passages, history)
        except CorpusChangedError:  # logged once by the engine, naming the file
            raise gr.Error(SOURCE_CHANGED_TEXT, print_exception=False) from None
        except Exception as exc:
            log_failure(log, "/ask", exc)
            raise gr.Error(ERROR_TEXT, print_exception=False) from None

    return ask


# ---- handlers: thin wrappers turning controller results into Gradio updates ------------------


def _event(evt: gr.EventData) -> dict[str, Any]:
    # gr.EventData, not RetryData/EditData/LikeData: those fail inside Gradio (a traceback in
    # the log) on event data of another shape; here any shape is just ignored.
    data = getattr(evt, "_data", None)
    return data if isinstance(data, dict) else {}


class Handlers:
    """What the page's events run (their names are the events' function names)."""

    def __init__(self, control: ChatController) -> None:
        self.control = control

    def send_typed(self, message: object, outbox: Outbox) -> tuple[Any, str]:
        problem = self.control.too_long(message)
        if problem:  # not sent: it stays in the box, with the reason
            return gr.skip(), problem
        sent = self.control.send(message, outbox)
        return self.control.messages(sent, outbox.answered()), ""

    def send_example(self, example: object, outbox: Outbox) -> list[dict[str, str]]:
        return self.control.messages(self.control.send(example, outbox), outbox.answered())

    def _answer_step(self, outbox: Outbox, top_k: object, redraw: bool) -> tuple[Any, Any, Any]:
        before = outbox.answered()
        new = outbox.record(self.control.answer_pending(outbox.snapshot(), before, top_k))
        if new == before and not redraw:
            return gr.skip(), gr.skip(), gr.skip()
        chat = self.control.messages(outbox.snapshot(), new)
        return new, chat, self.control.latest_source(new) if new != before else gr.skip()

    def answer(self, outbox: Outbox, top_k: object) -> tuple[Any, Any, Any]:
        return self._answer_step(outbox, top_k, redraw=False)

    def answer_and_redraw(self, outbox: Outbox, top_k: object) -> tuple[Any, Any, Any]:
        return self._answer_step(outbox, top_k, redraw=True)

    def chat_api(
        self, message: object, top_k: object, outbox: Outbox
    ) -> tuple[list[dict[str, str]], str, Session]:
        # /chat: send and answer in one call (API clients wait for the answer), through the
        # session's outbox like the page's steps, so both always show one conversation.
        sent = self.control.send(message, outbox)
        new = outbox.record(self.control.answer_pending(sent, outbox.answered(), top_k))
        return self.control.messages(sent, new), "", new

    def retry(self, outbox: Outbox, evt: gr.EventData) -> None:
        self.control.retry(outbox, _event(evt).get("index"))

    def edit(self, outbox: Outbox, evt: gr.EventData) -> None:
        data = _event(evt)
        self.control.edit(outbox, data.get("index"), data.get("value"))

    def cited(self, session: object, key: object) -> Any:
        return self.control.cited_source(session, key) or gr.skip()

    def on_like(self, session: object, evt: gr.EventData, request: gr.Request) -> str:
        data = _event(evt)
        key = getattr(request, "session_hash", None)
        return self.control.like(session, data.get("index"), data.get("liked", True), key)

    def clear(self, outbox: Outbox) -> tuple[Session, list, str, str]:
        _, empty, source = self.control.clear(outbox)
        return empty, [], "", source


# ---- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """The page's components that events read or write."""

    outbox: gr.State  # copied per session; sends append to it (module doc)
    session: gr.State
    chatbot: gr.Chatbot
    feedback_note: gr.Markdown
    box: gr.Textbox
    send: gr.Button
    notice: gr.Markdown
    example_buttons: tuple[gr.Button, ...]
    top_k: gr.Slider  # "Passages to show"
    clear: gr.Button
    source_panel: gr.HTML
    cite_key: gr.Textbox  # set by the page's script when a citation link is clicked
    api_button: gr.Button  # invisible: carries the /chat endpoint


def page_components(product: Product, control: ChatController, assistant: Assistant) -> Page:
    """The header, the chat column and the source column, inside the open Blocks."""
    outbox = gr.State(Outbox(max_chars=assistant.settings.max_question_chars))
    session = gr.State(Session())
    gr.HTML(header_html(product), elem_id="vb-header", js_on_load=None)
    gr.HTML(SWITCH_HTML, elem_id="vb-switch-row", js_on_load=None)
    with gr.Row(equal_height=False, elem_id="vb-main"):
        with gr.Column(scale=3, min_width=300, elem_id="vb-chat-col"):
            chatbot = _chatbot(product)
            feedback_note = gr.Markdown(
                control.feedback_note(), elem_id="vb-feedback-note", latex_delimiters=[]
            )
            box, send = _question_row(product)
            gr.HTML(
                counter_html(assistant.settings.max_question_chars),
                elem_id="vb-counter-row",
                js_on_load=None,
            )
            notice = gr.Markdown("", elem_id="vb-notice", latex_delimiters=[])
            example_buttons: list[gr.Button] = []
            if product.examples:
                gr.Markdown("**Example questions**: tap one to ask it.", elem_id="vb-ex-label")
                with gr.Row(elem_id="vb-examples"):
                    example_buttons = [
                        gr.Button(q, size="md", variant="secondary") for q in product.examples
                    ]
            with gr.Row(elem_id="vb-options"):
                top_k = gr.Slider(
                    1,
                    UI_MAX_PASSAGES,
                    value=assistant.settings.top_k,
                    step=1,
                    label="Passages to show",
                    elem_id="vb-passages",
                    scale=3,
                )
                clear = gr.Button("Clear chat", variant="secondary", scale=1)
        with gr.Column(scale=2, min_width=300, elem_id="vb-source-col"):
            source_panel = gr.HTML(
                render_source(assistant.index.documents),
                elem_id="vb-source",
                js_on_load=None,
                padding=True,
            )
            cite_key = gr.Textbox(visible="hidden", elem_id="vb-cite-key", label="cite")
    api_button = gr.Button(visible=False)
    return Page(
        outbox=outbox,
        session=session,
        chatbot=chatbot,
        feedback_note=feedback_note,
        box=box,
        send=send,
        notice=notice,
        example_buttons=tuple(example_buttons),
        top_k=top_k,
        clear=clear,
        source_panel=source_panel,
        cite_key=cite_key,
        api_button=api_button,
    )


def _chatbot(product: Product) -> gr.Chatbot:
    return gr.Chatbot(
        label="Chat",
        show_label=False,
        elem_id="vb-chat",
        height=560,
        autoscroll=False,  # the page's script shows the question and quote [1]
        latex_delimiters=[],
        sanitize_html=True,
        render_markdown=True,
        allow_tags=False,
        buttons=["copy"],
        editable="user",
        feedback_options=("Like", "Dislike"),
        placeholder=f"{product.placeholder}, or tap an example question below.",
        layout="panel",
    )


def _question_row(product: Product) -> tuple[gr.Textbox, gr.Button]:
    """The question box and its Ask button, side by side."""
    with gr.Row(elem_id="vb-ask-row", equal_height=True):
        box = gr.Textbox(
            label="Your question",
            show_label=False,
            placeholder=product.placeholder,
            lines=1,
            max_lines=6,
            scale=5,
            min_width=160,
            elem_id="vb-question",
        )
        send = gr.Button("Ask", variant="primary", scale=0, min_width=72, elem_id="vb-ask")
    return box, send


# ---- events ----------------------------------------------------------------------------------

#: Calls into the engine: one concurrency group, CONCURRENCY_LIMIT at once (/ask, /chat and the
#: page's answer steps).
ON_ENGINE: dict[str, Any] = {"concurrency_id": "engine", "concurrency_limit": CONCURRENCY_LIMIT}
#: The page's own events: not callable through the API.
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
#: Sends only append to the outbox: instant, never waiting behind answers. (Queued, not
#: queue=False: the guard in http_guard.py admits only queued calls from the page.)
SENDING: dict[str, Any] = {"concurrency_id": "send", "concurrency_limit": None}


def wire_events(demo: VerbatimBlocks, page: Page, handlers: Handlers) -> None:
    """Which handler each event runs (inside the open Blocks). Every send is followed by two
    answer steps (the module doc says why)."""
    answering: dict[str, Any] = {
        "inputs": [page.outbox, page.top_k],
        "outputs": [page.session, page.chatbot, page.source_panel],
        "show_progress": "minimal",
        "show_progress_on": [page.chatbot],  # the source panel is not dimmed while it waits
        "trigger_mode": "multiple",
        # The slider's value goes to the controller as sent: it checks the count itself
        # (parse_top_k), where Gradio's own check of a bad value from a hand-made request
        # was a traceback in the server log, with the value in it.
        "preprocess": False,
        **PRIVATE,
        **ON_ENGINE,
    }

    def then_answer(event: Any) -> None:
        event.then(handlers.answer, **answering).then(handlers.answer_and_redraw, **answering)

    then_answer(
        gr.on(
            [page.box.submit, page.send.click],
            handlers.send_typed,
            inputs=[page.box, page.outbox],
            outputs=[page.chatbot, page.notice],
            **SENDING,
            show_progress="hidden",
            trigger_mode="multiple",
            **PRIVATE,
        )
    )
    for button in page.example_buttons:
        then_answer(
            button.click(
                handlers.send_example,
                inputs=[button, page.outbox],
                outputs=[page.chatbot],
                trigger_mode="multiple",
                **SENDING,
                show_progress="hidden",
                preprocess=False,
                **PRIVATE,
            )
        )
    then_answer(page.chatbot.retry(handlers.retry, [page.outbox], None, **SENDING, **PRIVATE))
    then_answer(page.chatbot.edit(handlers.edit, [page.outbox], None, **SENDING, **PRIVATE))

    page.api_button.click(
        handlers.chat_api,
        inputs=[page.box, page.top_k, page.outbox],
        outputs=[page.chatbot, page.box, page.session],
        api_name="chat",
        preprocess=False,
        **ON_ENGINE,
    )
    page.cite_key.change(
        handlers.cited,
        inputs=[page.session, page.cite_key],
        outputs=[page.source_panel],
        show_progress="hidden",
        trigger_mode="always_last",
        **PRIVATE,
    )
    page.chatbot.like(
        handlers.on_like, inputs=[page.session], outputs=[page.feedback_note], **PRIVATE
    )
    clearing: dict[str, Any] = {
        "inputs": [page.outbox],
        "outputs": [page.session, page.chatbot, page.notice, page.source_panel],
        **PRIVATE,
    }
    clear = handlers.clear  # one function object: both clears share one concurrency group
    page.clear.click(clear, **clearing)
    page.chatbot.clear(clear, **clearing)
    demo.load(handlers.control.feedback_note, None, page.feedback_note, **PRIVATE)
