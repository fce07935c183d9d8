"""Reliability: load, overload, restarts and faults give clear messages or safe recovery.

Never a traceback to the user, never a silently wrong answer. The load tests reuse
benchmarks/load.py (the same question mix and the same answer verification).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cli_helpers import run_cli
from paths import ROOT

from assistant.errors import IndexStaleError
from benchmarks import load
from scripts.ports import free_port


def env_without_verbatim(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


def cli(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_cli(*args, stdin=stdin, timeout=timeout, env=env_without_verbatim())


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    err = result.stderr.strip()
    assert result.returncode == code, (result.returncode, err)
    assert "Traceback" not in err and result.stdout == ""
    # Log lines (a warning before a rebuild is tried) may come first; the error is one line.
    lines = [line for line in err.splitlines() if not line.startswith(("WARNING ", "INFO "))]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for word in words:
        assert word in err, (word, err)


def checksums(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---- load and overload against an app in this process ----------------------------------------


@pytest.fixture(scope="module")
def url(real_assistant) -> Iterator[str]:
    from assistant.web import build_demo

    app = build_demo(real_assistant)
    app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True
    )
    yield app.local_url.rstrip("/")
    app.close()


@pytest.mark.server
@pytest.mark.model
def test_quick_load_has_no_errors_and_every_answer_is_verbatim(url):
    result = asyncio.run(load.run_load(url, users=8, seconds=10))
    assert result["errors"] == 0, result["error_examples"]
    assert result["requests"] >= 16
    assert {"answered", "invalid"} <= set(result["statuses"])


@pytest.mark.server
@pytest.mark.model
def test_overload_is_refused_clearly_and_the_server_recovers(url):
    started = time.monotonic()
    result = asyncio.run(load.run_overload(url, callers=150, probes=2))
    assert time.monotonic() - started < 120
    assert result["refused"] > 0, result
    assert "Queue is full" in result["refusal_message"]
    # Refused at once by the guard, not after Gradio has parsed every join before it (0.69 s
    # for 200 callers on a quiet machine, docs/reliability.md; the bound leaves room for load).
    assert result["burst_refusal_ms_max"] < 5_000
    assert "Try again in a moment" in result["refusal_message"]  # the guard's, not Gradio's
    assert result["admitted"] >= 64
    assert result["admitted_errors"] == 0, result["admitted_error_examples"]
    assert result["after_ok"]


# ---- the CLI on broken indexes --------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """(corpus, index) pairs, each a private copy with one thing wrong."""
    base = tmp_path_factory.mktemp("broken")
    cases: dict[str, tuple[Path, Path]] = {}

    def make(name: str) -> tuple[Path, Path]:
        corpus, index = base / name / "corpus", base / name / "index"
        shutil.copytree(ROOT / "corpus", corpus)
        shutil.copytree(ROOT / "index", index)
        cases[name] = (corpus, index)
        return corpus, index

    corpus, index = make("index missing")
    shutil.rmtree(index)
    corpus, index = make("empty folder")
    shutil.rmtree(index)
    index.mkdir()
    _, index = make("truncated faiss")
    data = (index / "passages.faiss").read_bytes()
    (index / "passages.faiss").write_bytes(data[: len(data) // 2])
    _, index = make("garbage file")
    (index / "passages.jsonl").write_bytes(os.urandom(4096))
    _, index = make("flipped byte")
    data = bytearray((index / "sentences.npy").read_bytes())
    data[len(data) // 2] ^= 0x01
    (index / "sentences.npy").write_bytes(bytes(data))
    _, index = make("manifest missing")
    (index / "manifest.json").unlink()
    _, index = make("manifest corrupt")
    text = (index / "manifest.json").read_text(encoding="utf-8")
    (index / "manifest.json").write_text(text[: len(text) // 2], encoding="utf-8")
    for name, edit in [
        ("other model", lambda m: m.update(model="sentence-transformers/all-mpnet-base-v2")),
        ("other settings", lambda m: m["settings"].update(max_passage_chars=123)),
    ]:
        _, index = make(name)
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
        edit(manifest)
        (index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    corpus, _ = make("corpus changed")
    with (corpus / "secondary-milia.txt").open("a", encoding="utf-8") as fh:
        fh.write("\nOne more sentence.\n")
    corpus, _ = make("corpus added")
    (corpus / "extra.md").write_text("# Extra\n\nAnother document.\n", encoding="utf-8")
    corpus, _ = make("corpus removed")
    (corpus / "secondary-milia.txt.meta.json").unlink()
    return cases


EXPECTED = {
    "index missing": "no index here",
    "empty folder": "no index here",
    "truncated faiss": "passages.faiss does not match its checksum",
    "garbage file": "passages.jsonl does not match its checksum",
    "flipped byte": "sentences.npy does not match its checksum",
    "manifest missing": "manifest.json is missing",
    "manifest corrupt": "manifest.json is corrupt",
    "other model": "built with model 'sentence-transformers/all-mpnet-base-v2'",
    "other settings": "built with settings",
    "corpus changed": "changed since it was built",
    "corpus added": "changed since it was built",
    "corpus removed": "changed since it was built",
}


@pytest.mark.slow
def test_broken_index_is_a_one_line_error_naming_the_command(broken):
    """Every case fails before the model loads, so they run side by side in a second or two."""

    def run(name: str) -> subprocess.CompletedProcess:
        corpus, index = broken[name]
        return cli("ask", "--no-rebuild", "--corpus", str(corpus), "--index", str(index), "milia?")

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(EXPECTED, pool.map(run, EXPECTED)))
    for name, words in EXPECTED.items():
        assert_one_line_error(results[name], 4, words, "assistant build")


def test_deleting_the_only_document_is_a_corpus_error(tmp_path):
    (tmp_path / "corpus").mkdir()
    result = cli("ask", "--corpus", str(tmp_path / "corpus"), "--index", str(ROOT / "index"), "q")
    assert_one_line_error(result, 3, "holds no .txt or .md files")


@pytest.fixture(scope="module")
def unavailable_model(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, dict, dict]:
    """`ask --model no-such-org/no-such-model` on a writable index copy, so it tries to rebuild."""
    base = tmp_path_factory.mktemp("no-model")
    index = base / "index"
    shutil.copytree(ROOT / "index", index)
    before = checksums(index)
    result = cli(
        "ask",
        "--model",
        "no-such-org/no-such-model",
        "--corpus",
        str(ROOT / "corpus"),
        "--index",
        str(index),
        "milia?",
    )
    return result, base, before, checksums(index)


@pytest.mark.model
def test_unavailable_model_is_exit_5_and_leaves_the_index_alone(unavailable_model):
    result, base, before, after = unavailable_model
    assert result.returncode == 5 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "Error: cannot load embedding model 'no-such-org/no-such-model'" in result.stderr
    assert "cannot be downloaded here" in result.stderr
    assert after == before
    assert sorted(p.name for p in base.iterdir()) == ["index"]  # no half-built folder


@pytest.mark.model
def test_unavailable_model_error_is_one_line(unavailable_model):
    assert_one_line_error(unavailable_model[0], 5, "no-such-org/no-such-model")


# ---- corpus faults --------------------------------------------------------------------------


@pytest.mark.slow
def test_bad_corpus_files_are_named_with_a_clear_reason(tmp_path):
    cases = {
        "utf8": (b"Milia are small.\n\xff\xfe bad bytes\n", "not valid UTF-8 (bad byte 0xff"),
        "empty": (b"", "the file is empty"),
        "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00" + os.urandom(512), "binary file"),
        "huge": (None, "over the limit of 20,971,520 bytes"),
    }

    def run(name: str) -> subprocess.CompletedProcess:
        corpus = tmp_path / name
        corpus.mkdir()
        path = corpus / f"{name}.txt"
        content = cases[name][0]
        if content is None:
            with path.open("wb") as fh:  # 50 MB, sparse: nothing is written to the disk
                fh.truncate(50 * 2**20)
        else:
            path.write_bytes(content)
        return cli("build", "--corpus", str(corpus), "--index", str(tmp_path / f"{name}-index"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(cases, pool.map(run, cases)))
    for name, (_, words) in cases.items():
        assert_one_line_error(results[name], 3, f"{name}.txt", words)
        assert not (tmp_path / f"{name}-index").exists()


# ---- a read-only stale index ----------------------------------------------------------------


@contextmanager
def read_only_view(source: Path, target: Path) -> Iterator[bool]:
    """`target` becomes a read-only bind mount of `source` (True), or a plain copy when this
    machine cannot mount (False: callers then simulate read-only another way)."""
    target.mkdir()
    mounted = False
    try:
        subprocess.run(
            ["mount", "--bind", str(source), str(target)], check=True, capture_output=True
        )
        mounted = True
        subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(target)], check=True, capture_output=True
        )
        yield True
    except (OSError, subprocess.CalledProcessError):
        if mounted:
            subprocess.run(["umount", str(target)], capture_output=True)
            mounted = False
        shutil.rmtree(target)
        shutil.copytree(source, target)
        yield False
    finally:
        if mounted:
            subprocess.run(["umount", str(target)], check=True, capture_output=True)


@pytest.fixture
def stale_read_only(corpus_copy, tmp_path) -> Iterator[tuple[Path, Path, bool]]:
    """(corpus, index, really read-only): the committed index seen read-only, the corpus changed."""
    with (corpus_copy / "secondary-milia.txt").open("a", encoding="utf-8") as fh:
        fh.write("\nOne more sentence.\n")
    index = tmp_path / "index-copy"
    shutil.copytree(ROOT / "index", index)
    with read_only_view(index, tmp_path / "ro-index") as really:
        yield corpus_copy, tmp_path / "ro-index", really


def test_read_only_stale_index_raises_naming_the_command(stale_read_only, monkeypatch):
    from assistant import engine
    from assistant.engine import Assistant

    corpus, index, really = stale_read_only
    if not really:
        monkeypatch.setattr(engine, "_writable", lambda _: False)
    builds = []
    monkeypatch.setattr(engine, "build_index", lambda *a, **k: builds.append(a))
    monkeypatch.setattr(engine, "load_embedder", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(IndexStaleError) as raised:
        Assistant.load(corpus, index, rebuild=True)
    message = str(raised.value)
    assert "assistant build" in message and "read-only" in message
    assert builds == []  # no attempt to rebuild, in memory or anywhere else


@pytest.mark.slow
def test_read_only_stale_index_through_the_cli_and_the_app(stale_read_only):
    corpus, index, really = stale_read_only
    if not really:
        pytest.skip("cannot make a read-only bind mount here")
    ask = cli("ask", "--corpus", str(corpus), "--index", str(index), "milia?")
    assert_one_line_error(ask, 4, "stale", "assistant build", "read-only")
    app = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_without_verbatim(
            VERBATIM_CORPUS=str(corpus),
            VERBATIM_INDEX=str(index),
            GRADIO_SERVER_PORT=str(free_port()),
        ),
        timeout=120,
    )
    assert app.returncode == 1
    assert "Traceback" not in app.stderr
    assert app.stderr.strip().splitlines()[-1].startswith("verbatim: the index in")
    assert "assistant build" in app.stderr


# ---- a server restart under load ------------------------------------------------------------


@pytest.mark.server
@pytest.mark.model
def test_server_restart_mid_load_recovers_and_never_corrupts_the_index():
    texts = load.corpus_texts()
    index_before = checksums(ROOT / "index")
    events: list[tuple[float, str]] = []  # (time, "ok" | error)
    stop = threading.Event()
    app = load.AppProcess().start()

    def client() -> None:
        with httpx.Client(base_url=app.url, timeout=30) as http:
            while not stop.is_set():
                try:
                    posted = http.post(
                        "/gradio_api/call/ask", json={"data": ["What are milia?", 2]}
                    )
                    posted.raise_for_status()
                    stream = http.get(f"/gradio_api/call/ask/{posted.json()['event_id']}")
                    data = next(
                        json.loads(line[5:])
                        for line in stream.text.splitlines()
                        if line.startswith("data:") and "status" in line
                    )
                    problems = load.verify(data[0], texts)
                    events.append((time.monotonic(), "; ".join(problems) or "ok"))
                except (httpx.HTTPError, StopIteration, ValueError) as exc:
                    events.append((time.monotonic(), f"down: {type(exc).__name__}"))
                    time.sleep(0.2)

    def wait_for(predicate, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, events[-5:]
            time.sleep(0.1)

    workers = [threading.Thread(target=client) for _ in range(3)]
    try:
        for w in workers:
            w.start()
        wait_for(lambda: sum(e == "ok" for _, e in events) >= 6)
        killed_at = time.monotonic()
        app.stop()  # SIGTERM while the clients are asking
        wait_for(lambda: sum(e.startswith("down") for t, e in events if t > killed_at) >= 3)
        app.start()  # same port
        restarted_at = time.monotonic()
        wait_for(lambda: sum(e == "ok" for t, e in events if t > restarted_at) >= 6)
    finally:
        stop.set()
        for w in workers:
            w.join(60)
        app.stop()
    outcomes = {e for _, e in events}
    assert outcomes <= {"ok"} | {e for e in outcomes if e.startswith("down")}, outcomes
    assert checksums(ROOT / "index") == index_before

    from assistant.store import read_manifest, verify_checksums

    verify_checksums(ROOT / "index", read_manifest(ROOT / "index"))
