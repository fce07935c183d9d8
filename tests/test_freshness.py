"""A running assistant never quotes a corpus file that changed after it was loaded (issue 25,
item 2): the engine checks its sources before every answer (assistant/freshness.py)."""

from __future__ import annotations

import os
import shutil

import pytest
from paths import ROOT

from assistant import Assistant
from assistant.freshness import CorpusChangedError

QUESTION = "Can medications cause milia?"


@pytest.fixture
def copied(tmp_path, real_embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(ROOT / "index", index)
    assistant = Assistant.load(corpus, index, embedder=real_embedder, rebuild=False)
    return assistant, corpus / "secondary-milia.txt"


def test_a_touched_file_is_still_quoted(copied):
    assistant, source = copied
    before = os.stat(source)
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert assistant.ask(QUESTION).status == "answered"


@pytest.mark.parametrize("edit", ["prepend", "same size", "remove"])
def test_an_edited_or_removed_file_stops_every_answer(copied, edit, caplog):
    assistant, source = copied
    assert assistant.ask(QUESTION).status == "answered"
    text = source.read_text(encoding="utf-8")
    if edit == "prepend":
        source.write_text("A new first line.\n" + text, encoding="utf-8")
    elif edit == "same size":  # the same size, the same mtime: the change time still moves
        stat = os.stat(source)
        source.write_text(text.replace("milia", "MILIA", 1), encoding="utf-8")
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:
        source.unlink()
    for _ in range(2):  # and it stays refused
        with pytest.raises(CorpusChangedError, match="secondary-milia.txt changed") as raised:
            assistant.ask(QUESTION)
        assert raised.value.exit_code == 4 and "assistant build" in str(raised.value)
    assert "secondary-milia.txt" in caplog.text
