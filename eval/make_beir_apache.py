#!/usr/bin/env python3
"""Build a small BEIR-format retrieval benchmark from the Apache License 2.0 text.

The licence text is not downloaded: it is read from a LICENSE file shipped in an installed
package's ``*.dist-info`` folder (site-packages is searched at run time). The text is split into
one document per numbered section (2-9), one document per defined term of section 1
("License", "Licensor", ...) and one document for the "APPENDIX: How to apply" part. Document
text is verbatim from the file apart from whitespace normalisation (wrapped lines are joined,
runs of spaces collapsed, paragraphs separated by a blank line).

Queries and relevance judgements below are hand-written.

Usage:  python eval/make_beir_apache.py [--license PATH] [--out DIR]
Writes: DIR/corpus.jsonl, DIR/queries.jsonl, DIR/qrels/test.tsv, DIR/README.md
        (DIR defaults to eval/beir-apache-2.0 next to this script).
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import re
import sys
import sysconfig
from pathlib import Path

from beir_files import collapse, paragraphs, write_beir

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUT = HERE / "beir-apache-2.0"

REQUIRED = (
    "Apache License",
    "Version 2.0, January 2004",
    "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
)
TERMS_HEADER = "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION"
END_OF_TERMS = "END OF TERMS AND CONDITIONS"
APPENDIX_START = "APPENDIX: How to apply the Apache License to your work."
PLACEHOLDER = "Copyright [yyyy] [name of copyright owner]"
LAST_LINE = "limitations under the License."


# --------------------------------------------------------------------------- finding the file


def site_packages_dirs() -> list[Path]:
    dirs: list[Path] = []
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            dirs.append(Path(p))
    # The project venv, in case the script is run with another interpreter.
    dirs += [Path(p) for p in glob.glob(str(REPO / ".venv" / "lib" / "python*" / "site-packages"))]
    seen, out = set(), []
    for d in dirs:
        r = d.resolve()
        if r.is_dir() and r not in seen:
            seen.add(r)
            out.append(r)
    return out


def is_pristine(text: str) -> bool:
    """The full, unmodified template: starts with the title, keeps the appendix with the
    un-filled placeholder, and ends with the boilerplate's last line."""
    t = text.strip()
    return (
        t.startswith("Apache License")
        and APPENDIX_START in t
        and PLACEHOLDER in t
        and END_OF_TERMS in t
        and t.endswith(LAST_LINE)
    )


def dist_name_version(license_path: Path) -> tuple[str, str]:
    for parent in license_path.parents:
        if parent.name.endswith(".dist-info"):
            meta = parent / "METADATA"
            name = version = "?"
            if meta.is_file():
                for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
                    if line.startswith("Name:") and name == "?":
                        name = line.split(":", 1)[1].strip()
                    elif line.startswith("Version:") and version == "?":
                        version = line.split(":", 1)[1].strip()
                    elif not line.strip():
                        break
            return name, version
    return "?", "?"


def find_license() -> Path:
    dirs = site_packages_dirs()
    candidates: list[Path] = []
    for sp in dirs:
        for f in sorted(sp.glob("*.dist-info/**/LICENSE*")):
            if not f.is_file():
                continue
            try:
                text = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if all(s in text for s in REQUIRED):
                candidates.append(f)
    if not candidates:
        sys.exit(
            "ERROR: no dist-info LICENSE file containing the Apache License 2.0 text "
            f"({' / '.join(repr(s) for s in REQUIRED)}) was found in: "
            + ", ".join(map(str, dirs))
            + ". Pass --license PATH to use a specific file."
        )
    pristine = [f for f in candidates if is_pristine(f.read_text(encoding="utf-8"))]
    if not pristine:
        sys.exit(
            "ERROR: found Apache 2.0 LICENSE files, but none is the full unmodified text "
            "(title first, appendix with '[yyyy] [name of copyright owner]' placeholder):\n  "
            + "\n  ".join(map(str, candidates))
            + "\nPass --license PATH to use a specific file."
        )
    # Several packages ship the same file; take the most common text (a modified copy
    # cannot win), then the alphabetically first dist-info among those copies.
    groups: dict[str, list[Path]] = collections.defaultdict(list)
    for f in pristine:
        h = hashlib.sha256(collapse(f.read_text(encoding="utf-8")).encode()).hexdigest()
        groups[h].append(f)
    best = sorted(groups.values(), key=lambda fs: (-len(fs), str(sorted(fs)[0])))[0]
    return sorted(best)[0]


# --------------------------------------------------------------------------- splitting


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def split_license(text: str) -> list[dict]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    stripped = [ln.strip() for ln in lines]

    def index_of(s: str, start: int = 0) -> int:
        for i in range(start, len(stripped)):
            if stripped[i] == s:
                return i
        raise SystemExit(f"ERROR: line {s!r} not found in the licence text")

    i_terms = index_of(TERMS_HEADER)
    i_end = index_of(END_OF_TERMS, i_terms)
    i_app = index_of(APPENDIX_START, i_end)

    # Numbered sections 1..9, matched strictly in order.
    starts: list[int] = []
    expect = 1
    for i in range(i_terms + 1, i_end):
        if re.match(rf"^{expect}\.\s+\S", stripped[i]):
            starts.append(i)
            expect += 1
    if len(starts) != 9:
        raise SystemExit(f"ERROR: expected 9 numbered sections, found {len(starts)}")
    bounds = list(zip(starts, starts[1:] + [i_end]))

    docs: list[dict] = []
    for num, (a, b) in enumerate(bounds, start=1):
        paras = paragraphs(lines[a:b])
        m = re.match(rf"^{num}\.\s+([^.]+)\.", paras[0])
        if not m:
            raise SystemExit(f"ERROR: cannot read the heading of section {num}: {paras[0][:60]!r}")
        title = m.group(1).strip()
        if num == 1:
            if paras[0] != "1. Definitions.":
                raise SystemExit(f"ERROR: unexpected section 1 heading {paras[0]!r}")
            for p in paras[1:]:
                dm = re.match(r'^"([^"]+)"(.*?)\s+shall mean\b', p)
                if not dm:
                    raise SystemExit(f"ERROR: section 1 paragraph is not a definition: {p[:60]!r}")
                docs.append(
                    {
                        "_id": f"s1-{slug(dm.group(1))}",
                        "title": f"Definitions: {p[: dm.end()].rsplit(' shall mean', 1)[0]}",
                        "text": p,
                    }
                )
        else:
            docs.append({"_id": f"s{num}", "title": title, "text": "\n\n".join(paras)})

    app_paras = paragraphs(lines[i_app:])
    docs.append(
        {
            "_id": "appendix",
            "title": APPENDIX_START.rstrip("."),
            "text": "\n\n".join(app_paras),
        }
    )

    # Faithfulness: the documents, in order, plus the two omitted heading lines, reproduce the
    # file from "1. Definitions." to the end, up to whitespace.
    src = collapse("\n".join(lines[starts[0] :]))
    rebuilt = collapse(
        " ".join(
            ["1. Definitions."]
            + [d["text"] for d in docs if d["_id"] != "appendix"]
            + [END_OF_TERMS, docs[-1]["text"]]
        )
    )
    if src != rebuilt:
        raise SystemExit("ERROR: split documents do not reproduce the source text")
    return docs


# --------------------------------------------------------------------------- hand-written queries
# (query id, question, relevant doc ids). Written by hand; mix of direct and lay phrasing.

QUERIES: list[tuple[str, str, list[str]]] = [
    ("a01", "can I use this code in a commercial product?", ["s2", "s3"]),
    ("a02", "do I have to say what I changed?", ["s4"]),
    ("a03", "what happens to my patent license if I sue someone?", ["s3"]),
    ("a04", "is there any warranty?", ["s7"]),
    ("a05", "can I use the Apache name to promote my product?", ["s6"]),
    ("a06", "what counts as a Contribution?", ["s1-contribution"]),
    ("a07", "Do I need to pay a fee or royalties to use Apache 2.0 software?", ["s2", "s3"]),
    ("a08", "do I need to ship a copy of the license when I redistribute the code?", ["s4"]),
    (
        "a09",
        "what am I supposed to do with the NOTICE file when I ship a modified version?",
        ["s4"],
    ),
    ("a10", "Can I license my own modifications under different terms?", ["s4"]),
    ("a11", "if I open a pull request, what license does my code fall under?", ["s5"]),
    ("a12", "who pays if this library crashes my production server and we lose money?", ["s8"]),
    ("a13", "Can I claim damages from the authors for lost profits caused by a bug?", ["s8"]),
    (
        "a14",
        "can I charge customers for support and a warranty on top of apache licensed software?",
        ["s9"],
    ),
    (
        "a15",
        "If I give my customers a warranty, do I have to cover the other contributors too?",
        ["s9"],
    ),
    ("a16", "How do I apply the Apache License to my own project?", ["appendix"]),
    ("a17", "what header should I put at the top of each source file?", ["appendix"]),
    (
        "a18",
        "does just linking against an Apache library make my program a derivative work?",
        ["s1-derivative-works"],
    ),
    ("a19", 'What is meant by "Source" form?', ["s1-source"]),
    ("a20", "is a compiled binary considered Object form?", ["s1-object"]),
    ("a21", "who exactly is the Licensor?", ["s1-licensor"]),
    ("a22", 'What does "control" mean in the definition of Legal Entity?', ["s1-legal-entity"]),
    (
        "a23",
        "does a subsidiary my company owns 51% of count as part of the same legal entity?",
        ["s1-legal-entity"],
    ),
    ("a24", 'who is "You" in the license?', ["s1-you"]),
    ("a25", "What is a Contributor?", ["s1-contributor"]),
    (
        "a26",
        "are my emails to the project's mailing list counted as contributions?",
        ["s1-contribution"],
    ),
    (
        "a27",
        "how do I make sure something I send to the maintainers is not treated as a contribution?",
        ["s1-contribution"],
    ),
    ("a28", "Which sections of the document make up the License itself?", ["s1-license"]),
    ("a29", 'what is the "Work" the license talks about?', ["s1-work"]),
    ("a30", "can the contributors take back my copyright license later?", ["s2"]),
    ("a31", "Does the Apache License give me any patent rights?", ["s3"]),
    ("a32", "which patent claims are covered by the patent grant?", ["s3"]),
    ("a33", "am I allowed to sublicense apache 2.0 code?", ["s2"]),
    ("a34", "do I have to keep the original copyright notices in the source files?", ["s4"]),
    (
        "a35",
        "Is it okay to drop attribution notices that don't apply to any part of my fork?",
        ["s4"],
    ),
    ("a36", "can I put the project's logo or trademark in my app store listing?", ["s6"]),
    ("a37", 'Is the software provided "as is"?', ["s7"]),
    (
        "a38",
        "whose job is it to check whether it's ok to use or redistribute the software?",
        ["s7"],
    ),
    (
        "a39",
        "is it guaranteed to be fit for a particular purpose or not infringe anything?",
        ["s7"],
    ),
    ("a40", "Can a contributor be held liable for gross negligence?", ["s8"]),
    (
        "a41",
        "I signed a CLA with the maintainers - which terms apply to my patches, the CLA or the Apache license?",
        ["s5"],
    ),
    ("a42", "does my patent license end if I file a patent infringement counterclaim?", ["s3"]),
    ("a43", "can I distribute Apache-licensed code in binary-only form?", ["s2", "s4"]),
    (
        "a44",
        "Where do the attribution notices from the NOTICE file have to appear in my distribution?",
        ["s4"],
    ),
    ("a45", "what do I replace [yyyy] and [name of copyright owner] with?", ["appendix"]),
    ("a46", "are docs and config files part of the Source form?", ["s1-source"]),
    ("a47", "does converting the work to another media type count as Object form?", ["s1-object"]),
    (
        "a48",
        "Does a fork with editorial revisions and annotations count as a derivative work?",
        ["s1-derivative-works"],
    ),
    ("a49", "can I add my own copyright line to files I modified?", ["s4"]),
    ("a50", "can I bundle Apache code into a closed-source proprietary product?", ["s2", "s4"]),
    (
        "a51",
        "my patent suit is against some other company, not the project - do I still lose the patent license?",
        ["s3"],
    ),
    (
        "a52",
        "If I offer indemnity to my clients, can I do it on behalf of the original authors?",
        ["s9"],
    ),
    ("a53", 'does "You" also cover my company, or just me personally?', ["s1-you"]),
    ("a54", "Who counts as a contributor once the project merges my patch?", ["s1-contributor"]),
    (
        "a55",
        "where is the example copyright notice the definition of Work refers to?",
        ["s1-work", "appendix"],
    ),
]


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--license", type=Path, help="use this file instead of searching site-packages")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    src = args.license.resolve() if args.license else find_license()
    text = src.read_text(encoding="utf-8")
    if not all(s in text for s in REQUIRED):
        sys.exit(f"ERROR: {src} is not the Apache License 2.0 text")
    name, version = dist_name_version(src)
    docs = split_license(text)

    out: Path = args.out
    n_qrels = write_beir(out, docs, QUERIES)

    try:
        shown = src.relative_to(src.parents[[p.name for p in src.parents].index("site-packages")])
    except ValueError:
        shown = src
    n_two = sum(1 for _, _, rel in QUERIES if len(rel) > 1)
    n_def = sum(1 for d in docs if d["_id"].startswith("s1-"))
    readme = (
        "# BEIR-format benchmark: Apache License 2.0\n\n"
        f"Source: `site-packages/{shown}` from the PyPI package `{name}` {version} (the full, unmodified "
        '"Apache License Version 2.0, January 2004" text, appendix included).\n'
        f"Split by `eval/make_beir_apache.py` into {len(docs)} documents: {n_def} for the defined terms of "
        'section 1, one per section 2-9, and one for the "APPENDIX: How to apply" part; text is verbatim '
        "apart from whitespace normalisation (wrapped lines joined, paragraphs separated by a blank line).\n"
        f"{len(QUERIES)} queries, hand-written in developer phrasing (direct and lay), with {n_qrels} "
        f"relevance judgements in `qrels/test.tsv` (score 1; {n_two} queries have 2 relevant docs).\n"
        "Rebuild with `python eval/make_beir_apache.py` (searches site-packages for the licence file at run time).\n"
    )
    (out / "README.md").write_text(readme, encoding="utf-8")

    print(f"source: {src} ({name} {version})")
    print(f"wrote {out}: {len(docs)} docs, {len(QUERIES)} queries, {n_qrels} qrels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
