"""WordNet synonyms in rerank's query (issue 15): measured, NOT adopted (docs/quality.md).

    apt-get install -y --no-install-recommends wordnet-base   # /usr/share/wordnet (WordNet 3.0)
    pip install 'nltk==3.10.4'                                 # its WordNet reader
    python -m benchmarks.wordnet_expansion --weights 0,0.3,0.5,0.8 --relations syn,syn+hyper

The runs behind docs/quality.md (R = benchmarks/results):

    python -m benchmarks.wordnet_expansion --weights 0,0.3,0.5,0.8 \
        --relations syn,syn+hyper,syn+deriv,syn+sim --senses 1,2,99      # wordnet-expansion.json
    python -m benchmarks.wordnet_expansion --weights 0,0.3,0.5,0.8,1.0 \
        --relations syn,syn+hyper+deriv --oov --out R/wordnet-expansion-oov.json
    python -m benchmarks.wordnet_expansion --weights 0,0.3,0.5,0.8 --senses 2 --phrases \
        --out R/wordnet-expansion-phrases.json
    python -m benchmarks.wordnet_expansion --weights 0,0.5,1.0 --senses 1 --dense \
        --out R/wordnet-expansion-dense.json
    python -m benchmarks.wordnet_expansion --weights 0,0.5,1.0 --relations syn+hyper+deriv \
        --oov --dense --out R/wordnet-expansion-dense-oov.json

Neither is a project dependency: the lever lost on dev, so nothing in `assistant/` uses it.

The lever: for each content word of a question (not a stop word of the index's vocabulary),
WordNet's words related to it (its synsets, found through WordNet's own lemmatiser, the first
`--senses` per part of speech, most frequent first; their lemmas, and with `hyper` the
hypernyms' lemmas, `deriv` derivationally related forms, `sim` similar adjectives) that the
corpus uses join the `rerank` mode's expanded BM25 query (expansion.py) at weight `w`, unless
the WordLlama expansion already gives the stem more. `--oov`: only question words the corpus
does not use are looked up. `--phrases`: two-word phrases of the question ("coming back" ->
come_back -> return) are looked up too. `--dense`: the words are also appended to the question
text the encoder reads. Multi-word lemmas are skipped. Nothing is fitted to any article.

Each configuration is run on the dev split of eval/questions.jsonl (the committed index) and on
the Apache and zlib FAQ BEIR folders (indexed once, in a temporary folder, thresholds off as in
`assistant eval`). It prints one JSON line per configuration (hit@1 and hit@3 overall, hit@1 of
the everyday-words questions, the questions that became or stopped being hit@1) and writes them
to benchmarks/results/wordnet-expansion.json. The test split and eval/blind.jsonl are never read.
"""

from __future__ import annotations

import argparse
import ast
import io
import itertools
import json
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import RESULTS, ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import Assistant, Settings  # noqa: E402
from assistant.choices import Mode  # noqa: E402
from assistant.embedding import load_embedder  # noqa: E402
from assistant.evaluation import (  # noqa: E402
    beir_assistant,
    beir_metrics,
    load_beir,
    load_dataset,
    metrics,
    run_beir,
    run_mode,
)
from assistant.lexical import stem, words  # noqa: E402

WORDNET = Path("/usr/share/wordnet")
#: The 45 lexicographer files of WordNet 3.0, as lexnames(5WN) lists them. nltk's reader opens
#: a `lexnames` file that Debian's wordnet-base does not ship (it only names each synset's file).
LEXNAMES = [
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
]
POS_NUMBER = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}


def open_wordnet(folder: Path = WORDNET) -> Any:
    """nltk's WordNetCorpusReader over Debian's WordNet 3.0 dictionary folder (no download)."""
    try:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError:
        raise SystemExit("this measurement needs nltk: pip install 'nltk==3.10.4'") from None
    if not (folder / "data.noun").is_file():
        raise SystemExit(
            f"no WordNet dictionary in {folder}: apt-get install -y wordnet-base "
            "(or pass --wordnet FOLDER)"
        )

    class DebianWordNet(WordNetCorpusReader):  # type: ignore[misc]
        def open(self, fileid: str) -> Any:
            if fileid == "lexnames":
                return io.StringIO(
                    "".join(
                        f"{n:02d}\t{name}\t{POS_NUMBER[name.split('.')[0]]}\n"
                        for n, name in enumerate(LEXNAMES)
                    )
                )
            return super().open(fileid)

        def map_wn(self, version: str = "wordnet") -> None:
            # The folder is WordNet 3.0 itself; nltk would map senses from its own download.
            return None

    # nltk only reads corpora under its data path.
    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available"
        return DebianWordNet(str(folder), None)


@dataclass(frozen=True)
class Lexicon:
    """WordNet's words related to a question word, as one configuration of the lever sees it."""

    wordnet: Any
    relations: frozenset[str]  # subset of {"hyper", "deriv", "sim"}; synonyms always
    senses: int  # per part of speech, most frequent first
    _cache: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def related(self, word: str) -> frozenset[str]:
        if word in self._cache:
            return self._cache[word]
        by_pos: dict[str, list[Any]] = {}
        for synset in self.wordnet.synsets(word):
            by_pos.setdefault(synset.pos().replace("s", "a"), []).append(synset)
        chosen = [s for group in by_pos.values() for s in group[: self.senses]]
        found = list(chosen)
        if "hyper" in self.relations:
            found += [h for s in chosen for h in s.hypernyms()]
        if "sim" in self.relations:
            found += [h for s in chosen for h in s.similar_tos()]
        lemmas = [lemma for s in found for lemma in s.lemmas()]
        if "deriv" in self.relations:
            lemmas += [
                d
                for s in chosen
                for lemma in s.lemmas()
                for d in lemma.derivationally_related_forms()
            ]
        names = frozenset(
            name
            for name in (lemma.name().lower() for lemma in lemmas)
            if "_" not in name and "-" not in name
        )
        self._cache[word] = names
        return names

    def phrase(self, first: str, second: str) -> frozenset[str]:
        """Single-word synonyms of the two-word phrase `first second` ("coming back")."""
        bases = {first} | {self.wordnet.morphy(first, p) or first for p in "nv"}
        names = set()
        for base in bases:
            for synset in self.wordnet.synsets(f"{base}_{second}")[: self.senses]:
                names.update(lemma.name().lower() for lemma in synset.lemmas())
        return frozenset(n for n in names if "_" not in n and "-" not in n)


@dataclass(frozen=True)
class Lever:
    lexicon: Lexicon | None
    weight: float = 0.0
    oov: bool = False
    phrases: bool = False
    dense: bool = False

    def stems(self, question: str, corpus: frozenset[str], stopwords: frozenset[str]) -> set[str]:
        """The corpus stems WordNet adds to `question`."""
        if self.lexicon is None or self.weight <= 0:
            return set()
        found = set()
        for word in words([question])[0]:
            if word in stopwords or (self.oov and stem(word) in corpus):
                continue
            found.update(stem(n) for n in self.lexicon.related(word) if n not in stopwords)
        if self.phrases:
            raw = re.findall(r"[a-z]+", question.lower())
            for a, b in zip(raw, raw[1:]):
                found.update(stem(n) for n in self.lexicon.phrase(a, b) if n not in stopwords)
        own = {stem(w) for w in words([question])[0]}
        return {s for s in found if s in corpus and s not in own}


class AppendingEmbedder:
    """The index's encoder, reading the first `n` texts (the questions) with extra words."""

    def __init__(self, inner: Any, extra: Sequence[str]) -> None:
        self.inner, self.extra = inner, list(extra)
        self.model_id, self.dimension = inner.model_id, inner.dimension

    def encode(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        texts = [
            f"{t} {self.extra[i]}" if i < len(self.extra) and self.extra[i] else t
            for i, t in enumerate(texts)
        ]
        return self.inner.encode(texts, **kwargs)


class WordNetAssistant(Assistant):
    """The default assistant with the lever in its `rerank` queries."""

    lever = Lever(None)

    @classmethod
    def of(cls, base: Assistant) -> WordNetAssistant:
        return cls(base.index, base.embedder, base.settings, base.corpus_dir, base.index_dir)

    def _added(self, question: str) -> set[str]:
        vocabulary = self.index.vocabulary
        assert vocabulary is not None
        return self.lever.stems(question, frozenset(vocabulary.stems), vocabulary.stopwords)

    def _expansions(self, questions: list[str], mode: Mode) -> list[dict[str, float] | None]:
        out = super()._expansions(questions, mode)
        for question, weights in zip(questions, out):
            if weights is not None:
                for s in self._added(question):
                    weights[s] = max(weights.get(s, 0.0), self.lever.weight)
        return out

    def _retrieve(self, texts: list[str], focus: list[str | None], k: int, mode: Mode) -> Any:
        if not self.lever.dense or self.lever.lexicon is None or mode != Mode.RERANK:
            return super()._retrieve(texts, focus, k, mode)
        vocabulary = self.index.vocabulary
        assert vocabulary is not None
        form = dict(zip(vocabulary.stems, vocabulary.forms))
        extra = [" ".join(sorted(form[s] for s in self._added(self.query_text(t)))) for t in texts]
        inner = self.embedder
        self.embedder = AppendingEmbedder(inner, extra)
        try:
            return super()._retrieve(texts, focus, k, mode)
        finally:
            self.embedder = inner


def zlib_kinds() -> dict[str, str]:
    """Query id -> kind ("lay" or "direct") of the zlib FAQ set, read from the `QUERIES` literal
    of the script that wrote it (eval/make_beir_zlib_faq.py) without running it: the script
    imports its neighbour eval/beir_files.py as a script does, which would need eval/ on
    sys.path."""
    tree = ast.parse((ROOT / "eval" / "make_beir_zlib_faq.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign | ast.Assign)
            and node.value is not None
            and "QUERIES" in [t.id for t in _targets(node) if isinstance(t, ast.Name)]
        ):
            return {q: kind for q, kind, _, _ in ast.literal_eval(node.value)}
    raise LookupError("eval/make_beir_zlib_faq.py has no QUERIES list")


def _targets(node: ast.AnnAssign | ast.Assign) -> list[ast.expr]:
    return [node.target] if isinstance(node, ast.AnnAssign) else node.targets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="0,0.3,0.5,0.8")
    parser.add_argument(
        "--relations", default="syn", help="comma list of syn[+hyper][+deriv][+sim]"
    )
    parser.add_argument("--senses", default="99", help="comma list; 99 = every sense")
    parser.add_argument("--oov", action="store_true")
    parser.add_argument("--phrases", action="store_true")
    parser.add_argument("--dense", action="store_true")
    parser.add_argument("--wordnet", type=Path, default=WORDNET)
    parser.add_argument("--out", type=Path, default=RESULTS / "wordnet-expansion.json")
    args = parser.parse_args(argv)

    wordnet = open_wordnet(args.wordnet)
    settings = Settings()
    dev = load_dataset(ROOT / "eval" / "questions.jsonl", "dev")
    sets: dict[str, Any] = {
        "dev": WordNetAssistant.of(Assistant.load(settings=settings, rebuild=False))
    }
    kinds = zlib_kinds()
    tmp = tempfile.TemporaryDirectory(prefix="verbatim-wordnet-")
    embedder = load_embedder(settings.model)
    for name in ("beir-apache-2.0", "beir-zlib-faq"):
        beir = load_beir(ROOT / "eval" / name)
        base, names = beir_assistant(beir, Path(tmp.name) / name, settings, embedder)
        sets[name] = (WordNetAssistant.of(base), beir, names)

    rows, baseline = [], None
    weights = [float(w) for w in args.weights.split(",")]
    grid = [(0.0, "syn", 99)] if 0 in weights else []  # the baseline, once
    grid += itertools.product(
        [w for w in weights if w > 0],
        args.relations.split(","),
        [int(s) for s in args.senses.split(",")],
    )
    for weight, relations, senses in grid:
        lexicon = Lexicon(wordnet, frozenset(relations.split("+")) - {"syn"}, senses)
        WordNetAssistant.lever = Lever(lexicon, weight, args.oov, args.phrases, args.dense)
        results = run_mode(sets["dev"], dev, "rerank")
        m = metrics(results, 3)
        row: dict[str, Any] = {
            "weight": weight,
            "relations": relations,
            "senses": senses,
            "oov": args.oov,
            "phrases": args.phrases,
            "dense": args.dense,
            "dev_hit@1": m["hit@1"],
            "dev_hit@3": m["hit@3"],
            "dev_lay_hit@1": m["hit@1:lay"],
            "dev_false_not_found": m["false_not_found"],
        }
        first = {r["id"]: r["gold_rank"] == 1 for r in results if r["answerable"]}
        for name, short in (("beir-apache-2.0", "apache"), ("beir-zlib-faq", "zlib")):
            assistant, beir, names = sets[name]
            found = run_beir(assistant, beir, names, "rerank")
            bm = beir_metrics(found, beir.qrels)
            row[f"{short}_hit@1"], row[f"{short}_hit@3"] = bm["hit@1"], bm["hit@3"]
            if short == "zlib":
                lay = [r["gold_rank"] == 1 for r in found if kinds.get(r["id"]) == "lay"]
                row["zlib_lay_hit@1"] = round(float(np.mean(lay)), 4)
            first.update({f"{short}:{r['id']}": r["gold_rank"] == 1 for r in found})
        if weight == 0:
            baseline = first
        if baseline is not None:
            row["became_first"] = sorted(q for q, hit in first.items() if hit and not baseline[q])
            row["stopped_first"] = sorted(q for q, hit in first.items() if baseline[q] and not hit)
        rows.append(row)
        print(json.dumps(row), flush=True)
    tmp.cleanup()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
