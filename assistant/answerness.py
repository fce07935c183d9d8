"""Definition questions and the sentences that answer them.

"What are milia?" is matched best by text that repeats its words ("there are two main types of
milia", "what they are"), but it is answered by a sentence that defines its subject ("Milia are
clusters of small milium cysts ..."). The surface patterns of definitional question answering
(Hildebrandt, Katz & Lin, TREC 2004) find both sides: a question of the form "what is/are X"
and a sentence that opens "X is/are/means/shall mean ...". They are about the form of a
sentence, never its topic, so they hold for any English document ('what is a "Contributor"?'
in a licence). `retrieval.search` adds `Settings.definition_bonus` to a passage holding such a
sentence and highlights it.
"""

from __future__ import annotations

import re

# Definition questions ("What are milia?", 'what is a "Contributor"') are answered by sentences
# that define their subject ("Milia are clusters of ...", '"Contributor" shall mean ...'): the
# surface patterns of definitional question answering (Hildebrandt, Katz & Lin, TREC 2004).
_DEFINITION_QUESTION = re.compile(
    r"^\W*(?:what|who)\s*(?:'s|\s(?:is|are|was|were))\s+(?:(?:a|an|the)\s+)?"
    r"(?P<subject>[\"'“‘]?[^\W\d_][\w\-]*(?:\s+[^\W\d_][\w\-]*){0,2}[\"'”’]?)"
    r"(?:\s+(?:mean|means))?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_DEFINING_VERB = re.compile(
    r"^\s*(?:is|are|was|were|shall\s+mean|means|mean|refers?\s+to|is\s+defined\s+as)\b",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’"
#: Words that turn "what is X ..." into a question about something other than what X is.
# fmt: off
_NOT_SUBJECT = frozenset((
    "of", "in", "on", "for", "to", "from", "with", "by", "about", "at", "made", "like",
    "look", "looks", "called", "caused", "used", "good", "bad", "best", "worst", "difference",
    "cause", "causes", "treatment", "treatments", "cure", "risk", "risks", "sign", "signs",
))
# fmt: on


def definition_subject(question: str) -> str | None:
    """The subject of a definition question, lower-cased, or None.

    >>> definition_subject("What are milia?"), definition_subject('what is the "Work"?')
    ('milia', 'work')
    >>> definition_subject("What are milia made of?") is None
    True
    """
    m = _DEFINITION_QUESTION.match(question)
    if m is None:
        return None
    subject = m.group("subject").strip(_QUOTES).lower()
    if not subject or any(w in _NOT_SUBJECT for w in subject.split()):
        return None  # "what are milia made of": asks about something else than the word
    return subject


def defines(sentence: str, subject: str) -> bool:
    """Whether `sentence` opens by defining `subject` ("Milia are ...", '"Work" shall mean').

    >>> defines("Milia are clusters of small milium cysts.", "milia")
    True
    >>> defines("Basically, there are two main types of milia.", "milia")
    False
    """
    text = sentence.lstrip(" \t\n•-*").lstrip(_QUOTES)
    for article in ("the ", "a ", "an "):
        if text.lower().startswith(article):
            text = text[len(article) :]
            break
    if not text.lower().startswith(subject):
        return False
    rest = text[len(subject) :].lstrip(_QUOTES)
    return bool(_DEFINING_VERB.match(rest))
