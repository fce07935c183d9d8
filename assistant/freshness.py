"""Has a corpus file changed since the index was loaded? Checked before every answer.

A passage is `document.text[start:end]`, and the running assistant holds each document as it
was read at load. If the file is edited while an app runs, quoting from memory would show text
the file no longer holds, at offsets where it now holds something else. So before each answer
(`Assistant.ask_many`) every source file is stat'ed: its size, modification and change times
(`st_ctime` cannot be set back by a program, so an edit that keeps size and mtime still shows);
only when one of them moved is the file hashed again and compared with the SHA-256 it had when
it was read. A changed file stops every answer with `CorpusChangedError` (exit 4 from the CLI,
a clear message in the app) until the index is rebuilt and the app restarted.

Refusing, rather than reloading: the index holds embeddings and offsets of the old text, so a
reload is a rebuild (the model over the whole corpus, seconds to minutes), and an answer must
never come from a half-swapped index. `assistant build` plus a restart does it safely; a
running app says so. A stat per file per answer costs microseconds (measured in
docs/reliability.md); a touch without an edit costs one hash and is then remembered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from .corpus import Document, file_sha256
from .errors import IndexStaleError

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int]  # size, mtime_ns, ctime_ns


class CorpusChangedError(IndexStaleError):
    """A corpus file changed (or went) after the index was loaded: nothing is quoted."""


def _stamp(path: Path) -> Stamp:
    status = path.stat()
    return status.st_size, status.st_mtime_ns, status.st_ctime_ns


class SourceWatch:
    """The corpus files an index quotes, as they were when it was loaded.

    >>> watch = SourceWatch(corpus_dir, index.documents)   # doctest: +SKIP
    >>> watch.check()                                     # doctest: +SKIP
    """

    def __init__(self, corpus_dir: Path, documents: Mapping[str, Document]) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, tuple[Path, str]] = {}
        self._seen: dict[str, Stamp | None] = {}
        self._changed: str | None = None
        for source, document in documents.items():
            path = Path(corpus_dir) / source
            try:
                stamp = _stamp(path)
                same = file_sha256(path) == document.sha256
            except OSError:
                continue  # not on this machine (a Qdrant index served without its corpus)
            self._files[source] = (path, document.sha256)
            # Changed between reading and now: never matches, so `check` hashes and refuses.
            self._seen[source] = stamp if same else None

    def check(self, fix: str) -> None:
        """Raise `CorpusChangedError` (naming the file and `fix`, the command that rebuilds
        the index) if any source file differs from what was loaded."""
        with self._lock:
            if self._changed is None:
                self._changed = self._first_changed()
            changed = self._changed
        if changed is not None:
            raise CorpusChangedError(
                f"the corpus file {changed} changed after the index was loaded, so no passage "
                f"is quoted until the index is rebuilt (`{fix}`) and the app restarted."
            )

    def _first_changed(self) -> str | None:
        for source, (path, sha256) in self._files.items():
            try:
                stamp = _stamp(path)
                if stamp == self._seen[source]:
                    continue
                if file_sha256(path) == sha256:  # touched, not edited: remember the new stamp
                    self._seen[source] = stamp
                    continue
                problem = "was edited"
            except OSError as exc:
                problem = f"cannot be read ({exc.strerror or type(exc).__name__})"
            log.error(
                "corpus file %s %s after the index was loaded: answers refused", source, problem
            )
            return source
        return None
