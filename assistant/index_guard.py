"""When an index folder may be replaced by a build, and when it must be left alone.

Two rules (docs/reliability.md, "Indexes that are never replaced"):

1. A run that names a corpus (``--corpus`` or ``VERBATIM_CORPUS``) other than the default one
   but no index folder never replaces the index in the default folder: that index belongs to
   the default corpus (in a checkout, the committed ``index/``). The run stops with a message
   naming an index folder for that corpus. Nothing is built anywhere else behind the user's
   back either: where an index lives is always the user's choice.
2. An automatic rebuild (``assistant ask``/``eval``, ``Assistant.load``, when the index is
   stale) never replaces an index folder tracked by git: a committed index changes only by an
   explicit ``assistant build``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .corpus import shown
from .errors import IndexProtectedError


def tracked_by_git(folder: Path) -> bool:
    """True when git tracks any file under `folder` (False without git or outside a repo)."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-z", "--", "."],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and bool(result.stdout.strip(b"\0"))


def _has_content(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def suggested_index(corpus_dir: Path) -> Path:
    """An index folder for `corpus_dir`: beside it, named after it (`notes` -> `notes-index`)."""
    resolved = Path(corpus_dir).resolve()
    return resolved.with_name(f"{resolved.name}-index")


def check_may_replace(
    corpus_dir: Path,
    index_dir: Path,
    *,
    default_corpus: Path,
    corpus_named: bool,
    index_named: bool,
    automatic: bool,
) -> None:
    """Raise `IndexProtectedError` if building into `index_dir` would break a rule above."""
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    if not _has_content(index_dir):
        return  # nothing there to lose
    other_corpus = corpus_dir.resolve() != Path(default_corpus).resolve()
    if corpus_named and not index_named and other_corpus:
        target = suggested_index(corpus_dir)
        raise IndexProtectedError(
            f"{shown(index_dir)} is the default index folder and belongs to the default corpus "
            f"({shown(default_corpus)}), so it is not replaced by an index of "
            f"{shown(corpus_dir)}. Name an index folder for that corpus: "
            f"`assistant build --corpus {shown(corpus_dir)} --index {shown(target)}`, then pass "
            f"the same --index (or set VERBATIM_INDEX) when asking."
        )
    if automatic and tracked_by_git(index_dir):
        raise IndexProtectedError(
            f"{shown(index_dir)} is tracked by git, so it is not rebuilt automatically. Rebuild "
            f"it on purpose with `assistant build --corpus {shown(corpus_dir)} --index "
            f"{shown(index_dir)}` (and commit it), or name another index folder with --index."
        )
