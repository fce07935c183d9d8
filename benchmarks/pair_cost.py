"""What a re-ranker that reads question and passage together would cost per answer (issue 15).

    python -m benchmarks.pair_cost            # dev questions, 3 rounds (~2 min on 2 cores)
    python -m benchmarks.pair_cost --rounds 1

A cross-encoder (or any answerability model that reads the pair) runs one forward pass per
candidate over "question [SEP] passage". The only transformer that ships offline here is
all-MiniLM-L6-v2 (the committed index's ONNX export), so a re-ranker would be at least that
model over each pair. This times, question by question and alternately so the machine's load
falls on both alike: (a) encoding the question alone, the floor issue 15's speed target is
measured against (warm `ask` p50 <= 2 x (a)); (b) one forward pass over the question paired with
each of its top 1, 3 and 10 passages from `Assistant.ask` (batched, as a re-ranker would run
them). It prints p50/p95 and the ratio of (b) to (a), and writes benchmarks/results/pair-cost.json.

Only the dev split's questions are used, and only their timings: nothing is scored.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from benchmarks import RESULTS, ROOT
from benchmarks.run import pct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from assistant.engine import Assistant
    from assistant.onnx_encoder import OnnxEmbedder
    from assistant.settings import from_environment

    encoder = OnnxEmbedder(ROOT / "index" / "encoder")
    assistant = Assistant.load(
        ROOT / "corpus",
        ROOT / "index",
        from_environment(os.environ),
        embedder=encoder,
        rebuild=False,
    )
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines if x.strip()]
    dev = [r["question"] for r in rows if r.get("split") == "dev"]
    sep = " [SEP] "  # the tokenizer reads it as its own separator token
    pairs = {}
    for question in dev:
        answer = assistant.ask(question, top_k=10)
        pairs[question] = [question + sep + quote.text for quote in answer.passages]
    dev = [q for q in dev if len(pairs[q]) >= 10]
    for question in dev[:3]:  # warm up
        encoder.encode([question])
        encoder.encode(pairs[question][:3])

    timings: dict[str, list[float]] = {"question": [], "1 pair": [], "3 pairs": [], "10 pairs": []}
    sizes = {"1 pair": 1, "3 pairs": 3, "10 pairs": 10}
    for _ in range(args.rounds):
        for question in dev:
            start = time.perf_counter()
            encoder.encode([question])
            timings["question"].append((time.perf_counter() - start) * 1000)
            for name, k in sizes.items():
                start = time.perf_counter()
                encoder.encode(pairs[question][:k])
                timings[name].append((time.perf_counter() - start) * 1000)

    floor = statistics.median(timings["question"])
    result = {
        "questions": len(dev),
        "rounds": args.rounds,
        "load_average": os.getloadavg()[0],
        "max_seq_length": encoder.config.max_seq_length,
        "ms": {name: {"p50": pct(v, 50), "p95": pct(v, 95)} for name, v in timings.items()},
        "p50_over_question": {
            name: round(statistics.median(v) / floor, 2) for name, v in timings.items()
        },
    }
    print(f"{len(dev)} dev questions x {args.rounds} rounds, load {result['load_average']:.2f}")
    print(f"{'encode':<22} {'p50 ms':>8} {'p95 ms':>8} {'x question':>11}")
    for name, v in result["ms"].items():
        label = "question alone" if name == "question" else f"question + {name}"
        ratio = result["p50_over_question"][name]
        print(f"{label:<22} {v['p50']:>8} {v['p95']:>8} {ratio:>11}")
    print("issue 15's budget for a whole warm ask: p50 <= 2 x question alone")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pair-cost.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
