"""Evaluation outputs: metrics.json, report.md, TREC runs, per-question JSON lines, PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPORT_COLUMNS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "recall@3",
    "mrr@10",
    "ndcg@10",
    "false_not_found",
    "off_topic_not_found",
    "not_covered_not_found",
    "abstain_precision",
    "abstain_recall",
    "abstain_f1",
    "followup_correct",
    "followup_merged",
    "new_read_alone",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_max_ms",
)


def write_trec_run(path: Path, results: list[dict[str, Any]], tag: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in results:
            for rank, p in enumerate(r["passages"], start=1):
                fh.write(f"{r['id']} Q0 {p['id']} {rank} {p['score']:.6f} {tag}\n")


def write_markdown(path: Path, summary: dict[str, Any]) -> None:
    modes = summary["modes"]
    lines = [
        f"# Evaluation: {summary['dataset']}",
        "",
        f"Split: {summary['split'] or 'all'}; questions: {summary['questions']}; "
        f"threshold: {summary['threshold']}; "
        f"focus threshold: {summary.get('focus_threshold')}; top-k: {summary['top_k']}; "
        f"index build: {summary['build_seconds']} s.",
        "",
        "| metric | " + " | ".join(modes) + " |",
        "| --- | " + " | ".join("---" for _ in modes) + " |",
    ]
    by_kind = sorted({k for m in modes.values() for k in m if k.startswith("hit@1:")})
    for column in (*REPORT_COLUMNS, *by_kind):
        values = [modes[m].get(column) for m in modes]
        if all(v is None for v in values):
            continue
        lines.append(
            f"| {column} | " + " | ".join("" if v is None else f"{v}" for v in values) + " |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_plots(
    out: Path,
    per_mode: dict[str, list[dict[str, Any]]],
    threshold: float,
    focus_threshold: float | None = None,
) -> None:
    """hit_at_k.png (every mode) and scores.png (the abstention signals with their
    thresholds, the same in every mode)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _plot_hit_at_k(plt, out / "hit_at_k.png", per_mode)
    _plot_scores(plt, out / "scores.png", next(iter(per_mode.values())), threshold, focus_threshold)


def _plot_hit_at_k(plt: Any, path: Path, per_mode: dict[str, list[dict[str, Any]]]) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, results in per_mode.items():
        answerable = [r for r in results if r["answerable"]]
        if not answerable:
            continue
        ks = list(range(1, 11))
        ax.plot(
            ks,
            [
                sum(r["gold_rank"] is not None and r["gold_rank"] <= k for r in answerable)
                / len(answerable)
                for k in ks
            ],
            marker="o",
            label=mode,
        )
    ax.set(xlabel="k", ylabel="hit@k", title="Gold passage within the top k", ylim=(0, 1.02))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_scores(
    plt: Any,
    path: Path,
    results: list[dict[str, Any]],
    threshold: float,
    focus_threshold: float | None,
) -> None:
    """Both abstention signals, each with its threshold: relevance for every question, the
    focus cosine for the questions that have a focus (focus.py)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    panels = (
        ("relevance", threshold, "relevance (best cosine of the question)", "Relevance"),
        ("focus_relevance", focus_threshold, "focus relevance (best sentence cosine)", "Focus"),
    )
    for ax, (key, line, xlabel, title) in zip(axes, panels):
        groups = {
            "answerable": [r.get(key) for r in results if r["answerable"]],
            "off-topic": [r.get(key) for r in results if r["kind"] == "off_topic"],
            "not covered": [r.get(key) for r in results if r["kind"] == "not_covered"],
        }
        groups = {k: [v for v in vs if v is not None] for k, vs in groups.items()}
        groups = {k: vs for k, vs in groups.items() if vs}
        if groups:
            ax.hist(list(groups.values()), bins=20, label=list(groups), alpha=0.8)
        if line is not None and line > -1.0:
            ax.axvline(line, color="black", linestyle="--", label=f"threshold {line}")
        ax.set(xlabel=xlabel, ylabel="questions", title=f"Abstention: {title}")
        if groups:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(
    out: Path, summary: dict[str, Any], per_mode: dict[str, list[dict[str, Any]]]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    write_markdown(out / "report.md", summary)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for results in per_mode.values():
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    for mode, results in per_mode.items():
        write_trec_run(out / f"run.{mode}.trec", results, tag=mode)
    write_plots(out, per_mode, summary["threshold"], summary.get("focus_threshold"))
