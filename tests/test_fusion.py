"""Reciprocal-rank fusion with a deterministic tie-break."""
from service.fusion import reciprocal_rank_fusion


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
