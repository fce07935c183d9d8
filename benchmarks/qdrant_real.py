"""Qdrant's engine (qdrant-edge) against the embedded index on the same real passages and the
same vectors, with the whole engine answering over each (docs/scaling.md).

    python -m benchmarks.big --passages 100000 --workdir W   # the embedded build, real model
    python -m benchmarks.qdrant_real W                        # -> results/qdrant-real-<n>.json

The embedding, which is nearly all of either build, is paid once, by big.py's `assistant build`.
This script reads that index (passage vectors from its FAISS file, sentence vectors, passages)
and writes the same floats into a qdrant-edge shard laid out as `assistant build --store
qdrant` lays out a collection (a `passage` vector, a `sentences` multivector that is not indexed,
a `bm25` sparse vector of bm25s' own term scores, the passage as payload), with HNSW m 32,
ef_construct 200 like the embedded index's FAISS HNSW.

Each step runs in its own process, so memory is measured alone:

- build: the embedded store's write (FAISS HNSW, BM25, sentence vectors saved) against the
  shard's (BM25 for the sparse vectors, upload, HNSW build): seconds, CPU seconds, peak RSS, disk;
- query: each store loaded behind the real engine (`Assistant`, the index's ONNX query
  encoder; over qdrant-edge through `QdrantIndex`, the Qdrant store's own code, with a small
  adapter from the three qdrant-client calls it makes to the shard's API). Per store: RSS after
  load; for the eval questions (dev + test) encoded by the real model, the dense top-50 search,
  the candidates of one question (dense top 50 + BM25 top 50 and their vectors: what retrieval
  asks a store for), Qdrant's own hybrid query (dense and BM25 prefetches fused by RRF) and
  `ask`, p50/p95; recall@10 of the dense top 10 against exact search (FAISS flat over the same
  vectors); and whether the two stores give the same status and first quote.

The Qdrant store keeps the last 4,096 candidates' records between questions; it is emptied
before every question here, so each is timed as a new question.

Heavy work: run under `nice -n 19` on a shared machine; Qdrant's HNSW threads are kept at the
process's nice (benchmarks.qdrant_scale.run_child).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from benchmarks import RESULTS, ROOT
from benchmarks.qdrant_scale import _peak_mb, _rss_mb, disk_mb, run_child

K_SEARCH, K_RECALL, HNSW_EF = 50, 10, 128
ROUNDS = 3
PASSAGE, SENTENCES, BM25 = "passage", "sentences", "bm25"


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(times: list[float], p: float) -> float:
    return round(float(np.percentile(times, p)), 3)


def _load_passages(index: Path) -> list[dict]:
    with (index / "passages.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _texts(payloads: list[dict]) -> list[str]:
    # What the embedded build indexes for BM25 (store.build_index: built.texts).
    return [p["text"] for p in payloads]


# qdrant-edge behind QdrantIndex -------------------------------------------------------------


class EdgeClient:
    """The qdrant-client calls `QdrantIndex` makes (query_batch_points, query_points, retrieve),
    answered by a qdrant-edge shard. Dense queries search HNSW with ef max(128, limit), as
    `QdrantIndex` asks a server to."""

    def __init__(self, shard: Any):
        import qdrant_edge as qe

        self.qe, self.shard = qe, shard

    def _request(self, query: Any, using: str, limit: int, query_filter: Any = None) -> Any:
        qe = self.qe
        if hasattr(query, "indices"):  # a qdrant_client SparseVector
            vector: Any = qe.SparseVector(list(query.indices), list(query.values))
            params = None
        else:
            vector = list(query)
            params = qe.SearchParams(hnsw_ef=max(HNSW_EF, limit))
        edge_filter = None
        if query_filter is not None:
            ids = {i for c in query_filter.must for i in c.has_id}
            edge_filter = qe.Filter(must=[qe.HasIdCondition(ids)])
        return qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(vector, using=using),
            filter=edge_filter,
            params=params,
        )

    def query_batch_points(self, collection: str, requests: list[Any]) -> list[Any]:
        batch = self.qe.QueryBatchRequest(
            [self._request(r.query, r.using, r.limit) for r in requests]
        )
        return [SimpleNamespace(points=found) for found in self.shard.query_batch(batch)]

    def query_points(
        self, collection: str, query: Any, using: str, limit: int, query_filter: Any = None
    ) -> Any:
        return SimpleNamespace(
            points=self.shard.query(self._request(query, using, limit, query_filter))
        )

    def retrieve(
        self, collection: str, ids: list[int], with_payload: bool, with_vectors: list[str]
    ):
        return self.shard.retrieve(
            list(ids), with_payload=with_payload, with_vector=list(with_vectors)
        )


def edge_store(shard_path: Path, work: Path, index: Path, corpus: Path) -> Any:
    """A `QdrantIndex` over the shard: the embedded index's manifest, encoder and vocabulary, the
    stem table and digests the driver wrote, the corpus for checking every quote."""
    import qdrant_edge as qe

    from assistant.corpus import load_corpus
    from assistant.expansion import Vocabulary
    from assistant.qdrant_store import QdrantIndex
    from assistant.store import read_manifest

    manifest = read_manifest(index)
    terms = json.loads((work / "terms.json").read_text(encoding="utf-8"))
    shard = qe.EdgeShard.load(str(shard_path))
    vocabulary = Vocabulary.load(index / "vocabulary") if manifest.vocabulary else None
    return QdrantIndex(
        manifest=manifest,
        documents={d.source: d for d in load_corpus(corpus)},
        vocabulary=vocabulary,
        encoder_dir=index / "encoder" if manifest.encoder else None,
        client=EdgeClient(shard),
        collection="edge",
        location=str(shard_path),
        term_ids={stem: i for i, stem in enumerate(terms["stems"])},
        df=np.asarray(terms["df"], dtype=np.int64),
        stems=tuple(terms["stems"]),
        digests=np.load(work / "digests.npy", mmap_mode="r"),
        titles=manifest.titles,
    )


# Child processes ----------------------------------------------------------------------------


def build_edge(work: Path, index: Path) -> dict:
    import qdrant_edge as qe

    from assistant.lexical import LexicalIndex
    from assistant.qdrant_store import _bm25_rows

    payloads = _load_passages(index)
    passages = np.load(work / "passage_vectors.npy", mmap_mode="r")
    sentences = np.load(index / "sentences.npy", mmap_mode="r")
    offsets = np.cumsum([0] + [len(p["sentences"]) for p in payloads])
    dim = passages.shape[1]
    path = work / "edge"
    started, cpu = time.perf_counter(), _cpu_s()
    _, _, bm25 = _bm25_rows(LexicalIndex.build(_texts(payloads)))
    config = qe.EdgeConfig(
        vectors={
            PASSAGE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Dot),
            SENTENCES: qe.EdgeVectorParams(
                size=dim,
                distance=qe.Distance.Dot,
                multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
                hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
            ),
        },
        sparse_vectors={BM25: qe.EdgeSparseVectorParams()},
        hnsw_config=qe.HnswIndexConfig(m=32, ef_construct=200, full_scan_threshold=10_000),
    )
    shard = qe.EdgeShard.create(str(path), config)
    for lo in range(0, len(payloads), 256):
        points = []
        for row in range(lo, min(lo + 256, len(payloads))):
            a, b = bm25.indptr[row], bm25.indptr[row + 1]
            points.append(
                qe.Point(
                    id=row,
                    vector={
                        PASSAGE: passages[row].tolist(),
                        SENTENCES: np.asarray(sentences[offsets[row] : offsets[row + 1]]).tolist(),
                        BM25: qe.SparseVector(bm25.indices[a:b].tolist(), bm25.data[a:b].tolist()),
                    },
                    payload=payloads[row],
                )
            )
        shard.update(qe.UpdateOperation.upsert_points(points))
    uploaded = time.perf_counter() - started
    shard.optimize()  # builds the HNSW graph and the sparse index, blocking
    shard.flush()
    info = shard.info()
    shard.close()
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "upload_s": round(uploaded, 1),
        "build_cpu_s": round(_cpu_s() - cpu, 1),
        "build_peak_rss_mb": round(_peak_mb()),
        "disk_mb": disk_mb(path),
        "segments": info.segments_count,
        "points": info.points_count,
        "indexed_vectors": info.indexed_vectors_count,
    }


def build_embedded(work: Path, index: Path) -> dict:
    """The embedded store's write of the same data: FAISS (dense.py's plan for the size), BM25
    and the sentence matrix, as store.build_index writes them (into a scratch folder)."""
    from assistant.dense import DenseIndex
    from assistant.lexical import LexicalIndex

    payloads = _load_passages(index)
    passages = np.load(work / "passage_vectors.npy")
    sentences = np.load(index / "sentences.npy")
    out = work / "embedded"
    out.mkdir(exist_ok=True)
    started, cpu = time.perf_counter(), _cpu_s()
    dense = DenseIndex.build(passages)
    dense.save(out / "passages.faiss")
    np.save(out / "sentences.npy", sentences, allow_pickle=False)
    LexicalIndex.build(_texts(payloads)).save(out / "bm25")
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "build_cpu_s": round(_cpu_s() - cpu, 1),
        "build_peak_rss_mb": round(_peak_mb()),
        "disk_mb": disk_mb(out),
        "faiss_index": str(dense.kind),
    }


def query(store_kind: str, work: Path, index: Path, corpus: Path) -> dict:
    from assistant import Assistant
    from assistant.settings import from_environment

    questions = json.loads((work / "questions.json").read_text(encoding="utf-8"))
    vectors = np.load(work / "queries.npy")
    settings = from_environment(os.environ)
    base = _rss_mb()
    started = time.perf_counter()
    if store_kind == "edge":
        store = edge_store(work / "edge", work, index, corpus)
        assistant = Assistant._ready(store, None, settings, corpus, index)

        def forget() -> None:  # every question a new one (see the module's docstring)
            store._cache.clear()

        def dense(q: np.ndarray) -> list[int]:
            request = store.client._request(q.tolist(), PASSAGE, K_SEARCH)
            return [int(p.id) for p in store.client.shard.query(request)]

    else:
        assistant = Assistant.load(corpus, index, settings, rebuild=False)
        store = assistant.index

        def forget() -> None:
            pass

        def dense(q: np.ndarray) -> list[int]:
            return [r for r, _ in store.dense.search(q, K_SEARCH)]

    assistant.ask(questions[0])  # the word model, the speller and the encoder are ready
    load_s = time.perf_counter() - started
    loaded = _rss_mb()

    def timed(fn: Any, items: Any) -> tuple[list[float], list[Any]]:
        times, results = [], []
        for item in items:
            forget()
            t = time.perf_counter()
            results.append(fn(item))
            times.append((time.perf_counter() - t) * 1000)
        return times, results

    for q in vectors[:5]:
        dense(q)
    dense_ms, found = timed(dense, vectors)
    cand_ms, _ = timed(
        lambda i: store.candidates(vectors[i], questions[i], K_SEARCH), range(len(questions))
    )
    out: dict[str, Any] = {
        "load_and_first_ask_s": round(load_s, 2),
        "rss_after_load_mb": round(loaded),
        "rss_loaded_minus_start_mb": round(loaded - base),
        "dense_p50_ms": _pct(dense_ms, 50),
        "dense_p95_ms": _pct(dense_ms, 95),
        "candidates_p50_ms": _pct(cand_ms, 50),
        "candidates_p95_ms": _pct(cand_ms, 95),
    }
    if store_kind == "edge":
        import qdrant_edge as qe

        def hybrid(i: int) -> list[int]:
            sparse = store._query(questions[i], None)
            prefetches = [
                qe.Prefetch(
                    limit=K_SEARCH,
                    query=qe.Query.Nearest(vectors[i].tolist(), using=PASSAGE),
                    params=qe.SearchParams(hnsw_ef=HNSW_EF),
                )
            ]
            if sparse is not None:
                prefetches.append(
                    qe.Prefetch(
                        limit=K_SEARCH,
                        query=qe.Query.Nearest(
                            qe.SparseVector(list(sparse.indices), list(sparse.values)), using=BM25
                        ),
                    )
                )
            request = qe.QueryRequest(
                limit=K_SEARCH, prefetches=prefetches, query=qe.Fusion.Rrf(k=60)
            )
            return [int(p.id) for p in store.client.shard.query(request)]

        hybrid_ms, _ = timed(hybrid, range(len(questions)))
        out["hybrid_rrf_p50_ms"] = _pct(hybrid_ms, 50)
        out["hybrid_rrf_p95_ms"] = _pct(hybrid_ms, 95)
    ask_ms, answers = timed(assistant.ask, questions * ROUNDS)
    out.update(
        {
            "ask_p50_ms": _pct(ask_ms, 50),
            "ask_p95_ms": _pct(ask_ms, 95),
            "asks": len(ask_ms),
            "peak_rss_mb": round(_peak_mb()),
            "found": [f[:K_RECALL] for f in found],
            "answers": [
                [a.status, a.passages[0].text if a.passages else None]
                for a in answers[: len(questions)]
            ],
        }
    )
    return out


# Driver -------------------------------------------------------------------------------------


def prepare(work: Path, index: Path, corpus: Path) -> dict:
    """Vectors, stem table, digests and encoded questions for the children; exact top 10."""
    import faiss

    from assistant.lexical import LexicalIndex
    from assistant.onnx_encoder import OnnxEmbedder
    from assistant.qdrant_store import _bm25_rows, passage_digest

    dense = faiss.read_index(str(index / "passages.faiss"))
    vectors = dense.reconstruct_n(0, dense.ntotal)  # HNSW Flat stores the floats as they were
    del dense
    np.save(work / "passage_vectors.npy", vectors, allow_pickle=False)
    payloads = _load_passages(index)
    stems, df, _ = _bm25_rows(LexicalIndex.load(index / "bm25"))
    (work / "terms.json").write_text(
        json.dumps({"num_docs": len(payloads), "stems": stems, "df": df.tolist()}), encoding="utf-8"
    )
    digests = b"".join(passage_digest(p) for p in payloads)
    np.save(work / "digests.npy", np.frombuffer(digests, np.uint8).reshape(-1, 16))
    rows = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(x)["question"] for x in rows if x.strip()]
    (work / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    queries = OnnxEmbedder(index / "encoder").encode(questions)
    np.save(work / "queries.npy", queries, allow_pickle=False)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = exact.search(queries, K_RECALL)[1]
    return {
        "passages": len(payloads),
        "sentences": int(sum(len(p["sentences"]) for p in payloads)),
        "truth": truth.tolist(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="benchmarks.big's --workdir (corpus/, index/)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    work_root = args.workdir.resolve()
    corpus, index, work = work_root / "corpus", work_root / "index", work_root / "qdrant-real"
    if args.child:
        step, kind = args.child
        if step == "build":
            result = build_edge(work, index) if kind == "edge" else build_embedded(work, index)
        else:
            result = query(kind, work, index, corpus)
        print(json.dumps(result))
        return 0

    work.mkdir(exist_ok=True)
    started = time.perf_counter()
    prepared = prepare(work, index, corpus)
    truth = prepared.pop("truth")
    out: dict[str, Any] = {
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform()},
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        **prepared,
        "questions": len(truth),
        "k_search": K_SEARCH,
        "hnsw": {"m": 32, "ef_construct": 200, "ef_search": HNSW_EF},
        "prepare_s": round(time.perf_counter() - started, 1),
        "rows": {},
    }
    print(json.dumps(out), flush=True)
    me = [sys.executable, "-m", "benchmarks.qdrant_real", str(work_root), "--child"]
    for kind in ("embedded", "edge"):
        row: dict[str, Any] = {}
        for step in ("build", "query"):
            done = run_child([*me, step, kind], ROOT)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            row.update(json.loads(done.stdout.splitlines()[-1]))
            row[f"load_average_after_{step}"] = [round(x, 2) for x in os.getloadavg()]
        found = row.pop("found")
        row["recall@10"] = round(
            float(np.mean([len(set(f) & set(t)) / K_RECALL for f, t in zip(found, truth)])), 4
        )
        out["rows"][kind] = row
        print(json.dumps({kind: {k: v for k, v in row.items() if k != "answers"}}), flush=True)
    a, b = (out["rows"][k].pop("answers") for k in ("embedded", "edge"))
    out["same_status_and_first_quote"] = sum(x == y for x, y in zip(a, b))
    out["differences"] = [
        {"question": i, "embedded": x, "edge": y} for i, (x, y) in enumerate(zip(a, b)) if x != y
    ][:20]
    out["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"qdrant-real-{prepared['passages']}.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
