"""Is a question in English? The assistant reads and quotes English only.

A question in another language would otherwise get "the source text does not cover this",
which is not true: the assistant simply cannot read it. Such a question gets the fixed
`not_english` reply instead (answer.py).

Language identification is py3langid's naive Bayes model over byte n-grams, shipped inside
the wheel (numpy arrays, no pickle, no download). On short questions it is unreliable ("are
milia painful" comes out Romanian, "can lupus cause milia" Latin), so it is not trusted alone:
a question is taken as not English only when the model's best language is not English AND at
most half of its words (two letters or more) are known English words: English stop words or
words of the corpus (compared by BM25 stem). Short English questions about the source are made
of exactly such words; a question in Spanish, German or French about the same thing has at
most the topic's name ("milia") in common with them. Measured on eval/questions.jsonl (no
English question flagged) and eval/languages.jsonl (docs/quality.md).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Collection

log = logging.getLogger(__name__)

#: Share of known English words at or below which a question the model does not call English
#: is taken as not English.
KNOWN_SHARE = 0.5

_WORD = re.compile(r"(?u)\b\w\w+\b")
_lock = threading.Lock()
_identifier = None
_failed = False


def identifier():  # type: ignore[no-untyped-def]
    """py3langid's shipped model (about 0.6 s to load, once: it is xz-compressed), or None if it
    cannot load."""
    global _identifier, _failed
    with _lock:
        if _identifier is None and not _failed:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            except Exception as exc:  # noqa: BLE001 - without it every question is read as English
                _failed = True
                log.warning(
                    "the language check is off: py3langid cannot be loaded (%s: %s). "
                    "Install it with `pip install py3langid==0.4.0`.",
                    type(exc).__name__,
                    exc,
                )
        return _identifier


def _words(text: str) -> list[str]:
    """The text's words of two letters or more (letters only), lower-cased."""
    return [w for w in _WORD.findall(text.casefold().replace("’", "'")) if w.isalpha()]


def known_share(text: str, is_known: Callable[[str], bool]) -> float:
    """Share of the text's words (two letters or more, lower-cased) that `is_known` accepts;
    1.0 when it has none (nothing to judge: read as English)."""
    found = _words(text)
    if not found:
        return 1.0
    return sum(1 for w in found if is_known(w)) / len(found)


#: Fewest Latin-script words the model is trusted on. On two words it guesses: "zinc
#: ointment" came out Catalan, "coconut oil" Finnish, "milia deep" Latin, all with a
#: probability of 0.04-0.14, and their words need not be in the corpus; so a question of one
#: or two Latin-script words is read as English (eval/languages.jsonl has none that short).
LATIN_WORDS_JUDGED = 3


def _judgeable(text: str) -> bool:
    """Enough text to judge: `LATIN_WORDS_JUDGED` words or more, or any word in a script other
    than Latin ("粟丘疹", "милиумы"). One or two Latin-script words ("Milienbehandlung",
    "coconut oil") are left alone."""
    found = _words(text)
    if len(found) >= LATIN_WORDS_JUDGED:
        return True
    return any(not ("a" <= c <= "z" or "\u00c0" <= c <= "\u024f") for w in found for c in w)


def foreign_language(text: str, is_known: Callable[[str], bool]) -> str | None:
    """The language code (ISO 639, py3langid's best guess) of a question that is not in
    English, or None when it is English or cannot be judged. Judged in NFKC form: full-width
    Latin letters are the same letters."""
    text = unicodedata.normalize("NFKC", text)
    if not _judgeable(text):
        return None
    # Both must say "not English"; the word count first, as it needs no model: most English
    # questions never load the model (0.3-0.7 s, the slowest part of a cold start).
    if known_share(text, is_known) > KNOWN_SHARE:
        return None
    model = identifier()
    if model is None:
        return None
    language, _ = model.classify(text)
    if language == "en" or language == "und":
        return None
    return str(language)


def english_word_test(
    stopwords: Collection[str], corpus_stems: Collection[str], stem: Callable[[str], str]
) -> Callable[[str], bool]:
    """`is_known` for `foreign_language`: a stop word, or a word whose stem is in the corpus."""
    stops = frozenset(stopwords)
    stems = frozenset(corpus_stems)
    return lambda word: word in stops or stem(word) in stems
