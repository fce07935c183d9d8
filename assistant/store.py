"""The index on disk: build it from a corpus, write it atomically, load and verify it.

An index is a folder::

    manifest.json     format version, settings, model, dimension, counts, corpus hash, checksums
    passages.jsonl    one passage per line (offsets, text, section, paragraph, sentence spans)
    passages.faiss    FAISS inner-product index of the passage embeddings
    sentences.npy     embeddings of every sentence, for highlighting (numpy, no pickle)
    bm25/             the BM25 index as bm25s saves it (numpy without pickle, JSON)
    encoder/          the query encoder as ONNX (model.onnx, tokenizer.json, encoder.json), so
                      answering needs neither torch nor sentence-transformers (optional)
    vocabulary/       the corpus's words and their WordLlama vectors, for query expansion
                      (words.json, vectors.npy; optional)

Nothing is unpickled, and FAISS reads a file only after its checksum matched the manifest.

Building writes into a temporary sibling folder `.<name>.building-<token>` and swaps it in with
two renames; the replaced index goes to `.<name>.old-<token>` and is deleted. A build holds an
advisory lock (flock) on its folder while it runs, and creating, swapping and cleaning up happen
with the parent folder locked, so concurrent builds swap one at a time and every build can
remove what a killed build left behind without touching a running one's folder.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .candidates import Candidates
from .chunking import Passage, passages
from .corpus import Document, corpus_hash, file_sha256, load_corpus, shown
from .dense import DenseIndex, IndexPlan
from .embedding import Embedder, SentenceTransformerEmbedder
from .errors import (
    CorpusError,
    IndexBuildError,
    IndexCorruptError,
    IndexMissingError,
    IndexProtectedError,
    IndexStaleError,
)
from .expansion import Vocabulary, word_model
from .lexical import LexicalIndex
from .manifest import Manifest
from .settings import Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: vocabulary/ for query expansion
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DENSE = "passages.faiss"
SENTENCES = "sentences.npy"
BM25_DIR = "bm25"
ENCODER_DIR = "encoder"
VOCABULARY_DIR = "vocabulary"


@dataclass(frozen=True)
class Index:
    """A loaded, verified index with the documents it was built from."""

    manifest: Manifest
    documents: dict[str, Document]
    passages: tuple[Passage, ...]
    dense: DenseIndex
    lexical: LexicalIndex
    sentence_vectors: np.ndarray  # one row per sentence, passages' sentences in order
    sentence_offsets: np.ndarray  # passage i's sentences are rows [offsets[i], offsets[i+1])
    encoder_dir: Path | None = None  # the verified ONNX query encoder, if the index has one
    vocabulary: Vocabulary | None = None  # corpus words for query expansion, if the index has it

    # The store interface (candidates.Store) ---------------------------------------------------

    @property
    def dimension(self) -> int:
        return self.dense.dimension

    def candidates(
        self,
        query_vector: np.ndarray,
        question: str,
        n: int,
        expansion: Mapping[str, float] | None = None,
    ) -> Candidates:
        dense_hits = self.dense.search(query_vector, n)
        if expansion:
            bm25 = self.lexical.weighted_scores(expansion)
        else:
            bm25 = self.lexical.scores(question)
        if len(bm25) > n:  # partial selection: O(n) rather than sorting every passage
            pool = np.argpartition(-bm25, n - 1)[:n]
            pool = pool[np.lexsort((pool, -bm25[pool]))]
        else:
            pool = np.lexsort((np.arange(len(bm25)), -bm25))
        top_bm25 = [int(r) for r in pool if bm25[r] > 0]
        rows = sorted({r for r, _ in dense_hits} | set(top_bm25))
        cosine = dict(dense_hits)
        for r in rows:
            if r not in cosine:
                cosine[r] = float(self.dense.vector(r) @ query_vector)
        return Candidates(
            rows=tuple(rows),
            dense=tuple(dense_hits),
            bm25=tuple((r, float(bm25[r])) for r in top_bm25),
            cosine=cosine,
            bm25_scores={r: float(bm25[r]) for r in rows},
        )

    def sentence_vectors_of(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        offsets = self.sentence_offsets
        candidates = np.asarray(rows, dtype=np.int64)
        starts, ends = offsets[candidates], offsets[candidates + 1]
        lengths = ends - starts
        first = np.cumsum(lengths) - lengths  # where each row's sentences begin in the result
        positions = np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))
        return self.sentence_vectors[positions], lengths

    def passage(self, row: int) -> Passage:
        return self.passages[row]

    def quote_text(self, passage: Passage) -> str:
        # Every passage was checked against its document when the index was loaded.
        return self.documents[passage.source].text[passage.start : passage.end]

    def title(self, source: str) -> str:
        return self.documents[source].title

    def common_stems(self, share: float) -> frozenset[str]:
        return self.lexical.common_stems(share)


def passage_embedding_text(passage: Passage, settings: Settings) -> str:
    """What the model sees for a passage: the text, led by its section heading for context."""
    if settings.embed_section and passage.section:
        return f"{passage.section}\n{passage.text}"
    return passage.text


def _export_encoder(embedder: Embedder, folder: Path, settings: Settings) -> bool:
    """Save the query encoder as ONNX beside the index. False when there is none to save (not a
    sentence-transformers embedder, or VERBATIM_ONNX=0); `IndexBuildError` when the export
    fails (a full disk, a model that cannot be exported): an index without its encoder would
    silently load torch on every start, so the build is not reported as a success."""
    if not isinstance(embedder, SentenceTransformerEmbedder) or not settings.onnx:
        return False  # not a sentence-transformers embedder (e.g. the tests' fake), or disabled
    try:
        from .onnx_export import export_onnx

        export_onnx(embedder.model, folder, model_id=embedder.model_id)
    except Exception as exc:  # noqa: BLE001 - reported as one clear error below
        shutil.rmtree(folder, ignore_errors=True)
        reason = _reason(exc)
        raise IndexBuildError(
            f"could not export the ONNX query encoder ({reason}), so the index was not built. "
            "Free disk space and build again, or set VERBATIM_ONNX=0 to build an index without "
            "it (answering then loads torch, which starts slower)."
        ) from None
    return True


def _reason(exc: BaseException) -> str:
    """An exception as a short reason: the OS's words for an OSError (also when wrapped)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _build_vocabulary(texts: list[str], folder: Path) -> bool:
    """Save the corpus words with their word vectors; False (and a warning) if it cannot be."""
    model = word_model()
    if model is None:
        return False
    from .expansion_build import build_vocabulary

    build_vocabulary(texts, model).save(folder)
    return True


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _short_reason(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


def _rebuild_command(corpus_dir: Path | None, index_dir: Path) -> str:
    if corpus_dir is None:
        return f"assistant build --index {index_dir}"
    return f"assistant build --corpus {corpus_dir} --index {index_dir}"


def _embed(
    embedder: Embedder,
    texts: list[str],
    sentence_texts: list[str],
    *,
    progress: bool,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Passage and sentence vectors, encoding each distinct text once.

    Real corpora repeat themselves (one-sentence passages are their own sentence, boilerplate
    recurs), so the distinct texts are encoded once, shortest first: neighbours in a batch then
    have similar lengths and little padding. Returns (passages, sentences, texts encoded).
    """
    distinct = sorted(set(texts) | set(sentence_texts), key=lambda t: (len(t), t))
    dim = embedder.dimension
    parts = []
    from tqdm import tqdm  # build time only

    with tqdm(total=len(distinct), desc="Embedding", unit="text", disable=not progress) as bar:
        for i in range(0, len(distinct), chunk):
            batch = distinct[i : i + chunk]
            parts.append(embedder.encode(batch))
            bar.update(len(batch))
    matrix = np.vstack(parts) if parts else np.zeros((0, dim), np.float32)
    row = {text: i for i, text in enumerate(distinct)}

    def rows(of: list[str]) -> np.ndarray:
        if not of:
            return np.zeros((0, dim), np.float32)
        return np.ascontiguousarray(matrix[[row[t] for t in of]])

    return rows(texts), rows(sentence_texts), len(distinct)


@dataclass(frozen=True)
class Prepared:
    """A corpus chunked and embedded, ready to be written to a store (store.py or Qdrant)."""

    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    embedded_texts: int  # distinct texts the model encoded
    corpus_hash: str
    started: float  # time.perf_counter() when preparation began

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.passages]

    def counts(self) -> dict[str, int]:
        return {
            "documents": len(self.documents),
            "passages": len(self.passages),
            "sentences": len(self.sentence_vectors),
            "embedded_texts": self.embedded_texts,
        }

    def document_list(self) -> list[dict[str, Any]]:
        return [
            {"source": d.source, "sha256": d.sha256, "title": d.title, "chars": len(d.text)}
            for d in self.documents
        ]


def prepare(
    corpus_dir: Path, settings: Settings, embedder: Embedder, *, progress: bool = True
) -> Prepared:
    """Load, chunk and embed every document under `corpus_dir`."""
    started = time.perf_counter()
    documents = load_corpus(corpus_dir)
    all_passages = [p for doc in documents for p in passages(doc, settings.max_passage_chars)]
    if not all_passages:  # chunking gives every document with text a passage; kept as a guard
        raise CorpusError(f"{corpus_dir}: no passage to index in the corpus. Add some text.")
    texts = [passage_embedding_text(p, settings) for p in all_passages]
    by_source = {d.source: d.text for d in documents}
    sentence_texts = [by_source[p.source][s:e] for p in all_passages for s, e in p.sentences]
    passage_matrix, sentence_matrix, embedded_texts = _embed(
        embedder, texts, sentence_texts, progress=progress
    )
    return Prepared(
        documents=tuple(documents),
        passages=tuple(all_passages),
        passage_vectors=passage_matrix,
        sentence_vectors=sentence_matrix,
        embedded_texts=embedded_texts,
        corpus_hash=corpus_hash(corpus_dir),
        started=started,
    )


def write_query_side(
    embedder: Embedder, texts: list[str], folder: Path, settings: Settings
) -> dict[str, Any]:
    """The query encoder and the expansion vocabulary, into `folder`; their manifest fields."""
    has_encoder = _export_encoder(embedder, folder / ENCODER_DIR, settings)
    has_vocabulary = _build_vocabulary(texts, folder / VOCABULARY_DIR)
    return {
        "encoder": ENCODER_DIR if has_encoder else None,
        "vocabulary": VOCABULARY_DIR if has_vocabulary else None,
    }


def write_manifest(folder: Path, manifest: Manifest) -> Manifest:
    """Add the checksums of every file in `folder` to `manifest` and write it there."""
    manifest = replace(
        manifest,
        files={p.relative_to(folder).as_posix(): file_sha256(p) for p in _files(folder)},
    )
    (folder / MANIFEST).write_text(
        json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    progress: bool = True,
    plan: IndexPlan | None = None,
) -> Manifest:
    """Chunk, embed and index every document under `corpus_dir`; write to `index_dir` atomically.
    `plan` chooses the FAISS index type (default: by size, see dense.IndexPlan).

    Returns the manifest written.
    """
    refuse_a_file(Path(index_dir))
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    built = prepare(corpus_dir, settings, embedder, progress=progress)
    all_passages = built.passages

    with _as_build_error(index_dir), _build_folder(index_dir) as tmp:
        with (tmp / PASSAGES).open("w", encoding="utf-8") as fh:
            for p in all_passages:
                fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
        dense = DenseIndex.build(built.passage_vectors, plan)
        _save_dense(dense, tmp / DENSE)
        np.save(tmp / SENTENCES, built.sentence_vectors, allow_pickle=False)
        passage_texts = built.texts
        LexicalIndex.build(passage_texts).save(tmp / BM25_DIR)
        query_side = write_query_side(embedder, passage_texts, tmp, settings)
        manifest = write_manifest(
            tmp,
            Manifest(
                format_version=FORMAT_VERSION,
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                settings=settings.build_fields(),
                model=embedder.model_id,
                dimension=embedder.dimension,
                faiss_index=dense.kind,
                **query_side,
                counts=built.counts(),
                corpus_hash=built.corpus_hash,
                documents=tuple(built.document_list()),
                build_seconds=round(time.perf_counter() - built.started, 3),
            ),
        )
        os.chmod(tmp, 0o755)
        _swap_in(tmp, index_dir)
    log.info("built %s: %d passages in %.1fs", index_dir, len(all_passages), manifest.build_seconds)
    return manifest


@contextmanager
def _as_build_error(index_dir: Path) -> Iterator[None]:
    """An OSError while writing the index (disk full, read-only) as one clear `IndexBuildError`."""
    try:
        yield
    except OSError as exc:
        raise IndexBuildError(
            f"cannot write the index to {shown(index_dir)} ({_reason(exc)}). Free disk space or "
            "make the folder writable, or choose another folder with --index; any index "
            "already there is unchanged."
        ) from None


def _save_dense(dense: DenseIndex, path: Path) -> None:
    """FAISS reports a failed write (a full disk) as RuntimeError: make it the OSError it is."""
    try:
        dense.save(path)
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines() or ["write failed"]
        raise OSError(f"FAISS could not write {path.name}: {lines[-1][:200]}") from None


# ---- temporary build folders: created under a lock, swapped in, and cleaned up after a crash --


@contextmanager
def _locked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """An advisory lock (flock) on a folder, held inside the block: True if taken. It goes away
    with the process, however it ends, so a killed build leaves no lock behind."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _leftovers(index_dir: Path) -> list[tuple[str, Path]]:
    """("building" | "old", folder) for every temporary folder of builds of `index_dir`."""
    pattern = re.compile(rf"^\.{re.escape(index_dir.name)}\.(building|old)-[A-Za-z0-9_-]+$")
    found = []
    for entry in sorted(index_dir.parent.iterdir()):
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            found.append((match.group(1), entry))
    return found


def _remove_stale(index_dir: Path) -> list[Path]:
    """Delete what builds of `index_dir` that died (killed, power cut) left behind. Called with
    the parent folder locked, so no build is between creating and locking its folder, and no
    swap is under way: a `.building-` folder whose lock is free, and any `.old-` folder, is
    stale. A running build holds the lock on its folder, which is left alone."""
    removed = []
    for kind, entry in _leftovers(index_dir):
        if kind == "building":
            with _locked(entry, wait=False) as free:
                if not free:
                    continue  # its build is still running
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    if removed:
        log.warning(
            "removed %d folder(s) left by an interrupted build of %s: %s",
            len(removed),
            index_dir,
            ", ".join(p.name for p in removed),
        )
    return removed


@contextmanager
def _build_folder(index_dir: Path) -> Iterator[Path]:
    """A fresh `.<name>.building-<token>` folder beside `index_dir`, locked while the build runs
    and removed afterwards unless it was swapped in. Stale folders are removed first."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    tmp = index_dir.with_name(f".{index_dir.name}.building-{token}")
    with _locked(index_dir.parent):
        _remove_stale(index_dir)
        tmp.mkdir()
        fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)  # before the parent is unlocked: never unguarded
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when swapped in
        os.close(fd)


def _swap_in(tmp: Path, index_dir: Path) -> None:
    """Replace `index_dir` by `tmp` so a reader sees the old or the new index, never a mix.

    With the parent folder locked, so concurrent builds swap one at a time: the old index is
    renamed to `.<name>.old-<token>`, `tmp` to `index_dir`, and the old one deleted."""
    token = tmp.name.split(".building-", 1)[1]
    old = index_dir.with_name(f".{index_dir.name}.old-{token}")
    with _locked(index_dir.parent):
        if not index_dir.exists():
            tmp.rename(index_dir)
            return
        index_dir.rename(old)
        try:
            tmp.rename(index_dir)
        except BaseException:
            old.rename(index_dir)
            raise
        shutil.rmtree(old, ignore_errors=True)


def refuse_a_file(index_dir: Path) -> None:
    """`IndexProtectedError` when `index_dir` is a file: a build would replace it with a
    folder (exit 4; never rebuilt automatically)."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexProtectedError(
            f"{shown(index_dir)} is a file, not an index folder; it is never replaced. "
            "Name a folder with --index."
        )


def check_writable(index_dir: Path) -> None:
    """`IndexBuildError` now, before minutes of work, when `index_dir` cannot be written;
    `IndexProtectedError` when it is a file."""
    index_dir = Path(index_dir)
    refuse_a_file(index_dir)
    with _as_build_error(index_dir):
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        probe = index_dir.with_name(f".{index_dir.name}.building-probe-{secrets.token_hex(4)}")
        with _locked(index_dir.parent):  # named like a build folder: a crash here is cleaned up
            probe.mkdir()
            probe.rmdir()


def remove_stale_build_folders(index_dir: Path) -> list[Path]:
    """Delete the temporary folders left by interrupted builds of `index_dir` (every build does
    this first); returns what was removed."""
    index_dir = Path(index_dir)
    if not index_dir.parent.is_dir():
        return []
    with _locked(index_dir.parent):
        return _remove_stale(index_dir)


def save_calibration(index_dir: Path, calibration: Mapping[str, Any]) -> None:
    """Record abstention thresholds chosen for this index (`assistant eval --calibrate`) in its
    manifest, written atomically (a temporary file, then renamed over the old one), so a
    reader sees the old manifest or the new one, never half of one. A rebuilt index starts
    without them: thresholds belong to the passages they were chosen on."""
    manifest = replace(read_manifest(index_dir), calibration=dict(calibration))
    path = Path(index_dir) / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(index_dir: Path, corpus_dir: Path | None = None) -> Manifest:
    """The index folder's manifest, checked: IndexMissingError, IndexCorruptError (unreadable,
    or a field of the wrong shape) or IndexStaleError (another format version)."""
    index_dir = Path(index_dir)
    fix = _rebuild_command(corpus_dir, index_dir)
    path = index_dir / MANIFEST
    try:
        is_folder = index_dir.is_dir()
        refuse_a_file(index_dir)
        empty = not is_folder or not any(index_dir.iterdir())
    except OSError as exc:  # a name over the system's limit, a folder that cannot be listed
        name = str(index_dir) if len(str(index_dir)) <= 200 else str(index_dir)[:200] + "…"
        raise IndexMissingError(
            f"{name}: cannot be read ({exc.strerror or type(exc).__name__})."
        ) from None
    if empty:
        raise IndexMissingError(f"{index_dir}: no index here. Build one with `{fix}`.")
    if not path.is_file():
        raise IndexCorruptError(
            f"{path} is missing, so the index cannot be verified. Rebuild it with `{fix}`."
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a manifest object")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: brackets
        raise IndexCorruptError(
            f"{path} is corrupt ({type(exc).__name__}: {_short_reason(exc)}). Rebuild the index with `{fix}`."
        ) from None
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(
            f"{index_dir} has index format {raw.get('format_version')!r}; this version reads "
            f"format {FORMAT_VERSION}. Rebuild it with `{fix}`."
        )
    try:
        return Manifest.from_json(raw)
    except ValueError as exc:
        raise IndexCorruptError(
            f"{path} is corrupt ({exc}). Rebuild the index with `{fix}`."
        ) from None


def verify_checksums(index_dir: Path, manifest: Manifest, corpus_dir: Path | None = None) -> None:
    """Raise `IndexCorruptError` unless every file matches the manifest's checksum."""
    fix = _rebuild_command(corpus_dir, index_dir)
    expected = manifest.files
    present = {p.relative_to(index_dir).as_posix() for p in _files(index_dir)}
    for name, checksum in sorted(expected.items()):
        path = index_dir / name
        if name not in present:
            problem = "is missing"
        elif file_sha256(path) != checksum:
            problem = "does not match its checksum (truncated, edited or corrupted)"
        else:
            continue
        raise IndexCorruptError(f"{path} {problem}. Rebuild the index with `{fix}`.")


def staleness(
    manifest: Manifest, corpus_dir: Path | None, settings: Settings, model_id: str
) -> str | None:
    """Why the index does not fit this corpus, settings and model, or None if it does
    (`corpus_dir` None: the corpus is not checked)."""
    if manifest.model != model_id:
        return f"it was built with model {manifest.model!r}, not {model_id!r}"
    if manifest.settings != settings.build_fields():
        return (
            f"it was built with settings {dict(manifest.settings)}, not {settings.build_fields()}"
        )
    if corpus_dir is not None and manifest.corpus_hash != corpus_hash(corpus_dir):
        return f"the corpus in {corpus_dir} changed since it was built"
    return None


def _sentences_inside(passage: Passage) -> bool:
    """Whether a passage's sentence spans are whole numbers, in order, inside the passage."""
    previous = passage.start
    for span in passage.sentences:
        if len(span) != 2 or not all(type(x) is int for x in span):
            return False
        start, end = span
        if not previous <= start < end <= passage.end:
            return False
        previous = start
    return type(passage.start) is int and type(passage.end) is int and bool(passage.sentences)


def load_index(index_dir: Path, corpus_dir: Path, settings: Settings, model_id: str) -> Index:
    """Load an index, verifying checksums and that it matches the corpus, settings and model.

    Raises IndexMissingError, IndexCorruptError or IndexStaleError (never returns a stale index).
    """
    index_dir, corpus_dir = Path(index_dir), Path(corpus_dir)
    manifest = read_manifest(index_dir, corpus_dir)
    verify_checksums(index_dir, manifest, corpus_dir)
    reason = staleness(manifest, corpus_dir, settings, model_id)
    if reason:
        raise IndexStaleError(
            f"the index in {index_dir} is stale: {reason}. "
            f"Rebuild it with `{_rebuild_command(corpus_dir, index_dir)}`."
        )
    documents = {d.source: d for d in load_corpus(corpus_dir)}
    try:
        loaded = []
        with (index_dir / PASSAGES).open(encoding="utf-8") as fh:
            for line in fh:
                raw = json.loads(line)
                raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
                raw["flags"] = tuple(raw["flags"])
                loaded.append(Passage(**raw))
        dense = DenseIndex.load(index_dir / DENSE)
        sentence_vectors = np.load(index_dir / SENTENCES, allow_pickle=False)
        lexical = LexicalIndex.load(index_dir / BM25_DIR)
        vocabulary = (
            Vocabulary.load(index_dir / VOCABULARY_DIR)
            if manifest.vocabulary == VOCABULARY_DIR
            else None
        )
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise IndexCorruptError(
            f"{index_dir} cannot be read ({type(exc).__name__}: {exc}). "
            f"Rebuild it with `{_rebuild_command(corpus_dir, index_dir)}`."
        ) from None
    for p in loaded:
        if not _sentences_inside(p):  # highlights must lie in their passage, in order
            raise IndexCorruptError(
                f"{index_dir / PASSAGES}: passage {p.id} has sentence offsets outside it. "
                f"Rebuild the index with `{_rebuild_command(corpus_dir, index_dir)}`."
            )
        doc = documents.get(p.source)
        if doc is None or doc.text[p.start : p.end] != p.text:
            raise IndexStaleError(
                f"passage {p.id} no longer matches {p.source}. "
                f"Rebuild the index with `{_rebuild_command(corpus_dir, index_dir)}`."
            )
    counts = manifest.counts
    if (
        dense.size != len(loaded)
        or counts.get("passages") != len(loaded)
        or len(sentence_vectors) != counts.get("sentences")
        or dense.dimension != manifest.dimension
    ):
        raise IndexCorruptError(
            f"{index_dir}: the files disagree on the number of passages or the dimension. "
            f"Rebuild it with `{_rebuild_command(corpus_dir, index_dir)}`."
        )
    offsets = np.cumsum([0] + [len(p.sentences) for p in loaded])
    # Checksummed like every file above, so only an encoder the manifest lists is used.
    encoder_dir = index_dir / ENCODER_DIR if manifest.encoder == ENCODER_DIR else None
    return Index(
        manifest=manifest,
        documents=documents,
        passages=tuple(loaded),
        dense=dense,
        lexical=lexical,
        sentence_vectors=sentence_vectors,
        sentence_offsets=offsets,
        encoder_dir=encoder_dir,
        vocabulary=vocabulary,
    )
