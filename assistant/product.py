"""The product's own words: title, source card, disclaimer, examples. From the corpus, not code.

They are read from the corpus-level metadata file ``corpus.meta.json`` in the corpus folder
(beside the documents and their sidecars). Every key is optional::

    {
      "app_title": "Verbatim: questions about …, answered from one article",
      "source_card": "What the source is, and how it is quoted.",
      "disclaimer": "What the quotes are not (shown in the header and after every answer).",
      "placeholder": "Ask a question about …",
      "examples": ["A question the source answers?", "…"]
    }

Without the file (or a key) the page uses the generic defaults below, and the source card
falls back to each document's title and ``origin`` from its sidecar. The file is not part of
the index: editing it changes the page and the disclaimer under every answer (the engine's,
the CLI's and the web's alike), never which passages are quoted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CorpusError
from .render import TEMPLATES

if TYPE_CHECKING:
    from .corpus import Document

#: The corpus-level metadata file, in the corpus folder.
PRODUCT_FILE = "corpus.meta.json"

DEFAULT_TITLE = "Verbatim: questions answered from the source, word for word"
DEFAULT_DISCLAIMER = TEMPLATES["disclaimer"]
DEFAULT_PLACEHOLDER = "Ask a question about the source"
MAX_EXAMPLES = 8


@dataclass(frozen=True)
class SourceCard:
    """What the header says about one document."""

    title: str
    source: str  # the file, relative to the corpus folder
    about: str  # what kind of text it is and how it is quoted ('' when nothing is known)


@dataclass(frozen=True)
class Product:
    """Everything the page says that is not a template or a quote."""

    app_title: str = DEFAULT_TITLE
    disclaimer: str = DEFAULT_DISCLAIMER
    placeholder: str = DEFAULT_PLACEHOLDER
    examples: tuple[str, ...] = ()
    cards: tuple[SourceCard, ...] = ()


def _text(meta: dict[str, object], key: str, path: Path | None, default: str) -> str:
    value = meta.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"{path}: '{key}' must be a non-empty string, got {value!r}.")
    return value.strip()


def load_product(corpus_dir: Path | None, documents: dict[str, Document]) -> Product:
    """The product text for a corpus folder holding these documents.

    Raises `CorpusError` naming the file and key when the metadata file is unusable.
    """
    path = Path(corpus_dir) / PRODUCT_FILE if corpus_dir is not None else None
    meta: dict[str, object] = {}
    if path is not None and path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CorpusError(f"{path}: not valid JSON ({exc}). Fix or remove the file.") from None
        if not isinstance(loaded, dict):
            raise CorpusError(f"{path}: must hold a JSON object, got {type(loaded).__name__}.")
        meta = loaded
    examples = meta.get("examples", [])
    if not isinstance(examples, list) or not all(
        isinstance(e, str) and e.strip() for e in examples
    ):
        raise CorpusError(f"{path}: 'examples' must be a list of questions (strings).")
    if len(examples) > MAX_EXAMPLES:
        raise CorpusError(f"{path}: at most {MAX_EXAMPLES} examples, got {len(examples)}.")
    card_text = meta.get("source_card")
    cards = tuple(
        SourceCard(
            title=doc.title,
            source=doc.source,
            about=(
                _text(meta, "source_card", path, "")
                if card_text is not None and len(documents) == 1
                else doc.origin
            ),
        )
        for doc in documents.values()
    )
    return Product(
        app_title=_text(meta, "app_title", path, DEFAULT_TITLE),
        disclaimer=_text(meta, "disclaimer", path, DEFAULT_DISCLAIMER),
        placeholder=_text(meta, "placeholder", path, DEFAULT_PLACEHOLDER),
        examples=tuple(e.strip() for e in examples),
        cards=cards,
    )
