"""Evaluation runs: answer every question of a dataset in several retrieval modes and score them.

Dataset (JSON lines), one question per line::

    {"id": "q001", "question": "...", "answerable": true, "kind": "direct", "split": "dev",
     "evidence": [{"source": "secondary-milia.txt", "start": 2303, "end": 2408}]}

A returned passage is a hit for a question when it contains at least half of one of its
evidence spans. Retrieval metrics (recall, MRR, nDCG) come from ranx over runs and qrels in the
usual shapes: qrels `{qid: {passage_id: 1}}`, runs `{qid: {passage_id: score}}`.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .answer import Answer
from .choices import Status
from .confidence import ConfidenceModel
from .engine import Assistant, refusal_status
from .errors import VerbatimError
from .settings import Settings
from .store import save_calibration

HIT_OVERLAP = 0.5
KS = (1, 3, 5)
UNANSWERABLE_KINDS = ("off_topic", "not_covered", "chitchat")


class DatasetError(VerbatimError):
    exit_code = 2


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answerable: bool
    kind: str
    split: str
    evidence: tuple[tuple[str, int, int], ...]
    # Conversation sets (eval/followups.jsonl): the previous questions, oldest first, and
    # whether this question is a follow-up that should be read together with them.
    history: tuple[str, ...] = ()
    followup: bool | None = None


def load_dataset(path: Path, split: str | None = None) -> list[Item]:
    """Read a JSON-lines dataset, optionally keeping one split; errors name the line."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc}).") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = Item(
                id=str(raw["id"]),
                question=str(raw["question"]),
                answerable=bool(raw["answerable"]),
                kind=str(raw.get("kind", "")),
                split=str(raw.get("split", "")),
                evidence=tuple(
                    (str(e["source"]), int(e["start"]), int(e["end"]))
                    for e in raw.get("evidence", [])
                ),
                history=tuple(str(h) for h in raw.get("history", [])),
                followup=None if raw.get("followup") is None else bool(raw["followup"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(
                f"{path}, line {n}: not a valid question record ({type(exc).__name__}: {exc}). "
                "Each line needs id, question, answerable and evidence."
            ) from None
        if item.answerable and not item.evidence:
            raise DatasetError(f"{path}, line {n}: answerable question {item.id} has no evidence.")
        if split is None or item.split == split:
            items.append(item)
    if not items:
        raise DatasetError(
            f"{path}: no questions" + (f" in split {split!r}" if split else "") + "."
        )
    return items


def is_hit(source: str, start: int, end: int, evidence: Sequence[tuple[str, int, int]]) -> bool:
    """Whether a passage holds at least half of one evidence span."""
    return any(
        s == source and min(end, e) - max(start, b) >= HIT_OVERLAP * (e - b) for s, b, e in evidence
    )


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def _timed_answers(
    assistant: Assistant,
    questions: Sequence[str],
    mode: str,
    depth: int,
    progress: bool,
    histories: Sequence[Sequence[str]] | None = None,
) -> Iterator[tuple[Answer, float]]:
    """Each question's answer (top `depth` passages) and its latency in milliseconds."""
    from tqdm import tqdm

    histories = histories or [()] * len(questions)
    pairs = list(zip(questions, histories))
    for question, history in tqdm(pairs, desc=f"eval {mode}", unit="q", disable=not progress):
        started = time.perf_counter()
        answer = assistant.ask(question, history=history, top_k=depth, mode=mode)
        yield answer, (time.perf_counter() - started) * 1000


def _result(
    qid: str,
    question: str,
    kind: str,
    split: str,
    answerable: bool,
    mode: str,
    answer: Answer,
    latency: float,
    gold: list[Any],
    passages: list[dict[str, Any]],
) -> dict[str, Any]:
    """One per-question record of `results.jsonl`; `gold_rank` is the first hit's rank."""
    return {
        "id": qid,
        "question": question,
        "kind": kind,
        "split": split,
        "answerable": answerable,
        "mode": mode,
        "status": answer.status.value,
        "relevance": answer.relevance,
        "focus_relevance": answer.focus_relevance,
        "confidence": None if answer.confidence is None else answer.confidence.to_dict(),
        "gold": gold,
        "gold_rank": next((i for i, p in enumerate(passages, start=1) if p["hit"]), None),
        "latency_ms": round(latency, 3),
        "passages": passages,
    }


def run_mode(
    assistant: Assistant,
    items: Sequence[Item],
    mode: str,
    depth: int = 10,
    progress: bool = False,
    history: bool = True,
) -> list[dict[str, Any]]:
    """Answer every item in one mode; one result record per question. With `history`, each
    question is asked with its item's history (conversation sets); without, alone."""
    results = []
    histories = [i.history if history else () for i in items]
    answers = _timed_answers(
        assistant, [i.question for i in items], mode, depth, progress, histories
    )
    for item, (answer, latency) in zip(items, answers):
        passages = [
            {
                "text": p.text,
                "source": p.source,
                "start": p.start,
                "end": p.end,
                "score": p.score,
                "relevance": p.relevance,
                "id": f"{p.source}:{p.start}-{p.end}",
                "hit": is_hit(p.source, p.start, p.end, item.evidence),
            }
            for p in answer.passages
        ]
        results.append(
            _result(
                item.id,
                item.question,
                item.kind,
                item.split,
                item.answerable,
                mode,
                answer,
                latency,
                [list(e) for e in item.evidence],
                passages,
            )
        )
        if item.history or item.followup is not None:
            results[-1]["history"] = list(item.history)
            results[-1]["followup"] = item.followup
            results[-1]["previous_question"] = answer.previous_question
    return results


def _run(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """A ranx run from result records: higher scores for earlier ranks."""
    return {
        r["id"]: {p["id"]: float(len(r["passages"]) - i) for i, p in enumerate(r["passages"])}
        or {"none": 0.0}
        for r in results
    }


def _answered_metrics(answerable: Sequence[dict[str, Any]]) -> dict[str, float]:
    """hit@k, the share wrongly not answered, and the count, over answerable questions."""
    out: dict[str, float] = {}
    for k in KS:
        out[f"hit@{k}"] = round(
            float(
                np.mean([r["gold_rank"] is not None and r["gold_rank"] <= k for r in answerable])
            ),
            4,
        )
    # Not answered: `not_found` or `related` (the source "does not answer this directly").
    out["false_not_found"] = round(
        float(np.mean([r["status"] != Status.ANSWERED for r in answerable])), 4
    )
    out["false_related"] = round(
        float(np.mean([r["status"] == Status.RELATED for r in answerable])), 4
    )
    out["answerable"] = len(answerable)
    return out


def _honesty_metrics(results: Sequence[dict[str, Any]], top_k: int) -> dict[str, float]:
    """What a user can trust (issue 21): `answered_precision`, of the questions given
    `answered`, the share whose first quote answers them (an unanswerable question answered
    counts as wrong); `answered_share`, the share of all questions given `answered`; over
    answerable questions, `shown_hit` (a gold passage among the `top_k` shown, answered or
    related) and `no_passages` (given no passages at all: `not_found`)."""
    answered = [r for r in results if r["status"] == Status.ANSWERED]
    answerable = [r for r in results if r["answerable"]]
    right = [r for r in answered if r["answerable"] and r["gold_rank"] == 1]
    out: dict[str, float] = {
        "answered_precision": round(len(right) / len(answered), 4) if answered else math.nan,
        "answered_share": round(len(answered) / len(results), 4) if results else math.nan,
    }
    if answerable:
        shown = [
            r
            for r in answerable
            if r["status"] in (Status.ANSWERED, Status.RELATED)
            and r["gold_rank"] is not None
            and r["gold_rank"] <= top_k
        ]
        out["shown_hit"] = round(len(shown) / len(answerable), 4)
        out["no_passages"] = round(
            float(np.mean([r["status"] == Status.NOT_FOUND for r in answerable])), 4
        )
    return out


def _latency_metrics(results: Sequence[dict[str, Any]]) -> dict[str, float]:
    latencies = [r["latency_ms"] for r in results]
    return {
        "latency_p50_ms": round(percentile(latencies, 50), 2),
        "latency_p95_ms": round(percentile(latencies, 95), 2),
        "latency_max_ms": round(max(latencies), 2),
    }


def metrics(results: Sequence[dict[str, Any]], top_k: int = 3) -> dict[str, float]:
    """The report's metrics for one mode's results."""
    from ranx import Qrels, Run, evaluate

    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    out: dict[str, float] = {}
    if answerable:
        qrels = {r["id"]: {p["id"]: 1 for p in r["passages"] if p["hit"]} for r in answerable}
        # Gold passages never retrieved still count as relevant (so recall is not inflated).
        for r in answerable:
            if not qrels[r["id"]]:
                qrels[r["id"]] = {f"missed:{r['id']}": 1}
        scores = evaluate(
            Qrels(qrels),
            Run(_run(answerable)),
            [f"recall@{top_k}", "mrr@10", "ndcg@10"],
            make_comparable=True,
        )
        out.update({k: round(float(v), 4) for k, v in scores.items()})
        out.update(_answered_metrics(answerable))
        # hit@1 per kind of question ("hit@1:lay"): where a mode wins or loses.
        for kind in sorted({r["kind"] for r in answerable if r["kind"]}):
            group = [r for r in answerable if r["kind"] == kind]
            out[f"hit@1:{kind}"] = round(float(np.mean([r["gold_rank"] == 1 for r in group])), 4)
    if unanswerable:
        for kind in ("off_topic", "not_covered"):
            group = [r for r in unanswerable if r["kind"] == kind]
            if group:
                out[f"{kind}_not_found"] = round(
                    float(np.mean([r["status"] == Status.NOT_FOUND for r in group])), 4
                )
                out[f"{kind}_related"] = round(
                    float(np.mean([r["status"] == Status.RELATED for r in group])), 4
                )
                out[f"{kind}_not_answered"] = round(
                    float(np.mean([r["status"] != Status.ANSWERED for r in group])), 4
                )
        abstained = [r for r in results if r["status"] != Status.ANSWERED]
        true_abstain = [r for r in abstained if not r["answerable"]]
        precision = len(true_abstain) / len(abstained) if abstained else 0.0
        recall = len(true_abstain) / len(unanswerable)
        out["abstain_precision"] = round(precision, 4)
        out["abstain_recall"] = round(recall, 4)
        out["abstain_f1"] = (
            round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
        )
        out["unanswerable"] = len(unanswerable)
    out.update(_honesty_metrics(results, top_k))
    out.update(_followup_metrics(results))
    out.update(_latency_metrics(results))
    return out


def _followup_metrics(results: Sequence[dict[str, Any]]) -> dict[str, float]:
    """For conversation sets: how often the question was read together with the previous one
    exactly when it is a follow-up (`followup_correct`), and that share for each side."""
    labelled = [r for r in results if r.get("followup") is not None]
    if not labelled:
        return {}

    def correct(group: Sequence[dict[str, Any]]) -> float:
        merged = [(r["previous_question"] is not None) == r["followup"] for r in group]
        return round(float(np.mean(merged)), 4) if merged else math.nan

    return {
        "followup_correct": correct(labelled),
        "followup_merged": correct([r for r in labelled if r["followup"]]),
        "new_read_alone": correct([r for r in labelled if not r["followup"]]),
    }


def calibrate(results: Sequence[dict[str, Any]], off_topic_target: float = 0.95) -> float:
    """The abstention threshold: halfway between the off-topic questions that must be refused
    (all but `1 - off_topic_target` of them) and the least relevant answerable question above
    them. Answering real questions matters more than refusing on-topic ones the text does not
    cover, which relevance alone cannot tell apart, so those do not move the threshold."""
    answerable = sorted(r["relevance"] or 0.0 for r in results if r["answerable"])
    off_topic = sorted(
        r["relevance"] or 0.0
        for r in results
        if r["kind"] == "off_topic" and r["relevance"] is not None
    )
    if not answerable or not off_topic:
        raise DatasetError("calibration needs answerable and off_topic questions")
    may_pass = int(math.floor((1 - off_topic_target) * len(off_topic)))
    must_refuse = off_topic[len(off_topic) - 1 - may_pass]
    above = [a for a in answerable if a > must_refuse]
    if not above:
        return round(must_refuse + 1e-4, 4)
    return round((must_refuse + above[0]) / 2, 4)


#: The share of answerable calibration questions the focus check may refuse: none, because a
#: real question refused costs more than an uncovered one answered with the nearest quotes, and
#: the quality target allows 5 % false `not_found` in all (docs/quality.md shows the stricter
#: choices and what they cost on held-out questions).
FOCUS_FALSE_REFUSALS = 0.0


def calibrate_focus(
    results: Sequence[dict[str, Any]],
    threshold: float,
    false_refusals: float = FOCUS_FALSE_REFUSALS,
) -> float:
    """The focus threshold (focus.py): as high as it can be while refusing at most
    `false_refusals` of the answerable questions that pass the relevance `threshold`, placed
    halfway between the lowest answerable focus it keeps and the value below it (an answerable
    one it gives up, or an uncovered question it refuses). -1 (refuse nothing) when no
    question has a focus."""
    answerable = [r for r in results if r["answerable"]]
    kept = sorted(
        r["focus_relevance"]
        for r in answerable
        if r["focus_relevance"] is not None and (r["relevance"] or 0.0) >= threshold
    )
    if not kept:
        return -1.0
    allowed = int(math.floor(false_refusals * len(answerable)))
    if allowed >= len(kept):
        return round(kept[-1] + 1e-4, 4)
    lowest_kept = kept[allowed]
    below = kept[:allowed] + [
        r["focus_relevance"]
        for r in results
        if r["kind"] == "not_covered"
        and r["focus_relevance"] is not None
        and r["focus_relevance"] < lowest_kept
    ]
    if not below:
        return round(lowest_kept - 1e-4, 4)
    return round((max(below) + lowest_kept) / 2, 4)


def calibrate_confidence(results: Sequence[dict[str, Any]], limits: Settings) -> ConfidenceModel:
    """The confidence model (confidence.py) fitted on calibration results recorded with every
    check off: a question is right when it is answerable and its first passage is a hit, and
    eligible for `answered` when it passes the relevance and focus thresholds of `limits`."""
    from .confidence import Signals, fit

    usable = [r for r in results if r.get("confidence") and r["confidence"]["signals"]]
    if not usable:
        raise DatasetError("confidence calibration needs questions that retrieval answered")
    evidence = [Signals.from_dict(r["confidence"]["signals"]) for r in usable]
    right = [bool(r["answerable"] and r["gold_rank"] == 1) for r in usable]
    # Eligible: passes both thresholds, and is not a definition answered by its rule.
    eligible = [
        refusal_status(r["relevance"], r["focus_relevance"], limits)[0] == Status.ANSWERED
        and not s.definition
        for r, s in zip(usable, evidence)
    ]
    try:
        return fit(evidence, right, eligible)
    except ValueError as exc:
        raise DatasetError(f"cannot calibrate the confidence model: {exc}") from None


def find_span(documents: dict[str, str], phrase: str) -> tuple[str, int, int]:
    """(source, start, end) of the one place `phrase` occurs in the corpus, for writing gold data.

    Raises DatasetError when the phrase is missing (with a hint when only non-breaking spaces or
    curly quotes differ) or occurs more than once (lengthen it).
    """
    if not phrase or phrase != phrase.strip():
        raise DatasetError(f"the phrase must be non-empty without surrounding spaces: {phrase!r}")
    found = []
    for source, text in documents.items():
        at = text.find(phrase)
        while at != -1:
            found.append((source, at, at + len(phrase)))
            at = text.find(phrase, at + 1)
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(f"{src} at {a}" for src, a, _ in found[:3])
        more = ", ..." if len(found) > 3 else ""
        raise DatasetError(
            f"the phrase occurs {len(found)} times ({shown}{more}); "
            f"lengthen it until it is unique: {phrase!r}"
        )

    def loose(s: str) -> str:
        return s.replace("\u00a0", " ").replace("\u2019", "'").replace("\u2018", "'")

    hint = ""
    if any(loose(phrase) in loose(t) for t in documents.values()):
        hint = (
            " It would match if spaces and apostrophes were ignored: copy the source's "
            "non-breaking spaces (U+00A0) and curly quotes exactly."
        )
    raise DatasetError(f"the phrase is not in the corpus: {phrase!r}.{hint}")


@dataclass(frozen=True)
class BeirSet:
    """A BEIR-style folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

    docs: dict[str, tuple[str, str]]  # doc id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    folder = Path(folder)

    def jsonl(name: str) -> list[dict[str, Any]]:
        path = folder / name
        try:
            return [
                json.loads(line)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: cannot be read as JSON lines ({exc}).") from None

    try:
        docs = {
            str(d["_id"]): (str(d.get("title", "")), str(d["text"])) for d in jsonl("corpus.jsonl")
        }
        queries = {str(q["_id"]): str(q["text"]) for q in jsonl("queries.jsonl")}
    except KeyError as exc:
        raise DatasetError(f"{folder}: a record lacks the field {exc}.") from None
    qrels: dict[str, dict[str, int]] = {}
    path = folder / "qrels" / f"{split}.tsv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}).") from None
    for n, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if n == 1 and parts[0] == "query-id":
            continue
        if len(parts) != 3:
            raise DatasetError(f"{path}, line {n}: expected query-id, corpus-id, score.")
        qid, did, score = parts
        if int(score) > 0:
            qrels.setdefault(qid, {})[did] = int(score)
    queries = {q: t for q, t in queries.items() if q in qrels}
    if not queries:
        raise DatasetError(f"{folder}: no query has a relevance judgement in {path.name}.")
    return BeirSet(docs, queries, qrels)


def write_beir_corpus(beir: BeirSet, corpus_dir: Path) -> dict[str, str]:
    """One text file per BEIR document (title, blank line, text); returns file name -> doc id."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    names = {}
    for n, (doc_id, (title, text)) in enumerate(sorted(beir.docs.items())):
        name = f"doc{n:07d}.txt"
        body = f"{title.strip()}\n\n{text.strip()}\n" if title.strip() else f"{text.strip()}\n"
        if not body.strip():
            continue
        (corpus_dir / name).write_text(body, encoding="utf-8")
        names[name] = doc_id
    return names


def run_beir(
    assistant: Assistant,
    beir: BeirSet,
    names: dict[str, str],
    mode: str,
    depth: int = 10,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Answer every BEIR query; passages are mapped back to their document ids."""
    queries = sorted(beir.queries.items())
    answers = _timed_answers(assistant, [text for _, text in queries], mode, depth, progress)
    results = []
    for (qid, text), (answer, latency) in zip(queries, answers):
        seen: dict[str, dict[str, Any]] = {}
        for p in answer.passages:
            doc_id = names[p.source]
            if doc_id not in seen:
                seen[doc_id] = {
                    "id": doc_id,
                    "score": p.score,
                    "hit": doc_id in beir.qrels[qid],
                    "source": p.source,
                    "start": p.start,
                    "end": p.end,
                    "text": p.text,
                }
        results.append(
            _result(
                qid,
                text,
                "beir",
                "",
                True,
                mode,
                answer,
                latency,
                sorted(beir.qrels[qid]),
                list(seen.values()),
            )
        )
    return results


def beir_metrics(
    results: Sequence[dict[str, Any]], qrels: dict[str, dict[str, int]], top_k: int = 3
) -> dict[str, float]:
    """Standard retrieval metrics (ranx) over document ids, plus hit@k and latency."""
    from ranx import Qrels, Run, evaluate

    used = {r["id"]: qrels[r["id"]] for r in results}
    scores = evaluate(
        Qrels(used),
        Run(_run(results)),
        ["recall@3", "recall@10", "mrr@10", "ndcg@10"],
        make_comparable=True,
    )
    out = {k: round(float(v), 4) for k, v in scores.items()}
    out.update(_answered_metrics(results))
    out.update(_honesty_metrics(results, top_k))
    out.update(_latency_metrics(results))
    return out


class Calibration(NamedTuple):
    """Thresholds chosen by `evaluate_questions(..., calibrate=True)`, saved in the manifest
    of the index they were chosen for (`index`)."""

    threshold: float
    focus_threshold: float
    index_dir: Path


@dataclass(frozen=True)
class Evaluation:
    """What `assistant eval` reports: the summary (metrics.json), each mode's per-question
    records (results.jsonl) and the calibration, if one was made."""

    summary: dict[str, Any]
    per_mode: dict[str, list[dict[str, Any]]]
    calibration: Calibration | None = None


def evaluate_questions(
    dataset: Path,
    modes: Sequence[str],
    split: str | None,
    settings: Settings,
    *,
    corpus: Path | str | None = None,
    index: Path | str | None = None,
    rebuild: bool = True,
    choose_thresholds: bool = False,
    focus_refusals: float = FOCUS_FALSE_REFUSALS,
    history: bool = True,
    qdrant: str | None = None,
    qdrant_api_key: str | None = None,
) -> Evaluation:
    """Answer every question of a JSON-lines dataset in each mode over the corpus's index.
    With `choose_thresholds` (`--calibrate`), first choose both abstention thresholds on these questions (in the last
    mode) and save them, then evaluate with them. `history` false: conversation sets' questions
    are asked alone (`--no-history`)."""
    items = load_dataset(dataset, split)
    assistant = Assistant.load(
        corpus,
        index,
        settings,
        rebuild=rebuild,
        progress=True,
        qdrant=qdrant,
        qdrant_api_key=qdrant_api_key,
    )
    calibration = None
    if choose_thresholds:
        # Answer everything (focus computed, never applied), then choose both thresholds.
        unrefused = assistant.with_settings(
            replace(settings, threshold=-1.0, focus_threshold=-1.0, confidence_check=False)
        )
        results = run_mode(unrefused, items, modes[-1], progress=True)
        threshold = calibrate(results)
        focus_threshold = (
            calibrate_focus(results, threshold, focus_refusals) if settings.focus_check else -1.0
        )
        chosen: dict[str, Any] = {
            "threshold": threshold,
            "focus_threshold": focus_threshold,
            "dataset": str(dataset),
            "split": split,
            "focus_refusals": focus_refusals,
        }
        # The confidence model is fitted whether or not the check is on, so the index has it.
        limits = replace(settings, threshold=threshold, focus_threshold=focus_threshold)
        chosen["confidence"] = calibrate_confidence(results, limits).to_json()
        save_calibration(assistant.index_dir, chosen)
        calibration = Calibration(threshold, focus_threshold, assistant.index_dir)
        # Loaded again, so that the answers use the calibration just saved, model included.
        assistant = Assistant.load(
            corpus, index, settings, rebuild=False, qdrant=qdrant, qdrant_api_key=qdrant_api_key
        )
    per_mode = {m: run_mode(assistant, items, m, progress=True, history=history) for m in modes}
    summary = {
        "dataset": str(dataset),
        "split": split,
        "questions": len(items),
        "history": history,
        "threshold": assistant.settings.threshold,
        "focus_threshold": assistant.settings.focus_threshold,
        "top_k": assistant.settings.top_k,
        "build_seconds": assistant.index.manifest.build_seconds,
        "modes": {m: metrics(r, assistant.settings.top_k) for m, r in per_mode.items()},
    }
    return Evaluation(summary, per_mode, calibration)


def recorded_status(result: dict[str, Any], settings: Settings) -> Status:
    """The status the engine's refusal rule gives a result recorded with every check off
    (its relevance, focus relevance and confidence: score and cutoff as the index's model
    gave them)."""
    recorded = result.get("confidence") or {}
    score = recorded.get("score") if settings.confidence_check else None
    return refusal_status(
        result["relevance"],
        result["focus_relevance"],
        settings,
        score,
        recorded.get("cutoff", 0.0),
        bool((recorded.get("signals") or {}).get("definition")),
    )[0]


def beir_assistant(
    beir: BeirSet, folder: Path, settings: Settings, embedder: Any
) -> tuple[Assistant, dict[str, str]]:
    """`beir` written as a corpus into `folder`/corpus, indexed into `folder`/index by
    `embedder`, and loaded with both thresholds off (rankings are wanted whole; abstention is
    judged from the recorded scores). Returns the assistant and `write_beir_corpus`'s names."""
    from .store import build_index

    names = write_beir_corpus(beir, folder / "corpus")
    build_index(folder / "corpus", folder / "index", settings, embedder)
    assistant = Assistant.load(
        folder / "corpus",
        folder / "index",
        replace(settings, threshold=-1.0, focus_threshold=-1.0, confidence_check=False),
        embedder=embedder,
        rebuild=False,
    )
    return assistant, names


def evaluate_beir(folder: Path, modes: Sequence[str], split: str, settings: Settings) -> Evaluation:
    """Index a BEIR folder in a temporary directory and answer every judged query in each mode.
    Retrieval metrics need the full ranking, so abstention (the engine's refusal rule) is
    applied to the recorded scores afterwards."""
    from .embedding import load_embedder

    beir = load_beir(folder, split)
    embedder = load_embedder(settings.model)
    with tempfile.TemporaryDirectory(prefix="verbatim-beir-") as tmp:
        assistant, names = beir_assistant(beir, Path(tmp), settings, embedder)
        per_mode = {m: run_beir(assistant, beir, names, m, progress=True) for m in modes}
    # A BEIR folder is indexed afresh, so it has no calibration: the defaults apply (or the
    # thresholds given in `settings`).
    thresholds = settings.with_calibration(None)
    for results in per_mode.values():
        for r in results:
            r["status"] = recorded_status(r, thresholds).value
    summary = {
        "dataset": str(folder),
        "split": split,
        "questions": len(beir.queries),
        "documents": len(beir.docs),
        "threshold": thresholds.threshold,
        "focus_threshold": thresholds.focus_threshold,
        "top_k": 10,
        "build_seconds": assistant.index.manifest.build_seconds,
        "modes": {m: beir_metrics(r, beir.qrels, settings.top_k) for m, r in per_mode.items()},
    }
    return Evaluation(summary, per_mode)
