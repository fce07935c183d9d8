"""A small trained answer model: does a candidate passage answer the question, or only share its
words (restate it, list questions, name its topic)?

It is a two-layer perceptron over frozen sentence vectors (the index's own: the question's, the
passage's and its best sentence's) and a few cheap features of the candidate (length, question
marks, BM25 share). It was trained by `python -m training.train_answer_model` on question/answer pairs
from FAQ texts that Debian packages ship, never on this project's corpus or question sets (see
training/README.md for the data, the licences and the measured effect).

Everything here is a pure numpy function of vectors and texts the index already holds, so a
score costs a few small matrix products per question. The weights are read from a `.npz` file
without pickle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("answer_model.npz")  # written by train_answer_model.py
#: Changes whenever `candidate_features` changes, so an old weights file is refused.
FEATURES_VERSION = 1
SCALAR_FEATURES = (
    "passage_cosine",
    "best_sentence_cosine",
    "mean_sentence_cosine",
    "second_sentence_cosine",
    "best_sentence_is_question",
    "question_sentence_share",
    "log_passage_chars",
    "log_best_sentence_chars",
    "log_sentences",
    "bm25_share",
    "best_sentence_is_fragment",
)
FRAGMENT_MAX_WORDS = 6


class AnswerModelError(ValueError):
    """The weights file is missing, unreadable or for other features."""


def candidate_features(
    question_vector: np.ndarray,
    passage_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    sentence_offsets: Sequence[int] | np.ndarray,
    sentence_texts: Sequence[str],
    bm25_share: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """One feature row per candidate passage.

    - `question_vector` (d,): the unit-length question vector.
    - `passage_vectors` (n, d): the candidates' unit-length passage vectors.
    - `sentence_vectors` (m, d): every candidate's sentence vectors, candidate after candidate;
      candidate i's are rows `sentence_offsets[i]:sentence_offsets[i + 1]` (n + 1 offsets,
      every candidate with at least one sentence).
    - `sentence_texts` (m,): those sentences' texts.
    - `bm25_share` (n,): each candidate's BM25 score over the best BM25 score of the question
      (0 when the question has no BM25 match).

    Row layout: the scalars of `SCALAR_FEATURES`, then q*p, q*s and |q-s| (d each), where p is
    the passage vector and s the vector of the passage's sentence most like the question.
    """
    q = np.asarray(question_vector, dtype=np.float32)
    passages = np.asarray(passage_vectors, dtype=np.float32).reshape(-1, q.shape[0])
    sentences = np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, q.shape[0])
    offsets = np.asarray(sentence_offsets, dtype=np.int64)
    n = len(passages)
    if len(offsets) != n + 1 or offsets[0] != 0 or offsets[-1] != len(sentences):
        raise ValueError("sentence_offsets must hold n + 1 offsets from 0 to the sentence count")
    if np.any(np.diff(offsets) < 1):
        raise ValueError("every candidate passage needs at least one sentence")
    if len(sentence_texts) != len(sentences):
        raise ValueError("sentence_texts must give one text per sentence vector")
    share = np.asarray(bm25_share, dtype=np.float32)
    if share.shape != (n,):
        raise ValueError("bm25_share must give one value per candidate passage")
    sims = sentences @ q
    scalars = np.zeros((n, len(SCALAR_FEATURES)), dtype=np.float32)
    best_rows = np.zeros(n, dtype=np.int64)
    for i in range(n):
        a, b = int(offsets[i]), int(offsets[i + 1])
        local = sims[a:b]
        order = np.argsort(-local, kind="stable")
        best = a + int(order[0])
        best_rows[i] = best
        texts = [t.strip() for t in sentence_texts[a:b]]
        best_text = texts[int(order[0])]
        chars = sum(len(t) for t in texts)
        scalars[i] = (
            float(passages[i] @ q),
            float(local[order[0]]),
            float(local.mean()),
            float(local[order[1]]) if len(order) > 1 else float(local[order[0]]),
            float(best_text.endswith("?")),
            float(np.mean([t.endswith("?") for t in texts])),
            math.log1p(chars),
            math.log1p(len(best_text)),
            math.log(b - a),
            float(share[i]),
            float(len(best_text.split()) <= FRAGMENT_MAX_WORDS),
        )
    best_vectors = sentences[best_rows]
    return np.hstack([scalars, passages * q, best_vectors * q, np.abs(best_vectors - q)]).astype(
        np.float32
    )


@dataclass(frozen=True)
class AnswerModel:
    """Standardise the features, one hidden ReLU layer, one output: a logit, higher is more
    answer-like."""

    columns: np.ndarray  # which `candidate_features` columns the model reads
    dimension: int  # the sentence-vector dimension it was trained on
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float

    @classmethod
    def load(cls, path: Path | str = MODEL_FILE) -> AnswerModel:
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise AnswerModelError(f"cannot read the answer model {path}: {exc}") from None
        needed = {"columns", "dimension", "mean", "scale", "w1", "b1", "w2", "b2"}
        needed.add("features_version")
        if not needed <= set(arrays):
            raise AnswerModelError(f"{path} lacks {sorted(needed - set(arrays))}")
        if int(arrays["features_version"]) != FEATURES_VERSION:
            raise AnswerModelError(
                f"{path} was trained on features version {int(arrays['features_version'])}, "
                f"this code computes version {FEATURES_VERSION}: retrain it with "
                "training/train_answer_model.py"
            )
        return cls(
            columns=arrays["columns"].astype(np.int64),
            dimension=int(arrays["dimension"]),
            mean=arrays["mean"].astype(np.float32),
            scale=arrays["scale"].astype(np.float32),
            w1=arrays["w1"].astype(np.float32),
            b1=arrays["b1"].astype(np.float32),
            w2=arrays["w2"].astype(np.float32),
            b2=float(arrays["b2"]),
        )

    def scores(self, features: np.ndarray) -> np.ndarray:
        """One logit per row of `candidate_features`."""
        x = np.asarray(features, dtype=np.float32)[:, self.columns]
        x = (x - self.mean) / self.scale
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        return (hidden @ self.w2 + self.b2).astype(np.float32)


def answer_scores(
    model: AnswerModel,
    question_vector: np.ndarray,
    passage_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    sentence_offsets: Sequence[int] | np.ndarray,
    sentence_texts: Sequence[str],
    bm25_share: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """The answer model's logit for each candidate passage (arguments: `candidate_features`)."""
    if len(question_vector) != model.dimension:
        raise ValueError(
            f"the answer model expects {model.dimension}-d vectors, got {len(question_vector)}"
        )
    if len(passage_vectors) == 0:
        return np.zeros(0, dtype=np.float32)
    features = candidate_features(
        question_vector,
        passage_vectors,
        sentence_vectors,
        sentence_offsets,
        sentence_texts,
        bm25_share,
    )
    return model.scores(features)
