"""Build time: the corpus's vocabulary with word vectors, saved with the index for query
expansion (expansion.py reads it; answering never imports this module)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .expansion import Vocabulary, WordEncoder
from .lexical import stem, words


def _stopwords() -> frozenset[str]:
    """scikit-learn's English stop words (318) with bm25s' own."""
    from bm25s.stopwords import STOPWORDS_EN
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | frozenset(STOPWORDS_EN)


def build_vocabulary(texts: Sequence[str], model: WordEncoder) -> Vocabulary:
    """The vocabulary of `texts`; each stem's most frequent surface form stands for it.
    Function words are left out: "could" is close to "might" for the word model, and
    neither says what a question is about."""
    stopwords = _stopwords()
    counts = Counter(w for tokens in words(texts) for w in tokens if w not in stopwords)
    best: dict[str, tuple[int, str]] = {}
    for word, n in counts.items():
        s = stem(word)
        if s not in best or (-n, word) < (-best[s][0], best[s][1]):
            best[s] = (n, word)
    stems = tuple(sorted(best))
    forms = tuple(best[s][1] for s in stems)
    return Vocabulary(stems, forms, model.embed(forms), stopwords)
