"""Hybrid search on the real corpus with the real embedder: golden queries, filters, highlights."""
import json

import numpy as np
import pytest

from indexer.normalize import normalize
from service.errors import UnknownFilterValue
from service.search import Filters, highlight_terms
from tests.conftest import SHARED, DOC_CUIYUAN, DOC_HAIZHU, DOC_TANZHOU

DEV_SEARCH = SHARED / "eval" / "dev_search.jsonl"


def _dev_cases() -> list:
    """The dev queries from ../shared/eval, or one skipped case saying why there are none."""
    if not DEV_SEARCH.is_file():
        reason = f"../shared/eval is not beside this checkout; the dev search queries are read from {DEV_SEARCH}."
        return [pytest.param({}, id="no-shared-eval", marks=pytest.mark.skip(reason=reason))]
    lines = DEV_SEARCH.read_text(encoding="utf-8").splitlines()
    return [pytest.param(case, id=case["q"][:12]) for case in (json.loads(line) for line in lines if line.strip())]


@pytest.mark.parametrize("case", _dev_cases())
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


@pytest.mark.parametrize("query, single", [("执法人员受培训的情况", "受"), ("行政复议案件受理数", "数")])
def test_highlights_mark_words_not_the_single_characters_of_a_query(searcher, query, single):
    words = {t for t in searcher.query_tokens(query) if len(t) >= 2}
    assert single in searcher.query_tokens(query) and words  # the query does tokenize to a lone character
    hits = searcher.search(query, k=10)
    assert any(hit.highlights for hit in hits)
    for hit in hits:
        for a, b in hit.highlights:
            shown = normalize(hit.chunk.text[a:b]).text.lower()
            assert not (len(shown) == 1 and "\u4e00" <= shown <= "\u9fff"), (hit.chunk.chunk_id, shown)
            assert any(word in shown for word in words), (hit.chunk.chunk_id, shown)


@pytest.mark.parametrize(
    "terms, marked",
    [
        ({"执法", "受", "的", "a"}, {"执法"}),  # single characters and stop words go when a word is left
        ({"受"}, {"受"}),  # a one-character query still shows where its character is
        ({"的", "a", "5"}, set()),
        ({"ai", "受"}, {"ai"}),
    ],
)
def test_highlight_terms(terms, marked):
    assert highlight_terms(terms, frozenset({"的"})) == marked


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
    assert len(hits) == min(20, int(searcher.mask(filters).sum()))


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
