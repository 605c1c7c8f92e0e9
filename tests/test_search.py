"""Hybrid search on the real corpus with the real embedder: golden queries, filters, highlights."""
import json

import numpy as np
import pytest

from indexer.normalize import normalize
from service.errors import UnknownFilterValue
from service.search import Filters
from tests.conftest import SHARED, DOC_CUIYUAN, DOC_HAIZHU, DOC_TANZHOU

DEV = [json.loads(line) for line in (SHARED / "eval" / "dev_search.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", DEV, ids=[c["q"][:12] for c in DEV])
def test_dev_queries_find_the_passage_in_the_top_five(searcher, case):
    hits = searcher.search(case["q"], k=5)
    wanted = [normalize(s).text for s in case["any"]]
    assert any(h.chunk.doc_id == case["doc"] and any(w in h.chunk.search_text for w in wanted) for h in hits)


def test_traditional_report_is_found_with_simplified_words(searcher):
    hits = searcher.search("宪法主题公园", k=3)
    assert hits[0].chunk.doc_id == DOC_HAIZHU
    assert "憲法主題公園" in hits[0].chunk.text  # shown as published
    a, b = hits[0].highlights[0]
    assert hits[0].chunk.text[a:b] in ("憲法主題公園", "憲法", "主題公園", "公園", "主題")


def test_highlights_point_at_query_terms_in_the_published_text(searcher):
    hit = searcher.search("简案快办", k=1)[0]
    assert any(hit.chunk.text[a:b] == "简案快办" for a, b in hit.highlights)


@pytest.mark.parametrize(
    "filters, allowed",
    [
        (Filters(issuer="翠苑街道"), {DOC_CUIYUAN}),
        (Filters(level="镇"), {DOC_TANZHOU}),
        (Filters(region="广东省"), {"000_dc284aa856a2efc0", DOC_TANZHOU, DOC_HAIZHU}),
        (Filters(region="中山"), {DOC_TANZHOU}),
        (Filters(year=2023), {"001_853fd82f221bc387", DOC_TANZHOU, DOC_HAIZHU}),
    ],
)
def test_filters_apply_before_the_cut(searcher, filters, allowed):
    hits = searcher.search("法律顾问", k=20, filters=filters)
    assert hits and {h.chunk.doc_id for h in hits} <= allowed
    assert len(hits) == min(20, int(searcher.mask(filters).sum())) or len(hits) >= 5


def test_section_filter_keeps_only_that_label(searcher):
    hits = searcher.search("加强队伍建设", k=10, filters=Filters(section="下一步安排"))
    assert hits and all(h.chunk.label == "下一步安排" for h in hits)


def test_unknown_filter_values_are_errors_not_empty_results(searcher):
    with pytest.raises(UnknownFilterValue, match="火星"):
        searcher.search("法治", filters=Filters(region="火星"))
    with pytest.raises(UnknownFilterValue):
        searcher.search("法治", filters=Filters(issuer="不存在街道"))


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_rank_deterministically(searcher, mode):
    first = [h.chunk.chunk_id for h in searcher.search("调解纠纷", k=10, mode=mode)]
    assert first == [h.chunk.chunk_id for h in searcher.search("调解纠纷", k=10, mode=mode)]
    assert len(first) == 10


def test_english_query_reaches_the_chinese_passage(searcher):
    hits = searcher.search("which town ranked third in the city's rule-of-law assessment", k=5)
    assert any(h.chunk.doc_id == DOC_TANZHOU for h in hits)


def test_query_vectors_are_normalised(embedder):
    vectors = embedder.embed_queries(["法治政府", ""])
    assert vectors.shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
