"""Loading the corpus: every `.txt` and `.md` file under a folder is one document.

Files and folders whose names start with a dot are ignored. A symlinked file is used only when
the file it points to is inside the corpus folder too; one leading outside it (`ln -s /etc/passwd
corpus/passwd.txt`) is skipped with a warning, so a build can only ever quote the corpus folder.
Symlinked folders are not entered. A file name that is not valid UTF-8 is refused: names appear
in every citation and in the JSON output.

A document may have a sidecar `<file name>.meta.json` beside it, for example
`secondary-milia.txt.meta.json`::

    {"title": "...", "origin": "https://...", "sections": {"Milia removal cream": ["promotional"]}}

`sections` maps a section heading (compared case-insensitively) to flags. Quotes from a flagged
section carry a fixed label in every answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".txt", ".md")
SIDECAR_SUFFIX = ".meta.json"
KNOWN_FLAGS = frozenset({"promotional"})
#: Larger files are refused: the whole corpus is held in memory while building.
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One source file. `text` is the file decoded as UTF-8, never altered."""

    source: str  # path relative to the corpus folder, with forward slashes
    text: str
    sha256: str
    title: str
    origin: str = ""
    section_flags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def flags_for(self, section: str) -> tuple[str, ...]:
        return self.section_flags.get(section.strip().casefold(), ())


_warned: set[str] = set()
_warned_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks (a large file is never read whole)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _warn_once(message: str) -> None:
    """Log a warning about the corpus once per process (the corpus is listed several times)."""
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    log.warning("%s", message)


def shown(path: Path) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise CorpusError(
            f"{path}: the file is empty. Add text to it or remove it from the corpus."
        )
    if b"\x00" in data[:8192]:
        raise CorpusError(
            f"{path}: looks like a binary file (it contains NUL bytes), not text. "
            "Remove it from the corpus folder or replace it with a UTF-8 text file."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path}: not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start}). Re-save the file as UTF-8."
        ) from None
    if text.startswith("\ufeff"):
        # Offsets are into the decoded text; a BOM would be an invisible first character.
        raise CorpusError(
            f"{path}: starts with a byte-order mark. Re-save it as UTF-8 without BOM."
        )
    return text


def _sidecar_path(path: Path, root: Path) -> Path | None:
    """The document's sidecar file, unless it is a symlink leading outside the corpus folder."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.exists() and _outside(sidecar, root):
        _warn_once(
            f"{sidecar}: skipped, it is a symlink to {shown(sidecar.resolve())}, outside the corpus "
            f"folder {root}."
        )
        return None
    return sidecar


def _read_sidecar(path: Path, root: Path) -> dict[str, object]:
    sidecar = _sidecar_path(path, root)
    if sidecar is None or not sidecar.exists():
        return {}
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # 100,000 brackets
        raise CorpusError(f"{sidecar}: not valid JSON ({exc}). Fix or remove the file.") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{sidecar}: must hold a JSON object, got {type(meta).__name__}.")
    sections = meta.get("sections", {})
    if not isinstance(sections, dict) or not all(
        isinstance(v, list) and all(f in KNOWN_FLAGS for f in v) for v in sections.values()
    ):
        raise CorpusError(
            f"{sidecar}: 'sections' must map a heading to a list of flags from "
            f"{sorted(KNOWN_FLAGS)}, got {sections!r}."
        )
    return meta


def load_document(path: Path, root: Path) -> Document:
    """Read one corpus file, raising `CorpusError` with the file name if it cannot be used."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(
                f"{path}: {size:,} bytes is over the limit of {MAX_FILE_BYTES:,} bytes per file. "
                "Split it into several files."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot be read ({exc.strerror}).") from None
    text = _decode(path, data)
    meta = _read_sidecar(path, root)
    sections = meta.get("sections", {})
    assert isinstance(sections, dict)
    first_line = text.strip().splitlines()[0].strip()
    return Document(
        source=path.relative_to(root).as_posix(),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        title=str(meta.get("title") or first_line.lstrip("# ").strip()),
        origin=str(meta.get("origin", "")),
        section_flags={str(k).strip().casefold(): tuple(v) for k, v in sections.items()},
    )


def _outside(path: Path, root: Path) -> bool:
    """True when `path` (a symlink, or under a symlinked folder) resolves outside `root`."""
    return not path.resolve().is_relative_to(root.resolve())


#: Deepest folder nesting read in a corpus (pathlib's rglob recursed, so 1,000 nested folders
#: were a RecursionError, exit 1).
MAX_DEPTH = 32


def _cut(name: str) -> str:
    """A path for a message: at most 200 characters (a path over the system limit is 4 KB)."""
    return name if len(name) <= 200 else name[:100] + "…" + name[-99:]


def _walk(root: Path) -> list[Path]:
    """Every file under `root`, sorted, without recursion; `CorpusError` for folders nested
    deeper than `MAX_DEPTH` or a folder that cannot be listed (a path over the system limit).
    Symlinked folders are not entered."""
    found: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CorpusError(
                f"{_cut(shown(folder))}: folders nested more than {MAX_DEPTH} deep. Move the "
                "documents to a shallower folder."
            )
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((Path(entry.path), depth + 1))
                    elif entry.is_file():
                        found.append(Path(entry.path))
        except OSError as exc:
            raise CorpusError(f"{_cut(shown(folder))}: cannot be read ({exc.strerror}).") from None
    return sorted(found)


def corpus_files(root: Path) -> list[Path]:
    """The document files under `root`, sorted, warning (once) about files that are skipped.

    Raises `CorpusError` for a missing folder, a folder without documents, or a file name that
    is not valid UTF-8.
    """
    try:
        is_folder = root.is_dir()
    except OSError as exc:  # a name over the system's limit
        raise CorpusError(f"{_cut(shown(root))}: cannot be read ({exc.strerror}).") from None
    if not is_folder:
        raise CorpusError(
            f"{root}: corpus folder not found. Create it and put .txt or .md files in it, "
            "or point --corpus (or VERBATIM_CORPUS) at your corpus folder."
        )
    found = []
    for path in _walk(root):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in DOCUMENT_SUFFIXES:
            if not path.name.endswith(SIDECAR_SUFFIX):
                _warn_once(f"{shown(path)}: skipped, only .txt and .md files are documents")
            continue
        try:
            rel.as_posix().encode("utf-8")
        except UnicodeEncodeError:
            raise CorpusError(
                f"{shown(path)}: the file name is not valid UTF-8. Rename the file "
                "(file names appear in every citation)."
            ) from None
        if _outside(path, root):
            _warn_once(
                f"{path}: skipped, it is a symlink to {shown(path.resolve())}, outside the corpus "
                f"folder {root}. Copy the file into the folder to use it."
            )
            continue
        found.append(path)
    if not found:
        raise CorpusError(
            f"{root}: the corpus folder holds no .txt or .md files. Add at least one document."
        )
    return found


def load_corpus(root: Path) -> list[Document]:
    """Every document under `root`, in a stable order."""
    root = Path(root)
    return [load_document(path, root) for path in corpus_files(root)]


def corpus_hash(root: Path) -> str:
    """A hash of every document and sidecar file (names and bytes): it changes when any does."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in corpus_files(root):
        for part in (path, _sidecar_path(path, root)):
            if part is not None and part.exists():
                digest.update(part.relative_to(root).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(part.read_bytes()).digest())
    return digest.hexdigest()
