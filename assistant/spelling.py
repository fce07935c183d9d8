"""Small typos in a question ("milya", "waht") matched to known words.

A misspelt word matches nothing in BM25 and splits into odd word pieces for the encoder, so
"what is milya" could rank differently from "what is milia". A word of a question is unknown
when it is not a word of the corpus, nor a whole word of the word model's tokenizer vocabulary
(WordLlama's, about 11,000 common English words, shipped in its wheel, so the same for every
index), nor another form (same stem) of any of those. An unknown word is corrected when exactly one known word with the same first letter
is one edit away (RapidFuzz's Damerau-Levenshtein distance: a swap of two letters is one edit),
or, among several, exactly one word of the corpus or a question word. Typists rarely get the
first letter wrong, and one edit keeps real words such as "redistribute" from becoming
"distribute". A rare real word can still be taken for a typo ("yolk" ranks as "york"): that
only moves passages, and cost nothing on the eval questions (docs/quality.md).

Only ranking sees the corrected text: the answer shows the question as asked, and every quote
is still `source[start:end]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .lexical import stem

_WORD = re.compile(r"[A-Za-z]+")
MIN_LENGTH = 4

#: Words questions are made of (interrogatives, auxiliaries and modals, pronouns): typos are
#: corrected towards them too ("waht", "shoud"), whatever words the corpus has.
# fmt: off
QUESTION_WORDS = frozenset((
    "what", "whats", "how", "why", "when", "where", "which", "who", "whom", "whose",
    "do", "does", "did", "doing", "done", "can", "could", "should", "would", "will", "shall",
    "may", "might", "must", "am", "is", "are", "was", "were", "be", "been", "being", "have",
    "has", "had", "get", "got", "i", "im", "ive", "me", "my", "mine", "myself", "we", "us",
    "our", "you", "your", "yours", "yourself", "it", "its", "itself", "they", "them", "their",
    "these", "those", "this", "that", "there", "anything", "something", "someone", "thing",
    "things", "way", "ways", "kind", "really", "actually", "just",
))
# fmt: on


def whole_words(vocab: Iterable[str]) -> frozenset[str]:
    """The whole, alphabetic, lower-case words of a tokenizer's vocabulary: WordPiece's plain
    entries, or SentencePiece's entries that start a word ("▁what")."""
    words = (w[1:] if w.startswith("\u2581") else w for w in vocab)
    return frozenset(w for w in words if w.isalpha() and w.islower())


def tokenizer_words(tokenizer_json: Path) -> frozenset[str]:
    """`whole_words` of a tokenizer saved as JSON (the `tokenizers` format)."""
    payload = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    vocab = payload.get("model", {}).get("vocab", {})
    if isinstance(vocab, list):  # Unigram models list [piece, score] pairs
        vocab = [piece for piece, _ in vocab]
    return whole_words(vocab)


def all_known(text: str, words: Collection[str], stems: Collection[str]) -> bool:
    """True when `Speller.correct` leaves `text` as it is, judged from a subset of the words
    and stems it is built from: every word of the text is short, in `words` (lower-cased) or
    has its stem in `stems`. Building the speller reads its whole English dictionary (a few
    tenths of a second), so the first question of a process skips that when it can.

    >>> all_known("What are milia?", {"what"}, {"milia"})
    True
    """
    for match in _WORD.finditer(text):
        lower = match.group().lower()
        if len(lower) >= MIN_LENGTH and lower not in words and stem(lower) not in stems:
            return False
    return True


@dataclass(frozen=True)
class Speller:
    """Corrects typos towards `targets` (the corpus's words and question words); words in
    `known` are never corrected."""

    targets: tuple[str, ...]
    known: frozenset[str]
    stems: frozenset[str] = frozenset()
    preferred: frozenset[str] = frozenset()  # the corpus's own words win a tie
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, targets: Iterable[str], known: Iterable[str], stems: Iterable[str] = ()
    ) -> Speller:
        words = {t.lower() for t in targets if t.isalpha() and len(t) >= 3}
        known = frozenset(known) | frozenset(words)
        # A known word's other forms are known too ("whiteheads" when "whitehead" is).
        stems = frozenset(stems) | frozenset(stem(w) for w in known)
        dictionary = sorted(words | {w for w in known if len(w) >= 3})
        return cls(tuple(dictionary), known, stems, frozenset(words))

    def word(self, word: str) -> str:
        """`word` corrected, or unchanged when it is known, short or ambiguous."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.known:
            return word
        if lower in self._cache:
            return self._cache[lower]
        fixed = word
        if stem(lower) not in self.stems:
            # Imported on the first unknown word: most questions have none.
            from rapidfuzz import process
            from rapidfuzz.distance import DamerauLevenshtein

            found = process.extract(
                lower, self.targets, scorer=DamerauLevenshtein.distance, score_cutoff=1, limit=10
            )
            near = [w for w, _, _ in found if w[0] == lower[0]]
            ours = [w for w in near if w in self.preferred]
            if len(near) == 1:
                fixed = near[0]
            elif len(ours) == 1:
                fixed = ours[0]
        if len(self._cache) < 50_000:
            self._cache[lower] = fixed
        return fixed

    def correct(self, text: str) -> str:
        """`text` with each unknown word replaced by its correction.

        >>> Speller.build(["milia", "what", "cause"], ["causes"]).correct("waht causes milya?")
        'what causes milia?'
        """
        return _WORD.sub(lambda m: self.word(m.group()), text)
