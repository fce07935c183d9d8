"""Query expansion: the question's words matched to the corpus's own words by meaning.

BM25 only counts words a question shares with a passage, so a person who asks about "my
antifungal cream" or "bumps on my nose" gets no lexical credit for the passage on "fungus
treatments" or "the nasal area". Here every distinct word of the corpus (one surface form per
BM25 stem) gets a static word vector at build time; at query time each content word of the
question (not a stop word: scikit-learn's English list, saved with the vocabulary) adds the
corpus words whose cosine with it is at least `Settings.expansion_threshold`
(at most `Settings.expansion_terms` per word) to the BM25 query, weighted by that cosine, while
the question's own words keep weight 1 (embedding-based query expansion, as in Kuzi, Shtok &
Kurland, CIKM 2016). The expanded BM25 feeds the `rerank` mode only; `bm25` and `hybrid` stay
the standard baselines. The vocabulary is built with the index (expansion_build.py); this module
is what answering needs.

The word vectors come from WordLlama (`wordllama` on PyPI: the wheel ships its 256-d
`l2_supercat` token embeddings and tokenizer; read offline in ~0.1 s, no torch). A word's
vector is the average of its token embeddings, so words the corpus never uses ("antifungal")
still get one. Expansion only changes how passages are ranked: every quote is still
`source[start:end]`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .lexical import stem, words

log = logging.getLogger(__name__)

#: The word model's id, written into the manifest with the vectors made by it.
WORD_MODEL = "wordllama/l2_supercat-256"
WORDS_FILE = "words.json"
VECTORS_FILE = "vectors.npy"
#: The embedding matrix's name in the wheel's safetensors file.
TENSOR = "embedding.weight"

CACHE_WORDS = 50_000  # per process; cleared when full
_lock = threading.Lock()
_model: WordEncoder | None = None
_failed = False


class WordEncoder:
    """WordLlama's `embed(norm=True)`: a text's tokens (no special tokens), their rows of the
    embedding matrix averaged, scaled to unit length.

    Read straight from the files the `wordllama` wheel ships, without importing the package:
    its import builds pydantic configs and sets the root logger to INFO, ~0.4 s of a cold start
    and log lines that are not ours. tests/test_expansion.py checks the vectors equal
    `WordLlama.load().embed(..., norm=True)`.
    """

    def __init__(self, weights: Path, tokenizer: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.matrix = np.ascontiguousarray(load_file(str(weights))[TENSOR], dtype=np.float32)
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])

    def embed(self, items: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (zeros for a text with no tokens)."""
        out = np.zeros((len(items), self.dimension), dtype=np.float32)
        last = self.matrix.shape[0] - 1
        encoded = self.tokenizer.encode_batch(list(items), add_special_tokens=False)
        for i, enc in enumerate(encoded):
            if enc.ids:
                ids = np.clip(np.asarray(enc.ids), 0, last)
                out[i] = self.matrix[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)


def _wheel_files() -> tuple[Path, Path]:
    """The weights and tokenizer inside the installed wordllama package (not imported)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the wordllama package is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "weights" / "l2_supercat_256.safetensors", (
        root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    )


def word_model() -> WordEncoder | None:
    """The word model, loaded once per process; None (with one warning) if it cannot be."""
    global _model, _failed
    with _lock:
        if _model is None and not _failed:
            try:
                _model = WordEncoder(*_wheel_files())
            except Exception as exc:  # noqa: BLE001 - any failure means: answer without it
                _failed = True
                log.warning(
                    "query expansion is off: the WordLlama word model cannot be loaded "
                    "(%s: %s). Install it with `pip install wordllama==0.4.0.post1`.",
                    type(exc).__name__,
                    exc,
                )
        return _model


def word_model_words() -> frozenset[str]:
    """The whole words of the word model's tokenizer (spelling.py's known words); empty when
    the wheel is missing."""
    from .spelling import tokenizer_words

    try:
        return tokenizer_words(_wheel_files()[1])
    except (OSError, ValueError):
        return frozenset()


@dataclass(frozen=True)
class Vocabulary:
    """The corpus's words: one BM25 stem each, the surface form shown to the word model, and
    its vector (row i of `vectors`)."""

    stems: tuple[str, ...]
    forms: tuple[str, ...]
    vectors: np.ndarray
    stopwords: frozenset[str] = frozenset()  # never expanded, never added
    _cache: dict[tuple[str, int], tuple[tuple[str, float], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": WORD_MODEL,
            "words": [list(x) for x in zip(self.stems, self.forms)],
            "stopwords": sorted(self.stopwords),
        }
        (folder / WORDS_FILE).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
        np.save(folder / VECTORS_FILE, self.vectors, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Vocabulary:
        payload = json.loads((folder / WORDS_FILE).read_text(encoding="utf-8"))
        if payload.get("model") != WORD_MODEL:
            raise ValueError(f"word vectors are from {payload.get('model')!r}, not {WORD_MODEL}")
        pairs = payload["words"]
        vectors = np.load(folder / VECTORS_FILE, allow_pickle=False)
        if vectors.shape[0] != len(pairs) or vectors.dtype != np.float32:
            raise ValueError("the word list and its vectors disagree")
        stopwords = frozenset(str(w) for w in payload.get("stopwords", ()))
        return cls(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), vectors, stopwords)

    def expand(
        self,
        questions: Sequence[str],
        model: WordEncoder,
        threshold: float,
        terms: int,
    ) -> list[dict[str, float]]:
        """For each question, BM25 query weights: its own stems at 1.0, plus, for each content
        word (not a stop word), up to `terms` corpus stems whose cosine with that word is
        >= `threshold`, at that cosine (a stem reached from several words keeps its best)."""
        tokenized = words(questions)
        content = sorted({w for tokens in tokenized for w in tokens if w not in self.stopwords})
        near: dict[str, tuple[tuple[str, float], ...]] = {}
        for word in content:
            cached = self._cache.get((word, terms))
            if cached is not None:
                near[word] = cached
        near.update(self._neighbours([w for w in content if w not in near], model, terms))
        out = []
        for tokens in tokenized:
            weights = {stem(w): 1.0 for w in tokens}
            for word in tokens:
                for other, score in near.get(word, ()):
                    if score >= threshold:
                        weights[other] = max(weights.get(other, 0.0), score)
            out.append(weights)
        return out

    def _neighbours(
        self, new: list[str], model: WordEncoder, terms: int
    ) -> dict[str, tuple[tuple[str, float], ...]]:
        """Each new word's `terms` nearest corpus stems with their cosines, also cached for
        this process (words recur across questions: "white", "bumps", the topic's words)."""
        take = min(terms, len(self.stems))
        if not new or take <= 0:
            return {}
        if len(self._cache) > CACHE_WORDS:
            self._cache.clear()
        sims = model.embed(new) @ self.vectors.T
        found = {}
        for word, row in zip(new, sims):
            top = np.argpartition(-row, take - 1)[:take]
            found[word] = tuple((self.stems[j], float(row[j])) for j in top)
            self._cache[(word, terms)] = found[word]
        return found
