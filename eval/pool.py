#!/usr/bin/env python3
"""Pool the current system's top passages for judging gold evidence (TREC-style pooling).

For every question of a JSON-lines dataset (the project's format, see docs/evaluation.md) this
asks the assistant in each retrieval mode for its top `--depth` passages, with the abstention
thresholds switched off so that refused questions are pooled too (the CLI's `ask --json -k 5`
shows a prefix of the same ranking), and writes one Markdown file listing, per question, the
union of those passages, which modes returned each at which rank, and whether it already
counts as a hit for the question's evidence. A judge reads the file and adds every sentence of
a pooled passage that answers the question to the authoring file's quotes; for unanswerable
questions, a passage that answers it means the question must be dropped or rewritten.

Usage (in the project's virtual environment):
    python eval/pool.py eval/blind.jsonl --split blind --out /tmp/pool.md
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from assistant.engine import Assistant
from assistant.evaluation import is_hit, load_dataset
from assistant.retrieval import MODES
from assistant.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default=None)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    items = load_dataset(args.dataset, args.split)
    settings = dataclasses.replace(Settings(), threshold=-1.0, focus_check=False)
    assistant = Assistant.load(settings=settings, rebuild=False)
    pools: dict[str, dict[tuple[str, int, int], dict]] = {i.id: {} for i in items}
    for mode in MODES:
        answers = assistant.ask_many([i.question for i in items], top_k=args.depth, mode=mode)
        for item, answer in zip(items, answers):
            for rank, p in enumerate(answer.passages, start=1):
                entry = pools[item.id].setdefault(
                    (p.source, p.start, p.end), {"text": p.text, "ranks": {}}
                )
                entry["ranks"][mode] = rank
    lines = [f"# Pool of {args.dataset} (depth {args.depth}, modes {', '.join(MODES)})", ""]
    for item in items:
        lines += [f"## {item.id} [{item.kind}] {item.question}", ""]
        for (source, start, end), entry in sorted(
            pools[item.id].items(), key=lambda kv: min(kv[1]["ranks"].values())
        ):
            hit = is_hit(source, start, end, item.evidence) if item.evidence else False
            ranks = " ".join(f"{m}:{r}" for m, r in entry["ranks"].items())
            mark = "HIT" if hit else "---"
            lines.append(f"- {mark} {source}:{start}-{end} ({ranks}) {entry['text']}")
        lines.append("")
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"pooled {len(items)} questions into {args.out}")


if __name__ == "__main__":
    main()
