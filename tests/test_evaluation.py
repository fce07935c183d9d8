import json

import pytest
from cli_helpers import run_cli
from paths import DATA, ROOT

from assistant.evaluation import DatasetError, calibrate, is_hit, load_dataset, metrics


def _result(qid, answerable, status, ranks_hit=(), kind="direct", relevance=0.5, n=3):
    passages = [
        {"id": f"{qid}-p{i}", "score": float(n - i), "hit": i + 1 in ranks_hit}
        for i in range(n if status == "answered" else 0)
    ]
    rank = min(ranks_hit) if ranks_hit and status == "answered" else None
    return {
        "id": qid,
        "answerable": answerable,
        "status": status,
        "kind": kind,
        "relevance": relevance,
        "gold_rank": rank,
        "passages": passages,
        "latency_ms": 10.0,
    }


@pytest.mark.slow
def test_metrics_on_hand_made_results():
    results = [
        _result("a", True, "answered", ranks_hit=(1,)),
        _result("b", True, "answered", ranks_hit=(2,)),
        _result("c", False, "not_found", kind="off_topic"),
        _result("d", False, "answered", kind="not_covered"),
    ]
    m = metrics(results, top_k=3)
    assert m["hit@1"] == 0.5 and m["hit@3"] == 1.0
    assert m["mrr@10"] == pytest.approx(0.75)
    assert m["recall@3"] == 1.0
    assert m["ndcg@10"] == pytest.approx((1 + 1 / 1.5849625) / 2, abs=1e-4)
    assert m["false_not_found"] == 0.0
    assert m["off_topic_not_found"] == 1.0 and m["not_covered_not_found"] == 0.0
    assert m["abstain_precision"] == 1.0 and m["abstain_recall"] == 0.5
    assert m["abstain_f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["latency_p50_ms"] == 10.0


@pytest.mark.slow
def test_hit_at_1_per_kind_of_question():
    results = [
        _result("a", True, "answered", ranks_hit=(1,), kind="direct"),
        _result("b", True, "answered", ranks_hit=(2,), kind="lay"),
        _result("c", True, "answered", ranks_hit=(1,), kind="lay"),
        _result("d", False, "not_found", kind="off_topic"),
    ]
    m = metrics(results)
    assert m["hit@1:direct"] == 1.0 and m["hit@1:lay"] == 0.5
    assert not any(k.startswith("hit@1:off") for k in m)


@pytest.mark.slow
def test_missed_gold_counts_against_recall():
    m = metrics(
        [
            _result("a", True, "answered", ranks_hit=()),
            _result("b", True, "answered", ranks_hit=(1,)),
        ]
    )
    assert m["recall@3"] == 0.5 and m["hit@5"] == 0.5


def test_is_hit_needs_half_the_span():
    evidence = [("d.txt", 100, 200)]
    assert is_hit("d.txt", 0, 150, evidence)
    assert not is_hit("d.txt", 0, 149, evidence)
    assert not is_hit("other.txt", 0, 500, evidence)


def test_calibrate_sits_between_off_topic_and_answerable():
    results = [
        _result(f"a{i}", True, "answered", relevance=r) for i, r in enumerate([0.5, 0.6, 0.7])
    ]
    results += [
        _result(f"o{i}", False, "not_found", kind="off_topic", relevance=r)
        for i, r in enumerate([0.1, 0.2, 0.3])
    ]
    assert calibrate(results) == pytest.approx(0.4)


def test_dataset_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "question": "q", "answerable": true, "evidence": []}\n')
    with pytest.raises(DatasetError, match="line 1.*no evidence"):
        load_dataset(path)
    path.write_text("{broken\n")
    with pytest.raises(DatasetError, match="line 1"):
        load_dataset(path)


def test_project_eval_set_is_well_formed():
    items = load_dataset(ROOT / "eval" / "questions.jsonl")
    assert len(items) >= 120
    assert sum(not i.answerable for i in items) >= 35
    assert {i.split for i in items} == {"dev", "test"}
    assert len({i.id for i in items}) == len(items)
    for item in items:
        for source, start, end in item.evidence:
            text = (ROOT / "corpus" / source).read_text(encoding="utf-8")
            assert 0 <= start < end <= len(text)


@pytest.mark.parametrize(
    "name, split, earlier",
    [
        ("blind.jsonl", "blind", ["questions.jsonl"]),
        ("blind2.jsonl", "blind2", ["questions.jsonl", "blind.jsonl"]),
    ],
)
def test_blind_split_is_well_formed_and_apart_from_the_earlier_questions(name, split, earlier):
    """eval/blind.jsonl and eval/blind2.jsonl (docs/evaluation.md, "The blind split", "The second
    blind split"): sizes, exact quotes, questions not already in the earlier sets."""
    items = load_dataset(ROOT / "eval" / name)
    assert {i.split for i in items} == {split}
    assert len({i.id for i in items}) == len(items)
    kinds = [i.kind for i in items]
    assert sum(i.answerable for i in items) >= 60 and kinds.count("lay") >= 30
    assert kinds.count("not_covered") >= 20 and kinds.count("off_topic") >= 10
    text = (ROOT / "corpus" / "secondary-milia.txt").read_text(encoding="utf-8")
    for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
        for e in json.loads(line)["evidence"]:
            assert text[e["start"] : e["end"]] == e["quote"]
    old = {i.question.strip().lower() for f in earlier for i in load_dataset(ROOT / "eval" / f)}
    assert not old & {i.question.strip().lower() for i in items}


@pytest.mark.model
def test_eval_command_writes_its_outputs(tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        "eval",
        str(DATA / "mini_eval.jsonl"),
        "--modes",
        "bm25,rerank",
        "--out",
        str(out),
        "--no-rebuild",
        "--min-hit1",
        "0.5",
    )
    assert result.returncode == 0, result.stderr
    assert "| hit@1 |" in result.stdout
    summary = json.loads((out / "metrics.json").read_text())
    assert set(summary["modes"]) == {"bm25", "rerank"}
    assert summary["modes"]["rerank"]["hit@3"] == 1.0
    assert summary["modes"]["rerank"]["off_topic_not_found"] == 1.0
    assert "focus_threshold" in summary
    assert all(("focus_relevance" in r) for r in map(json.loads, (out / "results.jsonl").open()))
    for name in ("report.md", "run.bm25.trec", "run.rerank.trec", "hit_at_k.png", "scores.png"):
        assert (out / name).stat().st_size > 0
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 10
    seed = (ROOT / "corpus" / "secondary-milia.txt").read_text(encoding="utf-8")
    assert all(p["text"] == seed[p["start"] : p["end"]] for r in records for p in r["passages"])
    trec = (out / "run.rerank.trec").read_text().splitlines()[0].split()
    assert trec[0] == "m1" and trec[1] == "Q0" and trec[3] == "1"
    gate = run_cli(
        "eval",
        str(DATA / "mini_eval.jsonl"),
        "--modes",
        "dense",
        "--out",
        str(out),
        "--no-rebuild",
        "--min-hit1",
        "1.01",
    )
    assert gate.returncode == 6 and "below --min-hit1" in gate.stderr


def test_load_beir_keeps_judged_queries():
    from assistant.evaluation import load_beir

    beir = load_beir(DATA / "beir-mini")
    assert set(beir.docs) == {"d1", "d2", "d3"}
    assert set(beir.queries) == {"q1", "q2", "q3"}
    assert beir.qrels["q3"] == {"d3": 1}


@pytest.mark.model
def test_eval_on_a_beir_folder(tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        "eval",
        str(DATA / "beir-mini"),
        "--modes",
        "bm25,rerank",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["documents"] == 3 and summary["questions"] == 3
    assert summary["modes"]["rerank"]["hit@1"] == 1.0
    assert summary["modes"]["rerank"]["ndcg@10"] == 1.0
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {p["id"] for r in records for p in r["passages"]} <= {"d1", "d2", "d3"}


@pytest.mark.slow
def test_span_command_finds_a_unique_phrase():
    ok = run_cli("span", "These cysts are Milia.")
    assert ok.returncode == 0, ok.stderr
    span = json.loads(ok.stdout)
    seed = (ROOT / "corpus" / span["source"]).read_text(encoding="utf-8")
    assert seed[span["start"] : span["end"]] == "These cysts are Milia."
    ambiguous = run_cli("span", "milia")
    assert ambiguous.returncode == 2 and "lengthen it" in ambiguous.stderr
    phrase = "originates from the Eccrine ducts in the skin. Whilst"  # the source has U+00A0
    nbsp = run_cli("span", phrase)
    assert nbsp.returncode == 2 and "non-breaking spaces" in nbsp.stderr
