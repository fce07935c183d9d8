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
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .engine import Assistant
from .errors import VerbatimError

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


def run_mode(
    assistant: Assistant, items: Sequence[Item], mode: str, depth: int = 10, progress: bool = False
) -> list[dict[str, Any]]:
    """Answer every item in one mode; one result record per question."""
    from tqdm import tqdm

    results = []
    for item in tqdm(items, desc=f"eval {mode}", unit="q", disable=not progress):
        started = time.perf_counter()
        answer = assistant.ask(item.question, top_k=depth, mode=mode)
        latency = (time.perf_counter() - started) * 1000
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
        rank = next((i for i, p in enumerate(passages, start=1) if p["hit"]), None)
        results.append(
            {
                "id": item.id,
                "question": item.question,
                "kind": item.kind,
                "split": item.split,
                "answerable": item.answerable,
                "mode": mode,
                "status": answer.status,
                "relevance": answer.relevance,
                "gold": [list(e) for e in item.evidence],
                "gold_rank": rank,
                "latency_ms": round(latency, 3),
                "passages": passages,
            }
        )
    return results


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
        run = {
            r["id"]: {p["id"]: float(len(r["passages"]) - i) for i, p in enumerate(r["passages"])}
            or {"none": 0.0}
            for r in answerable
        }
        scores = evaluate(
            Qrels(qrels), Run(run), [f"recall@{top_k}", "mrr@10", "ndcg@10"], make_comparable=True
        )
        out.update({k: round(float(v), 4) for k, v in scores.items()})
        for k in KS:
            out[f"hit@{k}"] = round(
                float(
                    np.mean(
                        [r["gold_rank"] is not None and r["gold_rank"] <= k for r in answerable]
                    )
                ),
                4,
            )
        out["false_not_found"] = round(
            float(np.mean([r["status"] != "answered" for r in answerable])), 4
        )
        out["answerable"] = len(answerable)
    if unanswerable:
        for kind in ("off_topic", "not_covered"):
            group = [r for r in unanswerable if r["kind"] == kind]
            if group:
                out[f"{kind}_not_found"] = round(
                    float(np.mean([r["status"] == "not_found" for r in group])), 4
                )
        abstained = [r for r in results if r["status"] != "answered"]
        true_abstain = [r for r in abstained if not r["answerable"]]
        precision = len(true_abstain) / len(abstained) if abstained else 0.0
        recall = len(true_abstain) / len(unanswerable)
        out["abstain_precision"] = round(precision, 4)
        out["abstain_recall"] = round(recall, 4)
        out["abstain_f1"] = (
            round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
        )
        out["unanswerable"] = len(unanswerable)
    latencies = [r["latency_ms"] for r in results]
    out["latency_p50_ms"] = round(percentile(latencies, 50), 2)
    out["latency_p95_ms"] = round(percentile(latencies, 95), 2)
    out["latency_max_ms"] = round(max(latencies), 2)
    return out


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
