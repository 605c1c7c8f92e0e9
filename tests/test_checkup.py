"""报告体检: the five seeds' parts, dates and figures pinned through the API; the repeat finder and
the deadline rule on small hand-written inputs; the scorecard page, CSV and report panel."""
from __future__ import annotations

import csv
import io

import pytest

from service.checkup import (
    SentenceSpan,
    check_parts,
    count_figures,
    find_repeats,
    is_on_time,
)
from tests.conftest import (
    DOC_CUIYUAN,
    DOC_HAIZHU,
    DOC_TANZHOU,
    DOC_TIANSHUIJUN,
    DOC_YUEHAI,
)

# Per seed, read from corpus/: part -> the outermost sections that cover it (section_id, basis).
# basis "label" = the indexer's section label, "heading" = the heading names the part,
# "text" = no section of its own, only a sentence inside another part.
SEED_PARTS = {
    # 粤海街道 2024: thirteen top-level parts. 一、三、…十、 are measures; 二、「党政主要负责人切实履行推进法治
    # 建设第一责任人职责」; 十一、「2023年度…存在问题的改进情况」 is the rectification of last year's problems,
    # none of parts 1-4, so part 5; 十二、「…存在的不足和原因」; 十三、「下一年度推进法治政府建设主要安排」.
    DOC_YUEHAI: {
        1: [(f"s{n}", "label") for n in (1, 3, 4, 5, 6, 7, 8, 9, 10)],
        2: [("s12", "heading")],
        3: [("s2", "heading")],
        4: [("s13", "heading")],
        5: [("s11", "heading")],
    },
    # 天水郡街道 2023: 一、所做工作; 二、「存在问题及下一步工作打算」 holds both （一）存在问题 and
    # （二）下一步工作计划, so it covers parts 2 and 4. The leaders' duty has no part of its own: only
    # 「一是坚持党工委全面领导,党政主要负责人履行推进法治建设第一责任人职责…」 under （一） of part 一.
    DOC_TIANSHUIJUN: {
        1: [("s1", "label")],
        2: [("s2", "heading")],
        3: [("s1.1.1", "text")],
        4: [("s2", "heading")],
        5: [],
    },
    # 翠苑街道 2024: the four parts in the regulation's own wording: 一、主要举措和突出成效; 二、存在的不足和原因;
    # 三、党政主要负责人履行推进法治建设第一责任人职责情况; 四、2025年推进法治政府建设的主要安排.
    DOC_CUIYUAN: {
        1: [("s1", "label")],
        2: [("s2", "heading")],
        3: [("s3", "heading")],
        4: [("s4", "heading")],
        5: [],
    },
    # 坦洲镇 2023: 一、工作开展情况; 二、存在问题; 三、下一步工作设想. The leaders' duty is a numbered item of
    # part 一 (（一） 3. 「统筹法治建设，认真履行第一责任人职责」), a heading of its own.
    DOC_TANZHOU: {
        1: [("s1", "label")],
        2: [("s2", "heading")],
        3: [("s1.1.3", "heading")],
        4: [("s3", "heading")],
        5: [],
    },
    # 海珠区 2023: 一、 to 四、 are measures; 五、「存在问题及2024年法治政府建设工作计划」 covers problems and
    # plans. The leaders' duty is only stated in sentences of part 一: 一是「区党政主要负责人扎实履行推进法治
    # 建设第一责任人职责」 and 二是「制发《海珠区党政主要负责人履行推进法治建设第一责任人职责清单》」.
    DOC_HAIZHU: {
        1: [(f"s{n}", "label") for n in (1, 2, 3, 4)],
        2: [("s5", "heading")],
        3: [("s1.1", "text"), ("s1.2", "text")],
        4: [("s5", "heading")],
        5: [],
    },
}

# Only 粤海街道's text is dated: it ends 「粤海街道办事处 2024年11月21日」, before 2025-04-01. The other four
# give no date and came without a source page, so whether they were on time is unknown.
SEED_DATES = {
    DOC_YUEHAI: ("2024-11-21", "2025-04-01", True),
    DOC_TIANSHUIJUN: (None, "2024-04-01", None),
    DOC_CUIYUAN: (None, "2025-04-01", None),
    DOC_TANZHOU: (None, "2024-04-01", None),
    DOC_HAIZHU: (None, "2024-04-01", None),
}


@pytest.mark.parametrize("doc_id", list(SEED_PARTS))
def test_seed_parts_are_mapped_to_their_sections(client, doc_id):
    body = client.get(f"/api/reports/{doc_id}/checkup").get_json()
    assert [p["part"] for p in body["parts"]] == [1, 2, 3, 4, 5]
    got = {p["part"]: [(s["section_id"], s["basis"]) for s in p["sections"]] for p in body["parts"]}
    assert got == SEED_PARTS[doc_id]
    for part in body["parts"]:
        assert part["present"] == bool(SEED_PARTS[doc_id][part["part"]])
        assert part["required"] == (part["part"] != 5)
        for section in part["sections"]:
            assert section["url"] == f"/reports/{doc_id}#sec-{section['section_id']}"
    assert body["complete"] is True and body["missing"] == []


def test_part_basis_says_when_only_a_sentence_covers_it(client):
    body = client.get(f"/api/reports/{DOC_HAIZHU}/checkup").get_json()
    assert [p["basis"] for p in body["parts"]] == ["section", "section", "text", "section", ""]
    leaders = body["parts"][2]["sections"][0]
    assert leaders["heading"] == "一是深入践行习近平法治思想"


@pytest.mark.parametrize("doc_id", list(SEED_DATES))
def test_seed_publication_and_deadline(client, doc_id):
    body = client.get(f"/api/reports/{doc_id}/checkup").get_json()
    assert (body["published"], body["deadline"], body["on_time"]) == SEED_DATES[doc_id]


@pytest.mark.parametrize("doc_id", list(SEED_PARTS))
def test_seeds_state_figures_and_repeat_no_other_seed(client, doc_id):
    body = client.get(f"/api/reports/{doc_id}/checkup").get_json()
    assert body["figures"] > 0
    # The five seeds are five different places' own texts: no passage of one stands in another.
    assert body["repeats"] == []


def test_haizhu_figures_count_its_quantified_sentences(client):
    # Part 一 and 二 alone state 7次, 235项, 39份, 679件, 10个专栏, 1.1万条, 15968宗, 418宗, 100%, 6441件 ...
    assert client.get(f"/api/reports/{DOC_HAIZHU}/checkup").get_json()["figures"] >= 10


def test_unknown_report_is_a_404_sentence(client):
    response = client.get("/api/reports/no_such_report/checkup")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "not_found" and "no_such_report" in error["message"] and error["message"].endswith(".")


def test_checkups_list_every_report_and_filter_like_reports(client):
    body = client.get("/api/checkups").get_json()
    assert [c["doc_id"] for c in body["checkups"]] == list(SEED_PARTS)
    assert body["summary"] == {"reports": 5, "complete": 5, "on_time": 1, "late": 0, "on_time_unknown": 4,
                               "with_repeats": 0}
    towns = client.get("/api/checkups?level=镇&year=2023").get_json()
    assert [c["doc_id"] for c in towns["checkups"]] == [DOC_TANZHOU]
    assert towns["filters"] == {"level": "镇", "year": 2023}


def test_scorecard_rows_count_repeats_by_the_other_report(searcher):
    from dataclasses import replace

    from service.checkup import Repeat, checkup
    from service.checkup_views import _scorecard_row

    base = checkup(searcher, DOC_TANZHOU)
    repeats = tuple(Repeat(DOC_TANZHOU, i * 10, i * 10 + 8, other, 0, 8, 0.95, 1, "x", issuer)
                    for i, (other, issuer) in enumerate([("b", "乙镇"), ("a", "甲镇"), ("b", "乙镇")]))
    row = _scorecard_row(replace(base, repeats=repeats))
    assert row["repeats"] == 3 and row["repeats_reports"] == 2
    assert row["repeats_with"] == [{"doc_id": "b", "issuer": "乙镇", "count": 2},
                                   {"doc_id": "a", "issuer": "甲镇", "count": 1}]
    assert row["parts"] == base.to_dict()["parts"]


@pytest.mark.parametrize("query, code", [
    ("level=火星", "unknown_filter_value"), ("year=abc", "bad_parameter"), ("section=主要举措", "bad_parameter")])
def test_checkups_bad_filters_are_400_sentences(client, query, code):
    for path in ("/api/checkups", "/api/checkups.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == code


def test_checkups_csv_has_a_bom_and_a_row_per_report(client):
    response = client.get("/api/checkups.csv?region=广东省")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert {r["doc_id"] for r in rows} == {DOC_YUEHAI, DOC_TANZHOU, DOC_HAIZHU}
    yuehai = next(r for r in rows if r["doc_id"] == DOC_YUEHAI)
    assert [yuehai[f"part{n}"] for n in range(1, 6)] == ["有"] * 5
    assert (yuehai["published"], yuehai["on_time"], yuehai["complete"]) == ("2024-11-21", "是", "是")
    haizhu = next(r for r in rows if r["doc_id"] == DOC_HAIZHU)
    assert [haizhu[f"part{n}"] for n in range(1, 6)] == ["有", "有", "正文提及", "有", "无"]
    assert haizhu["on_time"] == "未知"


def test_scorecard_page_has_a_row_per_report_and_filters(client):
    html = client.get("/checkups").get_data(as_text=True)
    assert html.count("<tr data-doc-id=") == 5
    assert 'aria-current="page">报告体检' in html and 'href="/api/checkups.csv"' in html
    town = client.get("/checkups?level=镇").get_data(as_text=True)
    assert town.count("<tr data-doc-id=") == 1 and 'href="/api/checkups.csv?level=%E9%95%87"' in town
    bad = client.get("/checkups?level=火星")
    assert bad.status_code == 400 and "没有符合条件的报告" in bad.get_data(as_text=True)


def test_report_page_carries_the_checkup_panel(client):
    html = client.get(f"/reports/{DOC_YUEHAI}").get_data(as_text=True)
    assert 'id="checkup"' in html and "checkup-panel.js" in html and 'id="report-text"' in html


# -- pure functions ---------------------------------------------------------------------------

SHARED = ["坚持把法治政府建设摆在全局工作的突出位置，每季度召开一次专题会议研究部署法治建设重点任务。",
          "建立健全行政执法公示、执法全过程记录、重大执法决定法制审核三项制度，执法案卷评查合格率明显提升。",
          "深入开展“八五”普法，组织辖区干部群众参加法治讲座和以案释法活动，法治氛围日益浓厚。"]


def _sentences(texts: list[str]) -> list[SentenceSpan]:
    spans, cursor = [], 0
    for text in texts:
        spans.append(SentenceSpan(cursor, cursor + len(text), text))
        cursor += len(text) + 1
    return spans


def test_repeat_finder_links_a_shared_paragraph_both_ways():
    boilerplate = "现将有关情况报告如下："
    a = _sentences(["2024年，甲街道在区委区政府的坚强领导下推进各项工作取得新的进展。", boilerplate, *SHARED,
                    "甲街道还建成了全区首个社区法治驿站并投入使用。"])
    # b repeats the paragraph with one word changed and its own sentences around it.
    b = _sentences([boilerplate, "乙镇地处城乡接合部，人口流动频繁，基层治理任务十分繁重。",
                    SHARED[0], SHARED[1].replace("明显", "显著"), SHARED[2], "乙镇下一步将继续深化综合行政执法改革。"])
    found = find_repeats({"a": a, "b": b})
    assert len(found["a"]) == 1 and len(found["b"]) == 1
    in_a, in_b = found["a"][0], found["b"][0]
    assert (in_a.start, in_a.end, in_a.other_doc_id, in_a.other_start, in_a.other_end) == \
        (a[2].start, a[4].end, "b", b[2].start, b[4].end)
    assert (in_b.start, in_b.end, in_b.other_doc_id, in_b.other_start, in_b.other_end) == \
        (b[2].start, b[4].end, "a", a[2].start, a[4].end)
    assert in_a.sentences == 3 and 0.8 <= in_a.similarity < 1.0
    # Boilerplate shared by both, and sentences of the same report, never count.
    assert find_repeats({"a": _sentences([boilerplate] * 2), "b": _sentences([boilerplate])}) == {"a": [], "b": []}
    assert find_repeats({"a": _sentences(SHARED + SHARED)}) == {"a": []}


def test_repeat_finder_ignores_sentences_that_only_share_phrases():
    a = _sentences(["深入学习贯彻习近平法治思想，全面推进依法行政，甲区建成公共法律服务站点二十个。"])
    b = _sentences(["深入学习贯彻习近平法治思想，乙县本年度共办理行政复议案件四十余件并全部按期办结。"])
    assert find_repeats({"a": a, "b": b}) == {"a": [], "b": []}


@pytest.mark.parametrize("published, year, expected", [
    ("2025-03-31", 2024, True), ("2025-04-01", 2024, False), ("2024-11-21", 2024, True),
    ("", 2024, None), ("2025-01-10", None, None)])
def test_on_time_means_before_april_first_of_the_next_year(published, year, expected):
    assert is_on_time(published, year) is expected


def test_other_matters_and_combined_headings():
    text = "一、主要工作\n内容。\n二、存在问题及下一步打算\n问题和打算。\n三、其他需要报告的情况\n本年度接受督察，已全部整改到位，另有说明若干。\n"
    sections = [
        {"section_id": "s1", "heading": "一、主要工作", "label": "主要举措", "level": 1, "start": 0, "end": 10},
        {"section_id": "s2", "heading": "二、存在问题及下一步打算", "label": "存在的问题", "level": 1,
         "start": 10, "end": 30},
        {"section_id": "s3", "heading": "三、其他需要报告的情况", "label": "主要举措", "level": 1,
         "start": 30, "end": len(text)},
    ]
    parts = {p.part: [s.section_id for s in p.sections] for p in check_parts("x", sections, text)}
    assert parts == {1: ["s1"], 2: ["s2"], 3: [], 4: ["s2"], 5: ["s3"]}


def test_figures_need_a_unit_or_a_percentage():
    assert count_figures("办理案件15968宗。二是完善制度。2023年12月召开会议。出庭应诉率达100%。营商环境6.0改革。") == 2


# -- in headless Chromium ---------------------------------------------------------------------

from tests.test_browser import CHROMIUM, browser, page, server  # noqa: F401  (shared fixtures)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium.")
def test_scorecard_and_report_panel_in_a_browser(page):  # noqa: F811 (the imported fixture)
    page.goto("/checkups")
    rows = page.locator("#checkups-table tbody tr")
    assert rows.count() == 5
    yuehai = page.locator(f'tr[data-doc-id="{DOC_YUEHAI}"]')
    assert yuehai.locator("td.on-time .badge").inner_text() == "按时"
    haizhu = page.locator(f'tr[data-doc-id="{DOC_HAIZHU}"]')
    assert haizhu.locator('td[data-part="3"] .badge').inner_text() == "正文提及"
    assert haizhu.locator("td.on-time .badge").inner_text() == "未知"
    page.locator("#checkups-table thead th").nth(9).locator("button").click()  # 数据表述, ascending
    figures = [int(t) for t in page.locator("#checkups-table tbody td.figures").all_inner_texts()]
    assert figures == sorted(figures)
    page.goto(f"/reports/{DOC_TIANSHUIJUN}")
    panel = page.locator("#checkup")
    panel.locator("li.part").first.wait_for()
    assert panel.locator('li.part[data-part="5"] .badge').inner_text() == "无"
    assert "未知" in panel.locator(".on-time").inner_text()
    panel.locator('li.part[data-part="3"] a').click()
    assert page.url.endswith("#sec-s1.1.1")
    assert page.errors == []
