import logging
from pathlib import Path

import pytest

from assistant.corpus import corpus_hash, load_corpus
from assistant.errors import CorpusError


def test_seed_is_loaded_byte_for_byte(corpus_copy: Path):
    (doc,) = load_corpus(corpus_copy)
    assert doc.source == "secondary-milia.txt"
    assert doc.text.encode("utf-8") == (corpus_copy / "secondary-milia.txt").read_bytes()
    assert doc.title == "What is Secondary Milia and How to Deal with It"
    assert doc.flags_for("Milia removal cream") == ("promotional",)


def test_subfolders_and_markdown_are_documents(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("# One\n\nText one.\n", encoding="utf-8")
    (tmp_path / "two.txt").write_text("Two\n\nText two.\n", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["a/one.md", "two.txt"]


def test_not_utf8_names_file_and_byte_offset(tmp_path: Path):
    (tmp_path / "bad.txt").write_bytes(b"Fine start\n\ncaf\xe9 au lait\n")
    with pytest.raises(CorpusError, match=r"bad\.txt.*not valid UTF-8.*byte offset 15"):
        load_corpus(tmp_path)


@pytest.mark.parametrize("content", [b"", b"  \n\n\t \n"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes):
    (tmp_path / "empty.txt").write_bytes(content)
    with pytest.raises(CorpusError, match=r"empty\.txt.*empty"):
        load_corpus(tmp_path)


def test_binary_file_with_txt_name_is_refused(tmp_path: Path):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CorpusError, match=r"image\.txt.*binary"):
        load_corpus(tmp_path)


def test_empty_folder_and_missing_folder(tmp_path: Path):
    with pytest.raises(CorpusError, match="no .txt or .md files"):
        load_corpus(tmp_path)
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope")


def test_unsupported_files_are_skipped_with_warning(tmp_path: Path, caplog):
    (tmp_path / "doc.txt").write_text("Title\n\nSome text.\n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    with caplog.at_level(logging.WARNING):
        docs = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["doc.txt"]
    assert "notes.pdf" in caplog.text and "skipped" in caplog.text


def test_bad_sidecar_is_named(tmp_path: Path):
    (tmp_path / "doc.txt").write_text("Title\n\nSome text.\n", encoding="utf-8")
    (tmp_path / "doc.txt.meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"doc\.txt\.meta\.json.*not valid JSON"):
        load_corpus(tmp_path)


def test_corpus_hash_changes_with_any_file(corpus_copy: Path):
    before = corpus_hash(corpus_copy)
    (corpus_copy / "extra.md").write_text("# Extra\n\nMore text.\n", encoding="utf-8")
    added = corpus_hash(corpus_copy)
    assert added != before
    (corpus_copy / "extra.md").unlink()
    assert corpus_hash(corpus_copy) == before
    sidecar = corpus_copy / "secondary-milia.txt.meta.json"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("promotional", "promotional "))
    assert corpus_hash(corpus_copy) != before


def test_enormous_file_is_refused_with_the_limit(tmp_path: Path):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(21 * 1024 * 1024)  # sparse: no real disk use
    with pytest.raises(CorpusError, match=r"big\.txt.*over the limit"):
        load_corpus(tmp_path)
