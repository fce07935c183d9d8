"""Conversation: when a question leans on the one before it, and how the previous one is used.

`Assistant.ask(question, history=[...])` takes the previous questions of the conversation,
oldest first (plain strings, or the `Answer`s the assistant gave: their `question` is used).
Only the most recent usable one matters: the last that is not invalid, not small talk and not
in another language. The rules read the wording of the new question only; nothing is fitted to
the source's wording:

1. **Continuation**: it starts with *and*, *but*, *so*, *also*, *or*, *then*, *plus*, *what
   about*, *how about*, *what if*... ("what about on babies?", "and chemical peels?"), unless
   what follows the lead is a whole question of its own: it starts with a question word or an
   auxiliary verb, names the corpus's topic and points back to nothing ("and can alopecia cause
   milia?").
2. **Reference**: it points back with a pronoun or demonstrative (*it*, *they*, *them*, *that*,
   *this*, *those*...) and does not name the corpus's topic itself ("does it stop them coming
   back?", "how does that happen?"; but not "do milia go away on their own?"). When its
   references are all plural ("how long do they last?"), only a previous question that names
   something plural is used (`has_plural_antecedent`): not "does retinol help?".
3. **Bare**: it has no content word at all ("why not?", "how so?").

The corpus's topic is the engine's (focus.py: words in more than a third of the passages,
content words only: "milia", "skin" for the default corpus).

A follow-up is answered twice in one batch: read together with the previous question (the two
texts joined, previous first) and alone. The joined reading is used when it finds an answer;
otherwise the question is answered alone, so an unrelated question that merely starts with
"and" is not rescued by the previous one. The joined reading's focus check reads the
follow-up's own words, with and without its lead (`without_lead`); either passing is enough.
When the joined reading is used, the answer says so in a fixed sentence and `Answer.previous_question` names the question it was read with.
A reference with nothing to point back to is read about the source's main topic instead
(`Assistant.topic_word()`), and only when alone it finds no answer (engine.py).
Measured on eval/followups.jsonl (docs/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

#: How many history entries, newest first, are searched for a usable previous question.
MAX_LOOKBACK = 20

#: A history given to the API: at most this many entries (older ones are not needed).
MAX_HISTORY = 50

#: One-word leads ("and how long does that last?").
LEADS = frozenset({"and", "but", "so", "also", "or", "then", "plus"})
#: Two-word leads ("what about on babies?").
LEAD_PAIRS = frozenset(
    {"what about", "how about", "what if", "same for", "what of", "and if", "as for"}
)
#: Words that point back to something said before.
REFERENCES = frozenset(
    {
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "that",
        "this",
        "these",
        "those",
        "same",
    }
)
#: References that need a plural antecedent ("how long do they last?" cannot point back to
#: "does retinol help?").
PLURAL_REFERENCES = frozenset({"they", "them", "their", "theirs", "themselves", "these", "those"})
#: Word endings that look plural but are not ("glass", "virus", "psoriasis", "this").
_NOT_PLURAL_ENDINGS = ("ss", "us", "is", "ous")
#: Words a whole question starts with (after a lead: "and can alopecia cause milia?").
QUESTION_STARTS = frozenset(
    {
        "what", "how", "why", "when", "where", "who", "whom", "whose", "which",
        "can", "could", "do", "does", "did", "is", "are", "was", "were", "will", "would",
        "should", "shall", "may", "might", "must", "have", "has", "had",
    }
)  # fmt: skip

_WORD = re.compile(r"[\w']+")


def tokens(question: str) -> list[str]:
    """Lower-cased words, curly apostrophes made straight."""
    return _WORD.findall(question.casefold().replace("’", "'"))


def _lead_length(words: Sequence[str]) -> int:
    """How many of `words` (a question's `tokens`) are its continuation lead: 2 ("what about"),
    1 ("and") or 0."""
    if " ".join(words[:2]) in LEAD_PAIRS:
        return 2
    return 1 if words and words[0] in LEADS else 0


def followup_rule(
    question: str,
    names_topic: Callable[[str], bool],
    is_content: Callable[[str], bool],
) -> str | None:
    """Which rule makes `question` a follow-up, or None when it stands on its own.

    `names_topic(word)`: the word is a content word of the corpus's topic ("milia").
    `is_content(word)`: the word carries meaning (not a stop word or filler).

    >>> topic = lambda w: w == "milia"
    >>> content = lambda w: w not in {"what", "about", "on", "why", "not", "and", "can"}
    >>> followup_rule("what about on babies?", topic, content)
    'continuation'
    >>> followup_rule("and can alopecia cause milia?", topic, content) is None
    True
    >>> followup_rule("why not?", topic, content)
    'bare'
    """
    words = tokens(question)
    if not words:
        return None
    topical = any(names_topic(w) for w in words)
    refers = any(w in REFERENCES for w in words)
    lead = _lead_length(words)
    if lead:
        rest = words[lead:]
        whole = bool(rest) and rest[0] in QUESTION_STARTS and topical and not refers
        return None if whole else "continuation"
    if refers and not topical:
        return "reference"
    if not any(is_content(w) for w in words):
        return "bare"
    return None


def without_lead(question: str) -> str:
    """`question` without its continuation lead ("and", "what about", ...): what it adds to the
    previous question. The lead is conversation, not content, so the joined reading's focus
    check also reads the question without it ("and on babies?" also as "on babies?").

    >>> without_lead("and on babies?"), without_lead("How about adults?")
    ('on babies?', 'adults?')
    >>> without_lead("and?")
    'and?'
    """
    lead = _lead_length(tokens(question))
    if not lead:
        return question
    rest = question
    for _ in range(lead):
        found = _WORD.search(rest)
        if found is None:
            return question
        rest = rest[found.end() :]
    rest = rest.lstrip(" ,;:-")
    return rest if _WORD.search(rest) else question


def points_back_plural(question: str) -> bool:
    """The question's references are all plural ones ("they", "them", "these"...), so what
    it points back to must be plural."""
    found = {w for w in tokens(question) if w in REFERENCES}
    return bool(found) and found <= PLURAL_REFERENCES


def has_plural_antecedent(
    text: str, names_topic: Callable[[str], bool], is_content: Callable[[str], bool]
) -> bool:
    """`text` (a previous question) names something a plural pronoun can point to: the
    corpus's topic, a plural-looking content word ("creams", "medications") or a plural
    reference of its own.

    >>> topic = lambda w: w == "milia"
    >>> content = lambda w: w not in {"does", "help", "can", "cause"}
    >>> has_plural_antecedent("does retinol help?", topic, content)
    False
    >>> has_plural_antecedent("can steroid creams cause a rash?", topic, content)
    True
    """
    for w in tokens(text):
        if names_topic(w) or w in PLURAL_REFERENCES:
            return True
        plural = len(w) >= 4 and w.endswith("s") and not w.endswith(_NOT_PLURAL_ENDINGS)
        if plural and is_content(w) and w not in QUESTION_STARTS:  # not "does", "has"
            return True
    return False


def previous_question(history: Sequence[object], usable: Callable[[str], bool]) -> str | None:
    """The most recent usable previous question in `history` (oldest first; strings or
    `Answer`s), looking back at most `MAX_LOOKBACK` entries."""
    for entry in list(history)[::-1][:MAX_LOOKBACK]:
        text = entry if isinstance(entry, str) else getattr(entry, "question", None)
        if isinstance(text, str) and usable(text):
            return text
    return None


def history_problem(history: object) -> str | None:
    """What is wrong with a `history` value, or None when it is usable."""
    if history is None:
        return None
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        return (
            "The history must be a list of your previous questions (text), oldest first, "
            f"not {type(history).__name__}."
        )
    if len(history) > MAX_HISTORY:
        return (
            f"The history has {len(history):,} entries; at most {MAX_HISTORY} are accepted. "
            "Send only the most recent questions."
        )
    from .answer import Answer

    for n, entry in enumerate(history, start=1):
        if not isinstance(entry, (str, Answer)):
            return (
                f"History entry {n} is {type(entry).__name__}, not text. The history must be a "
                "list of your previous questions, oldest first."
            )
    return None


def joined(previous: str, question: str) -> str:
    """The text retrieval reads for a follow-up: the previous question, then this one."""
    return f"{previous} {question}"
