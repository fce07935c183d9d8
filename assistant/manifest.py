"""The index manifest (`manifest.json`) as a typed, frozen record.

`Manifest.from_json` checks the shape loading relies on (ValueError naming the field) and
`to_json` writes the same JSON object as before this record existed, keys in the same order.
Code reads fields by name (`manifest.counts`, `manifest.calibration`); the record is also a
read-only mapping of that JSON object (`manifest["counts"]`), for callers and scripts written
against the plain dictionary.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

#: The JSON's key order (as written before this record existed; embedded and Qdrant builds).
_ORDER = (
    "format_version",
    "store",
    "build_id",
    "created",
    "settings",
    "model",
    "dimension",
    "faiss_index",
    "qdrant",
    "encoder",
    "vocabulary",
    "counts",
    "corpus_hash",
    "documents",
    "build_seconds",
    "files",
    "calibration",
)
#: Keys left out of the JSON when None (`encoder` and `vocabulary` are written even as null).
_OMITTED_WHEN_NONE = frozenset(_ORDER) - {"encoder", "vocabulary"}
_JSON_TYPE = {dict: "object", str: "string", int: "number"}


@dataclass(frozen=True)
class Manifest(Mapping[str, Any]):
    """What an index folder records about itself."""

    format_version: int
    settings: Mapping[str, Any]  # Settings.build_fields() of the build
    model: str
    dimension: int
    counts: Mapping[str, int]  # documents, passages, sentences, embedded_texts
    store: str | None = None  # "qdrant" for the local side of a Qdrant index, else absent
    build_id: str | None = None  # Qdrant builds: the collection's build time and process
    created: str | None = None
    faiss_index: str | None = None  # embedded index: the FAISS index kind
    qdrant: Mapping[str, str] | None = None  # location, alias, collection
    encoder: str | None = None  # the ONNX query encoder's folder, if the index has one
    vocabulary: str | None = None  # the expansion vocabulary's folder, if the index has one
    corpus_hash: str | None = None
    documents: tuple[Mapping[str, Any], ...] = ()  # source, title, ... per document
    build_seconds: float | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # file name -> SHA-256
    calibration: Mapping[str, Any] | None = None  # thresholds chosen for this index
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    @classmethod
    def from_json(cls, raw: object) -> Manifest:
        """The record of a parsed manifest.json; ValueError unless it has the fields loading
        relies on, with the right types."""
        if not isinstance(raw, dict):
            raise ValueError("not a manifest object")
        files = raw.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(name, str)
            and isinstance(digest, str)
            and name
            and not name.startswith("/")
            and ".." not in name.split("/")
            for name, digest in files.items()
        ):
            raise ValueError("'files' must map file names inside the index to checksums")
        counts = raw.get("counts")
        if not isinstance(counts, dict) or not all(
            isinstance(counts.get(key), int) for key in ("documents", "passages", "sentences")
        ):
            raise ValueError("'counts' must be an object of whole numbers")
        for key, kind in (("settings", dict), ("model", str), ("dimension", int)):
            if not isinstance(raw.get(key), kind):
                raise ValueError(f"{key!r} must be a {kind.__name__} (JSON {_JSON_TYPE[kind]})")
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in raw.items() if k in known}
        documents = raw.get("documents") or []
        values["documents"] = tuple(d for d in documents if isinstance(d, dict))
        values["calibration"] = _calibration(raw.get("calibration"))
        return cls(**values, extra={k: v for k, v in raw.items() if k not in known})

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to manifest.json."""
        out: dict[str, Any] = {}
        for name in _ORDER:
            value = getattr(self, name)
            if value is None and name in _OMITTED_WHEN_NONE:
                continue
            if name == "documents":
                value = [dict(d) for d in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        return out | dict(self.extra)

    @property
    def titles(self) -> dict[str, str]:
        """Each document's title by its source path."""
        return {d["source"]: d["title"] for d in self.documents}

    # Read-only mapping of the JSON object ------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


def _calibration(value: object) -> Mapping[str, Any] | None:
    """A manifest's calibration, checked: None (never calibrated: the defaults apply) or an
    object whose thresholds are numbers from -1 to 1. ValueError otherwise: thresholds that
    cannot be used are not silently replaced by the defaults."""
    if value is None:
        return None
    fix = "recalibrate with `assistant eval QUESTIONS --calibrate`, or remove the key"
    if not isinstance(value, dict):
        raise ValueError(f"'calibration' must be an object; {fix}")
    for key in ("threshold", "focus_threshold"):
        number = value.get(key)
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not -1.0 <= number <= 1.0
        ):
            raise ValueError(
                f"'calibration' holds {key} {number!r}, not a number from -1 to 1; {fix}"
            )
    if "confidence" in value:
        from .confidence import ConfidenceModel

        try:
            ConfidenceModel.from_json(value["confidence"])
        except ValueError as exc:
            raise ValueError(f"{exc}; {fix}") from None
    return value
