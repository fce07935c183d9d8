"""The assistant: load (and if needed rebuild) the index once, then answer questions."""

from __future__ import annotations

import logging
import os
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .answer import Answer, Quote, Span, make_answer, read_with
from .candidates import Store
from .choices import DEFAULT_MODE, MODES, Mode, Reason, Status
from .confidence import DEFAULT_CONFIDENCE, Confidence, ConfidenceModel, coverage, signals
from .conversation import (
    followup_rule,
    has_plural_antecedent,
    history_problem,
    joined,
    points_back_plural,
    previous_question,
    without_lead,
)
from .corpus import corpus_files, load_corpus
from .embedding import Embedder, load_embedder, resolve_model
from .errors import (
    IndexBuildError,
    IndexCorruptError,
    IndexMissingError,
    IndexProtectedError,
    IndexStaleError,
    ModelUnavailableError,
    SettingsError,
)
from .expansion import word_model, word_model_words
from .focus import FILLER, focus_text
from .freshness import SourceWatch
from .language import english_word_test, foreign_language
from .lexical import bm25s_stopwords, stem, words
from .product import load_product
from .qdrant_store import is_qdrant_index, load_qdrant
from .question import is_chitchat, validate_question
from .retrieval import Hit, best_sentences, search
from .settings import Settings, check_top_k
from .spelling import QUESTION_WORDS, Speller, all_known
from .store import build_index, load_index

log = logging.getLogger(__name__)

#: Trailing characters ranking ignores: "what are milia?" and "what are milia" are one question.
TRAILING = " \t\n?!.,;:…？！。"

#: Every question ends with one question mark for ranking, however it was typed.
QUERY_END = "?"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Decision(NamedTuple):
    """What `Assistant.decide` makes of a question's hits."""

    shown: tuple[Hit, ...]  # the hits to quote, best first
    status: Status  # answered | related | not_found
    focus_relevance: float | None  # best focus cosine over the candidates (None: no focus)
    confidence: Confidence  # the confidence in the first hit and the reason for the status


def refusal_status(
    relevance: float | None,
    focus: float | None,
    settings: Settings,
    confidence: float | None = None,
    cutoff: float = 0.0,
    definition: bool = False,
) -> tuple[Status, Reason]:
    """`not_found`, `related` or `answered`, and why (a `Reason`), for the best
    relevance and focus relevance of a question's hits, by the settings' (calibrated)
    thresholds, and for the `confidence` that its first quote answers it against `cutoff`
    (None: not checked; `definition`: the first quote defines what a definition question asks
    about, which passes the check): the refusal rule, which `Assistant.decide` applies and evaluation
    reuses on recorded scores."""
    limits = settings.thresholds()
    if relevance is None or relevance < limits.relevance:
        return Status.NOT_FOUND, Reason.RELEVANCE
    if focus is not None and focus < limits.focus:
        return Status.RELATED, Reason.FOCUS
    if confidence is None:
        return Status.ANSWERED, Reason.UNCHECKED
    if definition:
        return Status.ANSWERED, Reason.DEFINITION
    if confidence < cutoff:
        return Status.RELATED, Reason.CONFIDENCE
    return Status.ANSWERED, Reason.CONFIDENT


def _strength(answer: Answer) -> int:
    """How far an answer got: 3 `answered`, 2 `related` by the confidence model alone (it
    passed the relevance and focus thresholds), 1 `related` by the focus check, 0 no quotes.
    A follow-up is read with the previous question when that reading reaches 2, as it was
    when `answered` meant passing both thresholds."""
    if answer.status == Status.ANSWERED:
        return 3
    if answer.status != Status.RELATED:
        return 0
    reason = answer.confidence.reason if answer.confidence is not None else None
    return 2 if reason == Reason.CONFIDENCE else 1


def default_paths(corpus: Path | str | None, index: Path | str | None) -> tuple[Path, Path]:
    """The folders given (the CLI's --corpus/--index, or VERBATIM_CORPUS/VERBATIM_INDEX read
    by the CLI and the app), else ./corpus and ./index when they exist, else the folders
    beside the package (a source checkout)."""

    def pick(given: Path | str | None, name: str) -> Path:
        if given:
            return Path(given)
        return default_folder(name)

    return pick(corpus, "corpus"), pick(index, "index")


def default_folder(name: str) -> Path:
    """./<name> when it exists, else the folder beside the package (a source checkout)."""
    return Path.cwd() / name if (Path.cwd() / name).exists() else PROJECT_ROOT / name


def check_may_replace(
    corpus: Path | str | None,
    index: Path | str | None,
    corpus_dir: Path,
    index_dir: Path,
    *,
    automatic: bool,
) -> None:
    """index_guard's rules, given the corpus and index asked for (--corpus/--index or
    VERBATIM_CORPUS/VERBATIM_INDEX, as the CLI and the app read them; None: not named)."""
    from .index_guard import check_may_replace

    check_may_replace(
        corpus_dir,
        index_dir,
        default_corpus=default_folder("corpus"),
        corpus_named=bool(corpus),
        index_named=bool(index),
        automatic=automatic,
    )


def query_embedder(settings: Settings, index: Store) -> Embedder:
    """The ONNX encoder saved with the index when there is one (no torch, so a fast start),
    else sentence-transformers. `Settings(onnx=False)` forces sentence-transformers."""
    if index.encoder_dir is not None and settings.onnx:
        try:
            from .onnx_encoder import OnnxEmbedder

            onnx = OnnxEmbedder(index.encoder_dir)
            if onnx.model_id == index.manifest.model:
                return onnx
            log.warning("the ONNX encoder is for %r, not the index's model", onnx.model_id)
        except ModelUnavailableError as exc:
            log.warning("%s Using sentence-transformers instead.", exc)
    elif settings.onnx:
        log.warning(
            "the index has no ONNX query encoder (built with VERBATIM_ONNX=0), so answering "
            "loads torch; rebuild it with `assistant build` for a faster start"
        )
    return load_embedder(settings.model)


def _without_command(error: Exception) -> str:
    """An index error's message without its closing "Rebuild it with `…`." advice: when the
    rebuild is refused, that command would replace the protected index, so only the refusal's
    own advice is given."""
    text = str(error)
    cut = text.rfind(" Rebuild ")
    return text[:cut] if cut > 0 and text.endswith("`.") else text


def _writable(index_dir: Path) -> bool:
    try:  # a name over the system's limit raises instead of answering
        target = index_dir if index_dir.exists() else index_dir.parent
        return os.access(target, os.W_OK) and os.access(index_dir.parent, os.W_OK)
    except OSError:
        return False


#: Above this many characters of source text, typos are corrected towards the vocabulary's one
#: form per stem rather than every word form of the source (reading it all would slow the first
#: question of a large corpus).
SPELLING_TEXT_LIMIT = 5_000_000


def corpus_words(index: Store) -> set[str]:
    """The words typos are corrected towards: every word form of the source documents when
    they are here and not too large, else the vocabulary's forms (one per stem)."""
    vocabulary = index.vocabulary
    forms = set(vocabulary.forms) if vocabulary is not None else set()
    texts = [d.text for d in index.documents.values()]
    if texts and sum(len(t) for t in texts) <= SPELLING_TEXT_LIMIT:
        forms.update(w for tokens in words(texts) for w in tokens)
    return forms


class Assistant:
    """Answers questions about a corpus with verbatim, cited quotes.

    >>> assistant = Assistant.load()                                   # doctest: +SKIP
    >>> assistant.ask("Can steroid creams make milia worse?").status   # doctest: +SKIP
    'answered'
    """

    def __init__(
        self,
        index: Store,
        embedder: Embedder,
        settings: Settings,
        corpus_dir: Path,
        index_dir: Path,
    ) -> None:
        self.index = index
        self.embedder = embedder
        # Thresholds left as None come from the index's own calibration (or the defaults).
        self.settings = settings.with_calibration(index.manifest.calibration)
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        # The corpus's own words (corpus.meta.json): the disclaimer under every answer with
        # quotes, and the page's title and examples. A broken file fails here, at load.
        self.product = load_product(corpus_dir, index.documents)
        # Before every answer: has a source file changed since it was read (freshness.py)?
        self.sources = SourceWatch(corpus_dir, index.documents)
        self._topic: dict[float, frozenset[str]] = {}
        self._topic_word: str | None = None  # topic_word(): "" when the corpus has none
        self._known_word: Callable[[str], bool] | None = None
        self._speller: Speller | None = None
        self._speller_built = False
        self._speller_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        corpus: Path | str | None = None,
        index: Path | str | None = None,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        rebuild: bool = True,
        progress: bool = False,
        qdrant: str | None = None,
        qdrant_api_key: str | None = None,
    ) -> Assistant:
        """Load the index for `corpus`, rebuilding it if it is missing or stale and `rebuild` is
        true and the folder is writable. Raises a `VerbatimError` subclass otherwise.

        When the index folder was built with `--store qdrant` (or `qdrant` is given), the
        passages are read from that Qdrant collection, at `qdrant` (a URL or local folder; by
        default the location recorded at build time), sending `qdrant_api_key` to a server;
        such an index is never rebuilt automatically."""
        settings = settings or Settings()
        corpus_dir, index_dir = default_paths(corpus, index)
        if qdrant or is_qdrant_index(index_dir):
            # The index is in Qdrant; the corpus is optional (checksums when it is absent).
            model_id = (
                embedder.model_id if embedder is not None else resolve_model(settings.model)[0]
            )
            loaded: Store = load_qdrant(
                index_dir, corpus_dir, settings, model_id, qdrant or None, qdrant_api_key
            )
            return cls._ready(loaded, embedder, settings, corpus_dir, index_dir)
        corpus_files(corpus_dir)  # a missing or empty corpus fails here, before any slow work
        model_id = embedder.model_id if embedder is not None else resolve_model(settings.model)[0]
        try:
            loaded = load_index(index_dir, corpus_dir, settings, model_id)
        except (IndexMissingError, IndexStaleError, IndexCorruptError) as exc:
            if not rebuild:
                raise
            if not _writable(index_dir):
                raise type(exc)(
                    f"{exc} The index folder is read-only here, so it cannot be rebuilt "
                    "automatically; run that command where it is writable."
                ) from None
            try:
                check_may_replace(corpus, index, corpus_dir, index_dir, automatic=True)
            except IndexProtectedError as refused:
                raise IndexProtectedError(f"{_without_command(exc)} {refused}") from None
            log.warning("%s Rebuilding it now.", exc)
            load_corpus(corpus_dir)  # a bad corpus file fails here, before the model loads
            embedder = embedder or load_embedder(settings.model)
            try:
                build_index(corpus_dir, index_dir, settings, embedder, progress=progress)
            except IndexBuildError as write_error:
                raise IndexBuildError(f"{exc} Rebuilding it failed: {write_error}") from None
            loaded = load_index(index_dir, corpus_dir, settings, model_id)
        return cls._ready(loaded, embedder, settings, corpus_dir, index_dir)

    @classmethod
    def _ready(
        cls,
        loaded: Store,
        embedder: Embedder | None,
        settings: Settings,
        corpus_dir: Path,
        index_dir: Path,
    ) -> Assistant:
        if settings.query_expansion and loaded.vocabulary is not None:
            # Load the word model while the query encoder loads: both take a few tenths of a
            # second, and the first question needs both. word_model() is locked, so the first
            # `ask` simply waits for this if it is not done yet.
            threading.Thread(target=word_model, name="verbatim-word-model", daemon=True).start()
        embedder = embedder or query_embedder(settings, loaded)
        if embedder.dimension != loaded.dimension:
            raise IndexStaleError(
                f"the index has dimension {loaded.dimension} but model "
                f"{embedder.model_id!r} gives {embedder.dimension}. Rebuild with `assistant build`."
            )
        return cls(loaded, embedder, settings, corpus_dir, index_dir)

    def with_settings(self, settings: Settings) -> Assistant:
        """The same loaded index and model answering with other query-time settings (the build
        fields must match the index's)."""
        if settings.build_fields() != self.settings.build_fields():
            raise SettingsError(
                f"the index was built with {self.settings.build_fields()}, "
                f"not {settings.build_fields()}; load it again with those settings"
            )
        other = type(self)(self.index, self.embedder, settings, self.corpus_dir, self.index_dir)
        other.sources = self.sources  # the same files, read once
        return other

    def ask(
        self,
        question: object,
        *,
        history: Sequence[object] | None = None,
        top_k: int | None = None,
        mode: Mode | str = DEFAULT_MODE,
    ) -> Answer:
        """Answer one question. Never raises for any question or history value; raises
        `CorpusChangedError` (an `IndexStaleError`) once a corpus file changed after loading.

        `history`: the previous questions of the conversation, oldest first (strings, or the
        `Answer`s given to them). A follow-up ("what about on babies?") is then read together
        with the most recent usable one (conversation.py); the answer says so.
        """
        return self.ask_many([question], histories=[history], top_k=top_k, mode=mode)[0]

    def ask_many(
        self,
        questions: Sequence[object],
        *,
        histories: Sequence[Sequence[object] | None] | None = None,
        top_k: int | None = None,
        mode: Mode | str = DEFAULT_MODE,
    ) -> list[Answer]:
        """Answer several questions, embedding them in one batch. `histories`, when given, holds
        one history per question (see `ask`); without it every question is read alone."""
        k = self.settings.top_k if top_k is None else check_top_k(top_k)
        if mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        mode = Mode(mode)
        if histories is None:
            histories = [None] * len(questions)
        if len(histories) != len(questions):
            raise SettingsError(
                f"histories must hold one history per question: {len(histories)} for "
                f"{len(questions)} questions"
            )
        # Never a quote from a file that changed since it was read: CorpusChangedError.
        self.sources.check(f"assistant build --corpus {self.corpus_dir} --index {self.index_dir}")
        checked = [validate_question(q, self.settings.max_question_chars) for q in questions]
        answers: list[Answer | None] = [None] * len(questions)
        # Texts to retrieve for; a follow-up has two readings (alone, joined with the previous
        # question). Focus texts come from the question itself, for the joined reading too:
        # what a follow-up adds must be in the source, not only what the previous one asked.
        texts: list[str] = []
        focus_of: list[str] = []
        topic_required: list[bool] = []
        # alone, joined (or None), joined with the lead left out of its focus check (or None),
        # previous
        readings: dict[int, tuple[int, int | None, int | None, str]] = {}
        for i, c in enumerate(checked):
            problem = c.problem or history_problem(histories[i])
            if problem:
                answers[i] = make_answer(c.text, Status.INVALID, message=problem)
            elif is_chitchat(c.text):
                answers[i] = make_answer(c.text, Status.CHITCHAT)
            elif (language := self.foreign_language(c.text)) is not None:
                answers[i] = replace(make_answer(c.text, Status.NOT_ENGLISH), language=language)
            else:
                rule = followup_rule(c.text, self._names_topic, self._is_content)
                previous = self.previous_question(c.text, histories[i] or (), rule)
                alone = len(texts)
                texts.append(c.text)
                focus_of.append(c.text)
                topic_required.append(True)
                joined_at = bare_at = None
                # A question that points back to nothing said before ("how long do they
                # last?" first, or after "does retinol help?") is also read about the source's
                # main topic ("milia how long do they last?"), used when alone it finds no
                # answer.
                with_text = previous
                if previous is None and rule == "reference":
                    with_text = self.topic_word()
                if with_text is not None:
                    joined_at = len(texts)
                    texts.append(joined(with_text, c.text))
                    focus_of.append(c.text)
                    topic_required.append(False)
                    # The focus check of a short continuation is also read without its lead
                    # ("and on babies?" as "on babies?"): either passing is enough.
                    bare = without_lead(c.text)
                    if bare != c.text:
                        bare_at = len(texts)
                        texts.append(texts[joined_at])
                        focus_of.append(bare)
                        topic_required.append(False)
                readings[i] = (alone, joined_at, bare_at, previous or "")
        if texts:
            focus = self.focus_texts([self.query_text(f) for f in focus_of], topic_required)
            found = self._retrieve(texts, focus, k, mode)
            for i, (alone, joined_at, bare_at, previous) in readings.items():
                answer = found[alone]
                second = found[joined_at] if joined_at is not None else None
                if (
                    bare_at is not None
                    and second is not None
                    and _strength(found[bare_at]) > _strength(second)
                ):
                    second = found[bare_at]
                if second is not None and previous and _strength(second) >= 2:
                    # Read with the previous question first; the answer says so.
                    answer = read_with(replace(second, question=checked[i].text), previous)
                elif second is not None and not previous and _strength(second) > _strength(answer):
                    # About the topic: only a rescue, when alone it found less.
                    answer = replace(second, question=checked[i].text)
                answers[i] = answer
        return [a for a in answers if a is not None]

    def _retrieve(
        self, texts: list[str], focus: list[str | None], k: int, mode: Mode
    ) -> list[Answer]:
        """Retrieve and make an answer for each text (questions, or follow-ups joined with
        the previous question), embedding texts and focus texts in one batch."""
        queries = [self.query_text(t) for t in texts]  # what ranking sees (typos, "?")
        extra = [f for f in focus if f is not None]
        started = time.perf_counter()
        vectors = self.embedder.encode(queries + extra)  # one batch: questions, then foci
        embed_ms = (time.perf_counter() - started) * 1000 / len(texts)
        focus_vectors = iter(vectors[len(texts) :])
        expansions = self._expansions(queries, mode)
        found = []
        for text, query, vector, expansion, f in zip(texts, queries, vectors, expansions, focus):
            focus_vector = next(focus_vectors) if f is not None else None
            found.append(
                self._answer(text, vector, k, mode, embed_ms, expansion, focus_vector, query)
            )
        return found

    def previous_question(
        self, question: str, history: Sequence[object], rule: str | None
    ) -> str | None:
        """The previous question a follow-up is read together with (conversation.py), or None
        when `question` stands on its own (`rule`: its `followup_rule`) or the history holds no
        usable question. A question whose references are all plural ("how long do they
        last?") is read only with a question that names something plural."""
        if not history or rule is None:
            return None
        limit = self.settings.max_question_chars
        plural = rule == "reference" and points_back_plural(question)

        def usable(text: str) -> bool:
            c = validate_question(text, limit)
            return (
                c.problem is None
                and not is_chitchat(c.text)
                and self.foreign_language(c.text) is None
                and (
                    not plural or has_plural_antecedent(c.text, self._names_topic, self._is_content)
                )
            )

        previous = previous_question(history, usable)
        return None if previous is None else validate_question(previous, limit).text

    def foreign_language(self, question: str) -> str | None:
        """The language of a question that is not in English (language.py), else None."""
        if not self.settings.language_check:
            return None
        if self._known_word is None:
            # Every BM25 stem of the corpus: the stems in more than 0% of the passages.
            corpus_stems = self.index.common_stems(0.0)
            self._known_word = english_word_test(self._stopwords, corpus_stems, stem)
        # Judged on what ranking reads (typos corrected towards known words), as typed and
        # lower-cased: foreign only if both readings say so, so that one typo or a question in
        # capitals cannot make an English question look foreign.
        text = self.query_text(question)
        language = foreign_language(text, self._known_word)
        if language is None or foreign_language(text.lower(), self._known_word) is None:
            return None
        return language

    @cached_property
    def _stopwords(self) -> frozenset[str]:
        """English stop words: bm25s' and those stored with the index's vocabulary."""
        vocabulary = self.index.vocabulary
        return frozenset(bm25s_stopwords()) | (vocabulary.stopwords if vocabulary else frozenset())

    def _names_topic(self, word: str) -> bool:
        return word not in self._stopwords and stem(word) in self.topic()

    def _is_content(self, word: str) -> bool:
        return len(word) >= 3 and word not in self._stopwords and word not in FILLER

    def decide(
        self,
        top: list[Hit],
        focus_vector: np.ndarray | None,
        candidates: list[Hit],
        query: str = "",
    ) -> Decision:
        """The refusal rule, in one place: which of the `top` hits are shown, and the status.

        - `not_found`: no hit reaches the relevance threshold: nothing in the source is near.
        - `related`: some do, but the question's focus (focus.py) matches no candidate
          sentence at the focus threshold: the source has passages near the question (its
          topic) and none of them clearly answers what it asks. They are shown under the
          `related` template.
        - `answered`: both thresholds are met.
        """
        focus = None
        if focus_vector is not None and candidates:
            sentences = best_sentences(self.index, [h.row for h in candidates], focus_vector)
            focus = max(b.cosine for b in sentences.values())
        shown = tuple(h for h in top if h.relevance >= self.settings.thresholds().relevance)
        relevance = max((h.relevance for h in top), default=None)
        model = self.confidence_model
        covered = 1.0
        if candidates:
            first = self.index.passage(candidates[0].row)
            passage_stems = {stem(w) for w in words([self.index.quote_text(first)])[0]}
            covered = coverage(self.question_stems(query), passage_stems)
        evidence = signals(candidates, focus, covered)
        score = model.score(evidence) if evidence is not None else None
        status, reason = refusal_status(
            relevance,
            focus,
            self.settings,
            score if self.settings.confidence_check else None,
            model.cutoff,
            evidence is not None and evidence.definition,
        )
        confidence = Confidence(score, model.cutoff, reason, evidence)
        return Decision(shown if status != Status.NOT_FOUND else (), status, focus, confidence)

    def question_stems(self, query: str) -> set[str]:
        """The stems of a question's own content words: not stop words, filler or the
        corpus's topic words (what `coverage` looks for in the first passage)."""
        return {
            stem(w)
            for w in words([query])[0]
            if self._is_content(w) and stem(w) not in self.topic()
        }

    @cached_property
    def confidence_model(self) -> ConfidenceModel:
        """The index's confidence model (fitted by `assistant eval --calibrate`, in its
        manifest), else the one fitted on the seed article's dev questions."""
        calibration = self.index.manifest.calibration
        if calibration and "confidence" in calibration:
            return ConfidenceModel.from_json(calibration["confidence"])
        return DEFAULT_CONFIDENCE

    def speller(self) -> Speller | None:
        """Typo correction towards known words (spelling.py); None when the index has no word
        vocabulary. Known English words are the whole words of the query encoder's and the
        word model's tokenizers, so every index of a corpus corrects alike for one model,
        whichever encoder (ONNX or torch) answers."""
        with self._speller_lock:
            if not self._speller_built:
                self._speller_built = True
                vocabulary = self.index.vocabulary
                encoder_words = getattr(self.embedder, "words", None)
                english = word_model_words() | (
                    encoder_words() if callable(encoder_words) else frozenset()
                )
                if vocabulary is not None and english:
                    self._speller = Speller.build(
                        [*corpus_words(self.index), *QUESTION_WORDS, *vocabulary.stopwords],
                        english,
                        vocabulary.stems,
                    )
            return self._speller

    def query_text(self, question: str) -> str:
        """What ranking sees of a checked question: without trailing punctuation (so "?" or
        "." never changes an answer) and, when `Settings.spelling` is on, with typos
        corrected. The answer still shows the question as asked. Read in NFKC form, so that
        full-width letters ("ｗｈａｔ ｃａｕｓｅｓ ｍｉｌｉａ？") read as the words they show."""
        question = unicodedata.normalize("NFKC", question)
        text = (question.rstrip(TRAILING) or question) + QUERY_END
        if not self.settings.spelling or all_known(text, *self._surely_known):
            return text  # the speller would leave it as it is: no need to build it
        speller = self.speller()
        return speller.correct(text) if speller is not None else text

    @cached_property
    def _surely_known(self) -> tuple[frozenset[str], frozenset[str]]:
        """Words and stems the speller would know (a subset of what it is built from), read
        without building it: the question words, the index's stop words and its stems."""
        vocabulary = self.index.vocabulary
        if vocabulary is None:
            return frozenset(), frozenset()
        return QUESTION_WORDS | vocabulary.stopwords, frozenset(vocabulary.stems)

    def topic_word(self) -> str | None:
        """The source's main topic as a word: of the topic stems that are content words, the
        one in the most passages, in the surface form the index's vocabulary keeps ("milia").
        None when the corpus has no such word (or the index has no vocabulary)."""
        if self._topic_word is None:
            vocabulary = self.index.vocabulary
            forms = dict(zip(vocabulary.stems, vocabulary.forms)) if vocabulary else {}
            word = ""
            share = self.settings.topic_share
            while share < 1.0:  # the narrowest share that still leaves a topic word
                found = sorted(
                    forms[s]
                    for s in self.index.common_stems(share)
                    if s in forms and self._is_content(forms[s]) and forms[s].isalpha()
                )
                if not found:
                    break
                word = found[0]
                share += 0.05
            self._topic_word = word
        return self._topic_word or None

    def topic(self) -> frozenset[str]:
        """The corpus's topic words (BM25 stems in more than `topic_share` of the passages)."""
        share = self.settings.topic_share
        if share not in self._topic:
            self._topic[share] = self.index.common_stems(share)
        return self._topic[share]

    def focus_texts(
        self, questions: list[str], require_topic: Sequence[bool] | None = None
    ) -> list[str | None]:
        """Each question's focus text (focus.py), or None when there is nothing to check.
        `require_topic[i]` false: question i is a follow-up read with the previous question,
        and its focus is its own words beyond the topic, whether or not it names the topic."""
        if not self.settings.focus_check:
            return [None] * len(questions)
        topic = self.topic()
        vocabulary = self.index.vocabulary
        stopwords = vocabulary.stopwords if vocabulary is not None else frozenset()
        required = [True] * len(questions) if require_topic is None else require_topic
        return [
            focus_text(q, topic, stopwords, require_topic=r) for q, r in zip(questions, required)
        ]

    def _expansions(self, questions: list[str], mode: Mode) -> list[dict[str, float] | None]:
        """The expanded BM25 query of each question (expansion.py), or None when off."""
        vocabulary = self.index.vocabulary
        if mode != Mode.RERANK or not self.settings.query_expansion or vocabulary is None:
            return [None] * len(questions)
        model = word_model()
        if model is None:
            return [None] * len(questions)
        expanded = vocabulary.expand(
            questions,
            model,
            self.settings.expansion_threshold,
            self.settings.expansion_terms,
        )
        return list(expanded)

    def _answer(
        self,
        question: str,
        vector: np.ndarray,
        k: int,
        mode: Mode,
        embed_ms: float,
        expansion: dict[str, float] | None = None,
        focus_vector: np.ndarray | None = None,
        query: str | None = None,
    ) -> Answer:
        started = time.perf_counter()
        hits = search(
            self.index,
            vector,
            query or question,
            mode=mode,
            rrf_k=self.settings.rrf_k,
            rerank_weights=self.settings.rerank_weights,
            expansion=expansion,
            promo_penalty=self.settings.promo_penalty,
            definition_bonus=self.settings.definition_bonus,
        )
        relevance = max((h.relevance for h in hits), default=None)
        shown, status, focus, confidence = self.decide(
            hits[:k], focus_vector, hits, query or question
        )
        quotes = []
        for number, hit in enumerate(shown, start=1):
            p = self.index.passage(hit.row)
            quotes.append(
                Quote(
                    number=number,
                    id=p.id,
                    text=self.index.quote_text(p),
                    source=p.source,
                    title=self.index.title(p.source),
                    section=p.section,
                    paragraph=p.paragraph,
                    start=p.start,
                    end=p.end,
                    score=round(hit.score, 6),
                    relevance=round(hit.relevance, 6),
                    highlight=Span(*hit.highlight),
                    flags=p.flags,
                )
            )
        answer = make_answer(
            question,
            status if quotes else Status.NOT_FOUND,
            tuple(quotes),
            disclaimer=self.product.disclaimer,
        )
        timings = {"embed_ms": embed_ms, "search_ms": (time.perf_counter() - started) * 1000}
        return replace(
            answer,
            relevance=None if relevance is None else round(relevance, 6),
            focus_relevance=None if focus is None else round(focus, 6),
            confidence=confidence,
            timings=timings,
        )
