"""Verbatim: answers questions about a source text by quoting it, with citations.

>>> from assistant import Assistant                      # doctest: +SKIP
>>> Assistant.load().ask("What causes milia?").status     # doctest: +SKIP
'answered'
"""

from .answer import Answer, Quote, Span
from .engine import Assistant
from .errors import (
    CorpusError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    ModelUnavailableError,
    SettingsError,
    VerbatimError,
)
from .settings import Settings

__all__ = [
    "Answer",
    "Assistant",
    "CorpusError",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "ModelUnavailableError",
    "Quote",
    "Settings",
    "SettingsError",
    "Span",
    "VerbatimError",
]
