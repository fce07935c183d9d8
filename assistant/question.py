"""Checking and normalising a question before it reaches retrieval.

A question is refused (status `invalid`) with a message saying why when it is not text, is
empty, is too long, holds control characters or lone surrogates, or has no letters or digits.
Invisible formatting characters (zero-width, bidi overrides) are removed, not refused: they are
common in pasted text and carry no meaning. Small talk is recognised by fixed patterns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ALLOWED_CONTROLS = frozenset("\t\n\r")

#: Greeting and thanks words: small talk here, and never part of a question's focus (focus.py).
GREETINGS = ("hi", "hello", "hey", "hiya", "howdy", "yo", "greetings")
THANKS = ("thanks", "thank", "thx", "ty", "cheers")

#: One piece of small talk; a message of several ("ok thank you, bye") is still small talk.
_SMALL_TALK = rf"""(?:
        (?:{"|".join(GREETINGS)}|good\ (?:morning|afternoon|evening|day))
            (?:\ (?:there|bot|assistant|everyone|again))?
      | (?:thank\ you|thank\ u|many\ thanks|{"|".join(THANKS)})
            (?:\ (?:a\ lot|so\ much|very\ much|again|for\ (?:the|your)\ help))?
      | (?:ok|okay|great|cool|nice|perfect|awesome|got\ it)
      | (?:bye|goodbye|good\ bye|see\ you|see\ ya|farewell)
    )"""

_CHITCHAT = re.compile(
    rf"""^(?:
        {_SMALL_TALK}(?:\ (?:and\ )?{_SMALL_TALK})*
      | (?:who|what)\ are\ you | what\ is\ this | what\ can\ you\ do | what\ do\ you\ do
      | how\ does\ this\ work | how\ do\ (?:i|you)\ use\ this | help
      | are\ you\ (?:a\ |an\ )?(?:real\ )?(?:bot|robot|human|person|doctor|ai|chatbot)
            (?:\ or\ (?:a\ |an\ )?(?:real\ )?(?:bot|robot|human|person|doctor|ai|chatbot))?
      | how\ are\ you(?:\ doing)?(?:\ today)?
    )$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class CheckedQuestion:
    text: str  # the question with invisible formatting removed and whitespace collapsed
    problem: str | None  # why it cannot be answered, or None


def validate_question(question: object, max_chars: int) -> CheckedQuestion:
    """Validate and normalise a question; `problem` says what is wrong and how to fix it."""
    if not isinstance(question, str):
        return CheckedQuestion("", f"The question must be text, not {type(question).__name__}.")
    if len(question) > max_chars:
        return CheckedQuestion(
            "",
            f"The question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Please ask a shorter question.",
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in question):
        return CheckedQuestion("", "The question contains invalid characters (lone surrogates).")
    if any(unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROLS for c in question):
        return CheckedQuestion(
            "",
            "The question contains control characters (such as NUL). Please type it as plain text.",
        )
    text = "".join(c for c in question if unicodedata.category(c) != "Cf")
    text = " ".join(text.split())
    if not text:
        return CheckedQuestion(
            "", "The question is empty. Please type a question about the source."
        )
    if not any(c.isalnum() for c in text):
        return CheckedQuestion(
            text, "The question has no letters or digits. Please type a question in words."
        )
    return CheckedQuestion(text, None)


def _normalised(text: str) -> str:
    words = re.sub(r"[^\w\s']", " ", text.casefold())
    return " ".join(words.replace("'", "").split())


def is_chitchat(text: str) -> bool:
    """Greetings, thanks, goodbyes and questions about the assistant itself."""
    return bool(_CHITCHAT.match(_normalised(text)))


_BYE = re.compile(r"\b(?:bye|goodbye|good bye|see you|see ya|farewell)\b")
_THANKS = re.compile(r"\b(?:thanks?|thank you|thank u|thx|ty|cheers)\b")
_ACK = re.compile(r"^(?:(?:ok|okay|great|cool|nice|perfect|awesome|got it)\s*)+$")


def small_talk_kind(text: str) -> str:
    """Which fixed reply fits a piece of small talk: "bye", "thanks", "ok" or "hello" (a
    greeting, or a question about the assistant)."""
    normalised = _normalised(text)
    if _BYE.search(normalised):
        return "bye"
    if _THANKS.search(normalised):
        return "thanks"
    if _ACK.match(normalised):
        return "ok"
    return "hello"
