"""The source panel: the whole source document as HTML, a quote marked in its place.

All corpus text and the question go through `html.escape`, so nothing in them renders.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..choices import Status
from ..render import LABELS, display_text

if TYPE_CHECKING:
    from ..answer import Quote
    from ..corpus import Document

#: Documents longer than this are shown as a window around the quote.
SOURCE_WINDOW_CHARS = 200_000

#: What the panel says when the last message got no quote, by status.
NO_QUOTE: dict[str, str] = {
    Status.NOT_FOUND: "The last question found nothing in the source, so nothing is marked here.",
    Status.CHITCHAT: "The last message was not a question about the source, so nothing is marked.",
    Status.INVALID: "The last message could not be used, so nothing is marked here.",
}
NO_QUOTE_DEFAULT = "The last answer has no quote, so nothing is marked here."

_view_counter = itertools.count(1)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


#: A marked stretch of the source: start, end, and "focus" or "other:<quote number>".
MarkedSpan = tuple[int, int, str]


def render_source(
    documents: Mapping[str, Document],
    source: str | None = None,
    *,
    focus: Quote | None = None,
    others: tuple[Quote, ...] = (),
    turn: int | None = None,
    question: str = "",
    status: str | None = None,
) -> str:
    """The whole source document as HTML, the focused quote marked and scrolled to.

    `focus` and `others` are quotes of one answer; others get a small clickable [n] badge so
    every quote of the answer can be found in the text. `status` (of an answer without quotes)
    makes the panel say why nothing is marked.
    """
    if not documents:
        return '<div class="vb-source"><p>No source is loaded.</p></div>'
    wanted = focus.source if focus else source
    source = wanted if wanted is not None and wanted in documents else next(iter(documents))
    doc = documents[source]
    text = doc.text
    view = next(_view_counter)

    head = [
        f'<div class="vb-source-title">Source: “{_esc(doc.title)}” '
        f'<span class="vb-file">({_esc(source)})</span></div>'
    ]
    if focus is None:
        head.append(_no_quote_note(status))
        spans: list[MarkedSpan] = []
        lo, hi = 0, min(len(text), SOURCE_WINDOW_CHARS)
    else:
        head += _quote_head(focus, others, source, text, question)
        spans, lo, hi = _marked_spans(focus, others, source, len(text))
    body = _body(text, spans, lo, hi, focus, view, turn)
    return (
        f'<div class="vb-source" data-view="{view}">'
        f'<div class="vb-source-head">{"".join(head)}</div>'
        f'<div class="vb-source-body" role="document" tabindex="0" '
        f'aria-label="Full text of the source">'
        f"{body}</div></div>"
    )


def _no_quote_note(status: str | None) -> str:
    """The panel's line when nothing is marked: why (by the last answer's status), or how to
    get a quote shown here."""
    if status is not None:
        note = NO_QUOTE.get(status, NO_QUOTE_DEFAULT)
        return f'<div class="vb-source-cite vb-no-quote" role="status">{_esc(note)}</div>'
    return (
        '<div class="vb-source-cite">This is the whole source. Ask a question, then '
        "click <b>Show quote 1 in source</b> (and so on) under a quote to see it in its place here."
        "</div>"
    )


def _quote_head(
    focus: Quote, others: tuple[Quote, ...], source: str, text: str, question: str
) -> list[str]:
    """The quote's citation, whether it matches the source, its labels, and the legend."""
    n, start, end = focus.number, focus.start, focus.end
    asked = question if len(question) <= 120 else question[:120] + "…"
    head = [
        f'<div class="vb-source-cite"><b>Quote [{n}]</b>'
        + (f" of the answer to “{_esc(display_text(asked))}”" if asked else "")
        + f"<br>Section “{_esc(focus.section)}”, paragraph {focus.paragraph}, "
        f"characters {start}–{end} of {_esc(source)}</div>"
    ]
    if text[start:end] == focus.text:
        head.append(
            '<div class="vb-check">✓ The quote matches the source exactly, '
            "character for character.</div>"
        )
    else:
        head.append(
            '<div class="vb-check vb-bad">✗ The quote does not match the source text at '
            "these offsets. Please report this.</div>"
        )
    for flag in focus.flags:
        head.append(f'<div class="vb-label">{_esc(LABELS[flag])}</div>')
    head.append(
        '<div class="vb-legend"><span class="vb-key-cited">quoted passage</span> · '
        '<span class="vb-key-best">best-matching sentence</span>'
        + (" · [n] the answer's other quotes (click to show)" if others else "")
        + "</div>"
    )
    return head


def _marked_spans(
    focus: Quote, others: tuple[Quote, ...], source: str, length: int
) -> tuple[list[MarkedSpan], int, int]:
    """The focused quote and the answer's other quotes in this document that do not overlap
    it, and the window shown (lo, hi): all of a document up to SOURCE_WINDOW_CHARS, else that
    many characters around the focused quote."""
    start, end = focus.start, focus.end
    spans: list[MarkedSpan] = [(start, end, "focus")]
    for other in others:
        s, e = other.start, other.end
        if other.source == source and all(e <= s2 or s >= e2 for s2, e2, _ in spans):
            spans.append((s, e, f"other:{other.number}"))
    lo, hi = 0, length
    if length > SOURCE_WINDOW_CHARS:
        half = (SOURCE_WINDOW_CHARS - (end - start)) // 2
        lo = max(0, start - max(half, 0))
        hi = min(length, max(end, lo + SOURCE_WINDOW_CHARS))
        spans = [sp for sp in spans if sp[0] >= lo and sp[1] <= hi]
    return spans, lo, hi


def _body(
    text: str,
    spans: list[MarkedSpan],
    lo: int,
    hi: int,
    focus: Quote | None,
    view: int,
    turn: int | None,
) -> str:
    """text[lo:hi], escaped, with the spans marked and notes for what is cut off."""
    body: list[str] = []
    if lo > 0:
        body.append(
            f'<span class="vb-gap">[… {lo:,} characters before this are not shown …]\n</span>'
        )
    pos = lo
    for s, e, kind in sorted(spans):
        body.append(_esc(text[pos:s]))
        if kind == "focus" and focus is not None:
            body.append(_focus_mark(text, s, e, focus, view))
        else:
            number = int(kind.split(":", 1)[1])
            body.append(
                f'<a class="vb-badge" href="#vb-cite-{turn}-{number}" data-n="{number}" '
                f'aria-label="Show quote {number} in the source"></a>'
                f'<span class="vb-other" data-n="{number}">{_esc(text[s:e])}</span>'
            )
        pos = e
    body.append(_esc(text[pos:hi]))
    if hi < len(text):
        body.append(
            f'<span class="vb-gap">\n[… {len(text) - hi:,} characters after this are not shown …]</span>'
        )
    return "".join(body)


def _focus_mark(text: str, s: int, e: int, focus: Quote, view: int) -> str:
    """The focused quote text[s:e], its best sentence marked inside it."""
    hs = min(max(focus.highlight.start, s), e)
    he = min(max(focus.highlight.end, hs), e)
    return (
        f'<mark class="vb-cited" id="vb-cited-{view}" tabindex="-1" '
        f'data-n="{focus.number}" data-start="{s}" data-end="{e}">'
        f"{_esc(text[s:hs])}"
        f'<mark class="vb-best" data-start="{hs}" data-end="{he}">{_esc(text[hs:he])}</mark>'
        f"{_esc(text[he:e])}</mark>"
    )
