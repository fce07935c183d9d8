"""The fixed choices, defined once: answer statuses and their reasons, retrieval modes and dense
index kinds.

They are `StrEnum`s, so a member equals its string (`Mode.RERANK == "rerank"`) and JSON, click
and the manifest see the same plain strings as before.

>>> Mode("dense") is Mode.DENSE, str(IndexKind.HNSW_SQ8), Status.NOT_FOUND == "not_found"
(True, 'hnsw_sq8', True)
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What an answer is (`Answer.status`, the `status` of `--json` and `/ask`)."""

    ANSWERED = "answered"  # quotes that answer the question
    RELATED = "related"  # the closest passages, under a sentence saying they do not answer it
    NOT_FOUND = "not_found"  # nothing in the source is near the question
    CHITCHAT = "chitchat"  # small talk, not a question about the source
    INVALID = "invalid"  # unusable input; `message` says what is wrong
    NOT_ENGLISH = "not_english"  # a question in another language


class Reason(StrEnum):
    """Why an answer has its status (`Confidence.reason`, the JSON's `confidence.reason`)."""

    RELEVANCE = "relevance"  # not_found: no passage reaches the relevance threshold
    FOCUS = "focus"  # related: the focus check found nothing that matches the question's focus
    CONFIDENCE = "confidence"  # related: the confidence is below the cutoff
    CONFIDENT = "confident"  # answered: every check passed
    DEFINITION = "definition"  # answered: the first quote defines what the question asks about
    UNCHECKED = "unchecked"  # answered: the confidence check is off (Settings.confidence_check)


#: The statuses' strings, as the JSON contract and README list them.
STATUSES = tuple(status.value for status in Status)
#: Statuses whose answer shows quotes: `related` shows the closest passages under its own
#: sentence ("The source does not answer this directly. ...").
QUOTING = (Status.ANSWERED, Status.RELATED)


class Mode(StrEnum):
    """How retrieval scores candidates (retrieval.py; `assistant eval --modes` compares them)."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"
    RERANK = "rerank"


#: The mode `ask` uses when none is given.
DEFAULT_MODE = Mode.RERANK
#: The modes' strings, as options and messages show them (`click.Choice(MODES)`).
MODES = tuple(mode.value for mode in Mode)


class IndexKind(StrEnum):
    """The FAISS index type (dense.py); `auto` picks flat or HNSW by size."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    HNSW_SQ8 = "hnsw_sq8"
    IVF = "ivf"
    IVF_SQ8 = "ivf_sq8"


INDEX_KINDS = tuple(kind.value for kind in IndexKind)
