"""A real build and real queries at scale: the model embeds every passage, nothing is synthetic
but the corpus (real sentences recombined by make_corpus.py).

    python -m benchmarks.big --passages 100000      # ~30-40 min on 2 cores
    python -m benchmarks.big --passages 5000        # quick check (~2 min)
    python -m benchmarks.big --passages 5000 --store qdrant   # the same into a local Qdrant

Steps, each in its own process so memory is measured alone:
1. make_corpus.py writes the corpus (documents of 50 paragraphs, 2-5 sentences each).
2. `assistant build --corpus C --index I` (sentence-transformers, the reference path): wall time,
   peak resident memory, texts encoded, index size on disk by file.
3. A query process: `Assistant.load` (ONNX query encoder, as deployed), resident memory after
   load, then every eval question asked 3 times: p50/p95 of `ask`, and recall of the passage the
   question was built from (see below).

Answer quality is not the point at this size (the eval set is about the seed article), but the
search must still find things: 100 passages are picked at random and their first two sentences
are asked verbatim; `found@3` is the share where a passage holding both comes back in the top 3
(the generator reuses sentences, so one sentence alone is in many passages; a pair rarely is).
Results go to benchmarks/results/big-<passages>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import RESULTS, ROOT

BIN = Path(sys.executable).parent

QUERY_SCRIPT = r"""
import json, os, random, resource, statistics, sys, time
from pathlib import Path
from assistant import Assistant
from assistant.settings import from_environment

corpus, index, questions_file = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
assistant = Assistant.load(corpus, index, from_environment(os.environ), rebuild=False)
load_s = time.perf_counter() - t0
rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
questions = [json.loads(x)["question"] for x in questions_file.read_text().splitlines() if x]
assistant.ask(questions[0])
times = []
for _ in range(3):
    for q in questions:
        s = time.perf_counter()
        assistant.ask(q)
        times.append((time.perf_counter() - s) * 1000)
times.sort()
pct = lambda p: round(times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))], 2)

rng = random.Random(0)
count = assistant.index.manifest["counts"]["passages"]
passages = [assistant.index.passage(i) for i in range(count)]  # either store
candidates = [i for i, p in enumerate(passages) if len(p.sentences) >= 2]
sample = rng.sample(candidates, min(100, len(candidates)))
found = 0
for i in sample:
    p = passages[i]
    text = assistant.index.documents[p.source].text
    wanted = [text[s:e] for s, e in p.sentences[:2]]
    answer = assistant.ask(" ".join(wanted))
    found += any(all(w in q.text for w in wanted) for q in answer.passages[:3])
print(json.dumps({
    "load_seconds": round(load_s, 2),
    "rss_after_load_mb": round(rss_after_load, 1),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "ask_p50_ms": pct(50), "ask_p95_ms": pct(95), "asks": len(times),
    "found_at_3": round(found / len(sample), 3), "found_sample": len(sample),
    "faiss_index": assistant.index.manifest.get("faiss_index"),
    "store": assistant.index.manifest.get("store", "embedded"),
}))
"""


def size_by_file(folder: Path) -> dict[str, float]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[path.relative_to(folder).as_posix()] = round(path.stat().st_size / 1e6, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp folder")
    parser.add_argument(
        "--store",
        choices=["embedded", "qdrant"],
        default="embedded",
        help="qdrant: build into a local Qdrant folder (qdrant-client's local mode) beside it",
    )
    args = parser.parse_args(argv)
    from benchmarks.make_corpus import make_corpus, sentence_pool
    from benchmarks.run import machine

    work = args.workdir or Path(tempfile.mkdtemp(prefix="verbatim-big-"))
    corpus, index = work / "corpus", work / "index"
    info = machine()
    started = time.perf_counter()
    documents = make_corpus(corpus, args.passages)
    corpus_mb = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
    print(f"corpus: {documents} documents, {corpus_mb:.1f} MB in {corpus}", flush=True)
    print(f"  ({time.perf_counter() - started:.1f}s, pool of {len(sentence_pool())} sentences)")

    env = dict(os.environ, HF_HUB_OFFLINE="1")
    store = ["--qdrant", str(work / "qdrant")] if args.store == "qdrant" else []
    if store:
        env["VERBATIM_QDRANT"] = str(work / "qdrant")  # for the query process
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "assistant"), "build", "--corpus", str(corpus), "--index", str(index), *store],
        check=True,
        env=env,
    )
    build_s = time.perf_counter() - started
    build_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    manifest = json.loads((index / "manifest.json").read_text())
    counts = manifest["counts"]
    files = size_by_file(index)
    if store:
        files.update({f"qdrant/{k}": v for k, v in size_by_file(work / "qdrant").items()})
    print(f"build: {build_s:.0f}s, peak RSS {build_peak_mb:.0f} MB, {counts}", flush=True)

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            QUERY_SCRIPT,
            str(corpus),
            str(index),
            str(ROOT / "eval" / "questions.jsonl"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return 1
    query = json.loads(done.stdout.strip().splitlines()[-1])
    passages = counts["passages"]
    result = {
        "machine": info,
        "passages": passages,
        "store": args.store,
        "documents": documents,
        "corpus_mb": round(corpus_mb, 1),
        "build_seconds": round(build_s, 1),
        "build_peak_rss_mb": round(build_peak_mb, 1),
        "texts": counts["passages"] + counts["sentences"],
        "embedded_texts": counts.get("embedded_texts"),
        "embedded_per_second": round(counts.get("embedded_texts", 0) / build_s, 1),
        "index_mb": round(sum(files.values()), 1),
        "index_files_mb": files,
        "query": query,
        "bytes_per_passage_in_memory": round(
            (query["rss_after_load_mb"] * 1e6 * 1.048576) / passages
        ),
        "load_average_end": os.getloadavg(),
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "-qdrant" if args.store == "qdrant" else ""
    out = RESULTS / f"big-{args.passages}{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        ("passages", f"{passages:,}"),
        ("build (s)", f"{build_s:.0f}"),
        ("texts / embedded", f"{result['texts']:,} / {result['embedded_texts']:,}"),
        ("embedded texts/s", f"{result['embedded_per_second']}"),
        ("build peak RSS (MB)", f"{build_peak_mb:.0f}"),
        ("index on disk (MB)", f"{result['index_mb']}"),
        ("query RSS after load (MB)", f"{query['rss_after_load_mb']}"),
        ("load (s)", f"{query['load_seconds']}"),
        ("ask p50 / p95 (ms)", f"{query['ask_p50_ms']} / {query['ask_p95_ms']}"),
        ("found@3 (two sentences asked)", f"{query['found_at_3']}"),
        ("store / faiss index", f"{args.store} / {query['faiss_index']}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
