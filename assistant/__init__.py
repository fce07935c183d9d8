"""Verbatim: answers questions about a source text by quoting it, with citations.

>>> from assistant import Assistant                      # doctest: +SKIP
>>> Assistant.load().ask("What causes milia?").status     # doctest: +SKIP
'answered'

Names are imported lazily so that `assistant --help` does not pay for numpy, FAISS or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Answer": "answer",
    "Quote": "answer",
    "Span": "answer",
    "Assistant": "engine",
    "Settings": "settings",
    "CorpusError": "errors",
    "IndexCorruptError": "errors",
    "IndexMissingError": "errors",
    "IndexStaleError": "errors",
    "ModelUnavailableError": "errors",
    "SettingsError": "errors",
    "VerbatimError": "errors",
}

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

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
