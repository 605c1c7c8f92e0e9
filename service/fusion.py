"""Fusion of ranked lists: min-max score fusion (used by hybrid search) and reciprocal-rank fusion."""
from __future__ import annotations

from collections.abc import Sequence

# Chosen on the dev set and our cases (bench/quality.py): k=10 gave MRR@10 0.910 against
# 0.893 for the customary 60; a small k trusts the top of each list more.
RRF_K = 10
# Hybrid search fuses scores, not ranks: each list's scores are rescaled to [0, 1] over its
# top k0, then BM25 counts 1 and dense 0.7. Against RRF k=10 1 : 0.85 (with passage vectors
# that read a neighbouring sentence on each side, indexer/pipeline.py) NCP MRR@10 went from
# 0.8095 to 0.8258 and hit@5 from 0.9287 to 0.9326; dev_search MRR@10 0.963 -> 1.000; our
# paraphrase cases 0.850 -> 0.860 (bench/study_paraphrase.py; weights 1 : 0.5-0.85 and
# k0 50-100 all lie within 0.003 on NCP). RRF threw away how far ahead the top BM25 hit is.
HYBRID_WEIGHTS = (1.0, 0.7)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids: score = sum of weight / (k + rank), rank counted from 1.

    Ties are broken by the best single rank an id reached, then by the id itself, so the
    same inputs always give the same order.
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    best_rank: dict[int, int] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], best_rank[pair[0]], pair[0]))


def score_fusion(
    lists: Sequence[tuple[Sequence[int], Sequence[float]]], weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse scored lists: score = sum of weight * (score - min) / (max - min) within each list.

    A list whose scores are all equal (one hit, say) gives each of its ids the full weight;
    an id missing from a list gets nothing from it. Ties are broken by the best single rank
    an id reached, then by the id itself, as in reciprocal_rank_fusion.
    """
    weights = weights or [1.0] * len(lists)
    scores: dict[int, float] = {}
    best_rank: dict[int, int] = {}
    for (ids, raw), weight in zip(lists, weights):
        if not len(ids):
            continue
        low, high = min(raw), max(raw)
        span = high - low
        for rank, (item, value) in enumerate(zip(ids, raw), start=1):
            scaled = (value - low) / span if span > 0 else 1.0
            scores[item] = scores.get(item, 0.0) + weight * scaled
            best_rank[item] = min(best_rank.get(item, rank), rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], best_rank[pair[0]], pair[0]))
