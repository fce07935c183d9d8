"""Paths the tests share: the checkout and what it ships, and the tests' own data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = CORPUS / "secondary-milia.txt"
INDEX = ROOT / "index"
TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
