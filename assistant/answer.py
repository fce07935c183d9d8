"""The answer model: `Answer` and its `Quote`s, and `make_answer`, which builds one from a
status, quotes and the fixed templates.

Nothing here is generated from the question or the corpus: the text of an answer comes from
the fixed templates and verbatim quotes of render.py, the one module that renders answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .choices import QUOTING, STATUSES, Status
from .confidence import Confidence
from .question import small_talk_kind
from .render import LABELS, TEMPLATES, answer_markdown, citation, escape_markdown, render_text

__all__ = [
    "LABELS",
    "QUOTING",
    "STATUSES",
    "TEMPLATES",
    "Answer",
    "Quote",
    "Span",
    "Status",
    "make_answer",
    "read_with",
    "escape_markdown",
    "render_text",
]


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
        return citation(self)


@dataclass(frozen=True)
class Answer:
    """What `Assistant.ask` returns; `to_dict()` is the `--json` and `/ask` contract."""

    question: str
    status: Status  # a plain string is taken too, and made a Status
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
    # What decided the status (confidence.py): the probability that the first quote answers
    # the question, its cutoff, the reason and the signals read. None when retrieval did not
    # run (chitchat, invalid, not_english).
    # Not compared: its unrounded signals differ in the last bits between batch sizes.
    confidence: Confidence | None = field(default=None, compare=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        object.__setattr__(self, "status", Status(self.status))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (lists, not tuples): what `json.dumps` writes is what it is."""
        out = asdict(self)
        out.pop("timings")
        out["status"] = self.status.value
        out["passages"] = list(out["passages"])
        out["confidence"] = None if self.confidence is None else self.confidence.to_dict()
        for quote, p in zip(self.passages, out["passages"]):
            p["flags"] = list(quote.flags)
            p["labels"] = [LABELS[flag] for flag in quote.flags]
            p["citation"] = quote.citation()
        return out


def make_answer(
    question: str,
    status: Status,
    quotes: tuple[Quote, ...] = (),
    message: str = "",
    disclaimer: str | None = None,
) -> Answer:
    """An answer with this status: its markdown from the templates and quotes only, and
    `disclaimer` (the corpus's own, product.py) under the quotes if given."""
    if status not in (*QUOTING, Status.INVALID):
        quotes = ()
    kind = small_talk_kind(question) if status == Status.CHITCHAT else "hello"
    text = answer_markdown(status, quotes, message, kind, disclaimer)
    return Answer(question=question, status=status, answer=text, passages=quotes, message=message)


def read_with(answer: Answer, previous: str) -> Answer:
    """`answer` to a follow-up that was read together with the `previous` question: the fixed
    sentence saying so goes first, and `previous_question` names it."""
    line = f"*{TEMPLATES['followup']} “{escape_markdown(previous)}”*"
    return replace(answer, answer=f"{line}\n\n{answer.answer}", previous_question=previous)
