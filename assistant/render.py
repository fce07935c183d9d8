"""Every way an answer is shown, in one place: fixed templates around verbatim quotes.

- `answer_markdown`: the ``answer`` field of `Answer` (and so of ``--json`` and ``/ask``).
- `answer_text`: plain text, for the terminal (the best sentence marked) and for copying
  (no marks at all).
- `chat_markdown`: the browser chat's message (best sentence in ``<mark>``, compact citations,
  "Show in source" links).
- JSON is `Answer.to_dict()`.

No sentence here is generated from the question or the corpus: the only variable text is the
question itself and `source[start:end]` quotes, escaped so that markdown renders them as plain
text (never as HTML, links or images). Renderers trust the answer they are given: checking is
the engine's job (question.py), not theirs.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

from .choices import QUOTING, Status

if TYPE_CHECKING:
    from .answer import Answer, Quote

#: Every fixed sentence the assistant can say. Reviewed text: change only with review.
TEMPLATES = {
    "related": "The source does not answer this directly. The closest passages are:",
    # The heading over `related` passages in the chat and the terminal, so that they never
    # read as an answer at a glance (issue 21).
    "related_heading": "No direct answer",
    "intro": "The source text says:",
    # Under every answer with quotes, unless the corpus's metadata gives its own (product.py).
    "disclaimer": "These are quotes from the source text, not advice of our own.",
    "not_found": (
        "The source text does not cover this. Nothing in it answers your question, "
        "so no passage is shown."
    ),
    "chitchat": (
        "Hello! I answer questions about the source text by quoting it word for word, "
        "with a citation for every quote. I never write advice or claims of my own. "
        "Ask me something the text might cover."
    ),
    "chitchat_thanks": (
        "You're welcome. Ask me another question about the source text whenever you like: "
        "I answer by quoting it word for word."
    ),
    "chitchat_ok": (
        "Ask me another question about the source text whenever you like: "
        "I answer by quoting it word for word."
    ),
    "chitchat_bye": "Goodbye. Come back with any question about the source text.",
    "invalid": "I could not use that request.",
    "not_english": (
        "I can only read questions in English: the source text is in English, and I answer "
        "by quoting it word for word. Please ask your question in English."
    ),
    # Said before the quotes when a follow-up was read together with the previous question.
    "followup": "Read together with your previous question:",
}

#: The fixed reply for each kind of small talk (question.small_talk_kind).
SMALL_TALK = {
    "hello": "chitchat",
    "thanks": "chitchat_thanks",
    "ok": "chitchat_ok",
    "bye": "chitchat_bye",
}

#: Fixed labels for quotes from sections flagged in a document's sidecar file.
LABELS = {
    "promotional": "Note: this quote is from a section of the source that promotes a product.",
}

#: Where a chat citation's "Show quote <n> in source" link points: ``#vb-cite-<turn>-<number>``.
CITE_HREF = "#vb-cite-"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")


def escape_markdown(text: str) -> str:
    """Text that renders as itself in markdown: markdown punctuation backslash-escaped, then
    HTML-escaped (in that order, so the `#` of an entity such as `&#x27;` stays intact)."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


def escape_attribute(text: str) -> str:
    """Text for an HTML attribute inside markdown: HTML-escaped, newlines as `&#10;`."""
    return html.escape(text, quote=True).replace("\n", "&#10;").replace("\r", "&#13;")


def _plain(heading: str) -> str:
    """A heading as a citation names it: spaces made plain, no trailing full stop (a heading
    "… with It." would read "… with It., paragraph 4")."""
    return " ".join(heading.split()).rstrip(".")  # split() takes U+00A0 for a space too


def _own_section(quote: Quote) -> str | None:
    """The quote's section for its citation, or None when the section is the document's title
    itself (the paragraphs before the first heading)."""
    section = _plain(quote.section)
    if not section or section.casefold() == _plain(quote.title).casefold():
        return None
    return section


def citation(quote: Quote) -> str:
    """The full citation: title, section (unless it is the title again), paragraph, file and
    character offsets."""
    section = _own_section(quote)
    where = f", section “{section}”" if section else ""
    return (
        f"{quote.title}{where}, paragraph {quote.paragraph} "
        f"({quote.source}, characters {quote.start}–{quote.end})"
    )


def short_citation(quote: Quote) -> str:
    """The compact citation the chat shows: section (or the title, before the first heading)
    and paragraph."""
    return f"{_own_section(quote) or _plain(quote.title)}, paragraph {quote.paragraph}"


def _split(quote: Quote) -> tuple[str, str, str]:
    """The quote as (before, best sentence, after)."""
    a = max(0, quote.highlight.start - quote.start)
    b = min(len(quote.text), max(a, quote.highlight.end - quote.start))
    return quote.text[:a], quote.text[a:b], quote.text[b:]


def _blockquote(body: str) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in body.split("\n")]


# --------------------------------------------------------------------------------------------
# The `answer` field (markdown, part of the JSON contract)
# --------------------------------------------------------------------------------------------


def _quote_markdown(quote: Quote) -> str:
    before, marked, after = _split(quote)
    body = escape_markdown(before) + "**" + escape_markdown(marked) + "**" + escape_markdown(after)
    # A label (e.g. "promotes a product") comes before the quote it warns about.
    lines = [f"> *{escape_markdown(LABELS[flag])}*\n>" for flag in quote.flags]
    lines += _blockquote(body)
    lines.append(">")
    lines.append(f"> — **\\[{quote.number}\\]** {escape_markdown(citation(quote))}")
    return "\n".join(lines)


def answer_markdown(
    status: Status,
    quotes: tuple[Quote, ...] = (),
    message: str = "",
    small_talk: str = "hello",
    disclaimer: str | None = None,
) -> str:
    """The markdown `answer` of an answer with this status (templates and quotes only).
    `disclaimer` replaces the fixed one (a corpus's own, from its metadata)."""
    if status in QUOTING:
        parts = [
            TEMPLATES["intro" if status == Status.ANSWERED else "related"],
            *(_quote_markdown(q) for q in quotes),
            f"*{TEMPLATES['disclaimer'] if disclaimer is None else disclaimer}*",
        ]
        return "\n\n".join(parts)
    if status == Status.INVALID:
        return f"{TEMPLATES['invalid']} {escape_markdown(message)}"
    if status == Status.CHITCHAT:
        return TEMPLATES[SMALL_TALK[small_talk]]
    return TEMPLATES[status]


# --------------------------------------------------------------------------------------------
# Plain text (terminal and copy)
# --------------------------------------------------------------------------------------------


def _intro(answer: Answer) -> str:
    """The sentence before an answer's quotes: the fixed one for its status (never parsed back
    out of `answer.answer`, which for a follow-up starts with the "read together" line)."""
    if answer.status == Status.ANSWERED:
        return TEMPLATES["intro"]
    if answer.status == Status.RELATED:
        return TEMPLATES["related"]
    return answer.answer.split("\n\n", 1)[0]


def answer_text(
    answer: Answer,
    *,
    mark: Callable[[str], str] | None = None,
    disclaimer: str | None = None,
) -> str:
    """The answer as plain text: intro, each quote's citation and text, the disclaimer.

    `mark` wraps the best sentence (the terminal shows it); None leaves the text as it is, for
    copying. `disclaimer` replaces the fixed one (a corpus's own, from its metadata).
    """
    if not answer.passages:
        if answer.status == Status.INVALID:
            return f"{TEMPLATES['invalid']} {answer.message}"
        return answer.answer
    out = []
    if answer.previous_question is not None:
        out += [f"{TEMPLATES['followup']} “{answer.previous_question}”", ""]
    if answer.status == Status.RELATED:
        out.append(f"── {TEMPLATES['related_heading']} ──")
    out += [_intro(answer), ""]
    for q in answer.passages:
        before, marked, after = _split(q)
        out.append(f"[{q.number}] {citation(q)}")
        for flag in q.flags:
            out.append(f"    {LABELS[flag]}")
        quoted = before + (mark(marked) if mark else marked) + after
        out.extend("    " + line for line in quoted.splitlines())
        out.append("")
    out.append(TEMPLATES["disclaimer"] if disclaimer is None else disclaimer)
    return "\n".join(out)


def render_text(answer: Answer, *, color: bool = False, disclaimer: str | None = None) -> str:
    """The answer for people reading a terminal: citations, quotes, the best sentence marked.
    `disclaimer` replaces the fixed one (a corpus's own, from its metadata)."""

    def mark(s: str) -> str:
        return f"\x1b[1;4m{s}\x1b[0m" if color else f">>{s}<<"

    return answer_text(answer, mark=mark, disclaimer=disclaimer)


# --------------------------------------------------------------------------------------------
# The browser chat
# --------------------------------------------------------------------------------------------


def display_text(text: str) -> str:
    """Control characters (other than newline and tab) shown as U+FFFD, so they are visible."""
    return "".join(
        "\ufffd" if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text
    )


def keep_indent(markdown: str) -> str:
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


def chat_quote(quote: Quote, turn: int) -> str:
    """One quote in the chat: the passage, its best sentence marked, a compact citation (the
    file and offsets in its tooltip and in the source panel) and any label."""
    before, marked, after = _split(quote)
    body = keep_indent(escape_markdown(before) + _mark(marked) + escape_markdown(after))
    n = quote.number
    where = escape_attribute(f"{quote.source}, characters {quote.start}–{quote.end}")
    # A label (e.g. "promotes a product") comes before the quote it warns about.
    lines = [
        f'> <span class="vb-label">{escape_markdown(LABELS[flag])}</span>\n>'
        for flag in quote.flags
    ]
    lines += _blockquote(body)
    lines.append(">")
    lines.append(
        f'> <span class="vb-cite" title="{where}">**\\[{n}\\]** '
        f"{escape_markdown(short_citation(quote))}</span> · "
        f"[Show quote {n} in source]({CITE_HREF}{turn}-{n})"  # its number: a links list tells them apart
    )
    return "\n".join(lines)


def _status_marker(status: str) -> str:
    """An empty span naming the answer's status, so the page can give each status its look."""
    return f'<span class="vb-status-mark vb-status-{re.sub(r"[^a-z_]", "", status)}"></span>'


def chat_markdown(
    answer: Answer,
    turn: int,
    *,
    disclaimer: str | None = None,
    followup_of: str | None = None,
) -> str:
    """The assistant's chat message for an answer (fixed templates and escaped quotes only).

    Any status with quotes (``answered``, or one such as "the closest passages are") shows them
    the same way, after the engine's own first sentence for that status. A message with quotes
    ends with an empty ``<span class="vb-copy">`` whose ``title`` holds `answer_text` (no
    marks): what the page's copy button copies and what a screen reader reads. Every message
    carries a status marker. `followup_of` (the previous question, when it was used to find the
    quotes) is said first.
    """
    marker = _status_marker(answer.status)
    if not answer.passages:
        return answer.answer + marker
    disclaimer = TEMPLATES["disclaimer"] if disclaimer is None else disclaimer
    parts = [_intro(answer), *(chat_quote(q, turn) for q in answer.passages)]
    if answer.status == Status.RELATED:
        heading = TEMPLATES["related_heading"]
        parts.insert(0, f'<span class="vb-related-head">{heading}</span>')
    if followup_of is not None:
        parts.insert(0, f"*{TEMPLATES['followup']} “{escape_markdown(display_text(followup_of))}”*")
    copy = escape_attribute(answer_text(answer, disclaimer=disclaimer))
    # The disclaimer is reviewed product text (corpus metadata): HTML-escaped, markdown kept.
    shown = html.escape(disclaimer, quote=False)
    parts.append(f'*{shown}*<span class="vb-copy" title="{copy}"></span>{marker}')
    return "\n\n".join(parts)
