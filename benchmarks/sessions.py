"""Many chat sessions full of long messages: how much server memory a session can take.

    python -m benchmarks.sessions                  # 40 sessions
    python -m benchmarks.sessions --sessions 100

Launches `python app.py` on a free port. Each session sends, as the page's example button does
(`queue/join` of its send event, which no length check guarded before issue 25), `MAX_SENT`
messages of 30,000 characters, then asks `/chat` `MAX_TURNS` more of them. The server's
resident memory is sampled before and after; the growth per session is the figure. Before
issue 25 every message was kept whole (20 sessions took the server from 607 to 741 MB, about
6.7 MB a session); now a session keeps at most 1,000 characters of any message. Results go to
benchmarks/results/sessions.json.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchmarks.gradio_queue import fn_index, queue_event
from benchmarks.load import RESULTS, AppProcess, machine
from benchmarks.soak import rss_mb

BATCH = 10  # sessions between two memory samples
LONG = ("what causes milia " * 1700)[:30_000]


def succeeded(http: httpx.Client, index: int, data: list, session: str) -> bool:
    """Run event `index` in `session` through Gradio's queue; whether it succeeded."""
    try:
        return bool(queue_event(http, index, data, session).get("success"))
    except (httpx.HTTPStatusError, RuntimeError):  # refused at join, or never completed
        return False


def fill_session(url: str, number: int, send: int, chat: int) -> int:
    """One session's long messages; how many events failed."""
    from assistant.web.controller import MAX_SENT
    from assistant.web_safety import MAX_TURNS

    session = f"bench-session-{number}"
    failed = 0
    with httpx.Client(base_url=url, timeout=120) as http:
        for _ in range(MAX_SENT):
            failed += not succeeded(http, send, [LONG, None], session)
        for _ in range(MAX_TURNS):
            failed += not succeeded(http, chat, [LONG, 3, None], session)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    args = parser.parse_args(argv)
    with AppProcess() as app:
        assert app.proc is not None
        with httpx.Client(base_url=app.url, timeout=60) as http:
            send = fn_index(http, "send_example")
            chat = fn_index(http, "chat")
        time.sleep(2)
        before = rss_mb(app.proc.pid)
        started = time.monotonic()
        samples, failed = [round(before, 1)], 0
        with ThreadPoolExecutor(max_workers=4) as pool:
            for first in range(0, args.sessions, BATCH):
                numbers = range(first, min(first + BATCH, args.sessions))
                failed += sum(pool.map(lambda n: fill_session(app.url, n, send, chat), numbers))
                time.sleep(1)
                samples.append(round(rss_mb(app.proc.pid), 1))
        after = samples[-1]
        # The first batch also warms the server up (allocator arenas, caches); the growth
        # over the later batches is what each further session costs.
        later = (samples[-1] - samples[1]) / max(1, args.sessions - BATCH)
        result = {
            "sessions": args.sessions,
            "message_chars": len(LONG),
            "failed_events": failed,
            "rss_before_mb": round(before, 1),
            "rss_after_mb": round(after, 1),
            "rss_every_10_sessions_mb": samples,
            "mb_per_session": round((after - before) / args.sessions, 3),
            "mb_per_session_after_the_first_10": round(later, 3),
            "seconds": round(time.monotonic() - started, 1),
            "machine": machine(),
        }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sessions.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
