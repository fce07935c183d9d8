"""The embedded index of a corpus already built into a local Qdrant folder, from the vectors
stored there (no re-embedding), then the query side of benchmarks/big.py on it.

    python -m benchmarks.big --passages 5000 --store qdrant --workdir W
    python -m benchmarks.embedded_from_qdrant W 5000   # -> benchmarks/results/big-5000-embedded.json

So the two stores are compared on the same real passages with the same vectors, and the
embedding (which dominates either build: big.py's build time) is paid once. The index is
written by `store.build_index` with an embedder that looks the vectors up; the ONNX query encoder
is copied from the Qdrant index folder when it has one, so both query processes encode questions
the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.corpus import load_corpus
from assistant.qdrant_store import PASSAGE_VECTOR, SENTENCE_VECTORS, _passage_of, client_for
from assistant.settings import Settings
from assistant.store import (
    ENCODER_DIR,
    MANIFEST,
    build_index,
    passage_embedding_text,
    write_manifest,
)
from benchmarks.big import QUERY_SCRIPT, RESULTS, ROOT


class StoredVectors:
    """An embedder that answers with the vectors a Qdrant build stored (KeyError otherwise)."""

    def __init__(self, model_id: str, dimension: int, table: dict[str, np.ndarray]):
        self.model_id, self.dimension, self.table = model_id, dimension, table

    def encode(self, texts, **kwargs):
        return np.vstack([self.table[t] for t in texts]).astype(np.float32)


def main() -> int:
    work = Path(sys.argv[1])
    corpus, side, out = work / "corpus", work / "index", work / "index-embedded"
    manifest = json.loads((side / MANIFEST).read_text())
    client = client_for(manifest["qdrant"]["location"], create=False)
    collection = manifest["qdrant"]["collection"]
    settings = Settings(model=manifest["model"])
    texts = {d.source: d.text for d in load_corpus(corpus)}
    table: dict[str, np.ndarray] = {}
    offset = None
    while True:
        records, offset = client.scroll(
            collection,
            limit=512,
            offset=offset,
            with_payload=True,
            with_vectors=[PASSAGE_VECTOR, SENTENCE_VECTORS],
        )
        for r in records:
            p = _passage_of(r.payload)
            table[passage_embedding_text(p, settings)] = np.asarray(r.vector[PASSAGE_VECTOR])
            for (s, e), v in zip(p.sentences, r.vector[SENTENCE_VECTORS]):
                table[texts[p.source][s:e]] = np.asarray(v)
        if offset is None:
            break
    started = time.perf_counter()
    built = build_index(
        corpus,
        out,
        settings,
        StoredVectors(manifest["model"], manifest["dimension"], table),
        progress=False,
    )
    index_s = time.perf_counter() - started  # everything but the embedding
    if manifest.get("encoder"):  # the same query encoder as the Qdrant side, if it has one
        shutil.copytree(side / ENCODER_DIR, out / ENCODER_DIR)
        write_manifest(out, replace(built, encoder=ENCODER_DIR))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            QUERY_SCRIPT,
            str(corpus),
            str(out),
            str(ROOT / "eval" / "questions.jsonl"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return 1
    query = json.loads(done.stdout.strip().splitlines()[-1])
    result = {
        "passages": built["counts"]["passages"],
        "store": "embedded",
        "vectors_from": str(side),
        "build_without_embedding_s": round(index_s, 1),
        "index_mb": round(sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6, 1),
        "query": query,
    }
    path = RESULTS / f"big-{sys.argv[2]}-embedded.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
