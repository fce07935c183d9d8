"""How this project runs a browser: Debian's Chromium (apt-get install -y chromium) driven by
the Python playwright package, never a browser playwright downloads. Used by the browser tests
(tests/test_browser*.py, tests/test_http_guard.py) and scripts/screenshots.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, no sandbox (containers), and nothing that reaches the network on its own.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """Debian's Chromium with `ARGS`, from a started `sync_playwright()` (its `Browser`)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
