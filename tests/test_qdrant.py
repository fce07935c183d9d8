"""The Qdrant store (qdrant-client's local mode, offline): same answers as the embedded index,
faithfulness checks, staleness, and rebuilds that switch an alias without touching what is
served, even when the build process is killed."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from answer_checks import assert_verbatim
from cli_helpers import clean_env, run_cli
from paths import ROOT

from assistant import Assistant, Settings
from assistant.errors import IndexCorruptError, IndexStaleError
from assistant.qdrant_store import (
    DEFAULT_ALIAS,
    _alias_target,
    build_qdrant,
    client_for,
    close_client,
)
from assistant.retrieval import MODES
from assistant.store import MANIFEST, build_index

pytest.importorskip("qdrant_client")

SETTINGS = Settings(model="fake-hash-embedder", threshold=0.1)
QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def signature(answer, digits: int = 5):
    """What a user compares: status, the quotes in order, their highlights and scores."""
    return (
        answer.status,
        [(q.id, q.highlight, round(q.score, digits)) for q in answer.passages],
        None if answer.relevance is None else round(answer.relevance, digits),
    )


def assert_same_answers(got_from, want_from, questions, modes, digits: int) -> list:
    """`got_from` answers `questions` as `want_from` does in each mode (status, quotes in
    order, highlights, scores to `digits` places), and every quote it gives is verbatim.
    Returns its answers in the last mode."""
    for mode in modes:
        got = got_from.ask_many(questions, mode=mode)
        want = want_from.ask_many(questions, mode=mode)
        assert [signature(a, digits) for a in got] == [signature(a, digits) for a in want], mode
        for answer in got:
            assert_verbatim(got_from, answer)
    return got


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The seed corpus built twice with the fake embedder: embedded folder and Qdrant folder."""
    from conftest import FakeEmbedder

    tmp = tmp_path_factory.mktemp("qdrant")
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    embedder = FakeEmbedder()
    build_index(corpus, tmp / "embedded", SETTINGS, embedder, progress=False)
    location = str(tmp / "qdrant")
    build_qdrant(corpus, tmp / "side", SETTINGS, embedder, location, progress=False)
    yield tmp, corpus, embedder, location
    close_client(location)


def _load(tmp, corpus, embedder, location, **kw):
    return Assistant.load(
        corpus, tmp / "side", SETTINGS, embedder=embedder, rebuild=False, qdrant=location, **kw
    )


def test_same_answers_as_the_embedded_index_in_every_mode(pair):
    tmp, corpus, embedder, location = pair
    embedded = Assistant.load(corpus, tmp / "embedded", SETTINGS, embedder=embedder, rebuild=False)
    qdrant = _load(tmp, corpus, embedder, location)
    assert type(qdrant.index).__name__ == "QdrantIndex"
    # Scores agree to float32 rounding (Qdrant sums BM25 terms in another order).
    got = assert_same_answers(qdrant, embedded, QUESTIONS[::4], MODES, 4)
    assert any(a.status == "answered" for a in got)


def test_without_the_corpus_passages_are_checked_against_build_time_checksums(pair, tmp_path):
    tmp, corpus, embedder, location = pair
    with_corpus = _load(tmp, corpus, embedder, location)
    without = Assistant.load(
        tmp_path / "no-corpus-here",
        tmp / "side",
        SETTINGS,
        embedder=embedder,
        rebuild=False,
        qdrant=location,
    )
    assert without.index.documents == {}
    question = "Can medications cause milia?"
    a, b = with_corpus.ask(question), without.ask(question)
    assert a.status in ("answered", "related") and a.passages
    assert signature(a) == signature(b)
    assert [q.text for q in a.passages] == [q.text for q in b.passages]
    assert b.passages[0].title == "What is Secondary Milia and How to Deal with It"


def test_a_passage_altered_in_qdrant_is_refused(pair, tmp_path):
    tmp, corpus, embedder, location = pair
    # A separate collection so the shared one stays intact for the other tests.
    side, store = tmp_path / "side", str(tmp_path / "qdrant")
    build_qdrant(corpus, side, SETTINGS, embedder, store, progress=False)
    assistant = Assistant.load(
        tmp_path / "absent", side, SETTINGS, embedder=embedder, rebuild=False, qdrant=store
    )
    answer = assistant.ask("Can steroid creams make milia worse?")
    first = answer.passages[0]
    row = next(r for r in range(100) if assistant.index.passage(r).id == first.id)
    client = client_for(store)
    altered = first.text.replace("steroids", "vitamins")
    assert altered != first.text
    client.set_payload(assistant.index.collection, payload={"text": altered}, points=[row])
    fresh = Assistant.load(
        tmp_path / "absent", side, SETTINGS, embedder=embedder, rebuild=False, qdrant=store
    )
    with pytest.raises(IndexCorruptError, match="checksum"):
        fresh.ask("Can steroid creams make milia worse?")
    close_client(store)


def test_a_collection_from_another_corpus_or_settings_is_refused(pair, tmp_path):
    tmp, corpus, embedder, location = pair
    changed = tmp_path / "corpus"
    shutil.copytree(corpus, changed)
    with (changed / "secondary-milia.txt").open("a", encoding="utf-8") as fh:
        fh.write("\nA new paragraph about something else entirely.\n")
    with pytest.raises(IndexStaleError, match="corpus .* changed.*--store qdrant"):
        _load(tmp, changed, embedder, location)
    with pytest.raises(IndexStaleError, match="settings"):
        Assistant.load(
            corpus,
            tmp / "side",
            replace(SETTINGS, max_passage_chars=600),
            embedder=embedder,
            rebuild=False,
            qdrant=location,
        )
    # A folder whose collection is gone and whose alias now serves another build: refused.
    other_side, store = tmp_path / "side", str(tmp_path / "qdrant")
    build_qdrant(corpus, other_side, SETTINGS, embedder, store, progress=False)
    first = json.loads((other_side / MANIFEST).read_text())["qdrant"]["collection"]
    build_qdrant(changed, tmp_path / "side2", SETTINGS, embedder, store, progress=False, keep=0)
    assert not client_for(store).collection_exists(first)
    with pytest.raises(IndexStaleError, match="another corpus"):
        Assistant.load(corpus, other_side, SETTINGS, embedder=embedder, rebuild=False, qdrant=store)
    close_client(store)


KILLED_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])
    from conftest import FakeEmbedder
    from qdrant_client import QdrantClient
    from assistant import Settings
    from assistant.qdrant_store import build_qdrant

    import assistant.qdrant_store
    assistant.qdrant_store.BATCH = 8  # several requests, so the kill lands mid-upload
    upsert = QdrantClient.upsert
    def slow_upsert(self, *args, **kwargs):
        result = upsert(self, *args, **kwargs)
        print("UPLOADED", flush=True)
        time.sleep(60)  # the test kills the process here, mid-upload
        return result
    QdrantClient.upsert = slow_upsert
    build_qdrant(Path(sys.argv[1]), Path(sys.argv[2]), Settings(model="fake-hash-embedder",
                 threshold=0.1), FakeEmbedder(), sys.argv[3], progress=False)
    """
)


@pytest.mark.slow
def test_a_killed_rebuild_leaves_the_served_collection_untouched(pair, tmp_path):
    tmp, corpus, embedder, _ = pair
    side, store = tmp_path / "side", str(tmp_path / "qdrant")
    build_qdrant(corpus, side, SETTINGS, embedder, store, progress=False)
    served = _alias_target(client_for(store), DEFAULT_ALIAS)
    before = Assistant.load(corpus, side, SETTINGS, embedder=embedder, rebuild=False, qdrant=store)
    answers = [signature(a) for a in before.ask_many(QUESTIONS[:10])]
    manifest = (side / MANIFEST).read_bytes()
    close_client(store)  # a local Qdrant folder is opened by one process at a time

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(corpus), str(side), store, str(ROOT / "tests")],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(PYTHONPATH=str(ROOT), VERBATIM_ONNX="0"),
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "UPLOADED"  # the new collection is half written
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    client = client_for(store)
    collections = {c.name for c in client.get_collections().collections}
    [unfinished] = collections - {served}
    assert client.count(unfinished).count == 8 < client.count(served).count == 29
    assert _alias_target(client, DEFAULT_ALIAS) == served
    assert (side / MANIFEST).read_bytes() == manifest
    after = Assistant.load(corpus, side, SETTINGS, embedder=embedder, rebuild=False, qdrant=store)
    assert [signature(a) for a in after.ask_many(QUESTIONS[:10])] == answers
    assert after.index.collection == served

    # A rebuild that completes switches the alias and clears the unfinished collection.
    build_qdrant(corpus, side, SETTINGS, embedder, store, progress=False)
    new = _alias_target(client, DEFAULT_ALIAS)
    assert new != served
    assert {c.name for c in client.get_collections().collections} == {served, new}
    close_client(store)


@pytest.fixture(scope="module")
def cli_built(tmp_path_factory):
    """`assistant build --qdrant FOLDER` as a user runs it (the real model, one process)."""
    tmp = tmp_path_factory.mktemp("qdrant-cli")
    store, side = tmp / "qdrant", tmp / "side"
    built = run_cli(
        "build",
        "--qdrant",
        str(store),
        "--corpus",
        str(ROOT / "corpus"),
        "--index",
        str(side),
        env=clean_env(VERBATIM_ONNX="0"),  # answers below use the test's own embedder
    )
    return built, str(store), side


@pytest.mark.slow
def test_cli_build_options(tmp_path):
    side = str(tmp_path / "side")
    bad = run_cli("build", "--store", "qdrant", "--index", side)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "Error: --store qdrant needs --qdrant URL_OR_FOLDER (or VERBATIM_QDRANT)"
    )
    both = run_cli("build", "--store", "embedded", "--qdrant", "x", "--index", side)
    assert both.returncode == 2
    assert both.stderr.strip() == "Error: --qdrant, --shards and --replicas are for --store qdrant"


@pytest.mark.model
def test_cli_build_then_answers_equal_the_committed_index(cli_built, real_assistant, real_embedder):
    """The equality check of docs/scaling.md on a subset: the real model, both stores."""
    built, store, side = cli_built
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(f"Built {side}: 1 documents, 29 passages")
    assert "Qdrant collection verbatim-" in built.stdout
    assert not (side / "passages.faiss").exists()
    qdrant = Assistant.load(
        ROOT / "corpus",
        side,
        real_assistant.settings,
        embedder=real_embedder,
        rebuild=False,
        qdrant=store,
    )
    assert_same_answers(qdrant, real_assistant, QUESTIONS[1::5], ("hybrid", "rerank"), 3)
    close_client(store)


@pytest.mark.model
def test_cli_ask_reports_a_wrong_qdrant_location(cli_built, tmp_path):
    _, _, side = cli_built
    asked = run_cli(
        "ask",
        "--no-rebuild",
        "--index",
        str(side),
        "What are milia?",
        env=clean_env(VERBATIM_QDRANT=str(tmp_path / "empty")),
    )
    assert asked.returncode == 4
    assert asked.stderr.startswith(f"Error: {tmp_path / 'empty'} holds no Qdrant data")
    assert "assistant build --store qdrant" in asked.stderr
    assert not (tmp_path / "empty").exists()  # nothing created at a mistyped location
    assert "Traceback" not in asked.stderr


@pytest.mark.model
def test_cli_ask_and_chat_refuse_an_altered_passage_with_one_line(cli_built, tmp_path):
    """A passage altered in Qdrant after the build fails its checksum while answering: `ask`
    and `chat` both stop with one `Error:` line (exit 4), no traceback and no quote."""
    _, store, side = cli_built
    copy, copy_side = tmp_path / "qdrant", tmp_path / "side"
    shutil.copytree(store, copy)
    shutil.copytree(side, copy_side)
    client = client_for(str(copy))
    (collection,) = [c.name for c in client.get_collections().collections]
    rows = list(range(client.count(collection).count))
    client.set_payload(collection, payload={"text": "Milia are caused by the moon."}, points=rows)
    close_client(str(copy))
    where = ("--no-rebuild", "--index", str(copy_side), "--qdrant", str(copy))
    for result in (
        run_cli("ask", *where, "What are milia?"),
        run_cli("chat", *where, stdin="What are milia?\n"),
    ):
        assert result.returncode == 4, result.stderr
        assert "Traceback" not in result.stderr and "moon" not in result.stdout
        # (The fixture's index has no ONNX encoder, so a warning may come first.)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and "checksum" in errors[0]
        assert result.stderr.strip().splitlines()[-1] == errors[0]


@pytest.mark.model
def test_cli_eval_reads_a_qdrant_index(cli_built, tmp_path):
    """`assistant eval` answers from the Qdrant collection like `ask` (issue 13: ask, eval and
    the app read from it): every dev question in every mode, every quote verbatim."""
    _, store, side = cli_built
    copy, copy_side = tmp_path / "qdrant", tmp_path / "side"
    shutil.copytree(store, copy)  # a local Qdrant folder is one process at a time
    shutil.copytree(side, copy_side)
    out = tmp_path / "out"
    result = run_cli(
        "eval",
        str(ROOT / "eval" / "questions.jsonl"),
        "--split",
        "dev",
        "--no-rebuild",
        "--index",
        str(copy_side),
        "--qdrant",
        str(copy),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    dev = sum(1 for line in lines if line.strip() and json.loads(line).get("split") == "dev")
    assert len(rows) == dev * len(MODES)
    source = (ROOT / "corpus" / "secondary-milia.txt").read_text(encoding="utf-8")
    quoted = [p for row in rows for p in row["passages"]]
    assert quoted and all(source[p["start"] : p["end"]] == p["text"] for p in quoted)
    assert any(row["status"] == "answered" for row in rows)


@pytest.mark.model
def test_qdrant_edge_behind_the_store_gives_the_embedded_answers(real_assistant, tmp_path):
    """Qdrant's own engine (qdrant-edge, embedded) behind `QdrantIndex`, as
    benchmarks/qdrant_real.py measures it at 10k-100k passages: on the committed index's vectors
    every answer equals the embedded index's. Skipped without the `qdrant-edge` extra."""
    pytest.importorskip("qdrant_edge")
    from benchmarks import qdrant_real

    index, corpus = ROOT / "index", ROOT / "corpus"
    qdrant_real.prepare(tmp_path, index, corpus)  # vectors, stem table, digests
    built = qdrant_real.build_edge(tmp_path, index)
    assert built["points"] == len(real_assistant.index.passages)
    store = qdrant_real.edge_store(tmp_path / "edge", tmp_path, index, corpus)
    edge = Assistant._ready(store, real_assistant.embedder, real_assistant.settings, corpus, index)
    assert_same_answers(edge, real_assistant, QUESTIONS[::4], ("hybrid", "rerank"), 4)
    store.client.shard.close()
