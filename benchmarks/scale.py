"""Dense index types at 1k-1M vectors: recall@10 against exact search, latency, build, memory.

Vectors are "random but realistic": each is a random mixture of three real all-MiniLM-L6-v2
embeddings (sentences of the seed article, eval questions and package prose, see
make_corpus.py) plus Gaussian noise, normalised. So they live in the model's anisotropic,
clustered region of the sphere, not uniformly on it (uniform vectors make ANN look worse than
it is on text). Queries are fresh mixtures of the same kind.

    python -m benchmarks.scale                      # 1k, 10k, 100k, 1M (about 20 min on 2 cores)
    python -m benchmarks.scale --sizes 1000 10000   # quick

For each size: exact `flat` is the ground truth; `hnsw`/`hnsw_sq8` sweep efSearch and
`ivf`/`ivf_sq8` sweep nprobe; each row is the cheapest setting with recall@10 >= 0.95 (or the
best one tried). HNSW is skipped above --hnsw-max vectors (its build is the slow part).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from assistant.dense import DenseIndex, IndexPlan
from benchmarks import RESULTS, ROOT

K_RECALL = 10
K_SEARCH = 50  # what retrieval asks the dense index for (retrieval.CANDIDATES)
TARGET = 0.95


def base_vectors(encoder: str | None) -> np.ndarray:
    from benchmarks.make_corpus import sentence_pool

    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    texts = sentence_pool() + [json.loads(x)["question"] for x in lines if x.strip()]
    cache = Path(tempfile.gettempdir()) / f"verbatim-base-{len(texts)}.npy"
    if cache.exists():
        return np.load(cache, allow_pickle=False)
    if encoder:
        from assistant.onnx_encoder import OnnxEmbedder

        embedder = OnnxEmbedder(encoder)
    else:
        from assistant.embedding import load_embedder

        embedder = load_embedder()
    vectors = embedder.encode(texts, batch_size=64)
    np.save(cache, vectors, allow_pickle=False)
    return vectors


def mixtures(base: np.ndarray, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        m = min(step, n - lo)
        picks = rng.integers(0, len(base), (m, 3))
        weights = rng.dirichlet(np.ones(3), m).astype(np.float32)
        block = np.einsum("nk,nkd->nd", weights, base[picks])
        block += rng.standard_normal(block.shape, dtype=np.float32) * (
            noise / np.sqrt(block.shape[1])
        )
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo : lo + m] = block
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)]))


def latency_ms(index: DenseIndex, queries: np.ndarray, k: int = K_SEARCH) -> tuple[float, float]:
    for q in queries[:5]:
        index.search(q, k)
    times = []
    for q in queries:
        started = time.perf_counter()
        index.search(q, k)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def disk_bytes(index: DenseIndex) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.faiss"
        index.save(path)
        return path.stat().st_size


def tune(index: DenseIndex, queries: np.ndarray, truth: np.ndarray) -> tuple[str, float]:
    """Set the cheapest efSearch / nprobe reaching TARGET recall; return (setting, recall)."""
    inner = index.index
    if isinstance(inner, faiss.IndexHNSW):
        knob, values = "efSearch", [16, 32, 64, 128, 256, 512, 1024]
    else:
        knob, values = "nprobe", [1, 2, 4, 8, 16, 32, 64, 128, 256]
        values = [v for v in values if v <= inner.nlist]
    best = (values[-1], 0.0)
    for value in values:
        if knob == "efSearch":
            inner.hnsw.efSearch = value
        else:
            inner.nprobe = value
        r = recall(index.search_many(queries, K_RECALL)[1], truth)
        best = (value, r)
        if r >= TARGET:
            break
    if knob == "efSearch":
        inner.hnsw.efSearch = best[0]
    else:
        inner.nprobe = best[0]
    return f"{knob}={best[0]}", best[1]


def run_size(n: int, base: np.ndarray, args: argparse.Namespace) -> list[dict]:
    rng = np.random.default_rng(n)
    vectors = mixtures(base, n, rng, args.noise)
    queries = mixtures(base, args.queries, np.random.default_rng(n + 1), args.noise)
    rows = []
    kinds = ["flat", "hnsw", "hnsw_sq8", "ivf", "ivf_sq8"]
    truth = None
    for kind in kinds:
        if kind.startswith("hnsw") and n > args.hnsw_max:
            continue
        if kind in args.skip:
            continue
        started = time.perf_counter()
        plan = IndexPlan(kind=kind, hnsw_m=args.m, ef_construction=args.ef_construction)
        index = DenseIndex.build(vectors, plan)
        build_s = time.perf_counter() - started
        if kind == "flat":
            truth = index.search_many(queries, K_RECALL)[1]
            setting, r = "exact", 1.0
        else:
            setting, r = tune(index, queries, truth)
        p50, p95 = latency_ms(index, queries)
        size = disk_bytes(index)
        row = {
            "vectors": n,
            "kind": kind,
            "setting": setting
            + (f", efConstruction={args.ef_construction}" if "hnsw" in kind else ""),
            "recall@10": round(r, 4),
            "search_p50_ms": round(p50, 3),
            "search_p95_ms": round(p95, 3),
            "build_s": round(build_s, 2),
            "bytes_per_vector": round(size / n, 1),
            "disk_mb": round(size / 1e6, 1),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
        del index
        gc.collect()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.35, help="noise norm before normalising")
    parser.add_argument("--m", type=int, default=32, help="HNSW M")
    parser.add_argument(
        "--ef-construction", type=int, default=IndexPlan().ef_construction, help="HNSW build depth"
    )
    parser.add_argument("--hnsw-max", type=int, default=200_000, help="skip HNSW above this")
    parser.add_argument("--skip", nargs="*", default=[], help="index kinds to skip")
    parser.add_argument("--encoder", help="ONNX encoder folder (default: sentence-transformers)")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    args = parser.parse_args(argv)
    base = base_vectors(args.encoder)
    print(
        f"{len(base)} base embeddings; faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads"
    )
    rows = []
    for n in args.sizes:
        rows += run_size(n, base, args)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {
                    "machine": {"nproc": os.cpu_count(), "platform": platform.platform()},
                    "load_average": os.getloadavg(),
                    "base_embeddings": len(base),
                    "noise": args.noise,
                    "queries": args.queries,
                    "k_search": K_SEARCH,
                    "rows": rows,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
