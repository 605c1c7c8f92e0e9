"""Reciprocal-rank and score fusion with a deterministic tie-break."""
from service.fusion import reciprocal_rank_fusion, score_fusion


def test_items_in_both_lists_rise():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]])
    assert [i for i, _ in fused][:2] == [1, 3]


def test_ties_break_by_best_rank_then_id():
    # 7 and 9 each appear once at rank 1: equal scores, equal best rank -> lower id first.
    assert [i for i, _ in reciprocal_rank_fusion([[9], [7]])] == [7, 9]
    # 5 is first in one list, 6 second in both? no: equal sums broken by the best single rank.
    fused = reciprocal_rank_fusion([[5, 6], [6, 5]])
    assert fused[0][1] == fused[1][1] and [i for i, _ in fused] == [5, 6]


def test_weights_and_empty_lists():
    assert reciprocal_rank_fusion([[], []]) == []
    fused = reciprocal_rank_fusion([[1], [2]], weights=[1.0, 2.0])
    assert [i for i, _ in fused] == [2, 1]


def test_score_fusion_rescales_each_list():
    # BM25 scores 10, 9, 1 and dense 0.9, 0.8: 2 is near the top of both and wins over 1,
    # which leads BM25 but is missing from the dense list.
    fused = score_fusion([([1, 2, 3], [10.0, 9.0, 1.0]), ([2, 4], [0.9, 0.8])], weights=[1.0, 0.7])
    assert [i for i, _ in fused] == [2, 1, 4, 3]  # 3 and 4 tie at 0: 4 reached rank 2
    assert abs(dict(fused)[2] - (8 / 9 + 0.7)) < 1e-9


def test_score_fusion_edges():
    assert score_fusion([([], []), ([], [])]) == []
    # one hit, or equal scores: full weight; ties broken by best rank, then id
    assert score_fusion([([5], [3.0]), ([], [])], weights=[1.0, 0.7]) == [(5, 1.0)]
    assert [i for i, _ in score_fusion([([9, 7], [1.0, 1.0])])] == [9, 7]
