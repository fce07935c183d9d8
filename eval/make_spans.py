#!/usr/bin/env python3
"""Build eval/questions.jsonl from the hand-written eval/questions.src.jsonl.

In the source file every answerable question lists its gold evidence as
"quotes": exact phrases copied from the corpus article. This script finds each
phrase in the article and writes it out as a character-offset span, so that
text[start:end] == quote (Python str offsets, not bytes).

A quote must occur exactly once in the article. If it is missing, or occurs
more than once, the script stops with an error naming the question: fix the
quote (the article uses non-breaking spaces U+00A0 and curly apostrophes) or
lengthen it until it is unique.

Usage:  python eval/make_spans.py   (in the project's virtual environment)
        python eval/make_spans.py eval/blind.src.jsonl eval/blind.jsonl   (the blind split)
        python eval/make_spans.py eval/blind2.src.jsonl eval/blind2.jsonl   (the second blind split)

For a single phrase, `assistant span "exact phrase"` prints its span.
"""

import json
import sys
from pathlib import Path

from assistant.evaluation import DatasetError, find_span

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "secondary-milia.txt"
CORPUS = ROOT / "corpus" / SOURCE
SRC = ROOT / "eval" / "questions.src.jsonl"
OUT = ROOT / "eval" / "questions.jsonl"

ANSWERABLE_KINDS = {"direct", "lay", "multi_sentence", "context"}
UNANSWERABLE_KINDS = {"off_topic", "not_covered", "chitchat"}
SPLITS = {"dev", "test", "blind", "blind2"}
SRC_KEYS = {"id", "question", "answerable", "kind", "split", "quotes"}


def fail(msg):
    sys.exit(f"make_spans: error: {msg}")


def locate(text, quote, qid):
    """Return (start, end) of the single occurrence of quote in text."""
    try:
        _, start, end = find_span({SOURCE: text}, quote)
    except DatasetError as exc:
        fail(f"{qid}: {exc}")
    return start, end


def convert(item, text, lineno):
    qid = item.get("id", f"line {lineno}")
    if set(item) != SRC_KEYS:
        fail(f"{qid}: keys must be exactly {sorted(SRC_KEYS)}, got {sorted(item)}")
    kind, quotes = item["kind"], item["quotes"]
    if kind not in ANSWERABLE_KINDS | UNANSWERABLE_KINDS:
        fail(f"{qid}: unknown kind {kind!r}")
    if item["split"] not in SPLITS:
        fail(f"{qid}: split must be one of {sorted(SPLITS)}, got {item['split']!r}")
    if item["answerable"] is not (kind in ANSWERABLE_KINDS):
        fail(f"{qid}: answerable={item['answerable']} does not fit kind {kind!r}")
    if item["answerable"] and not quotes:
        fail(f"{qid}: answerable question needs at least one quote")
    if not item["answerable"] and quotes:
        fail(f"{qid}: unanswerable question must have no quotes")

    evidence = []
    for quote in quotes:
        start, end = locate(text, quote, qid)
        evidence.append({"source": SOURCE, "start": start, "end": end, "quote": quote})
    return {
        "id": qid,
        "question": item["question"],
        "answerable": item["answerable"],
        "kind": kind,
        "split": item["split"],
        "evidence": evidence,
    }


def main():
    if len(sys.argv) not in (1, 3):
        fail("usage: python eval/make_spans.py [SOURCE.src.jsonl OUTPUT.jsonl]")
    src, out = (Path(a).resolve() for a in sys.argv[1:]) if len(sys.argv) == 3 else (SRC, OUT)
    text = CORPUS.read_text(encoding="utf-8")
    rows, seen_ids, seen_questions = [], set(), set()
    with src.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = convert(json.loads(line), text, lineno)
            if row["id"] in seen_ids:
                fail(f"duplicate id {row['id']}")
            key = row["question"].strip().lower()
            if key in seen_questions:
                fail(f"{row['id']}: duplicate question {row['question']!r}")
            seen_ids.add(row["id"])
            seen_questions.add(key)
            rows.append(row)

    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} questions to {out}")


if __name__ == "__main__":
    main()
