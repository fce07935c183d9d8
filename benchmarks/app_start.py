"""Cold start of the web app: process start to the first answer through the `/ask` API.

    python -m benchmarks.app_start [--runs 3]

Starts `python app.py` on a free 127.0.0.1 port, polls the REST API (POST
/gradio_api/call/ask, then the event stream) until an answer arrives, stops the server, and
prints the wall time per run. Writes benchmarks/results/app_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import httpx

from benchmarks import RESULTS, ROOT
from scripts.ports import free_port


def first_answer(base: str, deadline: float) -> dict:
    while time.monotonic() < deadline:
        try:
            event = httpx.post(
                f"{base}/gradio_api/call/ask",
                json={"data": ["Can steroid creams make milia worse?", 3]},
                timeout=5,
            )
            event.raise_for_status()
            event_id = event.json()["event_id"]
            with httpx.stream("GET", f"{base}/gradio_api/call/ask/{event_id}", timeout=30) as r:
                for line in r.iter_lines():
                    if line.startswith("data:") and '"status"' in line:
                        return json.loads(line[5:])[0]
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.05)
    raise TimeoutError("no answer within the deadline")


def one_run() -> float:
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answer = first_answer(f"http://127.0.0.1:{port}", started + 120)
        elapsed = time.monotonic() - started
        assert answer["status"] == "answered", answer
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = [one_run() for _ in range(args.runs)]
    result = {
        "runs_s": [round(t, 2) for t in times],
        "median_s": round(statistics.median(times), 2),
        "load_average": os.getloadavg(),
    }
    print(
        f"app.py start to first /ask answer: median {result['median_s']} s over {args.runs} runs "
        f"({', '.join(f'{t:.2f}' for t in times)}); load average {result['load_average']}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "app_start.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
