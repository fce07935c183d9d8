#!/usr/bin/env python3
"""Measure the answer model as a re-ranker of the `rerank` mode's candidates.

For every question, `Assistant.ask(question, top_k=10)` gives the current ranking (abstention
off, so every question has its ten candidates); each candidate's new score is
`score + weight * answer_logit` (assistant/answer_model.py). Prints hit@1/hit@3 before and
after, per kind, for one or more weights, and the AUC of answerable against not_covered
questions for the model's best logit beside the existing relevance and focus signals.

  python -m training.measure_answer_model --split dev --weights 0,0.02,0.05,0.1,0.2
  python -m training.measure_answer_model --split test --weights 0.1       # once, at the end
  python -m training.measure_answer_model --beir eval/beir-apache-2.0 --weights 0,0.1

Never reads eval/blind.jsonl. The weight is chosen on the dev split only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from assistant import evaluation
from assistant.engine import Assistant
from assistant.settings import Settings
from training.answer_model import MODEL_FILE, AnswerModel, answer_scores

REPO = Path(__file__).resolve().parent.parent

DEPTH = 10


def candidate_logits(assistant: Assistant, model: AnswerModel, question: str, answer) -> np.ndarray:
    """The answer model's logit for each passage of `answer`, from the index's own vectors."""
    index = assistant.index
    row_of = getattr(assistant, "_row_of", None)
    if row_of is None:
        row_of = {p.id: i for i, p in enumerate(index.passages)}
        assistant._row_of = row_of
    rows = [row_of[q.id] for q in answer.passages]
    if not rows:
        return np.zeros(0, dtype=np.float32)
    q = assistant.embedder.encode([question])[0]
    passages = np.vstack([index.dense.vector(r) for r in rows])
    offsets = index.sentence_offsets
    sentence_vectors = np.vstack(
        [index.sentence_vectors[offsets[r] : offsets[r + 1]] for r in rows]
    )
    local = np.cumsum([0] + [int(offsets[r + 1] - offsets[r]) for r in rows])
    texts = []
    for r in rows:
        p = index.passages[r]
        doc = index.documents[p.source].text
        texts += [doc[a:b] for a, b in p.sentences]
    bm25 = index.lexical.scores(question)
    top = float(bm25.max()) if len(bm25) and bm25.max() > 0 else 1.0
    share = [float(bm25[r]) / top for r in rows]
    return answer_scores(model, q, passages, sentence_vectors, local, texts, share)


def collect(assistant: Assistant, model: AnswerModel, items) -> list[dict]:
    """Per question: candidates' hit flags, current scores and answer logits."""
    out = []
    for item in items:
        answer = assistant.ask(item["question"], top_k=DEPTH)
        logits = candidate_logits(assistant, model, item["question"], answer)
        out.append(
            {
                **item,
                "scores": np.array([q.score for q in answer.passages]),
                "logits": logits,
                "hits": np.array([item["is_hit"](q) for q in answer.passages], dtype=bool),
            }
        )
    return out


def hits_at(records: list[dict], weight: float, k: int) -> float:
    values = []
    for r in records:
        if not len(r["scores"]):
            values.append(False)
            continue
        mixed = r["scores"] + weight * r["logits"]
        order = np.argsort(-mixed, kind="stable")
        values.append(bool(r["hits"][order[:k]].any()))
    return round(float(np.mean(values)), 4) if values else float("nan")


def table(records: list[dict], weights: list[float], kinds: list[str]) -> dict:
    result = {}
    for w in weights:
        row = {"hit@1": hits_at(records, w, 1), "hit@3": hits_at(records, w, 3)}
        for kind in kinds:
            group = [r for r in records if r["kind"] == kind]
            if group:
                row[f"hit@1:{kind}"] = hits_at(group, w, 1)
                row[f"hit@3:{kind}"] = hits_at(group, w, 3)
        result[w] = row
        print(f"  weight {w:<6} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    return result


def auc(positive: list[float], negative: list[float]) -> float:
    from sklearn.metrics import roc_auc_score

    return round(
        float(roc_auc_score([1] * len(positive) + [0] * len(negative), positive + negative)), 4
    )


def questions(args) -> dict:
    items = evaluation.load_dataset(REPO / "eval" / "questions.jsonl", args.split)
    model = AnswerModel.load(args.model)
    # Abstention off: every question keeps its ten candidates, as in `assistant eval`'s BEIR runs.
    assistant = Assistant.load(
        settings=Settings(threshold=-1.0, focus_threshold=-1.0), rebuild=False
    )
    default = Assistant.load(rebuild=False)  # the real relevance and focus signals
    records = collect(
        assistant,
        model,
        [
            {
                "id": i.id,
                "question": i.question,
                "kind": i.kind,
                "answerable": i.answerable,
                "is_hit": (lambda ev: lambda q: evaluation.is_hit(q.source, q.start, q.end, ev))(
                    i.evidence
                ),
            }
            for i in items
        ],
    )
    answerable = [r for r in records if r["answerable"]]
    print(f"split {args.split}: {len(answerable)} answerable questions")
    kinds = sorted({r["kind"] for r in answerable})
    result = {
        "split": args.split,
        "answerable": len(answerable),
        "weights": table(answerable, args.weights, kinds),
    }
    not_covered = [r for r in records if r["kind"] == "not_covered"]
    if not_covered:
        signals = {}
        for r in answerable + not_covered:
            a = default.ask(r["question"])
            mixed_top = {
                w: float(np.max(r["scores"] + w * r["logits"])) if len(r["scores"]) else -9.0
                for w in args.weights
            }
            signals[r["id"]] = {
                "relevance": a.relevance or 0.0,
                "focus": a.focus_relevance if a.focus_relevance is not None else 1.0,
                "max_logit": float(r["logits"].max()) if len(r["logits"]) else -9.0,
                **{f"top_mixed@{w}": v for w, v in mixed_top.items()},
            }
        names = next(iter(signals.values())).keys()
        aucs = {
            n: auc(
                [signals[r["id"]][n] for r in answerable],
                [signals[r["id"]][n] for r in not_covered],
            )
            for n in names
        }
        print(f"AUC answerable ({len(answerable)}) vs not_covered ({len(not_covered)}): {aucs}")
        result["auc_answerable_vs_not_covered"] = aucs
    return result


def beir(args, folder: Path) -> dict:
    from assistant.embedding import load_embedder

    data = evaluation.load_beir(folder, "test")
    model = AnswerModel.load(args.model)
    settings = Settings(threshold=-1.0, focus_threshold=-1.0)
    embedder = load_embedder(settings.model)
    with tempfile.TemporaryDirectory(prefix="verbatim-answer-model-") as tmp:
        assistant, names = evaluation.beir_assistant(data, Path(tmp), settings, embedder)
        items = [
            {
                "id": qid,
                "question": text,
                "kind": "beir",
                "answerable": True,
                "is_hit": (lambda rel: lambda q: names[q.source] in rel)(data.qrels[qid]),
            }
            for qid, text in sorted(data.queries.items())
        ]
        records = collect(assistant, model, items)
    print(
        f"{folder.name}: {len(records)} queries, {len(data.docs)} documents (top k passages; a hit is a passage of a relevant document)"
    )
    return {
        "dataset": folder.name,
        "queries": len(records),
        "weights": table(records, args.weights, []),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("dev", "test"))
    ap.add_argument("--beir", type=Path, action="append", default=[])
    ap.add_argument("--weights", default="0,0.02,0.05,0.1,0.2,0.3,0.5")
    ap.add_argument("--model", type=Path, default=MODEL_FILE)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    args.weights = [float(w) for w in args.weights.split(",")]
    results = []
    if args.split:
        results.append(questions(args))
    for folder in args.beir:
        results.append(beir(args, folder))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
