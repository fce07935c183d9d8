"""Structure-aware splitting of a document into passages, keeping offsets into the file.

The source is real web text: captions left over from images, a paragraph broken across a blank
line, sentences run together without a space. Every span below indexes the original text, so a
passage's text is always `document.text[start:end]`.

Stages: lines -> blocks (separated by blank lines) -> typed blocks (title, heading, caption,
paragraph, list item; broken paragraphs joined) -> passages (a paragraph, or a list with its
lead-in; long ones cut at sentence boundaries) -> sentence spans.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from .corpus import Document

if TYPE_CHECKING:
    import pysbd

BULLET = re.compile(r"^[ \t\u00a0]*(?:[•\-\*\u2013\u25aa\u25cf]|\d{1,2}[.)])[ \t\u00a0]+")
MD_HEADING = re.compile(r"^[ \t]*(#{1,6})[ \t]+")
TERMINAL = ".!?:;\"'”’)…"
# A sentence end with the space missing ("stay.In young adults"): lower-case letters, a full
# stop, then a capitalised word. Two letters before the stop keep "e.g.The" and "U.S.A" intact.
RUN_TOGETHER = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
CAPTION_MAX_WORDS = 6
HEADING_MAX_WORDS = 12


@dataclass(frozen=True)
class Block:
    kind: str  # title | heading | caption | paragraph | list_item
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A quotable span of one document, with where it sits in the document."""

    id: str
    source: str
    start: int
    end: int
    text: str  # always document.text[start:end]
    section: str
    paragraph: int
    kind: str  # paragraph | list
    sentences: tuple[tuple[int, int], ...]  # absolute offsets, inside [start, end]
    flags: tuple[str, ...] = ()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with whitespace (NBSP included)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _raw_blocks(text: str) -> list[list[tuple[int, int]]]:
    """Groups of non-blank lines separated by blank lines, each line as trimmed offsets."""
    blocks: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = _trim(text, pos, pos + len(line))
        pos += len(line)
        if start == end:
            if current:
                blocks.append(current)
                current = []
        else:
            current.append((start, end))
    if current:
        blocks.append(current)
    return blocks


def _words(s: str) -> list[str]:
    return s.split()


def _classify(
    text: str, lines: list[tuple[int, int]], index: int, is_markdown: bool
) -> list[Block]:
    first = text[lines[0][0] : lines[0][1]]
    if is_markdown and (m := MD_HEADING.match(first)) and len(lines) == 1:
        return [Block("title" if index == 0 and len(m.group(1)) == 1 else "heading", *lines[0])]
    if any(BULLET.match(text[s:e]) for s, e in lines):
        out = []
        for s, e in lines:
            m = BULLET.match(text[s:e])
            if m:
                out.append(Block("list_item", s + m.end(), e))
            elif out:  # a wrapped continuation line of the previous item
                out[-1] = Block("list_item", out[-1].start, e)
            else:
                out.append(Block("paragraph", s, e))
        return out
    start, end = lines[0][0], lines[-1][1]
    body = text[start:end]
    words = _words(body)
    single = len(lines) == 1
    if index == 0 and single and len(words) <= 20:
        return [Block("title", start, end)]
    if (
        single
        and len(words) <= CAPTION_MAX_WORDS
        and body[0].islower()
        and body[-1] not in TERMINAL
    ):
        return [Block("caption", start, end)]
    if (
        single
        and len(words) <= HEADING_MAX_WORDS
        and (body[0].isupper() or body[0].isdigit())
        and (body[-1] not in TERMINAL or body.endswith("?"))
    ):
        return [Block("heading", start, end)]
    return [Block("paragraph", start, end)]


def blocks(document: Document) -> list[Block]:
    """The typed blocks of a document, broken paragraphs joined back together."""
    text = document.text
    is_markdown = document.source.lower().endswith(".md")
    out: list[Block] = []
    for i, lines in enumerate(_raw_blocks(text)):
        for block in _classify(text, lines, i, is_markdown):
            prev = out[-1] if out else None
            body = text[block.start : block.end]
            if (
                prev is not None
                and prev.kind == "paragraph"
                and block.kind in ("paragraph", "caption")
                and text[prev.end - 1] not in TERMINAL
                and body[0].islower()
            ):
                # "From acne to the" / "hypersensitive skin, ...": one paragraph split by a blank line.
                out[-1] = Block("paragraph", prev.start, block.end)
                continue
            out.append(block)
    # In plain text, a short single line right under the title is its subtitle, whatever its
    # punctuation. Markdown marks its headings, so it needs no guess.
    if not is_markdown and len(out) > 1 and out[0].kind == "title" and out[1].kind == "paragraph":
        body = text[out[1].start : out[1].end]
        if "\n" not in body and len(_words(body)) <= HEADING_MAX_WORDS:
            out[1] = Block("heading", out[1].start, out[1].end)
    return out


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    import pysbd  # build time only: answering reads sentence spans from the index

    return pysbd.Segmenter(language="en", clean=False)


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) of text[start:end], found by pysbd and then split where
    a sentence end has lost its following space."""
    chunk = text[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in _segmenter().segment(chunk):
        if not sentence.strip():
            continue
        at = chunk.find(sentence, cursor)
        if at < 0:  # pysbd never alters text with clean=False; this keeps us safe if it did
            at = cursor
        s_end = at + len(sentence) if at >= cursor else len(chunk)
        cursor = s_end
        pieces = [0, *(m.start() for m in RUN_TOGETHER.finditer(sentence)), len(sentence)]
        for a, b in zip(pieces, pieces[1:]):
            s, e = _trim(text, start + at + a, start + at + b)
            if s < e:
                spans.append((s, e))
    if not spans:
        spans = [_trim(text, start, end)]
    return spans


class Unit(NamedTuple):
    """A paragraph or a list (with its lead-in) before it is cut into passages."""

    start: int
    end: int
    section: str
    paragraph: int  # its number in the document
    kind: str  # paragraph | list


def _passage_id(document: Document, start: int, end: int) -> str:
    key = f"{document.sha256}:{start}:{end}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def _windows(sentences: list[tuple[int, int]], max_chars: int) -> list[list[tuple[int, int]]]:
    """Consecutive sentence groups, each at most `max_chars` long (a longer sentence stands alone)."""
    groups: list[list[tuple[int, int]]] = []
    for span in sentences:
        if groups and span[1] - groups[-1][0][0] <= max_chars:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def _fallback_units(text: str, typed: list[Block], title: str) -> list[Unit]:
    """Passage units of a document with no paragraph or list: its headings and captions (a
    title with one short line), else its title (a one-line document). Never empty for a
    document with text, so every document can be quoted."""
    for kinds in (("heading", "caption"), ("title",)):
        chosen = [b for b in typed if b.kind in kinds]
        if chosen:
            return [
                Unit(b.start, b.end, title, number, "paragraph")
                for number, b in enumerate(chosen, start=1)
            ]
    return []


def passages(document: Document, max_passage_chars: int = 1200) -> list[Passage]:
    """The quotable passages of a document, in document order.

    A document without any paragraph or list (one line, or a title and a short line) still
    gets passages: its short lines become paragraphs (see `_fallback_units`).
    """
    text = document.text
    typed = blocks(document)
    section = document.title
    paragraph = 0
    units: list[Unit] = []
    for i, block in enumerate(typed):
        if block.kind == "title" or block.kind == "heading":
            section = text[block.start : block.end].lstrip("# ").strip()
        elif block.kind == "paragraph":
            paragraph += 1
            units.append(Unit(block.start, block.end, section, paragraph, "paragraph"))
        elif block.kind == "list_item":
            prev = typed[i - 1] if i else None
            if prev is not None and prev.kind == "list_item" and units:
                units[-1] = units[-1]._replace(end=block.end, kind="list")
            elif (
                prev is not None
                and prev.kind == "paragraph"
                and units
                and text[prev.end - 1] in ":;"
            ):
                # the lead-in sentence introduces the list
                units[-1] = units[-1]._replace(end=block.end, kind="list")
            else:
                paragraph += 1
                units.append(Unit(block.start, block.end, section, paragraph, "list"))
    if not units:
        units = _fallback_units(text, typed, document.title)
    out = []
    for unit in units:
        sentences = sentence_spans(text, unit.start, unit.end)
        for group in _windows(sentences, max_passage_chars):
            s, e = group[0][0], group[-1][1]
            out.append(
                Passage(
                    id=_passage_id(document, s, e),
                    source=document.source,
                    start=s,
                    end=e,
                    text=text[s:e],
                    section=unit.section,
                    paragraph=unit.paragraph,
                    kind=unit.kind,
                    sentences=tuple(group),
                    flags=document.flags_for(unit.section),
                )
            )
    return out
