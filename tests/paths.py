"""Paths the tests share: the checkout and what it ships, and the tests' own data."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = CORPUS / "secondary-milia.txt"
INDEX = ROOT / "index"
TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"

#: The default corpus's own disclaimer (its corpus.meta.json), under every answer with quotes.
DISCLAIMER = json.loads((CORPUS / "corpus.meta.json").read_text(encoding="utf-8"))["disclaimer"]
