"""Do the Qdrant store and the embedded index give the same answers? (docs/scaling.md)

    python -m benchmarks.qdrant_equal            # eval/questions.jsonl and the Apache BEIR set

For each question set the corpus is chunked and embedded once (the real model) and written to
both stores: an embedded index folder and a Qdrant collection (qdrant-client's local mode, in
memory). Every question is then asked of both in every retrieval mode, and compared on:

- `ranking`: the ids of the top 10 candidates `retrieval.search` returns, in order;
- `answer`: the status and the ids of the quotes shown (top 3 above the thresholds);
- the largest score difference seen.

Every question split of eval/questions.jsonl is used except one named "blind" (kept unseen for
the ranking work). Results go to benchmarks/results/qdrant-equal.json.
"""

from __future__ import annotations

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


def compare(name: str, corpus: Path, questions: list[str], embedder, settings) -> dict:
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
            a_answers = embedded.ask_many(questions, mode=mode)
            b_answers = qdrant.ask_many(questions, mode=mode)
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


def main() -> None:
    embedder = CachedEmbedder(load_embedder())
    settings = Settings(onnx=False)  # both stores use the same in-process embedder
    items = [
        json.loads(line)
        for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    questions = [x["question"] for x in items if x.get("split") != "blind"]
    results = {
        "questions.jsonl": compare(
            "questions.jsonl", ROOT / "corpus", questions, embedder, settings
        )
    }
    beir = load_beir(ROOT / "eval" / "beir-apache-2.0")
    with tempfile.TemporaryDirectory(prefix="verbatim-apache-") as tmp:
        write_beir_corpus(beir, Path(tmp) / "corpus")
        queries = [text for _, text in sorted(beir.queries.items())]
        results["beir-apache-2.0"] = compare(
            "beir-apache-2.0", Path(tmp) / "corpus", queries, embedder, settings
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "qdrant-equal.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
