#!/usr/bin/env python3
"""Build a small BEIR-format retrieval benchmark from the zlib FAQ that Debian ships.

The FAQ is not downloaded: it is read from `/usr/share/doc/zlib1g-dev/FAQ.gz`, installed by
Debian's `zlib1g-dev` package (zlib licence, a permissive licence: see
`/usr/share/doc/zlib1g-dev/copyright`). Where that package is not installed:

    apt-get download zlib1g-dev && dpkg -x zlib1g-dev_*.deb /tmp/zlib
    python eval/make_beir_zlib_faq.py --faq /tmp/zlib/usr/share/doc/zlib1g-dev/FAQ.gz

The FAQ is split into one document per numbered entry (title: the entry's question, text: its
answer) and one for the introduction. Document text is verbatim from the file apart from
whitespace normalisation (wrapped lines joined, runs of spaces collapsed, paragraphs separated
by a blank line); a check that the documents reproduce the file stops the script otherwise.

Queries and relevance judgements below are hand-written, in the words of someone with the
problem rather than the FAQ's wording (some in everyday words, with typos), and checked by
pooling: the top 5 documents of every mode of a first `assistant eval` run were read, and two
entries that also answer their query were added (z12: e37, z40: e41). This document is for evaluation only: it must not be used to train or tune a
ranking model (the reranker work of issue 15 trains on other Debian FAQs).

Usage:  python eval/make_beir_zlib_faq.py [--faq PATH] [--out DIR]
Writes: DIR/corpus.jsonl, DIR/queries.jsonl, DIR/qrels/test.tsv, DIR/README.md
        (DIR defaults to eval/beir-zlib-faq next to this script).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import subprocess
import sys
from pathlib import Path

from beir_files import collapse, paragraphs, write_beir

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "beir-zlib-faq"
DEFAULT_FAQ = Path("/usr/share/doc/zlib1g-dev/FAQ.gz")
PACKAGE = "zlib1g-dev"
TITLE = "Frequently Asked Questions about zlib"
ENTRIES = 44

# (query id, kind, question, relevant document ids). Kinds: "direct" (the FAQ's own terms,
# reworded) and "lay" (how someone with the problem would type it, typos included).
QUERIES: list[tuple[str, str, str, list[str]]] = [
    ("z01", "lay", "does zlib have a year 2000 problem", ["e01"]),
    ("z02", "direct", "Is there a prebuilt Windows DLL of zlib?", ["e02"]),
    ("z03", "direct", "How do I call zlib from Visual Basic?", ["e03"]),
    ("z04", "lay", "compress keeps failing with Z_BUF_ERROR what am i doing wrong", ["e04"]),
    ("z05", "direct", "Is a Z_BUF_ERROR from inflate() fatal?", ["e05"]),
    ("z06", "lay", "where are the docs for zlib, there's no man page", ["e06"]),
    ("z07", "direct", "Why doesn't zlib use autoconf and libtool?", ["e07"]),
    ("z08", "lay", "i think i found a bug in zlib, who do i tell", ["e08"]),
    ("z09", "lay", "make test fails: undefined reference to gzputc", ["e09"]),
    ("z10", "direct", "Is there a Delphi binding for zlib?", ["e10"]),
    ("z11", "lay", "can i open a .zip file with zlib", ["e11", "e41"]),
    (
        "z12",
        "direct",
        "Can zlib uncompress files made by the old Unix compress tool?",
        ["e12", "e37"],
    ),
    ("z13", "lay", "how do i build zlib as a shared libary on linux", ["e13"]),
    ("z14", "lay", "how can i tell if zlib is already installed on my machine", ["e14"]),
    ("z15", "direct", "Can zlib decompress the streams inside a PDF?", ["e16"]),
    ("z16", "lay", "my program on solaris dies with __register_frame_info not found", ["e17"]),
    ("z17", "lay", "gunzip says my file is not gzip but i made it with deflate", ["e18"]),
    ("z18", "direct", "What is the difference between the zlib and gzip formats?", ["e18", "e19"]),
    (
        "z19",
        "direct",
        "How do I produce gzip-format data in memory rather than in a file?",
        ["e20"],
    ),
    ("z20", "lay", "can two threads use zlib at the same time", ["e21"]),
    ("z21", "lay", "am i allowed to put zlib in a closed source app we sell", ["e22"]),
    ("z22", "lay", "is zlib GPL licensed", ["e23", "e42"]),
    ("z23", "direct", "How must I mark a modified version of zlib that I distribute?", ["e24"]),
    ("z24", "lay", "can stuff compressed on a big endian box be unpacked on x86", ["e25"]),
    ("z25", "direct", "Does zlib run on 64-bit systems?", ["e26"]),
    (
        "z26",
        "direct",
        "Can zlib decompress data from the PKWare Data Compression Library?",
        ["e27"],
    ),
    (
        "z27",
        "lay",
        "can i jump to the middle of a compressed file without unpacking it all",
        ["e28"],
    ),
    ("z28", "lay", "does zlib work on ibm mainframes", ["e29"]),
    (
        "z29",
        "direct",
        "Is there a simple, readable inflate implementation for learning deflate?",
        ["e30"],
    ),
    ("z30", "lay", "could we get sued over patents for using zlib", ["e31"]),
    ("z31", "lay", "can zlib handle files bigger than 4 gigs", ["e32"]),
    ("z32", "direct", "Are there known security vulnerabilities in zlib?", ["e33"]),
    ("z33", "direct", "How do I use zlib from Java?", ["e34"]),
    (
        "z34",
        "lay",
        "my compiler spits out loads of warnings on the zlib code, should i worry",
        ["e35"],
    ),
    (
        "z35",
        "lay",
        "valgrind complains about an uninitialised value in deflate, is that a bug",
        ["e36"],
    ),
    ("z36", "lay", "can zlib open a password protected zip", ["e38"]),
    (
        "z37",
        "direct",
        "Should an HTTP server use the gzip or the deflate content encoding?",
        ["e39"],
    ),
    ("z38", "direct", "Does zlib support Deflate64?", ["e40"]),
    ("z39", "lay", "minizip keeps crashing, can the zlib people help me", ["e41"]),
    ("z40", "direct", "Does GPL code in contrib put all of zlib under the GPL?", ["e42", "e41"]),
    ("z41", "direct", "What is zlib's export control classification?", ["e43"]),
    ("z42", "lay", "will the zlib authors sign our vendor contract paperwork", ["e44"]),
    ("z43", "lay", "where do i find the newest version of this faq", ["intro"]),
    ("z44", "lay", "somebody asked me about OttoPDF, is it your program", ["e15"]),
    ("z45", "lay", "can zlib unpack some old obscure format like arj", ["e37"]),
]


def split_faq(text: str) -> list[dict]:
    """The introduction and the numbered entries, in order; stops on any surprise."""
    lines = text.replace("\r\n", "\n").split("\n")
    starts: list[int] = []
    expect = 1
    for i, line in enumerate(lines):
        if re.match(rf"^ ?{expect}\. \S", line):
            starts.append(i)
            expect += 1
    if len(starts) != ENTRIES:
        sys.exit(f"ERROR: expected {ENTRIES} numbered entries, found {len(starts)}")
    intro = paragraphs(lines[: starts[0]])
    if not intro or intro[0] != TITLE:
        sys.exit(f"ERROR: the FAQ does not start with {TITLE!r}")
    docs = [{"_id": "intro", "title": TITLE, "text": "\n\n".join(intro[1:])}]
    for n, (a, b) in enumerate(zip(starts, starts[1:] + [len(lines)]), start=1):
        block = lines[a:b]
        end_q = next((i for i, line in enumerate(block) if not line.strip()), len(block))
        question = collapse(" ".join(block[:end_q]))
        question = re.sub(rf"^{n}\. ", "", question)
        answer = paragraphs(block[end_q:])
        if not answer:
            sys.exit(f"ERROR: entry {n} has no answer")
        docs.append({"_id": f"e{n:02d}", "title": question, "text": "\n\n".join(answer)})
    rebuilt = collapse(
        " ".join(
            [TITLE, docs[0]["text"]]
            + [f"{n}. {d['title']} {d['text']}" for n, d in enumerate(docs[1:], start=1)]
        )
    )
    if rebuilt != collapse(text):
        sys.exit("ERROR: the documents do not reproduce the FAQ text")
    return docs


def package_version() -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", PACKAGE],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown version"
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--faq", type=Path, default=DEFAULT_FAQ, help="the FAQ file (.gz or text)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    try:
        raw = args.faq.read_bytes()
    except OSError as exc:
        sys.exit(
            f"ERROR: cannot read {args.faq} ({exc.strerror}). Install Debian's {PACKAGE} or "
            f"unpack it (apt-get download {PACKAGE} && dpkg -x {PACKAGE}_*.deb DIR) and pass "
            f"--faq DIR/usr/share/doc/{PACKAGE}/FAQ.gz."
        )
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    docs = split_faq(text)
    version = package_version() if args.faq == DEFAULT_FAQ else "unpacked by hand"

    for q, kind, _, _ in QUERIES:
        assert kind in ("direct", "lay"), f"bad kind for {q}: {kind}"
    out: Path = args.out
    n_qrels = write_beir(out, docs, [(q, t, rel) for q, _, t, rel in QUERIES])

    n_lay = sum(kind == "lay" for _, kind, _, _ in QUERIES)
    n_two = sum(len(rel) > 1 for _, _, _, rel in QUERIES)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    readme = (
        "# BEIR-format benchmark: the zlib FAQ\n\n"
        f"Source: `/usr/share/doc/{PACKAGE}/FAQ.gz` from Debian's `{PACKAGE}` package "
        f"({version}; FAQ text sha256 {digest}...), zlib licence "
        f"(`/usr/share/doc/{PACKAGE}/copyright`: `Files: *`, `License: Zlib`).\n"
        f"Split by `eval/make_beir_zlib_faq.py` into {len(docs)} documents: one per numbered "
        "entry (title: the question, text: the answer) and one for the introduction; text is "
        "verbatim apart from whitespace normalisation (wrapped lines joined, paragraphs separated "
        "by a blank line).\n"
        f"{len(QUERIES)} queries, hand-written in other words than the FAQ's ({n_lay} in everyday "
        f"words, some with typos; {len(QUERIES) - n_lay} direct), with {n_qrels} relevance "
        f"judgements in `qrels/test.tsv` (score 1; {n_two} queries have 2 relevant documents). "
        "No unanswerable queries: `assistant eval` reads BEIR qrels with positive scores only "
        "and drops queries without one.\n"
        "For evaluation only: not tuned on, and not to be used as training data.\n"
        "Rebuild with `python eval/make_beir_zlib_faq.py`.\n"
    )
    (out / "README.md").write_text(readme, encoding="utf-8")

    print(f"source: {args.faq} ({PACKAGE} {version})")
    print(f"wrote {out}: {len(docs)} docs, {len(QUERIES)} queries, {n_qrels} qrels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
