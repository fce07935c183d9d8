"""Answer composition: fixed, reviewed templates around verbatim quotes. Nothing else.

No sentence here is generated from the question or the corpus: the only variable text in an
answer is the question itself and `source[start:end]` quotes, escaped so that markdown renders
them as plain text (never as HTML, links or images).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

STATUSES = ("answered", "not_found", "chitchat", "invalid", "not_english")

#: Every fixed sentence the assistant can say. Reviewed text: change only with review.
TEMPLATES = {
    "intro": "The source text says:",
    "disclaimer": (
        "These are quotes from the source text, not medical advice. "
        "Ask a doctor about your own skin."
    ),
    "not_found": (
        "The source text does not cover this. Nothing in it answers your question, "
        "so no passage is shown."
    ),
    "chitchat": (
        "Hello! I answer questions about the source text by quoting it word for word, "
        "with a citation for every quote. I never write medical advice of my own. "
        "Ask me something the text might cover."
    ),
    "invalid": "I could not use that request.",
    "not_english": (
        "I can only read questions in English: the source text is in English, and I answer "
        "by quoting it word for word. Please ask your question in English."
    ),
    # Said before the quotes when a follow-up was read together with the previous question.
    "followup": "Read together with your previous question:",
}

#: Fixed labels for quotes from sections flagged in a document's sidecar file.
LABELS = {
    "promotional": "Note: this quote is from a section of the source that promotes a product.",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")


def escape_markdown(text: str) -> str:
    """Text that renders as itself in markdown: markdown punctuation backslash-escaped, then
    HTML-escaped (in that order, so the `#` of an entity such as `&#x27;` stays intact)."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Quote:
    """One returned passage: `text == document_text[start:end]`."""

    number: int
    id: str  # the passage id: sha256 of the document, start and end
    text: str
    source: str
    title: str
    section: str
    paragraph: int
    start: int
    end: int
    score: float  # the final ranking score (higher is better)
    relevance: float  # cosine similarity of the question with the passage or its best sentence
    highlight: Span  # the best-matching sentence, same offsets as start/end
    flags: tuple[str, ...] = ()  # section flags from the sidecar, e.g. "promotional"

    def citation(self) -> str:
        return (
            f"{self.title}, section “{self.section}”, paragraph {self.paragraph} "
            f"({self.source}, characters {self.start}–{self.end})"
        )


@dataclass(frozen=True)
class Answer:
    """What `Assistant.ask` returns; `to_dict()` is the `--json` and `/ask` contract."""

    question: str
    status: str
    answer: str  # markdown, as a chat shows it
    passages: tuple[Quote, ...] = ()
    message: str = ""  # for `invalid`: what is wrong with the question
    relevance: float | None = None  # best relevance found (None when retrieval did not run)
    # Best cosine of the question's focus (its words beyond the corpus's topic, focus.py) with a
    # candidate sentence; None when the question has no focus to check.
    focus_relevance: float | None = None
    # The previous question this one was read together with (a follow-up, conversation.py);
    # None when it was read alone.
    previous_question: str | None = None
    # For `not_english`: the language the question appears to be in (ISO 639 code,
    # language.py); None otherwise.
    language: str | None = None
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("timings")
        for quote, p in zip(self.passages, out["passages"]):
            p["flags"] = list(quote.flags)
            p["labels"] = [LABELS[flag] for flag in quote.flags]
            p["citation"] = quote.citation()
        return out


def _quote_markdown(quote: Quote) -> str:
    rel_start = quote.highlight.start - quote.start
    rel_end = quote.highlight.end - quote.start
    before, marked, after = (
        quote.text[:rel_start],
        quote.text[rel_start:rel_end],
        quote.text[rel_end:],
    )
    body = escape_markdown(before) + "**" + escape_markdown(marked) + "**" + escape_markdown(after)
    lines = [f"> {line}" if line.strip() else ">" for line in body.split("\n")]
    lines.append(">")
    lines.append(f"> — **\\[{quote.number}\\]** {escape_markdown(quote.citation())}")
    for flag in quote.flags:
        lines.append(">")
        lines.append(f"> *{escape_markdown(LABELS[flag])}*")
    return "\n".join(lines)


def compose(
    question: str, status: str, quotes: tuple[Quote, ...] = (), message: str = ""
) -> Answer:
    """Build the answer markdown for a status from templates and quotes only."""
    if status == "answered":
        parts = [
            TEMPLATES["intro"],
            *(_quote_markdown(q) for q in quotes),
            f"*{TEMPLATES['disclaimer']}*",
        ]
        text = "\n\n".join(parts)
    elif status == "invalid":
        text = f"{TEMPLATES['invalid']} {escape_markdown(message)}"
    else:
        text = TEMPLATES[status]
        quotes = ()
    return Answer(question=question, status=status, answer=text, passages=quotes, message=message)


def read_with(answer: Answer, previous: str) -> Answer:
    """`answer` to a follow-up that was read together with the `previous` question: the fixed
    sentence saying so goes first, and `previous_question` names it."""
    line = f"*{TEMPLATES['followup']} “{escape_markdown(previous)}”*"
    return replace(answer, answer=f"{line}\n\n{answer.answer}", previous_question=previous)


def render_text(answer: Answer, *, color: bool = False) -> str:
    """The answer for people reading a terminal: citations, quotes, the best sentence marked."""
    if answer.status != "answered":
        return (
            answer.answer
            if answer.status != "invalid"
            else f"{TEMPLATES['invalid']} {answer.message}"
        )

    def mark(s: str) -> str:
        return f"\x1b[1;4m{s}\x1b[0m" if color else f">>{s}<<"

    out = []
    if answer.previous_question is not None:
        out += [f"{TEMPLATES['followup']} “{answer.previous_question}”", ""]
    out += [TEMPLATES["intro"], ""]
    for q in answer.passages:
        a, b = q.highlight.start - q.start, q.highlight.end - q.start
        out.append(f"[{q.number}] {q.citation()}")
        for flag in q.flags:
            out.append(f"    {LABELS[flag]}")
        quoted = q.text[:a] + mark(q.text[a:b]) + q.text[b:]
        out.extend("    " + line for line in quoted.splitlines())
        out.append("")
    out.append(TEMPLATES["disclaimer"])
    return "\n".join(out)
