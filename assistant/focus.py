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

_WORD = re.compile(r"\w+")


def focus_text(
    question: str, topic: Collection[str], stopwords: Collection[str] = ()
) -> str | None:
    """The question without its topic words, or None when it has no topic word or no content
    word (one that is not in `stopwords` or bm25s' stop words) would remain.

    >>> focus_text("is milia more common in women than men?", {"milia"})
    'is more common in women than men?'
    >>> focus_text("What are milia?", {"milia"}, {"what", "are"}) is None
    True
    """
    if not topic:
        return None
    kept = _WORD.sub(lambda m: "" if stem(m.group().lower()) in topic else m.group(), question)
    if not [w for w in words([kept])[0] if w not in stopwords]:  # all topic: nothing to check
        return None
    if kept == question:
        return None  # no topic word in it: the relevance threshold already judged all of it
    return " ".join(kept.split())
