"""对比: task-area tags on the real seed index, the compare API and page, and the page in headless Chromium."""
from __future__ import annotations

import re

import pytest

from service.areas import AREAS, area_tags, chunk_areas, pick_areas, score_areas
from service.areas.tagging import Scored, tag_rows
from tests.conftest import DOC_CUIYUAN, DOC_HAIZHU, DOC_TANZHOU, DOC_TIANSHUIJUN, DOC_YUEHAI

# Sections read by hand; the area each is about first, decided by the 纲要's structure
# (行政复议 and 行政应诉 are in part 七, 社会矛盾纠纷行政预防调处化解体系; 政务公开 in part 八).
PINNED = [
    (DOC_YUEHAI, "s8.2", "disputes"),  # 落实行政机关负责人出庭应诉制度
    (DOC_HAIZHU, "s3.1", "disputes"),  # 规范行政复议和行政应诉工作
    (DOC_CUIYUAN, "s1.5.3", "disputes"),  # 规范街道行政诉讼及复议工作
    (DOC_YUEHAI, "s9.3", "oversight"),  # 全面主动落实政务公开
    (DOC_TANZHOU, "s1.4.2", "enforcement"),  # 创新方式方法，彰显执法温度 (包容审慎)
    (DOC_HAIZHU, "s3.3", "technology"),  # 增强法治政府智慧支撑能力
    (DOC_YUEHAI, "s7.1", "emergencies"),  # 完善突发事件应对制度
    (DOC_CUIYUAN, "s1.6.2.1", "publicity"),  # 普法责任制 · 健全完善工作机制
    (DOC_HAIZHU, "s1.1", "leadership"),  # 深入践行习近平法治思想
    (DOC_CUIYUAN, "s1.3.4", "decisions"),  # 健全落实重大行政决策法定程序规范
    (DOC_TIANSHUIJUN, "s1.3.1", "rules"),  # 完善规范性文件制定程序
    (DOC_TANZHOU, "s1.2.2", "functions"),  # 优化营商环境，激发市场活力
]


@pytest.mark.parametrize("doc_id, section_id, area", PINNED)
def test_pinned_section_areas(searcher, doc_id, section_id, area):
    tags = area_tags(searcher).sections[(doc_id, section_id)]
    assert tags and tags[0] == area, tags


def test_every_passage_has_at_most_two_areas_and_the_preface_none(searcher):
    tags = area_tags(searcher)
    assert len(tags.chunks) == len(searcher.chunks)
    for doc_id in searcher.reports:
        for chunk in searcher.chunks_of(doc_id):
            areas = tags.chunks[chunk.chunk_id]
            assert len(areas) <= 2
            if chunk.label == "前言":
                assert areas == ()
            else:
                assert areas, chunk.chunk_id
    assert area_tags(searcher) is tags  # once per generation


def test_heading_cue_outweighs_terms():
    # The heading names 行政复议; the text is mostly about enforcement terms.
    scored = score_areas(["三、规范行政复议工作"], "执法 执法", None, None)
    assert scored[0].area == "disputes"
    assert pick_areas(scored)[:1] == ("disputes",)


def test_second_area_needs_evidence_and_a_close_score():
    best = Scored("disputes", 4.0, True)
    assert pick_areas([best, Scored("oversight", 3.5, True)]) == ("disputes", "oversight")
    assert pick_areas([best, Scored("oversight", 3.5, False)]) == ("disputes",)
    assert pick_areas([best, Scored("oversight", 1.0, True)]) == ("disputes",)
    assert pick_areas([Scored("disputes", 0.0, False)]) == ()


def test_chunk_areas_of_hits_agree_with_the_corpus_tags(searcher):
    rows = list(range(0, len(searcher.chunks), 7))
    tags = area_tags(searcher)
    expected = [tags.chunks[searcher.chunks.chunk_id(r)] for r in rows]
    assert tag_rows(searcher, rows) == expected  # a few hits tagged alone, before the corpus is
    assert chunk_areas(searcher, rows) == expected
    assert sum(1 for t in expected if t) > len(rows) // 2


def test_area_filter_keeps_only_passages_of_that_area(client, searcher):
    tags = area_tags(searcher)
    body = client.get("/api/search", query_string={"q": "执法", "area": "行政执法工作体系", "k": 20}).get_json()
    assert body["filters"] == {"area": "行政执法工作体系"}
    assert body["results"]
    for hit in body["results"]:
        assert "enforcement" in tags.chunks[hit["chunk_id"]]
        assert "行政执法工作体系" in hit["areas"]
    assert body["facets"]["area"]["行政执法工作体系"] == len(body["results"])
    by_id = client.get("/api/search", query_string={"q": "执法", "area": "enforcement", "k": 20}).get_json()
    assert [h["chunk_id"] for h in by_id["results"]] == [h["chunk_id"] for h in body["results"]]
    unfiltered = client.get("/api/search", query_string={"q": "执法", "k": 20}).get_json()
    assert len(unfiltered["facets"]["area"]) >= 2  # the same query spans several areas unfiltered


def test_area_filter_applies_to_which_answers(client, searcher):
    tags = area_tags(searcher)
    body = client.post("/api/ask", json={"question": "哪些地方开展了法治宣传？",
                                         "filters": {"area": "学法普法"}}).get_json()
    assert body["groups"]
    for group in body["groups"]:
        for citation in group["citations"]:
            chunk = searcher.chunks[searcher.row_of(citation["chunk_id"])]
            assert "publicity" in tags.chunks[chunk.chunk_id]


@pytest.mark.parametrize("query, words", [
    ({"q": "执法", "area": "不存在的领域"}, "no task area"),
    ({"q": "执法", "area": "x" * 60}, "at most 50"),
])
def test_area_filter_bad_values_say_why(client, query, words):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert words in response.get_json()["error"]["message"]


def test_reports_refuse_the_area_filter(client):
    response = client.get("/api/reports?area=学法普法")
    assert response.status_code == 400
    assert "applies to passages" in response.get_json()["error"]["message"]


def test_api_areas_lists_the_ten_areas(client):
    body = client.get("/api/areas").get_json()
    names = [a["name"] for a in body["areas"]]
    assert names[:8] == ["政府机构职能体系", "依法行政制度体系", "行政决策制度体系", "行政执法工作体系", "突发事件应对体系",
                         "社会矛盾纠纷行政预防调处化解体系", "行政权力制约和监督体系", "法治政府建设科技保障体系"]
    assert names[8:] == ["党的领导", "学法普法"]


def test_api_compare_two_seeds(client, searcher):
    response = client.get(f"/api/compare?doc={DOC_YUEHAI}&doc={DOC_HAIZHU}")
    assert response.status_code == 200
    body = response.get_json()
    assert [r["doc_id"] for r in body["reports"]] == [DOC_YUEHAI, DOC_HAIZHU]
    assert [a["id"] for a in body["areas"]] == [a.id for a in AREAS]
    disputes = next(a for a in body["areas"] if a["id"] == "disputes")
    for cell, doc_id in zip(disputes["cells"], (DOC_YUEHAI, DOC_HAIZHU)):
        assert cell["doc_id"] == doc_id
        assert cell["count"] >= 1 and 1 <= len(cell["passages"]) <= 3
        for passage in cell["passages"]:
            assert passage["url"].startswith(f"/reports/{doc_id}#c-")
            chunk = searcher.chunk_by_id(passage["chunk_id"])
            assert chunk.doc_id == doc_id and passage["text"].rstrip("…") in chunk.text
    # 海珠区 states its 行政复议 figures; they sit under 社会矛盾纠纷….
    haizhu = disputes["cells"][1]["indicators"]
    assert haizhu and all(f["url"].startswith(f"/reports/{DOC_HAIZHU}#q-") for f in haizhu)


def test_api_compare_one_issuer_across_years_needs_two_reports(client, searcher):
    issuer = searcher.meta(DOC_YUEHAI)["issuer"]
    response = client.get("/api/compare", query_string={"issuer": issuer})
    assert response.status_code == 400
    assert "only one report" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("query, status, words", [
    (f"doc={DOC_YUEHAI}", 400, "2 to 4 reports"),
    ("", 400, "2 to 4 reports"),
    ("&".join(f"doc={d}" for d in (DOC_YUEHAI, DOC_HAIZHU, DOC_CUIYUAN, DOC_TANZHOU, DOC_TIANSHUIJUN)), 400, "5 given"),
    (f"doc={DOC_YUEHAI}&doc={DOC_YUEHAI}", 400, "twice"),
    (f"doc={DOC_YUEHAI}&doc=999_nope", 404, "'999_nope'"),
    ("issuer=不存在街道", 404, "不存在街道"),
    (f"doc={DOC_YUEHAI}&doc={DOC_HAIZHU}&area=x", 400, "Unknown parameter"),
])
def test_api_compare_bad_requests_say_why(client, query, status, words):
    response = client.get("/api/compare?" + query)
    assert response.status_code == status
    message = response.get_json()["error"]["message"]
    assert words in message and message.endswith(".")


def test_compare_page_shows_both_reports(client, searcher):
    response = client.get(f"/compare?doc={DOC_YUEHAI}&doc={DOC_CUIYUAN}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for doc_id in (DOC_YUEHAI, DOC_CUIYUAN):
        assert f'href="/reports/{doc_id}"' in html
        assert searcher.meta(doc_id)["issuer"] in html
    assert html.count('<tr id="area-') == len(AREAS)
    assert re.search(rf'href="/reports/{DOC_CUIYUAN}#c-[^"]+"', html)
    assert 'aria-current="page">对比<' in html


def test_compare_page_without_selection_is_the_form_and_bad_selection_says_so(client):
    empty = client.get("/compare")
    assert empty.status_code == 200 and 'name="doc"' in empty.get_data(as_text=True)
    bad = client.get(f"/compare?doc={DOC_YUEHAI}&doc=999_nope")
    assert bad.status_code == 404 and "999_nope" in bad.get_data(as_text=True)


def test_reports_page_links_to_compare(client):
    assert 'href="/compare"' in client.get("/reports").get_data(as_text=True)


# -- the page in a real browser ------------------------------------------------------------------

from tests.test_browser import CHROMIUM, browser, page, server  # noqa: E402,F401  (fixtures)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium.")
def test_browser_compare_form_shows_both_reports(page, searcher):
    page.goto("/reports")
    page.click("a.compare-link")
    selects = page.locator("select[name=doc]")
    selects.nth(0).select_option(DOC_YUEHAI)
    selects.nth(1).select_option(DOC_HAIZHU)
    page.click(".compare-form button[type=submit]")
    page.wait_for_selector("#compare-table")
    headers = page.locator("#compare-table thead th.report-col").all_inner_texts()
    assert len(headers) == 2
    assert searcher.meta(DOC_YUEHAI)["issuer"] in headers[0] and searcher.meta(DOC_HAIZHU)["issuer"] in headers[1]
    assert page.locator("#compare-table tbody tr").count() == len(AREAS)
    assert not page.errors
