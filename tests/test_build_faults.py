"""Hardening of the corpus, the build and the CLI (issue 12, items 4-9 and 13).

Odd corpora (symlinks out of the folder, file names that are not UTF-8, one-line documents),
faults while building (a read-only folder, a full disk, a killed build, concurrent builds) and
indexes that must not be replaced. Every failure is one `Error:` line with its exit code.
Most tests use the fake embedder in this process; the few that need the CLI's real model
say so with the `model` mark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import clean_env, run_cli
from paths import ROOT, TESTS
from test_reliability import assert_one_line_error, read_only_view

from assistant import Assistant, Settings
from assistant.chunking import passages
from assistant.corpus import corpus_hash, load_corpus
from assistant.store import build_index, load_index

SETTINGS = Settings(model="fake-hash-embedder", threshold=0.1)
SECRET = "zz-outside-secret-line root:x:0:0:root:/root:/bin/bash"


def checksums(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_one_error_line(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    """assert_one_line_error, after the progress bar a build shows while embedding."""
    kept = [line for line in result.stderr.splitlines() if not line.startswith("Embedding:")]
    stripped = subprocess.CompletedProcess(result.args, code, result.stdout, "\n".join(kept))
    stripped.returncode = result.returncode
    assert_one_line_error(stripped, code, *words)


def link_or_copy(source: str, target: str) -> None:
    """Hard-link (an index is 88 MB), or copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ---- item 4: symlinks leading out of the corpus folder --------------------------------------


@pytest.mark.slow
def test_a_symlink_out_of_the_corpus_is_skipped_with_a_warning(
    tmp_path, corpus_copy, fake_embedder, caplog
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET + "\n", encoding="utf-8")
    (outside / "meta.json").write_text('{"title": "' + SECRET + '"}', encoding="utf-8")
    (corpus_copy / "passwd.txt").symlink_to(outside / "passwd")
    (corpus_copy / "sub").mkdir()
    (corpus_copy / "sub" / "linked-dir").symlink_to(outside, target_is_directory=True)
    # A symlink that stays inside the folder is fine, but its sidecar leads outside.
    (corpus_copy / "again.txt").symlink_to(corpus_copy / "secondary-milia.txt")
    (corpus_copy / "again.txt.meta.json").symlink_to(outside / "meta.json")
    caplog.set_level(logging.WARNING)

    documents = load_corpus(corpus_copy)
    assert sorted(d.source for d in documents) == ["again.txt", "secondary-milia.txt"]
    assert all(SECRET not in d.text and SECRET not in d.title for d in documents)
    build_index(corpus_copy, tmp_path / "index", SETTINGS, fake_embedder, progress=False)
    assert SECRET not in (tmp_path / "index" / "passages.jsonl").read_text(encoding="utf-8")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    (skipped,) = [w for w in warnings if "passwd.txt" in w]
    assert "skipped" in skipped and "outside the corpus folder" in skipped
    assert str(outside / "passwd") in skipped  # says where it leads
    assert any("again.txt.meta.json" in w and "outside the corpus folder" in w for w in warnings)


# ---- item 13: a skipped file is warned about once --------------------------------------------


def test_a_skipped_file_is_warned_about_once(corpus_copy, caplog):
    (corpus_copy / "notes.pdf").write_bytes(b"%PDF-1.4")
    caplog.set_level(logging.WARNING)
    load_corpus(corpus_copy)
    corpus_hash(corpus_copy)
    load_corpus(corpus_copy)
    warned = [r for r in caplog.records if "notes.pdf" in r.getMessage()]
    assert len(warned) == 1 and "only .txt and .md files" in warned[0].getMessage()


# ---- item 7: every document with text yields a passage -------------------------------------

SHORT = {
    "one line": "Milia are tiny keratin cysts.",
    "title and a short line": "Zorblax notes\n\nZorblax cream is applied twice daily.",
    "title and a caption": "Zorblax notes\n\nzorblax cream photo",
    "markdown title and heading": "# Zorblax\n\n## Zorblax cream is applied twice daily",
    "a question as heading": "Notes\n\nWhy is zorblax applied twice daily?",
}


@pytest.mark.parametrize("name", SHORT)
def test_a_short_document_yields_a_passage_with_its_text(tmp_path, name):
    text = SHORT[name]
    path = tmp_path / ("doc.md" if text.startswith("#") else "doc.txt")
    path.write_text(text + "\n", encoding="utf-8")
    (document,) = load_corpus(tmp_path)
    found = passages(document)
    assert found
    last_line = text.splitlines()[-1].lstrip("# ")
    assert any(last_line in p.text for p in found), found
    for p in found:
        assert p.text == document.text[p.start : p.end]


def test_the_default_corpus_passages_are_unchanged_by_the_short_document_rule():
    """The committed index's passages are exactly what chunking gives today."""
    committed = [
        json.loads(line)
        for line in (ROOT / "index" / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    (document,) = load_corpus(ROOT / "corpus")
    now = [
        {**p.__dict__, "sentences": [list(s) for s in p.sentences], "flags": list(p.flags)}
        for p in passages(document)
    ]
    assert now == committed


def test_a_one_line_document_is_quoted_for_its_own_sentence(tmp_path, corpus_copy, fake_embedder):
    (corpus_copy / "zorblax.txt").write_text("Zorblax cream dissolves keratin cysts.\n", "utf-8")
    assistant = Assistant.load(corpus_copy, tmp_path / "index", SETTINGS, embedder=fake_embedder)
    assert assistant.index.manifest["counts"]["passages"] == len(assistant.index.passages)
    answer = assistant.ask("Zorblax cream dissolves keratin cysts?")
    assert answer.status == "answered"
    assert answer.passages[0].source == "zorblax.txt"
    assert answer.passages[0].text == "Zorblax cream dissolves keratin cysts."


# ---- item 6: one `Error:` line with an exit code, never a traceback ------------------------


BAD_MANIFESTS = {
    "counts a list": lambda m: m.update(counts=[]),
    "counts missing": lambda m: m.pop("counts"),
    "files a list": lambda m: m.update(files=[]),
    "file outside": lambda m: m["files"].update({"../../etc/passwd": "0" * 64}),
    "dimension text": lambda m: m.update(dimension="384"),
    "settings null": lambda m: m.update(settings=None),
}


@pytest.fixture(scope="module")
def bad_manifests(tmp_path_factory) -> dict[str, Path]:
    """Complete index copies (hard links) whose manifest has one field of the wrong shape."""
    base = tmp_path_factory.mktemp("manifests")
    indexes = {}
    for case, edit in BAD_MANIFESTS.items():
        index = base / case.replace(" ", "-")
        shutil.copytree(ROOT / "index", index, copy_function=link_or_copy)
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
        edit(manifest)
        (index / "manifest.json").unlink()  # a hard link: never write through it
        (index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        indexes[case] = index
    return indexes


@pytest.mark.parametrize("case", BAD_MANIFESTS)
def test_a_manifest_of_the_wrong_shape_is_corrupt(bad_manifests, case):
    from assistant.errors import IndexCorruptError

    manifest = json.loads((ROOT / "index" / "manifest.json").read_text(encoding="utf-8"))
    with pytest.raises(IndexCorruptError, match=r"manifest.json is corrupt .*assistant build"):
        load_index(bad_manifests[case], ROOT / "corpus", Settings(), manifest["model"])


@pytest.mark.slow
def test_non_utf8_file_names_and_a_bad_manifest_are_one_line_errors(tmp_path, bad_manifests):
    """Through the CLI; all fail before the model loads, so they run side by side."""
    named = tmp_path / "named"
    named.mkdir()
    (named / "good.txt").write_text("Milia are small white bumps.\n", encoding="utf-8")
    (Path(os.fsdecode(bytes(named) + b"/caf\xe9.txt"))).write_bytes(b"Cafe text here.\n")
    runs = {
        "build": ("build", "--corpus", str(named), "--index", str(tmp_path / "idx")),
        "ask": ("ask", "--no-rebuild", "--corpus", str(named), "--index", str(ROOT / "index"), "q"),
        "span": ("span", "--corpus", str(named), "Milia are small"),
        "manifest": ("ask", "--no-rebuild", "--index", str(bad_manifests["counts a list"]), "q"),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(runs, pool.map(lambda args: run_cli(*args), runs.values())))
    for name in ("build", "ask", "span"):
        assert_one_line_error(results[name], 3, "caf\\xe9.txt", "file name is not valid UTF-8")
    assert not (tmp_path / "idx").exists()
    assert_one_line_error(results["manifest"], 4, "manifest.json is corrupt", "assistant build")


def test_building_on_a_read_only_file_system_is_one_line(tmp_path):
    folder = tmp_path / "rw"
    folder.mkdir()
    with read_only_view(folder, tmp_path / "ro") as really:
        if not really:
            pytest.skip("cannot make a read-only bind mount here")
        result = run_cli(
            "build", "--corpus", str(ROOT / "corpus"), "--index", str(tmp_path / "ro" / "index")
        )
    assert_one_line_error(result, 4, "cannot write the index", "Read-only file system")


FULL_DISK = """
import resource, signal, sys
from conftest import FakeEmbedder
from assistant import Settings
from assistant.errors import VerbatimError
from assistant.store import build_index
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
try:
    build_index({corpus!r}, {index!r}, Settings(model="fake-hash-embedder"), FakeEmbedder(),
                progress=False)
except VerbatimError as exc:
    print(type(exc).__name__, exc)
"""


def _with_file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_mid_build_is_one_error_and_leaves_the_old_index(
    tmp_path, corpus_copy, fake_embedder
):
    """RLIMIT_FSIZE makes every write past 4 KB fail as a full disk would (EFBIG, not ENOSPC:
    the same OSError path), in a child process so this one is not limited."""
    index = tmp_path / "index"
    build_index(corpus_copy, index, SETTINGS, fake_embedder, progress=False)
    before = checksums(index)
    (corpus_copy / "more.txt").write_text("More text about milia.\n" * 20, encoding="utf-8")
    script = FULL_DISK.format(limit=4096, corpus=str(corpus_copy), index=str(index))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        # The tests folder on the path, for conftest.FakeEmbedder.
        env=clean_env(
            PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", str(ROOT))])
        ),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("IndexBuildError cannot write the index"), result.stdout
    assert "File too large" in result.stdout
    assert checksums(index) == before
    assert leftovers(tmp_path) == []


@pytest.mark.model
def test_a_failed_encoder_export_fails_the_build(tmp_path):
    """Item 9: the ONNX export (an 87 MB file) hits a full disk: exit 4, no index at all."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.txt").write_text("Milia are tiny keratin cysts.\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "index"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(),
        preexec_fn=_with_file_size_limit(5_000_000),
        timeout=600,
    )
    assert_one_error_line(result, 4, "could not export the ONNX query encoder", "VERBATIM_ONNX=0")
    assert not (tmp_path / "index").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.model
def test_an_index_without_its_encoder_says_so_on_load(real_assistant, monkeypatch, caplog):
    from assistant import engine

    monkeypatch.setattr(engine, "load_embedder", lambda model: real_assistant.embedder)
    caplog.set_level(logging.WARNING)
    without = replace(real_assistant.index, encoder_dir=None)
    assert engine.query_embedder(real_assistant.settings, without) is real_assistant.embedder
    assert any("no ONNX query encoder" in r.getMessage() for r in caplog.records)


# ---- item 8: what interrupted and concurrent builds leave behind ----------------------------

PAUSED_BUILD = """
import sys, time
from conftest import FakeEmbedder
from assistant import Settings, store
def pause(texts, folder):
    print("writing", flush=True)
    time.sleep(120)
store._build_vocabulary = pause   # hold the build while its folder is being written
store.build_index({corpus!r}, {index!r}, Settings(model="fake-hash-embedder"), FakeEmbedder(),
                  progress=False)
"""


def test_a_killed_build_leaves_nothing_the_next_build_keeps(tmp_path, corpus_copy, fake_embedder):
    from assistant.store import remove_stale_build_folders

    index = tmp_path / "index"
    script = PAUSED_BUILD.format(corpus=str(corpus_copy), index=str(index))
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # The tests folder on the path, for conftest.FakeEmbedder.
        env=clean_env(
            PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", str(ROOT))])
        ),
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
        (running,) = [p for p in tmp_path.iterdir() if p.name.startswith(".index.building-")]
        assert remove_stale_build_folders(index) == []  # a running build's folder is kept
        assert running.is_dir()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert running.is_dir()  # SIGKILL leaves it, as it would any process
    (tmp_path / ".index.old-4242-1700000000").mkdir()  # as the old swap code could leave
    build_index(corpus_copy, index, SETTINGS, fake_embedder, progress=False)
    assert leftovers(tmp_path) == []
    load_index(index, corpus_copy, SETTINGS, "fake-hash-embedder")


def test_concurrent_swaps_go_one_at_a_time_and_leave_nothing(tmp_path):
    """Eight finished builds swap themselves in at the same moment, five times over: each
    swap must succeed and no `.index.old-*` copy may be left (the old code raced here)."""
    from assistant import store

    index = tmp_path / "index"
    for round_ in range(5):
        folders = []
        for n in range(8):
            folder = tmp_path / f".index.building-r{round_}n{n}"
            folder.mkdir()
            (folder / "which").write_text(f"{round_}-{n}", encoding="utf-8")
            folders.append(folder)
        barrier = threading.Barrier(len(folders))

        def swap(folder: Path, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            store._swap_in(folder, index)

        with ThreadPoolExecutor(max_workers=len(folders)) as pool:
            errors = [f.exception() for f in [pool.submit(swap, f) for f in folders]]
        assert errors == [None] * len(folders)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
        assert (index / "which").read_text(encoding="utf-8").startswith(f"{round_}-")


# ---- item 5: indexes that a run must not replace --------------------------------------------


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A git checkout like the project's: corpus/ and the committed index/."""
    base = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "corpus", base / "corpus")
    shutil.copytree(ROOT / "index", base / "index", ignore=shutil.ignore_patterns("encoder"))
    # The 87 MB encoder is hard-linked (nothing writes into an index folder in place).
    shutil.copytree(
        ROOT / "index" / "encoder", base / "index" / "encoder", copy_function=link_or_copy
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(base)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "corpus", "index", ":!index/encoder"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "index"], check=True)
    other = base.parent / "other-corpus"
    other.mkdir()
    (other / "notes.txt").write_text("Zorblax is a cream.\n\nIt is applied daily.\n", "utf-8")
    return base


@pytest.mark.slow
def test_naming_another_corpus_never_replaces_the_default_index(checkout):
    before = checksums(checkout / "index")
    other = checkout.parent / "other-corpus"
    runs = {
        "ask": ("ask", "--corpus", str(other), "what are milia"),
        "build": ("build", "--corpus", str(other)),
        "env": ("ask", "what are milia"),
    }
    env = {
        "ask": clean_env(),
        "build": clean_env(),
        "env": clean_env(VERBATIM_CORPUS=str(other)),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(
            zip(runs, pool.map(lambda n: run_cli(*runs[n], cwd=checkout, env=env[n]), runs))
        )
    for name, result in results.items():
        assert_one_line_error(
            result, 4, "default index folder", f"--index {other.parent / 'other-corpus-index'}"
        )
        assert name == "build" or "changed since it was built" in result.stderr
        # one command only: the stale index's "Rebuild it with ... --index index" would
        # replace the very index the run refuses to replace
        assert result.stderr.count("assistant build") == 1, result.stderr
    assert checksums(checkout / "index") == before
    status = ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"]
    assert subprocess.run(status, capture_output=True, text=True).stdout == ""


def test_an_index_tracked_by_git_is_not_rebuilt_automatically(checkout, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(checkout / "corpus", corpus)
    with (corpus / "secondary-milia.txt").open("a", encoding="utf-8") as fh:
        fh.write("\nOne more sentence.\n")
    before = checksums(checkout / "index")
    result = run_cli("ask", "--corpus", str(corpus), "--index", str(checkout / "index"), "milia?")
    assert_one_line_error(result, 4, "tracked by git", "assistant build --corpus")
    assert checksums(checkout / "index") == before


# ---- issue 25, items 10 and 11: exit 3 or 4, never 1 ------------------------------------------


def remove_chain(top: Path) -> None:
    """Remove a chain of nested folders `top/d/d/...` without recursion: lift each level up."""
    while (top / "d").is_dir():
        lifted = top.with_name(top.name + "-next")
        os.rename(top / "d", lifted)
        shutil.rmtree(top)
        top = lifted.rename(top)
    shutil.rmtree(top)


def test_deep_folders_brackets_long_paths_and_a_file_as_index_are_exit_3_or_4(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    here = os.open(corpus, os.O_RDONLY)
    for _ in range(1000):  # pathlib and os.makedirs themselves recurse too deep for this
        os.mkdir("d", dir_fd=here)
        inner = os.open("d", os.O_RDONLY, dir_fd=here)
        os.close(here)
        here = inner
    os.close(here)
    try:
        result = run_cli("ask", "--corpus", str(corpus), "--index", str(tmp_path / "i1"), "milia?")
        assert_one_error_line(result, 3, "nested more than")
    finally:  # shutil.rmtree (and so pytest's cleanup) recurses too deep for this chain
        remove_chain(corpus / "d")

    corpus = tmp_path / "corpus-2"
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "secondary-milia.txt.meta.json").write_text("[" * 100_000, encoding="utf-8")
    result = run_cli("ask", "--corpus", str(corpus), "--index", str(tmp_path / "i2"), "milia?")
    assert_one_error_line(result, 3, "not valid JSON")

    index = tmp_path / "index"
    shutil.copytree(ROOT / "index", index)
    (index / "manifest.json").write_text("[" * 100_000, encoding="utf-8")
    result = run_cli("ask", "--no-rebuild", "--index", str(index), "milia?")
    assert_one_error_line(result, 4, "corrupt")

    too_long = str(tmp_path / ("x" * 5000))
    assert_one_error_line(run_cli("ask", "--corpus", too_long, "milia?"), 3, "too long")
    assert_one_error_line(run_cli("ask", "--index", too_long, "milia?"), 4, "too long")

    a_file = tmp_path / "a-file"
    a_file.write_text("keep me", encoding="utf-8")
    for command in (("ask", "milia?"), ("build",)):
        result = run_cli(*command, "--index", str(a_file))
        assert_one_error_line(result, 4, "is a file, not an index folder")
    assert a_file.read_text(encoding="utf-8") == "keep me"


def test_sentence_offsets_outside_their_passage_are_corrupt_on_load(tmp_path):
    index = tmp_path / "index"
    shutil.copytree(ROOT / "index", index)
    lines = (index / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["sentences"][0] = [first["end"] + 5, first["end"] + 40]  # a highlight past its end
    lines[0] = json.dumps(first, ensure_ascii=False)
    (index / "passages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((index / "passages.jsonl").read_bytes()).hexdigest()
    manifest["files"]["passages.jsonl"] = digest  # edited and rehashed
    (index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_cli("ask", "--no-rebuild", "--index", str(index), "What are milia?")
    assert_one_error_line(result, 4, "sentence offsets outside it")
