"""The CLI run the way a person runs it: a subprocess, reading what it prints."""

import json
import re

import pytest
from cli_helpers import run_cli
from paths import ROOT

SEED = (ROOT / "corpus" / "secondary-milia.txt").read_text(encoding="utf-8")


run = run_cli


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "ask" in result.stdout and "build" in result.stdout
    ask_help = run("ask", "--help").stdout
    for option in ("--json", "--top-k", "--corpus", "--index", "--model", "--mode"):
        assert option in ask_help


@pytest.mark.model
def test_ask_prints_quotes_with_citations():
    result = run("ask", "--no-rebuild", "Can medications cause milia?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "The source text says:" in out
    assert "[1]" in out and "section “Medication-associated Milia”" in out
    assert "secondary-milia.txt, characters" in out
    assert ">>" in out and "<<" in out  # the best sentence is marked
    assert "not medical advice" in out
    assert "Traceback" not in result.stderr


@pytest.mark.model
def test_batch_json_one_line_per_question():
    questions = ["What causes secondary milia?", "", "Who painted the Mona Lisa?", "hi"]
    result = run("ask", "--json", "--no-rebuild", "-k", "2", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == [
        "What causes secondary milia?",
        "",
        "Who painted the Mona Lisa?",
        "hi",
    ]
    assert [a["status"] for a in answers] == ["answered", "invalid", "not_found", "chitchat"]
    assert 1 <= len(answers[0]["passages"]) <= 2
    for p in answers[0]["passages"]:
        assert p["source"] == "secondary-milia.txt"
        assert SEED[p["start"] : p["end"]] == p["text"]
        assert p["start"] <= p["highlight"]["start"] < p["highlight"]["end"] <= p["end"]
    assert answers[1]["message"]


def test_missing_corpus_is_a_clear_error(tmp_path):
    result = run(
        "ask", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"), "milia?"
    )
    assert result.returncode == 3
    assert result.stderr.startswith("Error:") and "corpus folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_corpus_file_is_named_by_build(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bad.txt").write_bytes(b"Title\n\nna\xefve\n")
    result = run("build", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert result.returncode == 3
    assert (
        "bad.txt" in result.stderr and "UTF-8" in result.stderr and "byte offset 9" in result.stderr
    )
    assert not (tmp_path / "index").exists()


def test_bad_top_k_is_a_usage_error():
    result = run("ask", "-k", "0", "milia?")
    assert result.returncode == 2
    assert "top_k" in result.stderr and "Traceback" not in result.stderr


def test_read_only_stale_index_names_the_command(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.txt").write_text("Title\n\nSome text about milia.\n", encoding="utf-8")
    result = run(
        "ask", "--no-rebuild", "--corpus", str(corpus), "--index", str(tmp_path / "idx"), "q?"
    )
    assert result.returncode == 4
    assert "assistant build" in result.stderr


def test_cli_modes_match_engine():
    from assistant.cli import MODES as CLI_MODES
    from assistant.retrieval import MODES

    assert CLI_MODES == MODES


@pytest.mark.model
def test_build_with_a_chosen_index_kind_answers_verbatim(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "milia.txt").write_text(SEED, encoding="utf-8")
    index = tmp_path / "index"
    built = run("build", "--corpus", str(corpus), "--index", str(index), "--index-kind", "hnsw_sq8")
    assert built.returncode == 0, built.stderr
    assert "hnsw_sq8 index" in built.stdout
    assert json.loads((index / "manifest.json").read_text())["faiss_index"] == "hnsw_sq8"
    asked = run(
        "ask",
        "--json",
        "--no-rebuild",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        "Can medications cause milia?",
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["status"] == "answered"
    for p in answer["passages"]:
        assert p["text"] == SEED[p["start"] : p["end"]]
    wrong = run("build", "--corpus", str(corpus), "--index", str(index), "--index-kind", "lsh")
    assert wrong.returncode == 2 and "lsh" in wrong.stderr and "Traceback" not in wrong.stderr


@pytest.mark.model
def test_another_corpus_gets_its_own_disclaimer_and_no_milia_wording(tmp_path):
    """The CLI over another corpus with its own corpus.meta.json: its disclaimer, in text and
    in JSON, and none of the default corpus's medical wording."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kettle.md").write_text(
        "# The kettle manual\n\nDescaling\n\nDescale the kettle every month with white vinegar "
        "and water, then boil clean water twice and pour it away.\n",
        encoding="utf-8",
    )
    disclaimer = "These are quotes from the kettle manual, not advice of ours."
    (corpus / "corpus.meta.json").write_text(json.dumps({"disclaimer": disclaimer}), "utf-8")
    where = ("--corpus", str(corpus), "--index", str(tmp_path / "index"))
    text = run("ask", *where, "How often should I descale the kettle?")
    assert text.returncode == 0, text.stderr
    as_json = json.loads(run("ask", "--json", *where, "How do I descale the kettle?").stdout)
    assert as_json["status"] == "answered"
    for shown in (text.stdout, as_json["answer"]):
        assert "white vinegar" in shown and disclaimer in shown
        assert not re.search(r"milia|skin|medical|doctor", shown, re.IGNORECASE), shown
