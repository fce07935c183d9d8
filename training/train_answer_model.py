#!/usr/bin/env python3
"""Train the answer model (assistant/answer_model.py) from FAQ texts that Debian packages ship.

Training data never comes from the project's corpus or its question sets: it is read from three
Debian packages, fetched with `apt-get download` and unpacked with `dpkg -x` into a cache folder
(nothing is installed):

- perl-doc: perlfaq1-9.pod (the Perl FAQ; `=head2` questions),
- python3.11-doc: html/_sources/faq/*.rst.txt (the Python FAQ; section titles that are questions),
- debian-faq: debian-faq.en.txt.gz (the Debian FAQ; numbered questions).

Each question whose heading has a "?" gives one list of candidate passages from its own
document: its first answer paragraphs (positives), the other entries' paragraphs ranked highest
by cosine + BM25 plus a few random ones (negatives), and texts that only restate questions (the
question alone, the question with its nearest neighbours' questions as one paragraph, the
nearest other question alone; negatives). A two-layer perceptron over `candidate_features` is
trained with a listwise softmax loss (positives against the rest of their list).

Usage:  python -m training.train_answer_model [--cache DIR] [--out assistant/answer_model.npz]
Prints leave-one-source-out validation (hit@1 of the model against the cosine and the rerank
formula), then trains on all sources and writes the weights (numpy .npz, no pickle).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunking import sentence_spans
from assistant.lexical import tokenize
from training.answer_model import (
    FEATURES_VERSION,
    MODEL_FILE,
    SCALAR_FEATURES,
    candidate_features,
)

REPO = Path(__file__).resolve().parent.parent

PACKAGES = ("perl-doc", "python3.11-doc", "debian-faq")
DEFAULT_CACHE = Path.home() / ".cache" / "verbatim-training"
SEED = 13
POSITIVES = 2  # the first answer paragraphs that count as the answer
HARD_NEGATIVES = 12
RANDOM_NEGATIVES = 4
MIN_WORDS = 5
SYNTHETIC = 3  # restatement negatives per question (build_groups)


@dataclass(frozen=True)
class Entry:
    question: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class FaqDoc:
    source: str  # package the text came from
    name: str
    title: str  # used as the passages' section, as the index embeds "section\ntext"
    entries: tuple[Entry, ...]


# --------------------------------------------------------------------------- fetching


def fetch(cache: Path) -> dict[str, str]:
    """Download and unpack the packages once; returns package -> version."""
    cache.mkdir(parents=True, exist_ok=True)
    versions = {}
    for package in PACKAGES:
        debs = sorted(cache.glob(f"{package}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", package], cwd=cache, check=True)
            debs = sorted(cache.glob(f"{package}_*.deb"))
        deb = debs[-1]
        marker = cache / f"{deb.name}.unpacked"
        if not marker.exists():
            subprocess.run(["dpkg", "-x", str(deb), str(cache / "root")], check=True)
            marker.touch()
        versions[package] = deb.name.split("_")[1]
    return versions


# --------------------------------------------------------------------------- parsing

WORD = re.compile(r"\w+")


def _clean(text: str) -> str:
    return " ".join(text.split())


def _keep(paragraph: str) -> bool:
    return len(WORD.findall(paragraph)) >= MIN_WORDS


def _pod_text(s: str) -> str:
    s = re.sub(r"E<gt>", ">", s)
    s = re.sub(r"E<lt>", "<", s)
    s = re.sub(r"E<(\w+)>", "", s)
    for _ in range(4):  # nested codes, innermost first
        s = re.sub(r"[A-Z]<<+\s+(.*?)\s+>>+", r"\1", s)
        s = re.sub(r"L<([^<>|]*)\|[^<>]*>", r"\1", s)
        s = re.sub(r"[A-Z]<([^<>]*)>", r"\1", s)
    return _clean(s)


def parse_perlfaq(root: Path) -> list[FaqDoc]:
    docs = []
    for path in sorted((root / "usr/share/perl").glob("*/pod/perlfaq[1-9].pod")):
        blocks = re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace"))
        title, entries, question, body = path.stem, [], None, []
        for i, block in enumerate(blocks):
            if block.startswith("=head1 NAME") and i + 1 < len(blocks):
                title = blocks[i + 1].split(" - ", 1)[-1].strip()
            if block.startswith("=head"):
                if question and body:
                    entries.append(Entry(question, tuple(body)))
                question, body = None, []
                if block.startswith("=head2 "):
                    question = _pod_text(block[len("=head2 ") :])
                continue
            if question is None or block[:1].isspace() or block.startswith("=") or not block:
                continue  # verbatim code, POD commands
            text = _pod_text(block)
            if _keep(text):
                body.append(text)
        if question and body:
            entries.append(Entry(question, tuple(body)))
        docs.append(FaqDoc("perl-doc", path.stem, title, tuple(entries)))
    return docs


def _flush(para: list[str], question: str | None, body: list[str], clean) -> None:
    """Close the paragraph being read: keep it (cleaned) in `body` when it is an answer's."""
    text = clean(" ".join(para))
    if question and para and _keep(text):
        body.append(text)
    para.clear()


def _rst_text(s: str) -> str:
    s = re.sub(r":[\w:]+:`~?([^`<]*?)(\s*<[^>]*>)?`", r"\1", s)
    s = re.sub(r"`([^`<]*?)\s*<[^>]*>`__?", r"\1", s)
    s = re.sub(r"``([^`]*)``", r"\1", s)
    s = re.sub(r"`([^`]*)`_?", r"\1", s)
    s = re.sub(r"\*\*?([^*]+)\*\*?", r"\1", s)
    s = s.replace("::", ":")
    return _clean(s)


def parse_python_faq(root: Path) -> list[FaqDoc]:
    docs = []
    for path in sorted((root / "usr/share/doc").glob("python3.11/html/_sources/faq/*.rst.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        titles = {
            i
            for i in range(len(lines) - 1)
            if lines[i].strip()
            and re.fullmatch(r"([=\-*~^])\1{2,}", lines[i + 1].strip())
            and len(lines[i + 1].strip()) >= len(lines[i].strip())
        }
        doc_title, entries, question, body, para = path.stem, [], None, [], []

        i = 0
        while i < len(lines):
            line = lines[i]
            if i in titles:
                _flush(para, question, body, _rst_text)
                if question and body:
                    entries.append(Entry(question, tuple(body)))
                heading = _rst_text(line)
                if doc_title == path.stem and not heading.endswith("?"):
                    doc_title = heading
                question, body = (heading if "?" in heading else None), []
                i += 2
                continue
            if not line.strip():
                _flush(para, question, body, _rst_text)
            elif line[:1].isspace() or line.startswith(".."):
                _flush(
                    para, question, body, _rst_text
                )  # code, quotes and directives are not prose paragraphs
            elif re.fullmatch(r"([=\-*~^])\1{2,}", line.strip()):
                pass  # overline of a title
            else:
                para.append(line.strip())
            i += 1
        _flush(para, question, body, _rst_text)
        if question and body:
            entries.append(Entry(question, tuple(body)))
        if entries:
            docs.append(FaqDoc("python3.11-doc", path.stem, doc_title, tuple(entries)))
    return docs


def parse_debian_faq(root: Path) -> list[FaqDoc]:
    path = next((root / "usr/share/doc/debian/FAQ").glob("debian-faq.en.txt.gz"))
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    heading = re.compile(r"^\d+\.\d+\.\s+\S")
    chapter = re.compile(r"^(Chapter\s+)?\d+\.\s+\S")
    entries, question, body, para = [], None, [], []

    i = 0
    while i < len(lines):
        line = lines[i]
        if heading.match(line) or chapter.match(line):
            _flush(para, question, body, _clean)
            if question and body:
                entries.append(Entry(question, tuple(body)))
            words = [line.strip()]
            while i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1][:1].isspace():
                i += 1
                words.append(lines[i].strip())
            text = re.sub(r"^(Chapter\s+)?[\d.]+\s+", "", _clean(" ".join(words)))
            question, body = (text if heading.match(line) and "?" in text else None), []
        elif not line.strip():
            _flush(para, question, body, _clean)
        else:
            stripped = line.strip()
            if stripped.startswith("* ") and para:
                _flush(para, question, body, _clean)
            para.append(stripped.removeprefix("* "))
        i += 1
    _flush(para, question, body, _clean)
    if question and body:
        entries.append(Entry(question, tuple(body)))
    return [FaqDoc("debian-faq", "debian-faq", "The Debian GNU/Linux FAQ", tuple(entries))]


# --------------------------------------------------------------------------- candidate lists


class Bm25:
    """Lucene BM25 over one document's paragraphs (the index's tokens), able to score texts
    that are not among them (the synthetic negatives) with the same statistics."""

    def __init__(self, texts: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.tokens = tokenize(texts)
        self.k1, self.b = k1, b
        self.avg = max(1.0, float(np.mean([len(t) for t in self.tokens])))
        df: dict[str, int] = {}
        for toks in self.tokens:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        n = len(texts)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def score(self, query: list[str], doc: list[str]) -> float:
        counts: dict[str, int] = {}
        for t in doc:
            counts[t] = counts.get(t, 0) + 1
        norm = self.k1 * (1 - self.b + self.b * len(doc) / self.avg)
        total = 0.0
        for t in set(query):
            tf = counts.get(t, 0)
            if tf:
                total += self.idf.get(t, 0.0) * tf * (self.k1 + 1) / (tf + norm)
        return total


@dataclass
class Candidate:
    text: str
    label: int  # 1 answer, 0 not


@dataclass
class Group:
    source: str
    question: str
    section: str
    candidates: list[Candidate]
    bm25_share: list[float]


def build_groups(docs: list[FaqDoc], embed, rng: random.Random) -> list[Group]:
    groups: list[Group] = []
    for doc in docs:
        paragraphs = [(e, p) for e, entry in enumerate(doc.entries) for p in entry.paragraphs]
        if len(doc.entries) < 3:
            continue
        texts = [p for _, p in paragraphs]
        owner = np.array([e for e, _ in paragraphs])
        position = np.array([j for entry in doc.entries for j in range(len(entry.paragraphs))])
        questions = [entry.question for entry in doc.entries]
        bm25 = Bm25(texts)
        qv = embed(questions)
        pv = embed([f"{doc.title}\n{t}" for t in texts])
        qq = qv @ qv.T
        for e, entry in enumerate(doc.entries):
            qtok = tokenize([entry.question])[0]
            raw = np.array([bm25.score(qtok, toks) for toks in bm25.tokens])
            top = raw.max() if raw.max() > 0 else 1.0
            share = raw / top
            mixed = 0.5 * (pv @ qv[e]) + 0.5 * share
            positives = [i for i in np.flatnonzero(owner == e) if position[i] < POSITIVES]
            others = np.flatnonzero(owner != e)
            hard = others[np.argsort(-mixed[others], kind="stable")][:HARD_NEGATIVES]
            rest = [i for i in others if i not in set(hard)]
            chosen = list(hard) + rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
            cands = [Candidate(texts[i], 1) for i in positives]
            cands += [Candidate(texts[i], 0) for i in chosen]
            shares = [float(share[i]) for i in positives + chosen]
            near = [j for j in np.argsort(-qq[e], kind="stable") if j != e][:2]
            synthetic = [  # SYNTHETIC texts, always last in the list
                entry.question,
                " ".join([entry.question] + [questions[j] for j in near]),
                questions[near[0]],
            ]
            for text in synthetic:
                cands.append(Candidate(text, 0))
                shares.append(min(1.0, bm25.score(qtok, tokenize([text])[0]) / top))
            groups.append(Group(doc.source, entry.question, doc.title, cands, shares))
    return groups


def featurize(groups: list[Group], embed) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Feature matrix and labels per group, with every text embedded once."""
    sentences: dict[str, list[str]] = {}
    for g in groups:
        for c in g.candidates:
            if c.text not in sentences:
                sentences[c.text] = [c.text[a:b] for a, b in sentence_spans(c.text, 0, len(c.text))]
    texts = sorted(
        {g.question for g in groups}
        | {f"{g.section}\n{c.text}" for g in groups for c in g.candidates}
        | {s for ss in sentences.values() for s in ss}
    )
    print(f"embedding {len(texts)} texts ...", flush=True)
    started = time.perf_counter()
    matrix = embed(texts)
    print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    row = {t: i for i, t in enumerate(texts)}
    feats, labels = [], []
    for g in groups:
        sent_texts = [s for c in g.candidates for s in sentences[c.text]]
        offsets = np.cumsum([0] + [len(sentences[c.text]) for c in g.candidates])
        x = candidate_features(
            matrix[row[g.question]],
            matrix[[row[f"{g.section}\n{c.text}"] for c in g.candidates]],
            matrix[[row[s] for s in sent_texts]],
            offsets,
            sent_texts,
            g.bm25_share,
        )
        feats.append(x)
        labels.append(np.array([c.label for c in g.candidates], dtype=np.float32))
    return feats, labels


# --------------------------------------------------------------------------- the model


def train(
    feats: list[np.ndarray],
    labels: list[np.ndarray],
    *,
    columns: np.ndarray,
    hidden: int,
    epochs: int,
    weight_decay: float,
    seed: int = SEED,
) -> dict[str, np.ndarray]:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    dimension = (feats[0].shape[1] - len(SCALAR_FEATURES)) // 3
    feats = [f[:, columns] for f in feats]
    x_all = np.vstack(feats)
    mean = x_all.mean(axis=0)
    scale = x_all.std(axis=0) + 1e-4
    # Lists padded to one length: a batch is one (lists, candidates, features) tensor.
    width = max(len(y) for y in labels)
    x = np.zeros((len(feats), width, x_all.shape[1]), dtype=np.float32)
    y = np.zeros((len(feats), width), dtype=np.float32)
    mask = np.zeros((len(feats), width), dtype=bool)
    for g, (f, lab) in enumerate(zip(feats, labels)):
        x[g, : len(f)] = (f - mean) / scale
        y[g, : len(f)] = lab
        mask[g, : len(f)] = True
    x_t, y_t, mask_t = torch.tensor(x), torch.tensor(y) > 0, torch.tensor(mask)
    dim = x_all.shape[1]
    net = torch.nn.Sequential(
        torch.nn.Dropout(0.2),
        torch.nn.Linear(dim, hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(hidden, 1),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        for batch in torch.randperm(len(feats), generator=generator).split(16):
            opt.zero_grad()
            logits = net(x_t[batch]).squeeze(-1).masked_fill(~mask_t[batch], -1e9)
            log_p = torch.log_softmax(logits, dim=1)
            # Listwise: the probability mass on the positives of each list.
            loss = -torch.logsumexp(log_p.masked_fill(~y_t[batch], -1e9), dim=1).mean()
            loss.backward()
            opt.step()
    net.eval()
    lin1, lin2 = net[1], net[4]
    return {
        "columns": np.asarray(columns, dtype=np.int64),
        "dimension": np.int64(dimension),
        "mean": mean.astype(np.float32),
        "scale": scale.astype(np.float32),
        "w1": lin1.weight.detach().numpy().T.astype(np.float32),
        "b1": lin1.bias.detach().numpy().astype(np.float32),
        "w2": lin2.weight.detach().numpy()[0].astype(np.float32),
        "b2": np.float32(lin2.bias.detach().numpy()[0]),
        "features_version": np.int64(FEATURES_VERSION),
    }


def predict(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    x = x[:, weights["columns"]]
    h = np.maximum(((x - weights["mean"]) / weights["scale"]) @ weights["w1"] + weights["b1"], 0)
    return h @ weights["w2"] + weights["b2"]


def hit1(scores: list[np.ndarray], labels: list[np.ndarray]) -> float:
    return float(np.mean([y[int(np.argmax(s))] > 0 for s, y in zip(scores, labels)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument(
        "--features",
        choices=("all", "scalar"),
        default="all",
        help="all: scalars and vector interactions; scalar: the SCALAR_FEATURES only",
    )
    ap.add_argument("--no-synthetic", action="store_true", help="leave out restatement negatives")
    ap.add_argument("--no-validation", action="store_true", help="skip leave-one-source-out")
    args = ap.parse_args()
    started = time.perf_counter()
    versions = fetch(args.cache)
    root = args.cache / "root"
    docs = parse_perlfaq(root) + parse_python_faq(root) + parse_debian_faq(root)
    for source in PACKAGES:
        n = sum(len(d.entries) for d in docs if d.source == source)
        print(f"{source} {versions[source]}: {n} questions", flush=True)

    from assistant.embedding import load_embedder

    embedder = load_embedder()
    store = args.cache / f"vectors-{embedder.model_id.replace('/', '_')}.npz"
    known: dict[str, np.ndarray] = {}
    if store.exists():  # vectors of earlier runs: re-running costs no encoding
        with np.load(store, allow_pickle=False) as data:
            known = dict(zip(data["texts"].tolist(), data["vectors"]))

    def embed(texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in known}, key=len)
        if missing:
            for t, v in zip(missing, embedder.encode(missing, batch_size=64)):
                known[t] = v
        return np.vstack([known[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    groups = build_groups(docs, embed, random.Random(SEED))
    feats, labels = featurize(groups, embed)
    texts = sorted(known)
    np.savez(store, texts=np.array(texts), vectors=np.vstack([known[t] for t in texts]))
    if args.no_synthetic:
        feats = [f[:-SYNTHETIC] for f in feats]
        labels = [y[:-SYNTHETIC] for y in labels]
    width = feats[0].shape[1]
    columns = np.arange(len(SCALAR_FEATURES) if args.features == "scalar" else width)
    fit = {
        "columns": columns,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "weight_decay": args.weight_decay,
    }
    sources = np.array([g.source for g in groups])
    k = len(SCALAR_FEATURES)
    print(f"{len(groups)} questions, {sum(len(y) for y in labels)} candidates", flush=True)
    print("leave-one-source-out hit@1 (model / passage cosine / rerank formula):")
    report = {}
    for held in () if args.no_validation else PACKAGES:
        tr = [i for i in range(len(groups)) if sources[i] != held]
        te = [i for i in range(len(groups)) if sources[i] == held]
        w = train([feats[i] for i in tr], [labels[i] for i in tr], **fit)
        report[held] = {"n": len(te)}
        for name, keep in (
            (("all", None),)
            if args.no_synthetic
            else (
                ("all", None),
                ("real", -SYNTHETIC),
            )
        ):
            # "real": without the synthetic restatements, which the cosine always puts first.
            x = [feats[i][:keep] for i in te]
            y = [labels[i][:keep] for i in te]
            model = hit1([predict(w, f) for f in x], y)
            cosine = hit1([f[:, 0] for f in x], y)
            formula = hit1([f[:, 0] + 0.5 * f[:, 1] + 0.4 * f[:, 9] for f in x], y)
            report[held][name] = {"model": model, "cosine": cosine, "rerank_formula": formula}
            print(
                f"  {held:16s} {name:4s} n={len(te):4d}  {model:.3f} / {cosine:.3f} / {formula:.3f}"
            )
    weights = train(feats, labels, **fit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **weights)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), scalar features {k}")
    print(json.dumps({"packages": versions, "validation": report}, indent=1))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
