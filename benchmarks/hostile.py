"""Hostile clients against `python app.py`: the issue-12 attacks, with the server's memory.

    python -m benchmarks.hostile

Launches `python app.py` on a free port and measures, with the server's resident memory
(VmRSS) before and after each step:

1. five requests announcing a 100 MB JSON body to /gradio_api/call/ask (1 MB actually sent);
2. eight such requests at once, each really sending its 100 MB;
3. 200 uploads of one byte (every one must be refused with 413);
4. 300 thumbs-up votes from one session in a burst (how many are stored).

Before the front door (assistant/http_guard.py) the first step took the server from 411 to
1,139 MB and the second peaked at 3.7 GB (issue 12). Results go to
benchmarks/results/hostile.json.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.load import RESULTS, AppProcess, machine
from benchmarks.soak import rss_mb


def announce(port: int, send_bytes: int) -> str:
    """POST a body announced as 100 MB, sending `send_bytes` of it; the status line back."""
    head = (
        b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n" % port
    )
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(head)
        sent, block = 0, b"a" * 65536
        try:
            while sent < send_bytes:
                s.sendall(block)
                sent += len(block)
        except OSError:
            pass  # the server answered and closed: the rest is never read
        try:
            return s.recv(200).split(b"\r\n", 1)[0].decode()
        except OSError as exc:
            return f"closed ({type(exc).__name__})"


def main() -> None:
    results: dict[str, object] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        feedback = Path(tmp) / "feedback.jsonl"
        env = {"VERBATIM_FEEDBACK_LOG": str(feedback), "GRADIO_TEMP_DIR": str(Path(tmp) / "g")}
        with AppProcess(env=env) as app:
            assert app.proc is not None
            pid = app.proc.pid
            start = rss_mb(pid)
            statuses = [announce(app.port, 1_000_000) for _ in range(5)]
            results["five_100MB"] = {
                "before_mb": start,
                "after_mb": rss_mb(pid),
                "statuses": statuses,
            }
            before = rss_mb(pid)
            peak = before
            with ThreadPoolExecutor(8) as pool:
                futures = [pool.submit(announce, app.port, 100_000_000) for _ in range(8)]
                while not all(f.done() for f in futures):
                    peak = max(peak, rss_mb(pid))
                    time.sleep(0.05)
            results["eight_100MB_at_once"] = {
                "before_mb": before,
                "peak_mb": peak,
                "after_mb": rss_mb(pid),
                "statuses": [f.result() for f in futures],
            }
            with httpx.Client(base_url=app.url, timeout=60) as http:
                codes = [
                    http.post("/gradio_api/upload", files={"files": (f"{i}.txt", b"x")}).status_code
                    for i in range(200)
                ]
                written = [p for p in (Path(tmp) / "g").rglob("*") if p.is_file()]
                results["uploads"] = {
                    "requests": 200,
                    "status_codes": sorted(set(codes)),
                    "files_written": len(written),
                }
                from gradio_client import Client

                client = Client(app.url, verbose=False, analytics_enabled=False)
                client.predict("What are milia?", 1, api_name="/chat")
                config = http.get("/config").json()
                like = next(
                    d["id"] for d in config["dependencies"] if d.get("api_name") == "on_like"
                )
                started = time.monotonic()
                for i in range(300):
                    http.post(
                        "/gradio_api/queue/join",
                        json={
                            "data": [None],
                            "fn_index": like,
                            "session_hash": client.session_hash,
                            "event_data": {"index": 1, "value": "", "liked": i % 2 == 0},
                        },
                    )
                time.sleep(2)
                stored = len(feedback.read_text("utf-8").splitlines()) if feedback.exists() else 0
                results["votes"] = {
                    "sent": 300,
                    "seconds": round(time.monotonic() - started, 1),
                    "stored": stored,
                }
            results["end_mb"] = rss_mb(pid)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hostile.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
