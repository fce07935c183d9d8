"""The index in a Qdrant collection, for app replicas that share one search cluster.

`assistant build --store qdrant --qdrant LOCATION` writes every passage as a point of a new
collection and then points an alias at it (an atomic switch), so a rebuild never touches the
collection being served and an interrupted build leaves it as it was. LOCATION is a Qdrant URL
(`http://host:6333`, a node or a cluster), a local folder (qdrant-client's embedded local mode,
one process at a time) or `:memory:` (tests).

A point (id = passage number) holds:

- `passage`: the passage vector (dot product of unit vectors, i.e. cosine, as FAISS does);
- `sentences`: the sentence vectors as a multivector (retrieved for highlighting, not indexed);
- `bm25`: a sparse vector of the passage's BM25 term scores, exactly bm25s' (the IDF is folded
  in at build time), so a sparse dot product with the question's stem counts is bm25s' score;
- the passage itself as payload (id, source, offsets, text, section, paragraph, sentences,
  flags).

The collection's metadata holds the build's fingerprint (model, settings, corpus hash, counts,
checksums). The index folder (`--index`) keeps what answering needs on each replica besides
Qdrant: the manifest, the ONNX query encoder, the expansion vocabulary, the BM25 stem table
(`terms.json`) and a checksum of every passage (`digests.npy`). Every passage read from Qdrant is
checked against its checksum, and against the source document when the corpus is on this
machine; a collection built from another corpus, model or settings is refused as stale.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .candidates import Candidates
from .chunking import Passage
from .corpus import Document, load_corpus
from .embedding import Embedder
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError, SettingsError
from .expansion import Vocabulary
from .lexical import LexicalIndex, tokenize
from .manifest import Manifest
from .settings import Settings
from .store import (
    FORMAT_VERSION,
    MANIFEST,
    VOCABULARY_DIR,
    Prepared,
    _swap_in,
    prepare,
    read_manifest,
    staleness,
    verify_checksums,
    write_manifest,
    write_query_side,
)

log = logging.getLogger(__name__)

STORE = "qdrant"
DEFAULT_ALIAS = "verbatim"
TERMS = "terms.json"
DIGESTS = "digests.npy"
PASSAGE_VECTOR, SENTENCE_VECTORS, BM25_VECTOR = "passage", "sentences", "bm25"
METADATA_KEY = "verbatim"
#: Points per upload request.
BATCH = 256
#: Candidate records (passage, vectors) kept between the search and the answer of a question.
CACHE_ROWS = 4096
INSTALL_HINT = "pip install 'verbatim-assistant[qdrant]'"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _models() -> Any:
    try:
        from qdrant_client import models
    except ImportError:
        raise SettingsError(f"the Qdrant store needs qdrant-client: {INSTALL_HINT}") from None
    return models


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _close_all() -> None:
    for location in list(_clients):
        close_client(location)


atexit.register(_close_all)  # before interpreter shutdown, when closing still works


def client_for(location: str, *, create: bool = True, api_key: str | None = None) -> Any:
    """One client per location and process: a URL (http:// or https://, sent `api_key` if
    given), `:memory:` or a local folder (qdrant-client's local mode, which lets one process at
    a time open a folder; with `create=False` the folder must hold Qdrant data already)."""
    _models()
    from qdrant_client import QdrantClient

    with _clients_lock:
        client = _clients.get(location)
        if client is None:
            local = not _is_url(location) and location != ":memory:"
            if local and not create and not (Path(location) / "meta.json").is_file():
                raise IndexMissingError(
                    f"{location} holds no Qdrant data: give --qdrant (or VERBATIM_QDRANT) the URL "
                    "or folder the index was built into, or build it with `assistant build "
                    f"--store qdrant --qdrant {location}`."
                )
            if _is_url(location):
                client = QdrantClient(url=location, api_key=api_key)
            elif location == ":memory:":
                client = QdrantClient(location=":memory:")
            else:
                try:
                    client = QdrantClient(path=location)
                except (RuntimeError, OSError) as exc:
                    raise IndexMissingError(
                        f"cannot open the Qdrant folder {location} ({exc}). Only one process "
                        "at a time can open a local Qdrant folder; use a Qdrant server URL to "
                        "share one index between processes."
                    ) from None
            _clients[location] = client
        return client


def close_client(location: str) -> None:
    """Close and forget the client of `location` (a local folder is then free for others)."""
    with _clients_lock:
        client = _clients.pop(location, None)
    if client is not None:
        client.close()


def passage_digest(payload: Mapping[str, Any]) -> bytes:
    """16-byte BLAKE2b of a passage's canonical JSON (every field: text, offsets, spans...)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()


def _passage_of(payload: Mapping[str, Any]) -> Passage:
    raw = dict(payload)
    raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
    raw["flags"] = tuple(raw["flags"])
    return Passage(**raw)


def _fingerprint(manifest: Manifest) -> dict[str, Any]:
    """What must agree between the index folder and the collection."""
    return {
        "format_version": manifest.format_version,
        "build_id": manifest.build_id,
        "model": manifest.model,
        "settings": dict(manifest.settings),
        "dimension": manifest.dimension,
        "counts": dict(manifest.counts),
        "corpus_hash": manifest.corpus_hash,
        "terms": manifest.files.get(TERMS),
        "digests": manifest.files.get(DIGESTS),
    }


def _build_command(corpus_dir: Path | None, index_dir: Path, location: str) -> str:
    corpus = f" --corpus {corpus_dir}" if corpus_dir is not None else ""
    return f"assistant build --store qdrant --qdrant {location}{corpus} --index {index_dir}"


# Build ------------------------------------------------------------------------------------------


def _bm25_rows(lexical: LexicalIndex) -> tuple[list[str], np.ndarray, Any]:
    """The stems (by term id), each stem's document frequency, and a passage x term CSR matrix
    of bm25s' per-document term scores (IDF included)."""
    from scipy.sparse import csc_matrix

    num_docs = lexical.num_docs
    indptr = np.asarray(lexical.indptr)
    # bm25s adds an empty-string token past the indexed ones; no query ever holds it.
    stems = [""] * (len(indptr) - 1)
    for stem, i in lexical.vocab.items():
        if i < len(stems):
            stems[i] = stem
    matrix = csc_matrix(
        (np.asarray(lexical.data), np.asarray(lexical.indices), indptr),
        shape=(num_docs, len(stems)),
    ).tocsr()
    return stems, np.diff(indptr), matrix


def build_qdrant(
    corpus_dir: Path,
    index_dir: Path,
    settings: Settings,
    embedder: Embedder,
    location: str,
    *,
    alias: str = DEFAULT_ALIAS,
    progress: bool = True,
    keep: int = 1,
    shards: int | None = None,
    replicas: int | None = None,
    api_key: str | None = None,
) -> Manifest:
    """Chunk and embed the corpus, write a new collection, switch `alias` to it, and write the
    index folder. The previous `keep` collections behind the alias stay (replicas that have not
    restarted still read them); older ones, and leftovers of interrupted builds, are deleted.
    `shards` and `replicas` set a cluster collection's shard number and replication factor
    (None: the server's defaults; local mode ignores them).

    Returns the manifest written to `index_dir`.
    """
    _models()  # a missing qdrant-client fails before minutes of embedding
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    built = prepare(corpus_dir, settings, embedder, progress=progress)
    lexical = LexicalIndex.build(built.texts)
    # Sorts by build time (microseconds, UTC), unique per process.
    build_id = f"{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}-{os.getpid()}"
    collection = f"{alias}-{build_id}"

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.building-", dir=index_dir.parent))
    client = client_for(location, api_key=api_key)
    try:
        terms = _write_terms(tmp, lexical, len(built.passages))
        manifest = _write_local_side(
            tmp,
            built,
            embedder,
            settings,
            build_id=build_id,
            qdrant={"location": location, "alias": alias, "collection": collection},
        )
        fingerprint = _fingerprint(manifest)
        _create_collection(client, collection, embedder.dimension, fingerprint, shards, replicas)
        log.info("writing collection %s at %s", collection, location)
        _upload(client, collection, built, terms, progress)
        _mark_complete(client, collection, fingerprint, len(built.passages))
        os.chmod(tmp, 0o755)
        previous = _alias_target(client, alias)
        _switch_alias(client, alias, collection)  # the atomic switch: replicas see old or new
        _swap_in(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if _alias_target(client, alias) != collection:
            try:
                client.delete_collection(collection)
            except Exception:  # noqa: BLE001 - the next build deletes the leftover too
                log.warning("could not delete the unfinished collection %s", collection)
        raise
    _delete_old(client, alias, collection, previous, keep)
    manifest = replace(manifest, build_seconds=round(time.perf_counter() - built.started, 3))
    log.info(
        "built %s (collection %s): %d passages in %.1fs",
        index_dir,
        collection,
        len(built.passages),
        manifest.build_seconds,
    )
    return manifest


def _write_terms(folder: Path, lexical: LexicalIndex, num_docs: int) -> Any:
    """The BM25 stem table (stems and document frequencies) into `folder`; returns the passage
    x term matrix of bm25s' scores, each row a passage's sparse vector."""
    stems, df, bm25 = _bm25_rows(lexical)
    (folder / TERMS).write_text(
        json.dumps({"num_docs": num_docs, "stems": stems, "df": df.tolist()}) + "\n",
        encoding="utf-8",
    )
    return bm25


def _write_local_side(
    folder: Path,
    built: Prepared,
    embedder: Embedder,
    settings: Settings,
    *,
    build_id: str,
    qdrant: dict[str, str],
) -> Manifest:
    """The index folder's files besides the stem table: every passage's digest, the query
    encoder, the vocabulary, and the manifest (written last, with their checksums)."""
    payloads = [asdict(p) for p in built.passages]
    digests = np.frombuffer(b"".join(passage_digest(p) for p in payloads), np.uint8)
    np.save(folder / DIGESTS, digests.reshape(len(payloads), 16), allow_pickle=False)
    query_side = write_query_side(embedder, built.texts, folder, settings)
    return write_manifest(
        folder,
        Manifest(
            format_version=FORMAT_VERSION,
            store=STORE,
            build_id=build_id,
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            settings=settings.build_fields(),
            model=embedder.model_id,
            dimension=embedder.dimension,
            qdrant=qdrant,
            **query_side,
            counts=built.counts(),
            corpus_hash=built.corpus_hash,
            documents=tuple(built.document_list()),
        ),
    )


def _create_collection(
    client: Any,
    collection: str,
    dimension: int,
    fingerprint: dict[str, Any],
    shards: int | None,
    replicas: int | None,
) -> None:
    """An empty collection marked unfinished: passage vector, sentence multivector, BM25."""
    models = _models()
    client.create_collection(
        collection,
        vectors_config={
            PASSAGE_VECTOR: models.VectorParams(size=dimension, distance=models.Distance.DOT),
            SENTENCE_VECTORS: models.VectorParams(
                size=dimension,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(
                    comparator=models.MultiVectorComparator.MAX_SIM
                ),
                hnsw_config=models.HnswConfigDiff(m=0),  # read back, never searched
            ),
        },
        sparse_vectors_config={BM25_VECTOR: models.SparseVectorParams()},
        shard_number=shards,
        replication_factor=replicas,
        metadata={METADATA_KEY: {"fingerprint": fingerprint, "complete": False}},
    )


def _upload(client: Any, collection: str, built: Prepared, bm25: Any, progress: bool) -> None:
    """Every passage as a point (id = its row): its vectors, BM25 terms and the passage."""
    # Passage i's sentences are rows offsets[i]:offsets[i + 1] of the sentence vectors.
    from tqdm import tqdm  # build time only

    offsets = np.cumsum([0] + [len(p.sentences) for p in built.passages])
    with tqdm(
        total=len(built.passages), desc="Uploading", unit="passage", disable=not progress
    ) as bar:
        for start in range(0, len(built.passages), BATCH):
            rows = range(start, min(start + BATCH, len(built.passages)))
            points = [_point(row, built, bm25, offsets) for row in rows]
            client.upsert(collection, points=points, wait=True)
            bar.update(len(points))


def _point(row: int, built: Prepared, bm25: Any, offsets: np.ndarray) -> Any:
    models = _models()
    terms = bm25.indices[bm25.indptr[row] : bm25.indptr[row + 1]]
    values = bm25.data[bm25.indptr[row] : bm25.indptr[row + 1]]
    sentences = built.sentence_vectors[offsets[row] : offsets[row + 1]]
    return models.PointStruct(
        id=row,
        vector={
            PASSAGE_VECTOR: built.passage_vectors[row].tolist(),
            SENTENCE_VECTORS: sentences.tolist(),
            BM25_VECTOR: models.SparseVector(indices=terms.tolist(), values=values.tolist()),
        },
        payload=asdict(built.passages[row]),
    )


def _mark_complete(client: Any, collection: str, fingerprint: dict[str, Any], points: int) -> None:
    """Mark the collection complete once it holds every point (loading refuses it before)."""
    written = client.count(collection, exact=True).count
    if written != points:
        raise IndexCorruptError(
            f"Qdrant holds {written} of {points} points in {collection}; "
            "the build stopped. Run it again."
        )
    client.update_collection(
        collection, metadata={METADATA_KEY: {"fingerprint": fingerprint, "complete": True}}
    )


def _alias_target(client: Any, alias: str) -> str | None:
    for description in client.get_aliases().aliases:
        if description.alias_name == alias:
            return str(description.collection_name)
    return None


def _switch_alias(client: Any, alias: str, collection: str) -> None:
    models = _models()
    operations = []
    if _alias_target(client, alias) is not None:
        operations.append(
            models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
        )
    operations.append(
        models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
        )
    )
    client.update_collection_aliases(change_aliases_operations=operations)  # one request


def _delete_old(
    client: Any, alias: str, current: str, previous: str | None, keep: int
) -> list[str]:
    """Delete this alias's collections except the current one and the `keep` newest before it
    (names sort by build time); unfinished ones (interrupted builds) go whatever `keep`."""
    ours = sorted(
        c.name
        for c in client.get_collections().collections
        if c.name.startswith(f"{alias}-") and c.name != current
    )
    kept = set(ours[-keep:]) if keep > 0 else set()
    if previous is not None and keep > 0:
        kept.add(previous)
    deleted = []
    for name in ours:
        info = client.get_collection(name)
        complete = ((info.config.metadata or {}).get(METADATA_KEY) or {}).get("complete")
        if name in kept and complete:
            continue
        client.delete_collection(name)
        deleted.append(name)
    if deleted:
        log.info("deleted old collections: %s", ", ".join(deleted))
    return deleted


# Load -------------------------------------------------------------------------------------------


def is_qdrant_index(index_dir: Path) -> bool:
    """Whether the index folder is the local side of a Qdrant index (cheap, no verification)."""
    try:
        manifest = json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("store") == STORE


def load_qdrant(
    index_dir: Path,
    corpus_dir: Path | None,
    settings: Settings,
    model_id: str,
    location: str | None = None,
    api_key: str | None = None,
) -> QdrantIndex:
    """Open the collection behind the index folder's alias, after checking the folder's
    checksums and that folder, collection, corpus (when `corpus_dir` exists), settings and model
    all agree. `location` overrides the Qdrant location recorded at build time."""
    index_dir = Path(index_dir)
    if corpus_dir is not None and not Path(corpus_dir).is_dir():
        corpus_dir = None  # the source is not on this machine: checksums only
    manifest, location, fix = _verified_folder(index_dir, corpus_dir, settings, model_id, location)
    client = client_for(location, create=False, api_key=api_key)
    collection = _choose_collection(client, manifest, location, fix)
    try:
        terms = json.loads((index_dir / TERMS).read_text(encoding="utf-8"))
        # Mapped, not read: 16 bytes a passage is 160 MB at ten million passages.
        digests = np.load(index_dir / DIGESTS, allow_pickle=False, mmap_mode="r")
        vocabulary = (
            Vocabulary.load(index_dir / VOCABULARY_DIR)
            if manifest.vocabulary == VOCABULARY_DIR
            else None
        )
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise IndexCorruptError(
            f"{index_dir} cannot be read ({type(exc).__name__}: {exc}). Rebuild it with `{fix}`."
        ) from None
    documents = (
        {d.source: d for d in load_corpus(Path(corpus_dir))} if corpus_dir is not None else {}
    )
    return QdrantIndex(
        manifest=manifest,
        documents=documents,
        vocabulary=vocabulary,
        encoder_dir=index_dir / manifest.encoder if manifest.encoder else None,
        client=client,
        collection=collection,
        location=location,
        term_ids={stem: i for i, stem in enumerate(terms["stems"])},
        df=np.asarray(terms["df"], dtype=np.int64),
        stems=tuple(terms["stems"]),
        digests=digests,
        titles=manifest.titles,
    )


def _verified_folder(
    index_dir: Path,
    corpus_dir: Path | None,
    settings: Settings,
    model_id: str,
    location: str | None,
) -> tuple[Manifest, str, str]:
    """The index folder's manifest once its checksums pass and it fits the corpus, settings
    and model; the Qdrant location to use; the build command that fixes what is wrong."""
    try:
        manifest = read_manifest(index_dir, corpus_dir)
    except IndexMissingError:
        raise IndexMissingError(
            f"{index_dir}: no index here. Build one with "
            f"`{_build_command(corpus_dir, index_dir, location or 'URL')}`."
        ) from None
    location = location or (manifest.qdrant or {}).get("location")
    fix = _build_command(corpus_dir, index_dir, location or "URL")
    if manifest.store != STORE or not location:
        raise IndexCorruptError(
            f"{index_dir} is not a Qdrant index folder. Rebuild it with `{fix}`."
        )
    verify_checksums(index_dir, manifest, corpus_dir)
    reason = staleness(manifest, corpus_dir, settings, model_id)
    if reason:
        raise IndexStaleError(
            f"the index in {index_dir} is stale: {reason}. Rebuild it with `{fix}`."
        )
    return manifest, location, fix


def _choose_collection(client: Any, manifest: Manifest, location: str, fix: str) -> str:
    """The alias's collection if it matches the index folder; else the folder's own collection
    if it is still there (a replica not yet rolled out keeps serving what it was built with)."""
    recorded = manifest.qdrant or {}
    expected = _fingerprint(manifest)
    alias = recorded["alias"]
    target = _alias_target(client, alias)
    problems = []
    for name in dict.fromkeys(x for x in (target, recorded.get("collection")) if x):
        if not client.collection_exists(name):
            problems.append(f"collection {name} does not exist")
            continue
        info = client.get_collection(name)
        meta = (info.config.metadata or {}).get(METADATA_KEY) or {}
        if not meta.get("complete"):
            problems.append(f"collection {name} is unfinished")
        elif meta.get("fingerprint") != expected:
            problems.append(f"collection {name} was built from another corpus, model or settings")
        elif info.points_count != manifest.counts["passages"]:
            problems.append(f"collection {name} holds {info.points_count} points")
        else:
            if name != target:
                log.warning(
                    "alias %s points at %s, which does not match the index folder; serving %s, "
                    "the collection this folder was built with",
                    alias,
                    target,
                    name,
                )
            return name
    if target is None:
        problems.insert(0, f"no alias {alias!r} at {location}")
    raise IndexStaleError(
        f"the Qdrant index at {location} does not match {alias!r} "
        f"in the index folder ({'; '.join(problems)}). Rebuild it with `{fix}`."
    )


@dataclass(frozen=True)
class QdrantIndex:
    """A verified Qdrant collection plus the index folder's local files (candidates.Store)."""

    manifest: Manifest
    documents: dict[str, Document]
    vocabulary: Vocabulary | None
    encoder_dir: Path | None
    client: Any
    collection: str
    location: str
    term_ids: dict[str, int]
    df: np.ndarray
    stems: tuple[str, ...]
    digests: np.ndarray
    titles: dict[str, str]
    _cache: OrderedDict[int, tuple[Passage, np.ndarray, np.ndarray]] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    @property
    def size(self) -> int:
        return self.manifest.counts["passages"]

    def _query(self, question: str, expansion: Mapping[str, float] | None) -> Any:
        """The BM25 query as a sparse vector: stem counts (bm25s counts a repeated word
        twice), or the expansion's weights."""
        if expansion:
            weights = {
                self.term_ids[t]: float(w)
                for t, w in expansion.items()
                if t in self.term_ids and w > 0
            }
        else:
            counts = Counter(
                self.term_ids[t] for t in tokenize([question])[0] if t in self.term_ids
            )
            weights = {i: float(c) for i, c in counts.items()}
        if not weights:
            return None
        models = _models()
        ids = sorted(weights)
        return models.SparseVector(indices=ids, values=[weights[i] for i in ids])

    def candidates(
        self,
        query_vector: np.ndarray,
        question: str,
        n: int,
        expansion: Mapping[str, float] | None = None,
    ) -> Candidates:
        models = _models()
        vector = np.asarray(query_vector, dtype=np.float32)
        sparse = self._query(question, expansion)
        # A server searches HNSW above its full-scan threshold; 128 is FAISS's search depth too.
        # (Local mode is exact and warns about search parameters.)
        params = models.SearchParams(hnsw_ef=max(128, n)) if _is_url(self.location) else None
        requests = [
            models.QueryRequest(query=vector.tolist(), using=PASSAGE_VECTOR, limit=n, params=params)
        ]
        if sparse is not None:
            # Twice the depth, so ties at the cut are broken on the row as bm25s' order is.
            requests.append(models.QueryRequest(query=sparse, using=BM25_VECTOR, limit=2 * n))
        responses = self.client.query_batch_points(self.collection, requests=requests)
        dense = sorted(((int(p.id), float(p.score)) for p in responses[0].points), key=_best)
        bm25 = []
        if sparse is not None:
            scored = sorted(((int(p.id), float(p.score)) for p in responses[1].points), key=_best)
            bm25 = [(r, s) for r, s in scored if s > 0][:n]
        rows = sorted({r for r, _ in dense} | {r for r, _ in bm25})
        records = self._records(rows)
        cosine = dict(dense)
        for r in rows:
            if r not in cosine:
                cosine[r] = float(records[r][1] @ vector)
        scores = dict(bm25)
        missing = [r for r in rows if r not in scores]
        if sparse is not None and missing:
            found = self.client.query_points(
                self.collection,
                query=sparse,
                using=BM25_VECTOR,
                limit=len(missing),
                query_filter=models.Filter(must=[models.HasIdCondition(has_id=missing)]),
            )
            scores.update((int(p.id), float(p.score)) for p in found.points)
        return Candidates(
            rows=tuple(rows),
            dense=tuple(dense),
            bm25=tuple(bm25),
            cosine=cosine,
            bm25_scores={r: scores.get(r, 0.0) for r in rows},
        )

    def _records(self, rows: Sequence[int]) -> dict[int, tuple[Passage, np.ndarray, np.ndarray]]:
        """Passage, passage vector and sentence vectors of `rows`, verified, cached."""
        with self._lock:
            out = {r: self._cache[r] for r in rows if r in self._cache}
            for r in out:
                self._cache.move_to_end(r)
        missing = [r for r in rows if r not in out]
        if missing:
            records = self.client.retrieve(
                self.collection,
                ids=missing,
                with_payload=True,
                with_vectors=[PASSAGE_VECTOR, SENTENCE_VECTORS],
            )
            for record in records:
                row = int(record.id)
                payload = record.payload or {}
                if not 0 <= row < len(self.digests) or passage_digest(payload) != bytes(
                    self.digests[row]
                ):
                    raise IndexCorruptError(
                        f"passage {row} in Qdrant collection {self.collection} does not match "
                        "the checksum recorded at build time. Rebuild the index."
                    )
                vectors = record.vector or {}
                out[row] = (
                    _passage_of(payload),
                    np.asarray(vectors[PASSAGE_VECTOR], dtype=np.float32),
                    np.asarray(vectors[SENTENCE_VECTORS], dtype=np.float32).reshape(
                        -1, self.dimension
                    ),
                )
            if any(r not in out for r in missing):
                raise IndexCorruptError(
                    f"Qdrant collection {self.collection} lacks passages it was built with. "
                    "Rebuild the index."
                )
            with self._lock:
                for r in missing:
                    self._cache[r] = out[r]
                while len(self._cache) > CACHE_ROWS:
                    self._cache.popitem(last=False)
        return out

    def sentence_vectors_of(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        records = self._records(rows)
        parts = [records[r][2] for r in rows]
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        if not parts:
            return np.zeros((0, self.dimension), np.float32), lengths
        return np.vstack(parts), lengths

    def passage(self, row: int) -> Passage:
        return self._records([row])[row][0]

    def quote_text(self, passage: Passage) -> str:
        doc = self.documents.get(passage.source)
        if doc is None:
            if self.documents:
                raise IndexStaleError(
                    f"passage {passage.id} comes from {passage.source}, which is not in the "
                    "corpus. Rebuild the index."
                )
            return passage.text  # checked against its build-time checksum when read
        text = doc.text[passage.start : passage.end]
        if text != passage.text:
            raise IndexStaleError(
                f"passage {passage.id} no longer matches {passage.source}. Rebuild the index."
            )
        return text

    def title(self, source: str) -> str:
        doc = self.documents.get(source)
        return doc.title if doc is not None else self.titles.get(source, source)

    def common_stems(self, share: float) -> frozenset[str]:
        num_docs = self.size
        return frozenset(s for s, d in zip(self.stems, self.df.tolist()) if d > share * num_docs)


def _best(item: tuple[int, float]) -> tuple[float, int]:
    return (-item[1], item[0])
