"""Screenshots of the browser chat for docs/app.md: desktop, phone and dark mode.

    python scripts/screenshots.py            # writes docs/img/app-*.png

Serves the app on 127.0.0.1 (the committed index, the real model), drives Debian's Chromium
(/usr/bin/chromium) with playwright, and asks the same questions each time, so the pictures
show the page as it is now.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chromium import CHROMIUM, launch  # scripts/chromium.py (this script's folder)
from ports import free_port  # scripts/ports.py

ROOT = Path(__file__).resolve().parent.parent
BOTS = "n => document.querySelectorAll('#vb-chat [data-testid=\"bot\"]').length >= n"
QUESTION = "Can medications cause milia?"
EXAMPLE = "Will a milia removal cream work?"


def shoot(browser, url: str, out: Path, *, phone: bool, dark: bool, source: bool = False) -> None:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = browser.new_context(
        viewport=viewport,
        color_scheme="dark" if dark else "light",
        reduced_motion="reduce",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#vb-question textarea", state="visible", timeout=60_000)
    page.wait_for_function("window.__verbatim === true")
    if phone and not source:
        page.wait_for_timeout(500)
        page.screenshot(path=str(out.with_name(out.stem + "-start.png")))
        page.get_by_role("button", name=EXAMPLE).tap()
        page.wait_for_function(BOTS, arg=1, timeout=60_000)
    else:
        page.fill("#vb-question textarea", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_function(BOTS, arg=1, timeout=60_000)
        page.wait_for_selector("#vb-source mark.vb-cited", state="attached", timeout=60_000)
        if source:
            page.locator("#vb-tab-source").tap()
    page.wait_for_timeout(800)
    page.screenshot(path=str(out))
    context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"screenshots: {CHROMIUM} is missing (apt-get install -y chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    from assistant import Assistant
    from assistant.web import build_demo

    assistant = Assistant.load(ROOT / "corpus", ROOT / "index", rebuild=False)
    demo = build_demo(assistant)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    args.out.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            browser = launch(p)
            shoot(browser, url, args.out / "app-desktop.png", phone=False, dark=False)
            shoot(browser, url, args.out / "app-dark.png", phone=False, dark=True)
            shoot(browser, url, args.out / "app-phone.png", phone=True, dark=False)
            shoot(
                browser, url, args.out / "app-phone-source.png", phone=True, dark=True, source=True
            )
            browser.close()
    finally:
        demo.close()
    for path in sorted(args.out.glob("app-*.png")):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{shown}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
