"""Benchmark scripts, run from the checkout as modules: `python -m benchmarks.run --quick`.

Each prints its numbers and writes them to `benchmarks/results/` (docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
