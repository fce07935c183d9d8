"""`assistant chat` run as a person runs it: in a real pseudo-terminal, and with stdin piped.

The follow-up rules are the engine's (test_conversation.py); here we check that the terminal
chat uses them, prompts, marks, and ends cleanly.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from cli_helpers import ROOT, clean_env, run_cli
from paths import DISCLAIMER

from assistant.answer import TEMPLATES

pytestmark = pytest.mark.model

FIRST = "Do milia go away on their own?"
FOLLOWUP = "what about on babies?"
NEWBORNS = "Milia may appear in newborns"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal:
    """`python -m assistant chat` with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "chat", "--no-rebuild"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=clean_env(TERM="xterm", COLUMNS="200"),
            close_fds=True,
        )
        os.close(slave)
        self.seen = ""
        self.cursor = 0  # where the next `expect` starts looking

    def expect(self, text: str, timeout: float = 240) -> str:
        """Read until `text` appears after the previous match (ANSI colours removed); return
        the screen from the previous match to the end of this one."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.cursor :]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared; the screen so far:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], min(left, 1.0))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    raise AssertionError(f"the chat ended before {text!r}:\n{self.seen}")
                self.seen += ANSI.sub("", chunk.decode("utf-8", "replace"))
        start = self.cursor
        self.cursor = self.seen.index(text, start) + len(text)
        return self.seen[start : self.cursor]

    def send(self, line: str) -> None:
        os.write(self.master, line.encode("utf-8") + b"\r")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)


@pytest.fixture
def terminal():
    term = Terminal()
    yield term
    if term.proc.poll() is None:
        term.proc.kill()
        term.proc.wait()


def test_chat_in_a_terminal_reads_follow_ups_with_the_previous_question(terminal):
    terminal.expect("You: ")
    assert "/new" in terminal.seen and "/quit" in terminal.seen  # the banner says how
    terminal.send(FIRST)
    terminal.expect(DISCLAIMER)
    terminal.expect("You: ")
    terminal.send(FOLLOWUP)
    reply = terminal.expect(DISCLAIMER)
    assert f"{TEMPLATES['followup']} “{FIRST}”" in reply
    assert NEWBORNS in reply and "[1] What is Secondary Milia" in reply

    terminal.expect("You: ")
    terminal.send("/new")  # forget the conversation: the same follow-up is now read alone
    terminal.expect("New conversation")
    terminal.send(FOLLOWUP)
    assert TEMPLATES["followup"] not in terminal.expect(TEMPLATES["not_found"])

    terminal.send("Sind Milien gefährlich?")
    terminal.expect(TEMPLATES["not_english"])
    terminal.expect("You: ")
    terminal.send("/quit")
    assert terminal.close() == 0
    assert "Traceback" not in terminal.seen


def test_ctrl_d_ends_the_chat_cleanly(terminal):
    terminal.expect("You: ")
    os.write(terminal.master, b"\x04")
    assert terminal.close() == 0
    assert "Traceback" not in terminal.seen


def test_chat_reads_one_conversation_from_stdin():
    lines = [
        FIRST,
        FOLLOWUP,
        "",
        "thanks!",
        "and how long does that last?",
        "Sind Milien gefährlich?",
    ]
    result = run_cli("chat", "--json", "--no-rebuild", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == lines  # one answer per line, in order
    statuses = [a["status"] for a in answers]
    assert statuses[:4] + statuses[5:] == [
        "answered",
        "answered",
        "invalid",
        "chitchat",
        "not_english",
    ]
    assert statuses[4] in ("answered", "related")  # quoted; the confidence model may hedge it
    assert [a["previous_question"] for a in answers] == [None, FIRST, None, None, FOLLOWUP, None]
    assert NEWBORNS in answers[1]["passages"][0]["text"]
    assert answers[5]["language"] == "de"


def test_chat_text_output_from_stdin_says_what_it_read_together():
    result = run_cli("chat", "--no-rebuild", "-k", "1", stdin=f"{FIRST}\n{FOLLOWUP}\n")
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.split("-" * 60)
    assert f"Q: {FIRST}" in first and TEMPLATES["followup"] not in first
    assert f"Q: {FOLLOWUP}" in second
    assert f"{TEMPLATES['followup']} “{FIRST}”" in second and NEWBORNS in second
    assert "You: " not in result.stdout  # no prompt when stdin is not a terminal
