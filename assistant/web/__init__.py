"""The browser chat: a Gradio app around an `Assistant`. It renders answers; it never retrieves
and never checks an answer again.

- ../product.py (re-exported here): the corpus's own words (title, source card, disclaimer,
  examples), from its ``corpus.meta.json``; the engine holds them as `Assistant.product`.
- controller.py: what each event does, as plain functions of plain values (no server needed).
- source_view.py: the source panel's HTML.
- feedback.py: thumbs up/down, stored only when a file is configured.
- layout.py: the components, their layout and event wiring; `build_demo`.
- static/: the page's CSS and JavaScript.

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

from ..product import PRODUCT_FILE, Product, SourceCard, load_product
from .controller import (
    API_MAX_PASSAGES,
    UI_MAX_PASSAGES,
    ChatController,
    Outbox,
    Questions,
    Session,
    parse_top_k,
)
from .feedback import FEEDBACK_ENV, FeedbackLog, feedback_record
from .layout import CONCURRENCY_LIMIT, QUEUE_SIZE, VerbatimBlocks, build_demo
from .source_view import SOURCE_WINDOW_CHARS, render_source

__all__ = [
    "API_MAX_PASSAGES",
    "CONCURRENCY_LIMIT",
    "FEEDBACK_ENV",
    "PRODUCT_FILE",
    "QUEUE_SIZE",
    "SOURCE_WINDOW_CHARS",
    "UI_MAX_PASSAGES",
    "ChatController",
    "FeedbackLog",
    "Outbox",
    "Product",
    "Questions",
    "Session",
    "SourceCard",
    "VerbatimBlocks",
    "build_demo",
    "feedback_record",
    "load_product",
    "parse_top_k",
    "render_source",
]
