"""big.py's `found@3` check, per retrieval mode, on an index big.py built.

    python -m benchmarks.big --passages 100000 --workdir W
    python -m benchmarks.found_by_mode W          # -> results/found-by-mode-<passages>.json

The same 100 passages big.py samples (random.Random(0) over the passages with two or more
sentences); their first two sentences are asked verbatim, and a hit is a passage holding both
among the first 3 quotes. Asked in each mode (`bm25`, `dense`, `hybrid`, `rerank`), and in
`rerank` without query expansion and without typo correction, to see which part of the ranking
a known-item question depends on at this size (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path

from benchmarks import RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="big.py's --workdir (corpus/ and index/)")
    args = parser.parse_args(argv)
    from assistant import Assistant

    a = Assistant.load(args.workdir / "corpus", args.workdir / "index", rebuild=False)
    rng = random.Random(0)
    count = a.index.manifest["counts"]["passages"]
    passages = [a.index.passage(i) for i in range(count)]
    candidates = [i for i, p in enumerate(passages) if len(p.sentences) >= 2]
    sample = rng.sample(candidates, min(100, len(candidates)))
    runs = {mode: (a, mode) for mode in ("rerank", "hybrid", "dense", "bm25")}
    for name, change in (
        ("rerank, no expansion", {"query_expansion": False}),
        ("rerank, no typo correction", {"spelling": False}),
    ):
        runs[name] = (a.with_settings(dataclasses.replace(a.settings, **change)), "rerank")
    found: dict[str, float] = {}
    for name, (assistant, mode) in runs.items():
        hits = 0
        for i in sample:
            p = passages[i]
            text = assistant.index.documents[p.source].text
            wanted = [text[s:e] for s, e in p.sentences[:2]]
            answer = assistant.ask(" ".join(wanted), mode=mode, top_k=3)
            hits += any(all(w in q.text for w in wanted) for q in answer.passages[:3])
        found[name] = round(hits / len(sample), 3)
        print(f"{name:28} found@3 {found[name]}", flush=True)
    out = RESULTS / f"found-by-mode-{count}.json"
    out.write_text(
        json.dumps({"passages": count, "sample": len(sample), "found_at_3": found}, indent=1) + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
