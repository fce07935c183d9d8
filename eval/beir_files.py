"""What the BEIR-folder scripts share (make_beir_apache.py, make_beir_zlib_faq.py): the
whitespace normalisation of their source text and the folder they write.

Imported by those scripts as a sibling module (`python eval/make_beir_*.py` puts eval/ first
on the import path).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


def collapse(s: str) -> str:
    """Runs of whitespace as one space, none at the ends."""
    return " ".join(s.split())


def paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs, each collapsed to one line."""
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append(collapse(" ".join(cur)))
            cur = []
    if cur:
        paras.append(collapse(" ".join(cur)))
    return paras


def write_beir(out: Path, docs: list[dict], queries: Sequence[tuple[str, str, list[str]]]) -> int:
    """Write corpus.jsonl, queries.jsonl and qrels/test.tsv (score 1) into `out`, after checking
    that ids are unique and every relevant document exists; returns the number of judgements.
    `queries` are (query id, text, relevant document ids)."""
    doc_ids = [d["_id"] for d in docs]
    assert len(set(doc_ids)) == len(doc_ids), "duplicate doc ids"
    q_ids = [q for q, _, _ in queries]
    assert len(set(q_ids)) == len(q_ids), "duplicate query ids"
    for q, _, rel in queries:
        assert rel and all(r in doc_ids for r in rel), f"bad qrels for {q}: {rel}"

    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    with open(out / "queries.jsonl", "w", encoding="utf-8") as f:
        for q, t, _ in queries:
            f.write(json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n")
    n_qrels = 0
    with open(out / "qrels" / "test.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q, _, rel in queries:
            for r in rel:
                f.write(f"{q}\t{r}\t1\n")
                n_qrels += 1
    return n_qrels
