"""Do the Qdrant store and the embedded index give the same answers? (docs/scaling.md)

    python -m benchmarks.qdrant_equal            # every set below
    python -m benchmarks.qdrant_equal --sets followups.jsonl,beir-zlib-faq   # some of them

For each question set the corpus is chunked and embedded once (the real model) and written to
both stores: an embedded index folder and a Qdrant collection (qdrant-client's local mode, in
memory). Every question is then asked of both in every retrieval mode, and compared on:

- `ranking`: the ids of the top 10 candidates `retrieval.search` returns, in order;
- `answer`: the status and the ids of the quotes shown (top 3 above the thresholds);
- the largest score difference seen.

The sets: eval/questions.jsonl (every split except one named "blind", kept unseen for the
ranking work), eval/followups.jsonl (each question asked with its history, so the answers
compare the follow-up reading too; the ranking compares the question alone), eval/languages.jsonl
(over the seed corpus), and the Apache and zlib BEIR sets. Results go to
benchmarks/results/qdrant-equal.json; a run of some sets keeps the others' results there.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks import ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import Assistant, Settings  # noqa: E402
from assistant.embedding import load_embedder  # noqa: E402
from assistant.evaluation import load_beir, write_beir_corpus  # noqa: E402
from assistant.qdrant_store import build_qdrant, close_client  # noqa: E402
from assistant.retrieval import MODES, search  # noqa: E402
from assistant.store import build_index  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


class CachedEmbedder:
    """The real model, each text encoded once across both builds and all questions."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self._model = getattr(inner, "_model", None)
        self.cache: dict[str, object] = {}

    def encode(self, texts, **kwargs):
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            for t, v in zip(todo, self.inner.encode(todo)):
                self.cache[t] = v
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.vstack([self.cache[t] for t in texts]).astype(np.float32)


def ranking(assistant: Assistant, question: str, vector, mode: str) -> list[str]:
    expansion = assistant._expansions([question], mode)[0]
    hits = search(
        assistant.index,
        vector,
        question,
        mode=mode,
        rrf_k=assistant.settings.rrf_k,
        rerank_weights=assistant.settings.rerank_weights,
        expansion=expansion,
    )
    return [assistant.index.passage(h.row).id for h in hits[:10]]


def compare(
    name: str,
    corpus: Path,
    questions: list[str],
    embedder,
    settings,
    histories: list[list[str]] | None = None,
) -> dict:
    with tempfile.TemporaryDirectory(prefix="verbatim-equal-") as tmp:
        t0 = time.perf_counter()
        build_index(corpus, Path(tmp) / "embedded", settings, embedder, progress=False)
        t1 = time.perf_counter()
        build_qdrant(corpus, Path(tmp) / "side", settings, embedder, ":memory:", progress=False)
        t2 = time.perf_counter()
        embedded = Assistant.load(
            corpus, Path(tmp) / "embedded", settings, embedder=embedder, rebuild=False
        )
        qdrant = Assistant.load(
            corpus,
            Path(tmp) / "side",
            settings,
            embedder=embedder,
            rebuild=False,
            qdrant=":memory:",
        )
        vectors = embedder.encode(questions)
        out: dict = {
            "questions": len(questions),
            "passages": embedded.index.manifest["counts"]["passages"],
            "build_s": {"embedded": round(t1 - t0, 2), "qdrant": round(t2 - t1, 2)},
            "modes": {},
        }
        differing: set[int] = set()
        for mode in MODES:
            a_answers = embedded.ask_many(questions, histories=histories, mode=mode)
            b_answers = qdrant.ask_many(questions, histories=histories, mode=mode)
            rank_diff, answer_diff, max_score = [], [], 0.0
            for i, (q, v, a, b) in enumerate(zip(questions, vectors, a_answers, b_answers)):
                if ranking(embedded, q, v, mode) != ranking(qdrant, q, v, mode):
                    rank_diff.append(q)
                    differing.add(i)
                key_a = (a.status, [p.id for p in a.passages])
                key_b = (b.status, [p.id for p in b.passages])
                if key_a != key_b:
                    answer_diff.append({"question": q, "embedded": key_a, "qdrant": key_b})
                    differing.add(i)
                for pa, pb in zip(a.passages, b.passages):
                    max_score = max(max_score, abs(pa.score - pb.score))
            out["modes"][mode] = {
                "ranking_differs": len(rank_diff),
                "answer_differs": len(answer_diff),
                "max_score_difference": max_score,
                "ranking_examples": rank_diff[:5],
                "answer_examples": answer_diff[:5],
            }
        out["questions_differing_in_any_mode"] = len(differing)
        out["share_differing"] = round(len(differing) / max(1, len(questions)), 4)
        close_client(":memory:")
        print(name, json.dumps(out, indent=1), flush=True)
        return out


def _lines(name: str) -> list[dict]:
    text = (ROOT / "eval" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _beir(name: str, embedder, settings) -> dict:
    beir = load_beir(ROOT / "eval" / name)
    with tempfile.TemporaryDirectory(prefix=f"verbatim-{name}-") as tmp:
        write_beir_corpus(beir, Path(tmp) / "corpus")
        queries = [text for _, text in sorted(beir.queries.items())]
        return compare(name, Path(tmp) / "corpus", queries, embedder, settings)


def _questions(embedder, settings) -> dict:
    items = [x for x in _lines("questions.jsonl") if x.get("split") != "blind"]
    questions = [x["question"] for x in items]
    return compare("questions.jsonl", ROOT / "corpus", questions, embedder, settings)


def _followups(embedder, settings) -> dict:
    items = _lines("followups.jsonl")
    questions = [x["question"] for x in items]
    histories = [list(x.get("history") or []) for x in items]
    return compare("followups.jsonl", ROOT / "corpus", questions, embedder, settings, histories)


def _languages(embedder, settings) -> dict:
    questions = [x["question"] for x in _lines("languages.jsonl")]
    return compare("languages.jsonl", ROOT / "corpus", questions, embedder, settings)


SETS = {
    "questions.jsonl": _questions,
    "followups.jsonl": _followups,
    "languages.jsonl": _languages,
    "beir-apache-2.0": lambda embedder, settings: _beir("beir-apache-2.0", embedder, settings),
    "beir-zlib-faq": lambda embedder, settings: _beir("beir-zlib-faq", embedder, settings),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated, of: " + ", ".join(SETS)
    )
    names = [n.strip() for n in parser.parse_args().sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; the sets are {', '.join(SETS)}")
    embedder = CachedEmbedder(load_embedder())
    settings = Settings(onnx=False)  # both stores use the same in-process embedder
    path = RESULTS / "qdrant-equal.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for name in names:
        results[name] = SETS[name](embedder, settings)
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
