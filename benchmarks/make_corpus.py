"""Write a large synthetic corpus in the corpus format, for build and query benchmarks.

Sentences come from the seed article (corpus/secondary-milia.txt) and from real English prose
shipped inside installed PyPI packages: the long descriptions in `*.dist-info/METADATA`. They
are recombined at random (seeded, so runs are reproducible) into documents shaped like the seed:
a title line, short heading lines, paragraphs of 2-5 sentences. Each paragraph becomes one
passage, so `--passages 100000` gives about 100,000 passages.

    python -m benchmarks.make_corpus --passages 100000 --out /tmp/big-corpus
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import sysconfig
from pathlib import Path

from benchmarks import ROOT

SEED = ROOT / "corpus" / "secondary-milia.txt"
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
PROSE = re.compile(r"^[A-Z][A-Za-z0-9 ,;:'’()\-–%/]+[.!?]$")


def sentences_of(text: str) -> list[str]:
    """Prose-looking sentences (no markup, code or tables) of 40-300 characters."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split())
        for s in SENTENCE.split(block):
            if 40 <= len(s) <= 300 and PROSE.match(s):
                out.append(s)
    return out


def package_prose(limit_files: int = 2000) -> list[str]:
    """Sentences from the long descriptions of the installed distributions."""
    site = Path(sysconfig.get_paths()["purelib"])
    found: list[str] = []
    for meta in sorted(site.glob("*.dist-info/METADATA"))[:limit_files]:
        text = meta.read_text(encoding="utf-8", errors="replace")
        _, _, body = text.partition("\n\n")
        found.extend(sentences_of(body))
    return found


def sentence_pool(use_packages: bool = True) -> list[str]:
    pool = sentences_of(SEED.read_text(encoding="utf-8"))
    if use_packages:
        pool += package_prose()
    return sorted(set(pool))


def make_corpus(out: Path, passages: int, per_document: int = 50, seed: int = 0) -> int:
    """Write about `passages` paragraphs into `out`; returns the number of documents."""
    rng = random.Random(seed)
    pool = sentence_pool()
    headings = [s.rstrip(".!?") for s in pool if len(s) < 70] or ["Section"]
    out.mkdir(parents=True, exist_ok=True)
    documents = 0
    written = 0
    while written < passages:
        count = min(per_document, passages - written)
        lines = [f"Document {documents + 1}: {rng.choice(headings)}", ""]
        for i in range(count):
            if i % 5 == 0:
                lines += [rng.choice(headings), ""]
            lines += [" ".join(rng.choice(pool) for _ in range(rng.randint(2, 5))), ""]
        (out / f"doc-{documents:06d}.txt").write_text("\n".join(lines), encoding="utf-8")
        documents += 1
        written += count
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-document", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty; give a new folder")
    docs = make_corpus(args.out, args.passages, args.per_document, args.seed)
    pool = len(sentence_pool())
    print(
        f"wrote {docs} documents, ~{args.passages} passages, from {pool} sentences, to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
