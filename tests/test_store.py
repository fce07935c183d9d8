"""The index on disk: manifest, checksums, staleness, atomic writes (fast: fake embedder)."""

import json
import shutil

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from assistant.store import (
    DENSE,
    FORMAT_VERSION,
    MANIFEST,
    PASSAGES,
    SENTENCES,
    build_index,
    load_index,
)

SETTINGS = Settings(model="fake-hash-embedder", threshold=0.1)


@pytest.fixture
def built(tmp_path, corpus_copy, fake_embedder):
    index = tmp_path / "index"
    build_index(corpus_copy, index, SETTINGS, fake_embedder, progress=False)
    return corpus_copy, index


def _load(corpus, index, settings=SETTINGS, model="fake-hash-embedder"):
    return load_index(index, corpus, settings, model)


def test_manifest_describes_the_index(built):
    corpus, index = built
    manifest = json.loads((index / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 2
    assert manifest["model"] == "fake-hash-embedder"
    assert manifest["dimension"] == 64
    assert manifest["settings"] == SETTINGS.build_fields()
    assert manifest["counts"]["documents"] == 1
    assert set(manifest["files"]) >= {PASSAGES, DENSE, SENTENCES}
    assert any(name.startswith("bm25/") for name in manifest["files"])
    assert manifest["vocabulary"] == "vocabulary"
    assert {"vocabulary/words.json", "vocabulary/vectors.npy"} <= set(manifest["files"])
    # Each distinct text is embedded once: passages plus sentences, minus repeats.
    assert manifest["counts"]["embedded_texts"] <= (
        manifest["counts"]["passages"] + manifest["counts"]["sentences"]
    )
    assert not list(index.rglob("*.pkl")) and not list(index.rglob("*.pickle"))
    loaded = _load(corpus, index)
    doc = loaded.documents["secondary-milia.txt"]
    for p in loaded.passages:
        assert p.text == doc.text[p.start : p.end]


def test_missing_index(tmp_path, corpus_copy):
    with pytest.raises(IndexMissingError, match="assistant build"):
        _load(corpus_copy, tmp_path / "nothing")


@pytest.mark.parametrize(
    "damage",
    [
        "flip_vector_byte",
        "truncate_faiss",
        "garbage_passages",
        "delete_sentences",
        "delete_manifest",
        "corrupt_manifest",
    ],
)
def test_corruption_is_detected(built, damage):
    corpus, index = built
    if damage == "flip_vector_byte":
        data = bytearray((index / DENSE).read_bytes())
        data[len(data) // 2] ^= 0x01
        (index / DENSE).write_bytes(bytes(data))
    elif damage == "truncate_faiss":
        (index / DENSE).write_bytes((index / DENSE).read_bytes()[:100])
    elif damage == "garbage_passages":
        (index / PASSAGES).write_text("not json\n")
    elif damage == "delete_sentences":
        (index / SENTENCES).unlink()
    elif damage == "delete_manifest":
        (index / MANIFEST).unlink()
    else:
        (index / MANIFEST).write_text("{")
    with pytest.raises(IndexCorruptError, match="assistant build"):
        _load(corpus, index)


def test_other_model_or_settings_is_stale(built):
    corpus, index = built
    with pytest.raises(IndexStaleError, match="model"):
        _load(corpus, index, model="another-model")
    other = Settings(model="fake-hash-embedder", threshold=0.1, max_passage_chars=500)
    with pytest.raises(IndexStaleError, match="settings"):
        _load(corpus, index, settings=other)
    # query-time settings do not make an index stale
    _load(corpus, index, settings=Settings(model="fake-hash-embedder", threshold=0.2, top_k=7))


@pytest.mark.parametrize("change", ["edit", "add", "remove_sidecar"])
def test_changed_corpus_is_stale(built, change):
    corpus, index = built
    if change == "edit":
        path = corpus / "secondary-milia.txt"
        path.write_text(path.read_text(encoding="utf-8") + "\nNew paragraph.\n", encoding="utf-8")
    elif change == "add":
        (corpus / "more.md").write_text("# More\n\nAnother text.\n", encoding="utf-8")
    else:
        (corpus / "secondary-milia.txt.meta.json").unlink()
    with pytest.raises(IndexStaleError, match="corpus .* changed.*assistant build"):
        _load(corpus, index)


def test_ask_rebuilds_a_stale_index_when_writable(built, fake_embedder):
    corpus, index = built
    (corpus / "more.md").write_text("# Sourdough\n\nBake bread with a starter.\n", encoding="utf-8")
    assistant = Assistant.load(corpus, index, SETTINGS, embedder=fake_embedder)
    assert "more.md" in assistant.index.documents
    _load(corpus, index)  # the rebuilt index on disk is fresh


def test_read_only_stale_index_names_the_command(built, fake_embedder, monkeypatch):
    corpus, index = built
    (corpus / "more.md").write_text("# More\n\nText.\n", encoding="utf-8")
    monkeypatch.setattr("assistant.engine._writable", lambda path: False)
    before = (index / MANIFEST).read_bytes()
    with pytest.raises(IndexStaleError, match=r"assistant build --corpus.*read-only"):
        Assistant.load(corpus, index, SETTINGS, embedder=fake_embedder)
    assert (index / MANIFEST).read_bytes() == before


def test_no_rebuild_flag_never_rebuilds(built, fake_embedder):
    corpus, index = built
    (corpus / "more.md").write_text("# More\n\nText.\n", encoding="utf-8")
    with pytest.raises(IndexStaleError):
        Assistant.load(corpus, index, SETTINGS, embedder=fake_embedder, rebuild=False)


def test_failed_build_leaves_old_index_intact(built, fake_embedder):
    corpus, index = built
    before = {p.name: p.read_bytes() for p in index.iterdir() if p.is_file()}
    (corpus / "broken.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(Exception, match="broken.txt"):
        build_index(corpus, index, SETTINGS, fake_embedder, progress=False)
    after = {p.name: p.read_bytes() for p in index.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in index.parent.iterdir() if p.name.startswith(".index.")]


def test_rebuild_replaces_index_atomically(built, fake_embedder):
    corpus, index = built
    shutil.copy(corpus / "secondary-milia.txt", corpus / "copy.txt")
    manifest = build_index(corpus, index, SETTINGS, fake_embedder, progress=False)
    assert manifest["counts"]["documents"] == 2
    loaded = _load(corpus, index)
    assert len(loaded.passages) == 2 * len([p for p in loaded.passages if p.source == "copy.txt"])
    assert np.allclose(np.linalg.norm(loaded.sentence_vectors, axis=1), 1.0, atol=1e-4)


def test_calibration_is_stored_with_its_index_and_not_applied_to_another(
    built, tmp_path, fake_embedder
):
    """Thresholds chosen for one index live in its manifest; another index, even of the same
    corpus, answers with the documented defaults until it is calibrated itself."""
    from cli_helpers import run_cli

    from assistant.settings import DEFAULT_FOCUS_THRESHOLD, DEFAULT_THRESHOLD
    from assistant.store import save_calibration

    corpus, index = built
    other = tmp_path / "other-index"
    build_index(corpus, other, SETTINGS, fake_embedder, progress=False)
    save_calibration(
        index,
        {
            "threshold": 0.42,
            "focus_threshold": 0.2,
            "related_threshold": 0.3,
            "dataset": "mine.jsonl",
            "split": "dev",
        },
    )
    settings = Settings(model="fake-hash-embedder")
    calibrated = Assistant.load(corpus, index, settings, embedder=fake_embedder, rebuild=False)
    assert calibrated.settings.thresholds() == (0.42, 0.2)
    fresh = Assistant.load(corpus, other, settings, embedder=fake_embedder, rebuild=False)
    assert fresh.settings.thresholds() == (DEFAULT_THRESHOLD, DEFAULT_FOCUS_THRESHOLD)
    # The manifest is still a valid, checksummed index after the calibration was written.
    _load(corpus, index)
    # Explicit settings win over the calibration.
    pinned = Assistant.load(
        corpus,
        index,
        Settings(model="fake-hash-embedder", threshold=0.5),
        embedder=fake_embedder,
        rebuild=False,
    )
    assert pinned.settings.thresholds().relevance == 0.5
    # `assistant info` says which thresholds each index answers with, and where they came from.
    mine = json.loads(run_cli("info", "--index", str(index), "--json").stdout)
    assert mine["abstention"]["calibrated"] is True
    assert mine["abstention"]["threshold"] == 0.42
    assert mine["abstention"]["calibrated_on"] == "mine.jsonl (split dev)"
    text = run_cli("info", "--index", str(other)).stdout
    assert "never calibrated" in text and str(DEFAULT_THRESHOLD) in text


def test_manifest_record_writes_the_json_it_read():
    from paths import INDEX

    from assistant.manifest import Manifest

    raw = json.loads((INDEX / MANIFEST).read_text(encoding="utf-8"))
    manifest = Manifest.from_json(raw)
    assert list(manifest.to_json().items()) == list(raw.items())  # same keys, same order
    assert manifest.counts["passages"] == manifest["counts"]["passages"] > 0
    with pytest.raises(ValueError, match="'dimension' must be a int"):
        Manifest.from_json({**raw, "dimension": "384"})


@pytest.mark.parametrize("calibration", [{"threshold": "0.4", "focus_threshold": 0.2}, [0.4], {}])
def test_an_unusable_calibration_is_a_clear_error_not_the_defaults(built, calibration):
    """A hand-edited calibration that cannot be used stops loading (and `assistant info`) with
    one line naming the key and the fix; it is never silently replaced by the defaults."""
    from cli_helpers import run_cli

    corpus, index = built
    manifest = json.loads((index / MANIFEST).read_text())
    manifest["calibration"] = calibration
    (index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="'calibration'.*--calibrate"):
        _load(corpus, index)
    info = run_cli("info", "--index", str(index))
    assert info.returncode == 4 and "Traceback" not in info.stderr
    assert "--calibrate" in info.stderr and len(info.stderr.strip().splitlines()) == 1
