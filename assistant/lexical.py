"""The lexical index: BM25 (bm25s, Lucene variant) over stemmed, stop-worded tokens.

Built and saved with bm25s' own `index()` and `save()`: numpy arrays without pickle plus JSON
vocabulary and params. Loaded and scored without importing bm25s: its package imports numba
and scipy.sparse whenever they are installed (half a second of a cold start), though scoring a
saved index is a sum over a few of its arrays' slices, done here exactly as bm25s does it
(tests/test_lexical.py checks the scores are bm25s' own, bit for bit).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import Stemmer

log = logging.getLogger(__name__)

#: The files of bm25s' saved index that scoring reads (bm25s' default names).
PARAMS, VOCAB = "params.index.json", "vocab.index.json"
DATA, INDICES, INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
NONOCCURRENCE = "nonoccurrence_array.index.npy"
#: BM25 variants that add a score for each query word a passage lacks (bm25s' list).
WITH_NONOCCURRENCE = ("bm25l", "bm25+")


def _bm25s() -> Any:
    """bm25s itself, for building and saving (imports numba and scipy when installed)."""
    import bm25s

    # bm25s sets its own logger to DEBUG when imported, which would print its progress
    # whatever the application chose; hand the decision back to the application's root logger.
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


@lru_cache(maxsize=1)
def bm25s_stopwords() -> tuple[str, ...]:
    """bm25s' English stop words, read from its `stopwords.py` without importing the bm25s
    package (whose `__init__` imports numba and scipy)."""
    spec = importlib.util.find_spec("bm25s")  # a top-level package: found, not imported
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("bm25s is not installed: pip install bm25s", name="bm25s")
    path = Path(spec.origin).parent / "stopwords.py"
    source = importlib.util.spec_from_file_location("_verbatim_bm25s_stopwords", path)
    assert source is not None and source.loader is not None
    module = importlib.util.module_from_spec(source)
    source.loader.exec_module(module)
    return tuple(module.STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


#: bm25s' own tokenisation (scikit-learn's CountVectorizer pattern on lower-cased text, then its
#: English stop words), done here without bm25s.tokenize's per-call progress-bar and vocabulary
#: set-up, which cost more than the rest of a question's BM25 (tests/test_lexical.py checks the
#: two agree on the corpus and the eval questions).
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def words(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English-stop-worded word tokens, before stemming (for query expansion)."""
    stopwords = _stopword_set()
    return [[t for t in _TOKEN.findall(text.lower()) if t not in stopwords] for text in texts]


@lru_cache(maxsize=1)
def _stopword_set() -> frozenset[str]:
    return frozenset(bm25s_stopwords())


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English-stop-worded, Snowball-stemmed word tokens."""
    stemmer = _stemmer()
    return [list(stemmer.stemWords(tokens)) for tokens in words(texts)]


def stem(word: str) -> str:
    """The Snowball stem `tokenize` gives a lower-cased word."""
    return str(_stemmer().stemWord(word))


@dataclass(frozen=True)
class LexicalIndex:
    """bm25s' eager index: each token's precomputed per-passage scores, a sparse token x
    passage matrix in CSC form (`data`, `indices`, `indptr`, as bm25s names them)."""

    vocab: Mapping[str, int]
    data: np.ndarray = field(repr=False)
    indices: np.ndarray = field(repr=False)
    indptr: np.ndarray = field(repr=False)
    num_docs: int
    #: bm25s' params (k1, b, method, dtype...), as `save` writes them for bm25s to load.
    params: Mapping[str, Any]
    #: The score a passage gets for a query token it lacks (BM25L and BM25+ only).
    nonoccurrence: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        bm25s = _bm25s()
        from bm25s.tokenization import Tokenized

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
        return cls(
            vocab=model.vocab_dict,
            data=model.scores["data"],
            indices=model.scores["indices"],
            indptr=model.scores["indptr"],
            num_docs=int(model.scores["num_docs"]),
            params={
                "k1": model.k1,
                "b": model.b,
                "delta": model.delta,
                "method": model.method,
                "idf_method": model.idf_method,
                "dtype": model.dtype,
                "int_dtype": model.int_dtype,
                "backend": model.backend,
            },
            nonoccurrence=model.nonoccurrence_array,
        )

    def token_scores(self, ids: Sequence[int]) -> np.ndarray:
        """BM25 of every passage for a query of token ids, a repeated id counted again: bm25s'
        `get_scores_from_ids` (the same additions in the same order and dtype)."""
        query = np.asarray(ids, dtype=np.dtype(self.params["int_dtype"]))
        starts, ends = self.indptr[query], self.indptr[query + 1]
        scores = np.zeros(self.num_docs, dtype=np.dtype(self.params["dtype"]))
        for start, end in zip(starts, ends, strict=True):
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if self.nonoccurrence is not None:
            scores += self.nonoccurrence[query].sum()
        return scores

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query word is known)."""
        ids = [self.vocab[t] for t in tokenize([query])[0] if t in self.vocab]
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        return np.asarray(self.token_scores(ids), dtype=np.float32)

    def weighted_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """BM25 of every passage for a weighted query: the sum of weight * BM25 of each stem
        (stems outside the vocabulary are ignored). Weights of 1.0 give `scores`.

        bm25s scores a query as the sum of its tokens' precomputed per-document scores (a
        sparse token x document matrix); this is the same sum with a weight per token, in one
        vectorised pass over the tokens' columns."""
        pairs = [(self.vocab[t], w) for t, w in weights.items() if t in self.vocab and w > 0]
        num_docs = self.num_docs
        if not pairs:
            return np.zeros(num_docs, dtype=np.float32)
        if self.nonoccurrence is not None:  # other BM25 variants
            return sum(
                (w * np.asarray(self.token_scores([i]), np.float32) for i, w in pairs),
                np.zeros(num_docs, dtype=np.float32),
            )
        ids = np.array([i for i, _ in pairs])
        token_weights = np.array([w for _, w in pairs], dtype=np.float64)
        indptr = self.indptr
        starts, lengths = indptr[ids], indptr[ids + 1] - indptr[ids]
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = offsets + np.arange(int(lengths.sum()))
        contributions = self.data[positions] * np.repeat(token_weights, lengths)
        docs = self.indices[positions]
        return np.bincount(docs, weights=contributions, minlength=num_docs).astype(np.float32)

    def common_stems(self, share: float) -> frozenset[str]:
        """The stems found in more than `share` of the passages (the corpus's topic words), read
        off the index's token x document matrix: a stem's column holds one entry per passage."""
        counts = np.diff(np.asarray(self.indptr))
        by_id = {i: t for t, i in self.vocab.items()}
        common = (int(i) for i in np.nonzero(counts > share * self.num_docs)[0])
        return frozenset(by_id[i] for i in common if i in by_id)

    def save(self, folder: Path) -> None:
        """bm25s' own `save()` of these arrays (what `bm25s.BM25.load` reads)."""
        model = _bm25s().BM25(**self.params)
        model.vocab_dict = dict(self.vocab)
        model.scores = {
            "data": self.data,
            "indices": self.indices,
            "indptr": self.indptr,
            "num_docs": self.num_docs,
        }
        model.nonoccurrence_array = self.nonoccurrence
        model.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """The index bm25s saved in `folder`, read as `bm25s.BM25.load` reads it (numpy
        without pickle, JSON) but without importing bm25s."""
        folder = Path(folder)
        params = json.loads((folder / PARAMS).read_text(encoding="utf-8"))
        num_docs = params.pop("num_docs")
        params.pop("version", None)
        vocab = json.loads((folder / VOCAB).read_text(encoding="utf-8"))
        nonoccurrence = None
        if params.get("method") in WITH_NONOCCURRENCE:
            nonoccurrence = np.load(folder / NONOCCURRENCE, allow_pickle=False)
        return cls(
            vocab=vocab,
            data=np.load(folder / DATA, allow_pickle=False),
            indices=np.load(folder / INDICES, allow_pickle=False),
            indptr=np.load(folder / INDPTR, allow_pickle=False),
            num_docs=int(num_docs),
            params=params,
            nonoccurrence=nonoccurrence,
        )
