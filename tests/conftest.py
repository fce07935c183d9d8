"""Shared fixtures: the seed corpus, a deterministic fake embedder, the real model once."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from paths import ROOT, SEED

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class FakeEmbedder:
    """Hashed bag of words: each word gets a fixed random vector seeded by its sha256.

    Texts sharing words are similar, so retrieval behaves sensibly, but nothing loads torch.
    """

    model_id = "fake-hash-embedder"
    dimension = 64

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
                out[i] += np.random.default_rng(seed).standard_normal(self.dimension)
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the real corpus folder (document and sidecar)."""
    target = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", target)
    return target


@pytest.fixture(scope="session")
def real_embedder():
    from assistant.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def real_assistant(real_embedder):
    """The assistant over the committed index, as users get it (never rebuilt by tests)."""
    from assistant import Assistant

    return Assistant.load(ROOT / "corpus", ROOT / "index", embedder=real_embedder, rebuild=False)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium (scripts/chromium.py), one per test module; skips without it."""
    from scripts.chromium import CHROMIUM, launch

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()
