from assistant.fusion import ranked, reciprocal_rank_fusion


def test_rrf_values():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a"]], k=60)
    assert fused["a"] == 1 / 61 + 1 / 62
    assert fused["b"] == 1 / 62 + 1 / 61
    assert fused["c"] == 1 / 63


def test_ties_break_on_id_and_input_is_not_mutated():
    rankings = [["b", "a"], ["a", "b"]]
    fused = reciprocal_rank_fusion(rankings)
    assert [d for d, _ in ranked(fused)] == ["a", "b"]
    assert rankings == [["b", "a"], ["a", "b"]]


def test_weights():
    fused = reciprocal_rank_fusion([["a"], ["b"]], k=1, weights=[2.0, 1.0])
    assert ranked(fused)[0] == ("a", 1.0)
