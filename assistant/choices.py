"""The fixed choices, defined once: retrieval modes and dense index kinds.

They are `StrEnum`s, so a member equals its string (`Mode.RERANK == "rerank"`) and JSON, click
and the manifest see the same plain strings as before.

>>> Mode("dense") is Mode.DENSE, str(IndexKind.HNSW_SQ8)
(True, 'hnsw_sq8')
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """How retrieval scores candidates (retrieval.py; `assistant eval --modes` compares them)."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"
    RERANK = "rerank"


#: The mode `ask` uses when none is given.
DEFAULT_MODE = Mode.RERANK
#: The modes' strings, as options and messages show them (`click.Choice(MODES)`).
MODES = tuple(mode.value for mode in Mode)


class IndexKind(StrEnum):
    """The FAISS index type (dense.py); `auto` picks flat or HNSW by size."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    HNSW_SQ8 = "hnsw_sq8"
    IVF = "ivf"
    IVF_SQ8 = "ivf_sq8"


INDEX_KINDS = tuple(kind.value for kind in IndexKind)
