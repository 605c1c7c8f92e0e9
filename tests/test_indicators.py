"""Indicators (数据): clause binding on hand-written sentences, and the API, CSV, chart and page on the seeds."""
from __future__ import annotations

import csv
import io
import re

import pytest

from service.indicators import figures_of
from service.indicators.extract import bind_sentence, parse_number
from tests.conftest import DOC_CUIYUAN, DOC_HAIZHU, DOC_TANZHOU, DOC_TIANSHUIJUN, DOC_YUEHAI, ROOT


def bound(sentence: str) -> list[tuple[str, float, str]]:
    return [(b.indicator.name, b.number, b.unit) for b in bind_sentence(sentence)]


@pytest.mark.parametrize("sentence, expected", [
    ("2023年受理行政复议案件56件。", [("行政复议收案", 56, "件")]),
    ("行政诉讼败诉率为2.1%。", [("行政诉讼败诉率", 2.1, "%")]),
    ("行政机关负责人出庭应诉率达100%，败诉率为3%", [("负责人出庭应诉率", 100, "%"), ("行政诉讼败诉率", 3, "%")]),
    ("开展线下普法活动53场次，服务群众9000余人次", [("普法活动场次", 53, "场次"), ("普法受众", 9000, "人次")]),
    ("全区公开发布政府信息超1.1万条", [("主动公开信息", 11000, "条")]),
    ("2023年对325份以镇政府名义签订的合同进行合法性审查", [("合法性审查·合同", 325, "份")]),
    ("人民调解案件数共计825件，调解成功率100%", [("人民调解受理", 825, "件"), ("人民调解成功率", 100, "%")]),
    # A measure verb may take its topic and 案件 as object before the number (prov31 reports).
    ("全省办结行政复议案件21850件", [("行政复议办结", 21850, "件")]),
    ("行政复议改革受理案件6965件，化解率达到90%", [("行政复议收案", 6965, "件")]),
])
def test_a_number_bound_to_its_terms_is_taken(sentence, expected):
    assert bound(sentence) == expected


@pytest.mark.parametrize("sentence, expected", [
    # The second number stands next to another word (调撤), not next to 发案.
    ("全年行政复议案件发案43件，调撤7件", [("行政复议收案", 43, "件")]),
    # 836人次 is legal counselling, next to 法律咨询: only the 法律援助 number is taken.
    ("提供法律咨询服务836人次，受理法律援助案件7宗", [("法律援助案件", 7, "宗")]),
    # A part of a total (其中…, 简易程序) is not the figure.
    ("今年以来共立案357件，其中普通程序案件219件，简易程序案件138件", [("行政执法案件", 357, "件")]),
    ("办理非现场执法案件13宗", []),
    # Propaganda on the Party congress is not 普法, though it has 活动 and 场次.
    ("召开宣讲活动36场次", []),
    # Topics inside a law's title are not the sentence's topic.
    ("围绕《中华人民共和国法律援助法》开展宣讲5场", []),
    # 重大行政执法决定 is not 重大行政决策; legal opinions on documents are not documents reviewed.
    ("1-12月共审查重大行政执法决定7件", []),
    ("对经济类文件出具法律意见39份", []),
    # 受理 with no topic of the catalogue in the sentence (a service window) binds nothing.
    ("2023年该窗口共受理业务521宗，办结率为100%", []),
    # Backlog cases cleared are not the petitions received (found on cities143, not a seed).
    ("开展信访积案化解攻坚行动，1232件信访积案全部化解", []),
    # Policies cleared by 公平竞争审查 are not documents given the legality review (found on prov31).
    ("制定公平竞争审查制度实施办法，清理妨碍统一市场和公平竞争政策文件309件", []),
])
def test_a_number_next_to_another_term_is_not_taken(sentence, expected):
    assert bound(sentence) == expected


@pytest.mark.parametrize("text, number", [("1.1万", 11000), ("八十", 80), ("十二", 12), ("9000余", 9000),
                                          ("140905", 140905), ("两百", 200)])
def test_parse_number(text, number):
    assert parse_number(text) == number


def test_figures_are_computed_once_per_searcher(searcher):
    assert figures_of(searcher) is figures_of(searcher)


# -- the API on the seed index -------------------------------------------------------------

PINNED = [
    # (doc_id, indicator, value as published, unit, number, a verbatim piece of the quote)
    (DOC_CUIYUAN, "行政复议收案", "43", "件", 43, "全年行政复议案件发案43件"),
    (DOC_CUIYUAN, "行政复议纠错", "1", "件", 1, "纠错1件"),
    (DOC_CUIYUAN, "行政诉讼败诉率", "57", "%", 57, "败诉率57%"),
    (DOC_CUIYUAN, "罚没金额", "140905", "元", 140905, "处罚金额合计140905元"),
    (DOC_TANZHOU, "合法性审查·合同", "325", "份", 325, "2023年对325份以镇政府名义签订的合同进行合法性审查"),
    (DOC_TANZHOU, "人民调解调结", "465", "宗", 465, "调结465宗"),
    (DOC_TIANSHUIJUN, "信访及12345", "246", "件", 246, "2023年累计受理答复各类转办案件246件"),
    (DOC_HAIZHU, "主动公开信息", "1.1萬", "条", 11000, "政府信息超1.1萬條"),
    (DOC_HAIZHU, "行政复议收案", "418", "宗", 418, "共418宗"),
]


@pytest.fixture(scope="module")
def all_figures(app):
    return app.test_client().get("/api/indicators").get_json()["indicators"]


@pytest.mark.parametrize("doc_id, name, value, unit, number, piece", PINNED)
def test_pinned_values(all_figures, doc_id, name, value, unit, number, piece):
    found = [f for f in all_figures if f["doc_id"] == doc_id and f["name"] == name]
    assert len(found) == 1
    figure = found[0]
    assert (figure["value"], figure["unit"], figure["number"]) == (value, unit, number)
    assert piece in figure["quote"]
    assert figure["url"] == f"/reports/{doc_id}#q-{figure['start']}-{figure['end']}"


def test_every_quote_is_verbatim_and_holds_its_value(all_figures, searcher):
    assert len(all_figures) >= 25
    for figure in all_figures:
        original = searcher.reports[figure["doc_id"]]["original"]
        assert figure["quote"] and original[figure["start"]:figure["end"]] == figure["quote"]
        assert original[figure["value_start"]:figure["value_end"]] == figure["value"]
        assert figure["start"] <= figure["value_start"] < figure["value_end"] <= figure["end"]
        assert set(figure) >= {"name", "value", "unit", "period", "issuer", "doc_id", "year", "quote", "start", "end"}


def test_a_report_without_catalogue_figures_has_none(all_figures):
    assert not [f for f in all_figures if f["doc_id"] == DOC_YUEHAI]


@pytest.mark.parametrize("query, check", [
    ("issuer=坦洲镇", lambda f: f["doc_id"] == DOC_TANZHOU),
    ("region=广东省", lambda f: f["doc_id"] in (DOC_TANZHOU, DOC_HAIZHU, DOC_YUEHAI)),
    ("level=街道", lambda f: f["doc_id"] in (DOC_CUIYUAN, DOC_TIANSHUIJUN, DOC_YUEHAI)),
    ("year=2024", lambda f: f["year"] == 2024),
    ("name=法律援助案件", lambda f: f["name"] == "法律援助案件"),
    ("name=人民调解受理&region=广州市", lambda f: f["name"] == "人民调解受理" and f["doc_id"] == DOC_HAIZHU),
])
def test_filters(client, all_figures, query, check):
    body = client.get(f"/api/indicators?{query}").get_json()
    assert body["indicators"] and all(check(f) for f in body["indicators"])
    assert len(body["indicators"]) == sum(check(f) for f in all_figures)


@pytest.mark.parametrize("url", [
    "/api/indicators?name=不存在的指标",
    "/api/indicators?year=二〇二三",
    "/api/indicators?region=火星",
    "/api/indicators?section=主要举措",
    "/api/indicators?colour=red",
    "/api/indicators.csv?issuer=不存在的街道",
    "/indicators/chart.svg",
    "/indicators/chart.svg?name=unknown",
])
def test_bad_parameters_are_400_with_a_sentence(client, url):
    response = client.get(url)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert message.endswith(".") and len(message) > 20


def test_csv(client, all_figures):
    response = client.get("/api/indicators.csv?region=广东省")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == sum(f["doc_id"] in (DOC_TANZHOU, DOC_HAIZHU) for f in all_figures)
    row = next(r for r in rows if r["name"] == "合法性审查·合同")
    assert (row["value"], row["unit"], row["doc_id"]) == ("325", "份", DOC_TANZHOU)
    assert "合法性审查" in row["quote"] and row["url"].startswith(f"/reports/{DOC_TANZHOU}#q-")


@pytest.mark.parametrize("name, places", [("人民调解受理", 3), ("行政复议收案", 2), ("普法受众", 1)])
def test_chart_has_one_bar_per_place(client, all_figures, name, places):
    response = client.get(f"/indicators/chart.svg?name={name}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert svg.count('class="bar"') == places == len({f["doc_id"] for f in all_figures if f["name"] == name})
    assert "/reports/" in svg and "<script" not in svg


def test_chart_of_a_place_without_the_figure_says_so(client):
    svg = client.get("/indicators/chart.svg?name=行政复议收案&issuer=粤海街道").get_data(as_text=True)
    assert 'class="bar"' not in svg and "没有报告写明" in svg


def test_page_has_places_as_rows_and_cells_linking_to_quotes(client):
    response = client.get("/indicators")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="indicators-table"' in html and ">数据</a>" in html
    for place in ("翠苑街道", "坦洲镇", "海珠区", "天水郡街道"):
        assert place in html
    assert re.search(rf'href="/reports/{DOC_CUIYUAN}#q-\d+-\d+" title="[^"]*行政复议案件发案43件', html)
    assert 'class="bar"' in html and "<svg" in html  # the chart is embedded
    assert client.get("/indicators?chart=行政复议收案").status_code == 200


def test_openapi_lists_the_endpoints(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/api/indicators", "/api/indicators.csv", "/indicators/chart.svg"} <= set(paths)


GANSU_DOCX = ROOT.parent / "shared" / "ext" / "prov31-gwr" / "2025年甘肃省政府工作报告.docx"


@pytest.mark.skipif(not GANSU_DOCX.exists(),
                    reason=f"../shared is not beside this checkout; this test reads {GANSU_DOCX.name} of prov31-gwr.")
def test_a_provincial_work_report_gives_its_review_figure_with_its_quote():
    from indexer.build import doc_id_for
    from indexer.pipeline import process_source
    from indexer.sources import read_source
    from service.indicators.extract import processed_figures

    report = process_source(doc_id_for(GANSU_DOCX), read_source(GANSU_DOCX))
    figures = processed_figures(report)
    # Read in the report: 「行政复议改革受理案件6965件，化解率达到90%」 (政府自身建设, the year 2024).
    assert [(f.name, f.number, f.unit, f.value) for f in figures] == [("行政复议收案", 6965, "件", "6965")]
    figure = figures[0]
    assert report.norm.original[figure.start:figure.end] == figure.quote and "受理案件6965件" in figure.quote
