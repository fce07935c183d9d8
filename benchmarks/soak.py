"""Soak test: moderate load for minutes, watching the server's memory.

    python -m benchmarks.soak                        # 4 users for 5 minutes
    python -m benchmarks.soak --users 4 --minutes 1  # shorter

Launches `python app.py` on a free port, runs the same verified question mix as
benchmarks/load.py and samples the server process's resident memory (psutil if installed, else
VmRSS from /proc/<pid>/status) every 10 s. Reports start/end/max RSS and the slope of the last
half of the samples (MB per minute): a slope near zero means memory has levelled off. Any error
or unverified answer makes the exit status non-zero. Results go to benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from benchmarks.load import RESULTS, AppProcess, corpus_texts, machine, print_table, run_load


def rss_mb(pid: int) -> float:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"cannot read the memory of process {pid}")


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mx = sum(t for t, _ in samples) / n
    my = sum(m for _, m in samples) / n
    var = sum((t - mx) ** 2 for t, _ in samples)
    if not var:
        return 0.0
    return sum((t - mx) * (m - my) for t, m in samples) / var * 60


async def soak(url: str, pid: int, users: int, seconds: float, every: float) -> dict:
    texts = corpus_texts()
    samples: list[tuple[float, float]] = [(0.0, rss_mb(pid))]
    started = time.perf_counter()
    load = asyncio.create_task(run_load(url, users, seconds, seed=7, texts=texts))
    while not load.done():
        await asyncio.wait({load}, timeout=every)
        samples.append((time.perf_counter() - started, rss_mb(pid)))
    result = load.result()
    half = samples[len(samples) // 2 :]
    growth = slope_mb_per_min(half)
    return {
        **result,
        "rss_start_mb": round(samples[0][1], 1),
        "rss_end_mb": round(samples[-1][1], 1),
        "rss_max_mb": round(max(m for _, m in samples), 1),
        "rss_slope_last_half_mb_per_min": round(growth, 2),
        "rss_still_growing": growth > 1.0,
        "rss_samples": [(round(t, 1), round(m, 1)) for t, m in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--every", type=float, default=10, help="seconds between RSS samples")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args(argv)

    with AppProcess() as app:
        assert app.proc is not None
        before = machine()
        result = asyncio.run(soak(app.url, app.proc.pid, args.users, args.minutes * 60, args.every))
    result["machine"] = {**before, "loadavg_after": machine()["loadavg"]}
    failed = result["errors"] > 0 or result["requests"] == 0
    result["ok"] = not failed
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(f"soak: {args.users} users for {args.minutes:g} min (load {before['loadavg']})")
    print_table([(k, v) for k, v in result.items() if k not in ("machine", "rss_samples")])
    print(f"written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
