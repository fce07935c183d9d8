"""The lexical index: BM25 (bm25s, Lucene variant) over stemmed, stop-worded tokens.

Saved with bm25s' own `save()`: numpy arrays without pickle plus JSON vocabulary and params.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from bm25s.tokenization import Tokenized

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG when imported, which would print its progress whatever the
# application chose; hand the decision back to the application's root logger.
logging.getLogger("bm25s").setLevel(logging.NOTSET)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


#: bm25s' own tokenisation (scikit-learn's CountVectorizer pattern on lower-cased text, then its
#: English stop words), done here without bm25s.tokenize's per-call progress-bar and vocabulary
#: set-up, which cost more than the rest of a question's BM25 (tests/test_lexical.py checks the
#: two agree on the corpus and the eval questions).
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


def words(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English-stop-worded word tokens, before stemming (for query expansion)."""
    return [[t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS] for text in texts]


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English-stop-worded, Snowball-stemmed word tokens."""
    stemmer = _stemmer()
    return [list(stemmer.stemWords(tokens)) for tokens in words(texts)]


def stem(word: str) -> str:
    """The Snowball stem `tokenize` gives a lower-cased word."""
    return str(_stemmer().stemWord(word))


@dataclass(frozen=True)
class LexicalIndex:
    model: bm25s.BM25

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        model = bm25s.BM25()
        corpus_tokens = tokenize(texts)
        # bm25s cannot index an empty vocabulary; a placeholder token keeps odd corpora working.
        if not any(corpus_tokens):
            corpus_tokens = [["\u2400"] for _ in corpus_tokens]
        # A sorted vocabulary makes the saved index byte-identical from build to build (bm25s
        # would number tokens in set order, which Python's string hashing salts per process).
        vocab = {
            token: i for i, token in enumerate(sorted({t for doc in corpus_tokens for t in doc}))
        }
        ids = [[vocab[t] for t in doc] for doc in corpus_tokens]
        model.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
        return cls(model)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query word is known)."""
        vocab = self.model.vocab_dict
        tokens = [t for t in tokenize([query])[0] if t in vocab]
        if not tokens:
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

    def weighted_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """BM25 of every passage for a weighted query: the sum of weight * BM25 of each stem
        (stems outside the vocabulary are ignored). Weights of 1.0 give `scores`.

        bm25s scores a query as the sum of its tokens' precomputed per-document scores (a
        sparse token x document matrix); this is the same sum with a weight per token, in one
        vectorised pass over the tokens' columns."""
        vocab = self.model.vocab_dict
        pairs = [(vocab[t], w) for t, w in weights.items() if t in vocab and w > 0]
        num_docs = int(self.model.scores["num_docs"])
        if not pairs:
            return np.zeros(num_docs, dtype=np.float32)
        if getattr(self.model, "nonoccurrence_array", None) is not None:  # other BM25 variants
            return sum(
                (w * np.asarray(self.model.get_scores([i]), np.float32) for i, w in pairs),
                np.zeros(num_docs, dtype=np.float32),
            )
        ids = np.array([i for i, _ in pairs])
        token_weights = np.array([w for _, w in pairs], dtype=np.float64)
        indptr = self.model.scores["indptr"]
        starts, lengths = indptr[ids], indptr[ids + 1] - indptr[ids]
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = offsets + np.arange(int(lengths.sum()))
        contributions = self.model.scores["data"][positions] * np.repeat(token_weights, lengths)
        docs = self.model.scores["indices"][positions]
        return np.bincount(docs, weights=contributions, minlength=num_docs).astype(np.float32)

    def common_stems(self, share: float) -> frozenset[str]:
        """The stems found in more than `share` of the passages (the corpus's topic words), read
        off the index's token x document matrix: a stem's column holds one entry per passage."""
        num_docs = int(self.model.scores["num_docs"])
        indptr = np.asarray(self.model.scores["indptr"])
        counts = np.diff(indptr)
        by_id = {i: t for t, i in self.model.vocab_dict.items()}
        return frozenset(by_id[i] for i in np.nonzero(counts > share * num_docs)[0] if i in by_id)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        model = bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False)
        return cls(model)
