"""Running the CLI the way a person does: a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from paths import ROOT


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any VERBATIM_* setting, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


def run_cli(
    *args: str,
    stdin: str | None = None,
    cwd: Path = ROOT,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """`python -m assistant ARGS...`, capturing stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        timeout=timeout,
    )
