"""An "uncovered concept" check (issue 15): how many answers it would move, measured first.

    python -m benchmarks.uncovered_concepts          # dev split, Apache, zlib FAQ; ~4 min

The lever: an on-topic question the source does not cover usually carries a content word
whose concept the corpus never mentions ("can *stress* cause milia?", "is milia *contagious*?"),
while an answerable lay question's words ("white bumps", "get rid of") occur in the corpus or
have a close corpus word. For each question, take the content words of its focus text (focus.py:
the question, typos corrected as ranking reads it, minus the corpus's topic words, filler and
stop words) and give each word a *coverage*: 1.0 when its stem is in the corpus's BM25
vocabulary, else its best cosine with the corpus's vocabulary words (index/vocabulary, one form
per stem). With the WordLlama vectors stored there (what expansion.py uses: `wordllama`), or
with the query encoder reading the word alone against each vocabulary form read alone (`minilm`,
all-MiniLM-L6-v2). A question that is `answered` today and whose focus has a word with coverage
below t would become `related` ("the source does not answer this directly").

Variants: which focus words are judged (`any`: every content word, i.e. the minimum over them;
`longest`: only the longest content word, a stand-in for the rarest), and whether a word that
is not a known English word (spelling.py's known words: the corpus's, WordLlama's and the
encoder's tokenizer words, and their stems) is skipped (`known_only`: so that an uncorrected
typo or odd spelling does not count as a new concept). Thresholds t from a sweep. A second
sweep adds a condition: the word check only where the question's focus cosine (the focus
check's score) is also below a gate c (`focus_gate`), both chosen from a grid.

Counted, for each variant and t (nothing in `assistant/` changes):
- dev split of eval/questions.jsonl (the committed, calibrated index): `not_covered`
  questions not answered (today's `related`/`not_found` plus those the check would move), and
  answerable questions that would newly leave `answered`;
- eval/beir-apache-2.0 and eval/beir-zlib-faq (all answerable; indexed in a temporary folder as
  `assistant eval` does, default thresholds applied to the recorded scores): questions the check
  would move out of `answered`.

Prints the tables and writes benchmarks/results/uncovered-concepts.json (the sweep, the best
point of each variant within the limits of the bar below, and every question's focus words,
coverages and focus cosine). The test split and eval/blind.jsonl are never read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import RESULTS, ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import Assistant, Settings  # noqa: E402
from assistant.choices import Status  # noqa: E402
from assistant.embedding import load_embedder  # noqa: E402
from assistant.engine import refusal_status  # noqa: E402
from assistant.evaluation import (  # noqa: E402
    beir_assistant,
    load_beir,
    load_dataset,
    run_beir,
    run_mode,
)
from assistant.expansion import word_model  # noqa: E402
from assistant.focus import FILLER  # noqa: E402
from assistant.lexical import stem, words  # noqa: E402
from assistant.question import validate_question  # noqa: E402

#: 0 (the check off: nothing is below it), 0.20 .. 0.80 by 0.05, and by 0.01 from 0.40 to 0.50,
#: where the MiniLM coverages of the words that decide lie.
THRESHOLDS = sorted(
    {0.0}
    | {round(0.2 + 0.05 * i, 2) for i in range(13)}
    | {round(0.4 + 0.01 * i, 2) for i in range(11)}
)
PRINTED = {t for t in THRESHOLDS if round(t * 100) % 5 == 0}  # the table's rows
#: The second sweep: the word check only where the question's focus cosine (the focus check's
#: score) is also below a gate c, both by 0.01.
GATED_THRESHOLDS = [round(0.2 + 0.01 * i, 2) for i in range(41)]  # 0.20 .. 0.60
GATES = [round(0.25 + 0.01 * i, 2) for i in range(16)]  # 0.25 .. 0.40
#: When the check would earn its place (the issue's bar, set before measuring): on dev, at least
#: this many `not_covered` questions not answered (3 of 11 today), at most this many answerable
#: dev questions moved out of `answered`, and at most this many on each BEIR set.
KEEP = {"dev_not_covered_not_answered": 6, "dev_answerable_moved": 2, "beir_moved": 1}
ENCODERS = ("wordllama", "minilm")
PICKS = ("any", "longest")


class Coverage:
    """Each word's coverage by one corpus (see the module docstring), for both encoders."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        vocabulary = assistant.index.vocabulary
        if vocabulary is None:
            raise SystemExit(f"{assistant.index_dir}: the index has no word vocabulary")
        self.vocabulary = vocabulary
        self.bm25_stems = assistant.index.common_stems(0.0)
        self.stopwords = assistant._stopwords
        speller = assistant.speller()
        assert speller is not None
        self.known, self.known_stems = speller.known, speller.stems
        self.model = word_model()
        assert self.model is not None, "the WordLlama word model is needed"
        forms = list(vocabulary.forms)
        self.minilm_vocab = assistant.embedder.encode(forms)

    def focus_words(self, question: str) -> tuple[str | None, list[str]]:
        """The question's focus text as the engine computes it, and its content words."""
        a = self.assistant
        checked = validate_question(question, a.settings.max_question_chars).text
        focus = a.focus_texts([a.query_text(checked)])[0]
        if focus is None:
            return None, []
        content = [
            w
            for w in dict.fromkeys(words([focus])[0])
            if len(w) >= 3 and w not in self.stopwords and w not in FILLER
        ]
        return focus, content

    def judge(self, word: str) -> dict[str, Any]:
        in_corpus = stem(word) in self.bm25_stems
        row: dict[str, Any] = {
            "word": word,
            "in_corpus": in_corpus,
            "known": word in self.known or stem(word) in self.known_stems,
        }
        wl = self.model.embed([word])[0] @ self.vocabulary.vectors.T
        ml = self.assistant.embedder.encode([word])[0] @ self.minilm_vocab.T
        for name, sims in (("wordllama", wl), ("minilm", ml)):
            best = int(np.argmax(sims))
            row[name] = round(float(sims[best]), 4)
            row[f"{name}_nearest"] = self.vocabulary.forms[best]
        return row


def coverage(word: dict[str, Any], encoder: str) -> float:
    return 1.0 if word["in_corpus"] else float(word[encoder])


def flagged(
    q: dict[str, Any], encoder: str, pick: str, known: bool, t: float, gate: float | None = None
) -> bool:
    """Whether the check would find an uncovered concept in question record `q` (with a
    `gate`: only when its focus cosine is also below it)."""
    if gate is not None and (q["focus_relevance"] is None or q["focus_relevance"] >= gate):
        return False
    judged = [w for w in q["words"] if w["known"] or not known]
    if not judged:
        return False
    if pick == "longest":
        judged = [max(judged, key=lambda w: len(w["word"]))]
    return min(coverage(w, encoder) for w in judged) < t


def describe(coverage_of: Coverage, question: str, status: str, **extra: Any) -> dict[str, Any]:
    focus, content = coverage_of.focus_words(question)
    return {
        "question": question,
        "status": status,
        **extra,
        "focus": focus,
        "words": [coverage_of.judge(w) for w in content],
    }


def dev_records(settings: Settings) -> list[dict[str, Any]]:
    assistant = Assistant.load(settings=settings, rebuild=False)
    items = load_dataset(ROOT / "eval" / "questions.jsonl", "dev")
    results = run_mode(assistant, items, "rerank")
    judge = Coverage(assistant)
    return [
        describe(
            judge,
            r["question"],
            r["status"],
            id=r["id"],
            kind=r["kind"],
            answerable=r["answerable"],
            focus_relevance=r["focus_relevance"],
        )
        for r in results
    ]


def beir_records(name: str, settings: Settings, tmp: Path, embedder: Any) -> list[dict[str, Any]]:
    """As `assistant eval` on a BEIR folder: a fresh index, default thresholds."""
    beir = load_beir(ROOT / "eval" / name)
    assistant, names = beir_assistant(beir, tmp / name, settings, embedder)
    results = run_beir(assistant, beir, names, "rerank")
    limits = settings.with_calibration(None)
    judge = Coverage(assistant)
    return [
        describe(
            judge,
            r["question"],
            refusal_status(r["relevance"], r["focus_relevance"], limits)[0].value,
            id=r["id"],
            kind="beir",
            answerable=True,
            focus_relevance=r["focus_relevance"],
        )
        for r in results
    ]


def moved(
    group: Sequence[dict[str, Any]],
    encoder: str,
    pick: str,
    known: bool,
    t: float,
    gate: float | None = None,
) -> list[str]:
    """Ids of the questions of `group` answered today that the check would make `related`."""
    return [
        q["id"]
        for q in group
        if q["status"] == Status.ANSWERED and flagged(q, encoder, pick, known, t, gate)
    ]


def sweep(
    sets: dict[str, list[dict[str, Any]]],
    thresholds: Sequence[float] = THRESHOLDS,
    gates: Sequence[float | None] = (None,),
) -> list[dict[str, Any]]:
    dev = sets["dev"]
    uncovered = [q for q in dev if q["kind"] == "not_covered"]
    answerable = [q for q in dev if q["answerable"]]
    off_topic = [q for q in dev if q["kind"] == "off_topic"]
    today = sum(q["status"] != Status.ANSWERED for q in uncovered)
    rows = []
    for encoder, pick, known, t, gate in itertools.product(
        ENCODERS, PICKS, (False, True), thresholds, gates
    ):
        variant = (encoder, pick, known, t, gate)
        row: dict[str, Any] = {
            "encoder": encoder,
            "pick": pick,
            "known_only": known,
            "t": t,
            "focus_gate": gate,
            "dev_not_covered_not_answered": today + len(moved(uncovered, *variant)),
            "dev_not_covered": len(uncovered),
            "dev_answerable_moved": moved(answerable, *variant),
            "dev_answerable": len(answerable),
            "dev_off_topic_moved": moved(off_topic, *variant),
        }
        for name in ("apache", "zlib"):
            row[f"{name}_moved"] = moved(sets[name], *variant)
            row[f"{name}_questions"] = len(sets[name])
        rows.append(row)
    return rows


def admissible(row: dict[str, Any]) -> bool:
    """Within the bar's limits on answerable questions (dev, Apache, zlib)."""
    return len(row["dev_answerable_moved"]) <= KEEP["dev_answerable_moved"] and all(
        len(row[f"{name}_moved"]) <= KEEP["beir_moved"] for name in ("apache", "zlib")
    )


def rank(row: dict[str, Any]) -> tuple[float, ...]:
    moved_ = len(row["dev_answerable_moved"]) + len(row["apache_moved"]) + len(row["zlib_moved"])
    return (row["dev_not_covered_not_answered"], -moved_, -row["t"], -(row["focus_gate"] or 0))


def best(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per variant, the admissible row with the most dev `not_covered` not answered (on a tie,
    the fewest answerable questions moved, then the lowest t and gate; t = 0, the check off, is
    always admissible), whether it reaches the bar, and how many of the variant's rows do."""
    out = []
    for encoder in ENCODERS:
        for pick in PICKS:
            for known in (False, True):
                group = [
                    r
                    for r in rows
                    if (r["encoder"], r["pick"], r["known_only"]) == (encoder, pick, known)
                    and admissible(r)
                ]
                top = max(group, key=rank)
                keep = top["dev_not_covered_not_answered"] >= KEEP["dev_not_covered_not_answered"]
                meeting = sum(
                    r["dev_not_covered_not_answered"] >= KEEP["dev_not_covered_not_answered"]
                    for r in group
                )
                out.append({**top, "earns_its_place": keep, "rows_meeting_bar": meeting})
    return out


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| encoder | pick | known only | t | focus gate | dev not covered not answered | "
        "dev answerable moved | Apache moved | zlib moved |"
    )
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        gate = "-" if r["focus_gate"] is None else r["focus_gate"]
        lines.append(
            f"| {r['encoder']} | {r['pick']} | {'yes' if r['known_only'] else 'no'} | {r['t']} | "
            f"{gate} | "
            f"{r['dev_not_covered_not_answered']}/{r['dev_not_covered']} | "
            f"{len(r['dev_answerable_moved'])}/{r['dev_answerable']} | "
            f"{len(r['apache_moved'])}/{r['apache_questions']} | "
            f"{len(r['zlib_moved'])}/{r['zlib_questions']} |"
        )
    return "\n".join(lines)


def as_json(payload: dict[str, Any]) -> str:
    """The results file: one line per sweep row and per question, so that it stays small and
    a rerun's diff shows what moved."""

    def block(value: Any, indent: str) -> str:
        if isinstance(value, list) and value and isinstance(value[0], dict):
            inner = ",\n".join(f"{indent}  {json.dumps(v)}" for v in value)
            return f"[\n{inner}\n{indent}]"
        if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
            inner = ",\n".join(
                f"{indent}  {json.dumps(k)}: {block(v, indent + '  ')}" for k, v in value.items()
            )
            return f"{{\n{inner}\n{indent}}}"
        return json.dumps(value)

    return block(payload, "") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "uncovered-concepts.json")
    args = parser.parse_args(argv)

    settings = Settings()
    sets = {"dev": dev_records(settings)}
    embedder = load_embedder(settings.model)
    with tempfile.TemporaryDirectory(prefix="verbatim-uncovered-") as tmp:
        for name, short in (("beir-apache-2.0", "apache"), ("beir-zlib-faq", "zlib")):
            sets[short] = beir_records(name, settings, Path(tmp), embedder)
    rows = sweep(sets)
    print(table([r for r in rows if r["t"] in PRINTED]))
    chosen = best(rows)
    print(
        "\nPer variant, the best t within the limits on answerable questions (dev <= "
        f"{KEEP['dev_answerable_moved']}, Apache and zlib <= {KEEP['beir_moved']} each):\n"
    )
    print(table(chosen))
    verdict = any(r["earns_its_place"] for r in chosen)
    print(
        f"\nearns its place (dev not covered not answered >= "
        f"{KEEP['dev_not_covered_not_answered']}): {'yes' if verdict else 'no'}"
    )
    gated = best(sweep(sets, GATED_THRESHOLDS, GATES))
    print(
        "\nWith a second condition, the focus cosine (focus.py) below a gate c as well "
        f"(t {GATED_THRESHOLDS[0]}-{GATED_THRESHOLDS[-1]}, c {GATES[0]}-{GATES[-1]}, by 0.01); "
        "per variant the best pair within the limits:\n"
    )
    print(table(gated))
    print("answerable dev questions moved at those pairs:")
    for r in gated:
        print(
            f"  {r['encoder']} {r['pick']} known={r['known_only']}: {r['dev_answerable_moved']}"
            f" ({r['rows_meeting_bar']} pairs reach the counts)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        as_json(
            {
                "keep_bar": KEEP,
                "earns_its_place": verdict,
                "best_per_variant": chosen,
                "best_per_variant_focus_gated": gated,
                "sweep": rows,
                "questions": sets,
            }
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
