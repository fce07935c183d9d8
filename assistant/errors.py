"""The exceptions the assistant raises.

Every message says what went wrong and what to run to fix it. The CLI and the web UI turn these
into exit codes and friendly text; nothing below them prints or exits.
"""

from __future__ import annotations


class VerbatimError(Exception):
    """Base class of every error the assistant raises on purpose."""

    exit_code = 1


class CorpusError(VerbatimError):
    """A corpus file or folder cannot be used (missing, empty, not UTF-8, binary...)."""

    exit_code = 3


class IndexMissingError(VerbatimError):
    """No index exists where one was expected."""

    exit_code = 4


class IndexStaleError(VerbatimError):
    """The index does not match the corpus, the settings or the model, and cannot be rebuilt here."""

    exit_code = 4


class IndexCorruptError(VerbatimError):
    """An index file is missing, truncated or does not match its checksum."""

    exit_code = 4


class IndexBuildError(VerbatimError):
    """An index could not be written (disk full, read-only folder) or finished (encoder export)."""

    exit_code = 4


class IndexProtectedError(VerbatimError):
    """A run would replace an index it must not replace (tracked by git, or another corpus's)."""

    exit_code = 4


class ModelUnavailableError(VerbatimError):
    """The embedding model cannot be loaded offline."""

    exit_code = 5


class SettingsError(VerbatimError, ValueError):
    """A setting has a value the assistant cannot work with."""

    exit_code = 2
