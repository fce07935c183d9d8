"""The focus of a question: what it asks beyond the corpus's own topic, for abstention.

A question the source does not cover but that is about its topic ("is milia more common in
women than men?") is as close to the source as a real question: its topic words ("milia")
match every passage, so the relevance of the best passage cannot tell the two apart. What does
tell them apart is the rest of the question ("is more common in women than men?"): a real
question's rest still matches a sentence of the source, an uncovered one's does not.

The topic is read off the corpus, not written down: the words (BM25 stems) found in more than
`Settings.topic_share` of its passages. The focus text is the question with those words taken
out; when nothing but topic and function words remain ("What are milia?"), the question is all
topic and there is no focus to check. The engine embeds the focus text with the question and
abstains when no candidate sentence reaches `Settings.focus_threshold` (calibrated on the dev
questions, like the relevance threshold: `assistant eval --calibrate`).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from .lexical import stem, words
from .question import GREETINGS, THANKS

_WORD = re.compile(r"\w+")

#: Words that say nothing about what is asked: greetings and thanks (as question.py knows
#: them), pleas, request verbs and worry ("hi! what are milia?", "tell me about milia", "what
#: are milia??? pls help, i'm worried"). Like stop words they are the same for every corpus;
#: unlike stop words they are also left out of the focus text, so "thanks" cannot pull the
#: focus away from the question.
# fmt: off
FILLER = frozenset((
    *GREETINGS, *THANKS,                                                        # question.py
    "please", "pls", "plz", "kindly", "lol", "ok", "okay", "hmm", "um",        # pleas, fillers
    "tell", "explain", "know", "wondering", "wonder", "question", "questions",  # requests
    "info", "information", "help",
    "worried", "worry", "worrying", "scared", "afraid", "concerned", "anxious",  # worry
))
# fmt: on


def focus_text(
    question: str,
    topic: Collection[str],
    stopwords: Collection[str] = (),
    *,
    require_topic: bool = True,
) -> str | None:
    """The question without its topic words (and `FILLER`), or None when it has no topic word
    (unless `require_topic` is false: a follow-up read with the previous question, whose topic
    words may all be in that one) or no content word would remain (one of 3 or more
    characters, not a stop word: not in `stopwords`, nor bm25s' list).

    >>> focus_text("is milia more common in women than men?", {"milia"})
    'is more common in women than men?'
    >>> focus_text("hi! What are milia? <br>", {"milia"}, {"what", "are"}) is None
    True
    """
    if not topic:
        return None
    has_topic = False

    def drop(m: re.Match[str]) -> str:
        nonlocal has_topic
        word = m.group().lower()
        if stem(word) in topic:
            has_topic = True
            return ""
        return "" if word in FILLER else m.group()

    kept = _WORD.sub(drop, question)
    if not has_topic and require_topic:
        return None  # no topic word in it: the relevance threshold already judged all of it
    content = [w for w in words([kept])[0] if len(w) >= 3 and w not in stopwords]
    if not content:
        return None  # only topic and function words: nothing beyond the topic to check
    return " ".join(kept.split())
