"""Load test of the browser app's REST API, with every answer checked against the corpus.

    python -m benchmarks.load                  # 20 users for 60 s (launches `python app.py`)
    python -m benchmarks.load --quick          # 20 users for 10 s
    python -m benchmarks.load --overload       # 150 callers at once: the queue turns some away
    python -m benchmarks.load --url http://127.0.0.1:7860 --users 8 --seconds 30

Each simulated user loops: POST /gradio_api/call/ask {"data": [question, k]}, then reads the
server-sent result from GET /gradio_api/call/ask/{event_id}. Questions are a realistic mix:
answerable ones from eval/questions.jsonl, lay and off-topic questions, small talk, and junk
("", NUL, 5,000 letters, HTML and markdown payloads). Every answer is verified: its status is
one of the four, every passage's text is exactly corpus_file[start:end] with the highlight
inside it, and anything but `answered` carries no passage. Any error or unverified answer makes
the exit status non-zero.

--overload sends more requests at once than the queue admits (concurrency 2, queue 64, see
assistant/web/layout.py): the extra ones must be refused quickly and clearly (HTTP 503 "Queue is
full"), the admitted ones must still be answered correctly, and the server must answer normally
afterwards. Results are printed as a table and written to benchmarks/results/load.json (or
load-overload.json). The load average is recorded with them: timings depend on what else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import RESULTS, ROOT
from scripts.ports import free_port

# The statuses of the `/ask` contract (assistant/answer.py STATUSES; README).
STATUSES = ("answered", "related", "not_found", "chitchat", "invalid", "not_english")
QUOTING = ("answered", "related")

LAY = [
    "why do i get little white bumps under my eyes",
    "can i pop these white spots on my face",
    "is it bad to use thick creams if i get milia",
    "do the white bumps go away by themselves",
    "my baby has tiny white dots on her nose, is that milia?",
]
OFF_TOPIC = [
    "Who painted the Mona Lisa?",
    "What is the capital of Australia?",
    "How do I bake sourdough bread?",
    "Qu'est-ce que la milia secondaire ?",
    "继发性粟粒疹是什么？",
    "ما هي الدخينات الثانوية؟",
    "🙂🙂 milia? 🧴",
]
CHITCHAT = ["hi", "thanks", "who are you?"]
JUNK = [
    "",
    "   ",
    "\x00",
    "what are\x00 milia",
    "a" * 5000,
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script> what are milia?",
    "![x](http://127.0.0.2:9/x.png) [click](javascript:alert(1))",
    "**bold** _it_ `code` # heading | table |",
    "\u202eagreement\u202c milia \u200b\u200d?",
]


def load_questions(path: Path = ROOT / "eval" / "questions.jsonl") -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if item.get("answerable"):
                out.append(item["question"])
    return out


def question_mix(answerable: list[str]) -> list[tuple[str, str, int]]:
    """(kind, question, k) weighted like real traffic: mostly real questions, some junk."""
    mix: list[tuple[str, str, int]] = []
    mix += [("answerable", q, 3) for q in answerable]
    mix += [("lay", q, 3) for q in LAY] * 4
    mix += [("off_topic", q, 3) for q in OFF_TOPIC] * 2
    mix += [("chitchat", q, 3) for q in CHITCHAT]
    mix += [("junk", q, 3) for q in JUNK] * 2
    mix += [("answerable", q, k) for q, k in zip(answerable[:10], (1, 5, 10, 20, 2) * 2)]
    return mix


def corpus_texts(corpus: Path = ROOT / "corpus") -> dict[str, str]:
    """Every document as the engine reads it: bytes decoded as UTF-8, no newline translation."""
    return {
        p.relative_to(corpus).as_posix(): p.read_bytes().decode("utf-8")
        for p in sorted(corpus.rglob("*"))
        if p.is_file() and p.suffix in (".txt", ".md")
    }


def verify(answer: object, texts: dict[str, str]) -> list[str]:
    """Problems with one /ask answer (empty when it is well formed and verbatim)."""
    if not isinstance(answer, dict):
        return [f"answer is {type(answer).__name__}, not an object"]
    problems = []
    status = answer.get("status")
    passages = answer.get("passages")
    if status not in STATUSES:
        problems.append(f"unknown status {status!r}")
    if not isinstance(answer.get("answer"), str) or not answer["answer"]:
        problems.append("no answer text")
    if not isinstance(passages, list):
        return [*problems, "passages is not a list"]
    if status in QUOTING and not passages:
        problems.append(f"{status} without passages")
    if status not in QUOTING and passages:
        problems.append(f"{status} with {len(passages)} passages")
    if status == "invalid" and not answer.get("message"):
        problems.append("invalid without a message")
    for p in passages:
        text = texts.get(p.get("source"))
        if text is None:
            problems.append(f"passage from unknown source {p.get('source')!r}")
            continue
        start, end, h = p.get("start"), p.get("end"), p.get("highlight") or {}
        if text[start:end] != p.get("text"):
            problems.append(f"passage {p.get('number')} is not {p['source']}[{start}:{end}]")
        if not (start <= h.get("start", -1) < h.get("end", -1) <= end):
            problems.append(f"passage {p.get('number')} highlight {h} outside [{start}, {end}]")
    return problems


# ---- one call -------------------------------------------------------------------------------


@dataclass
class Call:
    kind: str
    latency: float
    status: str | None = None  # the answer's status
    http_status: int | None = None
    error: str | None = None  # transport error, HTTP error, error event or unverified answer
    refused: bool = False  # HTTP 503 "Queue is full"
    answer: dict[str, Any] | None = field(default=None, repr=False)


async def read_result(http: httpx.AsyncClient, event_id: str) -> tuple[str, Any]:
    """(event, data) of the SSE stream's final event: `complete` or `error`."""
    event = None
    async with http.stream("GET", f"/gradio_api/call/ask/{event_id}") as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line[5:])
    return "eof", None


async def ask(
    http: httpx.AsyncClient, kind: str, question: str, k: int, texts: dict[str, str]
) -> Call:
    started = time.perf_counter()
    try:
        posted = await http.post("/gradio_api/call/ask", json={"data": [question, k]})
        if posted.status_code != 200:
            return Call(
                kind,
                time.perf_counter() - started,
                http_status=posted.status_code,
                refused=posted.status_code == 503 and "Queue is full" in posted.text,
                error=f"HTTP {posted.status_code}: {posted.text[:120]}",
            )
        event, data = await read_result(http, posted.json()["event_id"])
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return Call(kind, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - started
    if event != "complete" or not isinstance(data, list) or not data:
        return Call(kind, latency, http_status=200, error=f"{event} event: {str(data)[:120]}")
    answer = data[0]
    problems = verify(answer, texts)
    status = answer.get("status") if isinstance(answer, dict) else None
    return Call(
        kind,
        latency,
        status=status,
        http_status=200,
        error="; ".join(problems) or None,
        answer=answer,
    )


# ---- load and overload ----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summarise(calls: list[Call], seconds: float) -> dict[str, Any]:
    latencies = [c.latency for c in calls if c.error is None]
    statuses: dict[str, int] = {}
    for c in calls:
        if c.status:
            statuses[c.status] = statuses.get(c.status, 0) + 1
    errors = [c for c in calls if c.error]
    return {
        "requests": len(calls),
        "errors": len(errors),
        "error_examples": sorted({c.error for c in errors if c.error})[:5],
        "seconds": round(seconds, 2),
        "throughput_rps": round(len(calls) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
        "statuses": statuses,
    }


async def run_load(
    url: str, users: int, seconds: float, *, seed: int = 0, texts: dict[str, str] | None = None
) -> dict[str, Any]:
    """`users` concurrent loops of ask-and-wait for `seconds`; the summary of every call."""
    texts = texts if texts is not None else corpus_texts()
    mix = question_mix(load_questions())
    calls: list[Call] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(
        max_connections=2 * users + 4, max_keepalive_connections=2 * users, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def user(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            while time.perf_counter() < deadline:
                kind, question, k = rng.choice(mix)
                calls.append(await ask(http, kind, question, k, texts))

        started = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        elapsed = time.perf_counter() - started
    summary = summarise(calls, elapsed)
    summary["users"] = users
    summary["by_kind"] = {
        kind: sum(1 for c in calls if c.kind == kind) for kind in sorted({c.kind for c in calls})
    }
    return summary


async def post_only(http: httpx.AsyncClient, question: str, k: int) -> tuple[int, str, float]:
    """(HTTP status, body, seconds) of joining the queue, without waiting for the answer."""
    started = time.perf_counter()
    try:
        posted = await http.post("/gradio_api/call/ask", json={"data": [question, k]})
    except httpx.HTTPError as exc:
        return 0, f"{type(exc).__name__}: {exc}", time.perf_counter() - started
    return posted.status_code, posted.text, time.perf_counter() - started


async def run_overload(
    url: str, callers: int, *, probes: int = 5, texts: dict[str, str] | None = None
) -> dict[str, Any]:
    """`callers` requests at the same moment, `probes` more while the queue is full, then one
    normal request once it has drained. Admitted requests must all be answered correctly."""
    texts = texts if texts is not None else corpus_texts()
    answerable = load_questions()
    limits = httpx.Limits(
        max_connections=callers + 8, max_keepalive_connections=callers, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        await http.get("/gradio_api/info")
        started = time.perf_counter()
        joined = await asyncio.gather(
            *(post_only(http, answerable[i % len(answerable)], 3) for i in range(callers))
        )
        burst_seconds = time.perf_counter() - started
        # Callers arriving while the queue is full: how fast is the refusal?
        probed = [await post_only(http, "What are milia?", 3) for _ in range(probes)]

        async def finish(code: int, body: str, latency: float) -> Call:
            if code != 200:
                return Call(
                    "overload",
                    latency,
                    http_status=code,
                    refused=code == 503 and "Queue is full" in body,
                    error=f"HTTP {code}: {body[:120]}",
                )
            t = time.perf_counter()
            try:
                event, data = await read_result(http, json.loads(body)["event_id"])
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                return Call("overload", latency, error=f"{type(exc).__name__}: {exc}")
            total = latency + time.perf_counter() - t
            if event != "complete" or not data:
                return Call("overload", total, error=f"{event} event: {str(data)[:120]}")
            problems = verify(data[0], texts)
            return Call(
                "overload", total, status=data[0].get("status"), error="; ".join(problems) or None
            )

        calls = await asyncio.gather(*(finish(*j) for j in [*joined, *probed]))
        elapsed = time.perf_counter() - started
        after = await ask(http, "after", "Can medications cause milia?", 3, texts)
    refused = [c for c in calls if c.refused]
    served = [c for c in calls if not c.refused]
    probe_refusals = [latency for code, _, latency in probed if code == 503]
    return {
        "callers": callers,
        "admitted": len(served),
        "refused": len(refused),
        "refusal_message": refused[0].error if refused else None,
        "burst_join_seconds": round(burst_seconds, 2),
        "burst_refusal_ms_p50": round(percentile([c.latency for c in refused], 50) * 1000, 1),
        "burst_refusal_ms_max": round(
            max((c.latency for c in refused), default=float("nan")) * 1000, 1
        ),
        "probes_refused": f"{len(probe_refusals)}/{probes}",
        "probe_refusal_ms_max": round(max(probe_refusals, default=float("nan")) * 1000, 1),
        "admitted_errors": sum(1 for c in served if c.error),
        "admitted_error_examples": sorted({c.error for c in served if c.error})[:5],
        "admitted_ms_p50": round(percentile([c.latency for c in served], 50) * 1000, 1),
        "admitted_ms_max": round(max((c.latency for c in served), default=float("nan")) * 1000, 1),
        "seconds": round(elapsed, 2),
        "after_ok": after.error is None and after.status == "answered",
        "after_ms": round(after.latency * 1000, 1),
    }


# ---- the server -----------------------------------------------------------------------------


class AppProcess:
    """`python app.py` on a free port of 127.0.0.1, as a context manager."""

    def __init__(self, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(self.port))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    def start(self, timeout: float = 180) -> AppProcess:
        import tempfile

        fd, name = tempfile.mkstemp(prefix="verbatim-app-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "app.py")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/gradio_api/info", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"app.py did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout)

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.log_path:
            self.log_path.unlink(missing_ok=True)


# ---- reporting ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def print_table(rows: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--quick", action="store_true", help="10 seconds")
    parser.add_argument("--overload", action="store_true", help="callers at once, see --callers")
    parser.add_argument("--callers", type=int, default=150)
    parser.add_argument("--url", help="an app already running (default: launch python app.py)")
    parser.add_argument("--out", type=Path, help="JSON results file")
    args = parser.parse_args(argv)
    seconds = 10 if args.quick else args.seconds
    name = "load-overload.json" if args.overload else "load.json"
    out = args.out or RESULTS / name

    app = None if args.url else AppProcess().start()
    url = args.url or app.url  # type: ignore[union-attr]
    try:
        before = machine()
        if args.overload:
            result = asyncio.run(run_overload(url, args.callers))
            failed = result["admitted_errors"] > 0 or not result["after_ok"]
            failed = failed or result["refused"] == 0 and args.callers > 66
        else:
            result = asyncio.run(run_load(url, args.users, seconds))
            failed = result["errors"] > 0 or result["requests"] == 0
    finally:
        if app is not None:
            app.stop()
    result["machine"] = {**before, "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    result["mode"] = "overload" if args.overload else ("quick" if args.quick else "load")
    result["ok"] = not failed
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    print(f"{result['mode']} against {url} ({before['cores']} cores, load {before['loadavg']})")
    print_table([(k, v) for k, v in result.items() if k not in ("machine", "mode")])
    print(f"written to {out}")
    if failed:
        print("FAILED: errors or unverified answers (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
