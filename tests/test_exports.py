"""Take-away files (CSV, XLSX, DOCX) and the per-place SVG charts, through the HTTP client on the real seeds."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote

import pytest
from docx import Document
from openpyxl import load_workbook

from service import exports
from service.indicators.chart import Point, line_chart
from tests.conftest import DOC_HAIZHU, DOC_TIANSHUIJUN, DOC_YUEHAI

SVG = "{http://www.w3.org/2000/svg}"
WHICH = "哪些地方落实“谁执法谁普法”普法责任制？"
PLACE = "坦洲镇"  # one report (2023), nine indicators stated


def csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]


def docx_paragraphs(response) -> list[str]:
    return [p.text for p in Document(io.BytesIO(response.data)).paragraphs]


def svg_root(response) -> ET.Element:
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    return ET.fromstring(response.data)


@pytest.mark.parametrize("path", [
    "/api/ask.{ext}?question=" + quote(WHICH),
    "/api/indicators.{ext}",
    "/api/indicators.{ext}?region=广东省&name=人民调解受理",
    "/api/checkups.{ext}",
    "/api/checkups.{ext}?level=镇",
], ids=["ask", "indicators", "indicators-filtered", "checkups", "checkups-filtered"])
def test_xlsx_holds_the_same_rows_as_the_csv(client, path):
    as_csv = client.get(path.format(ext="csv"))
    as_xlsx = client.get(path.format(ext="xlsx"))
    assert as_csv.status_code == as_xlsx.status_code == 200
    rows = csv_rows(as_csv)
    assert len(rows) > 1  # a header and at least one row: the comparison is not vacuous
    assert xlsx_rows(as_xlsx) == rows


def test_answer_docx_holds_every_quote_verbatim_with_its_citation_line(client):
    answer = client.post("/api/ask", json={"question": WHICH}).get_json()
    response = client.get("/api/ask.docx", query_string={"question": WHICH})
    assert response.status_code == 200
    paragraphs = docx_paragraphs(response)
    text = "\n".join(paragraphs)
    assert paragraphs[0] == WHICH and answer["answer"] in paragraphs
    citations = [(c, g) for g in answer["groups"] for c in g["citations"]]
    assert len(citations) >= 2
    for citation, group in citations:
        line = exports.citation_line(citation, group)
        assert f"[{citation['n']}] {line}" in paragraphs
        assert f"「{citation['quote']}」" in text
        assert "http://localhost" + citation["url"] in paragraphs
    # Written out by hand for the Haizhu report: Traditional text kept as published, part from 「四、」.
    haizhu = next(c for c, g in citations if g["issuer"] == "海珠区")
    assert "嚴(yán)格落實(shí)" in haizhu["quote"]
    assert (f"「{haizhu['quote']}」（《广州市海珠区人民政府关于2023年度法治政府建设情况的报告》，海珠区，"
            "第四部分“强化全面依法治区工作保障，聚焦治理重点促发展”）") in text


def test_answer_docx_and_xlsx_accept_a_json_question_with_history(client):
    body = {"question": WHICH, "history": [{"question": "哪些地方推行容缺受理？", "answer": "…"}]}
    docx = client.post("/api/ask.docx", json=body)
    xlsx = client.post("/api/ask.xlsx", json=body)
    assert docx.status_code == xlsx.status_code == 200
    assert docx_paragraphs(docx)[0] == WHICH
    assert xlsx_rows(xlsx)[0] == ["issuer", "region", "year", "level", "quote", "section", "doc_id", "title", "url"]


@pytest.mark.parametrize("path, expected_name, fallback", [
    ("/api/ask.docx?question=" + quote(WHICH), "回答-哪些地方落实谁执法谁普法普法责任制.docx", "answer.docx"),
    ("/api/ask.xlsx?question=" + quote(WHICH), "回答-哪些地方落实谁执法谁普法普法责任制.xlsx", "answer.xlsx"),
    ("/api/ask.csv?question=" + quote(WHICH), "回答-哪些地方落实谁执法谁普法普法责任制.csv", "answer.csv"),
    ("/api/indicators.xlsx", "数据.xlsx", "indicators.xlsx"),
    ("/api/indicators.csv", "数据.csv", "indicators.csv"),
    ("/api/checkups.xlsx", "报告体检.xlsx", "checkups.xlsx"),
    ("/api/checkups.csv", "报告体检.csv", "checkups.csv"),
])
def test_content_types_and_utf8_file_names(client, path, expected_name, fallback):
    response = client.get(path)
    assert response.status_code == 200
    extension = expected_name.rsplit(".", 1)[1]
    assert response.mimetype == {"csv": "text/csv", "xlsx": exports.XLSX_MIMETYPE, "docx": exports.DOCX_MIMETYPE}[extension]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{fallback}"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and unquote(encoded) == expected_name


@pytest.mark.parametrize("path, words", [
    ("/api/ask.xlsx", "'question' is required"),
    ("/api/ask.docx?question=%20", "must not be empty"),
    ("/api/ask.docx?question=普法&year=abc", "year"),
    ("/api/indicators.xlsx?name=没有的指标", "no indicator named"),
    ("/api/indicators.xlsx?colour=red", "Unknown parameter 'colour'"),
    ("/api/checkups.xlsx?section=主要举措", "applies to passages"),
    ("/indicators/line.svg?name=人民调解受理", "'issuer' is required"),
    ("/indicators/line.svg?issuer=坦洲镇", "'name' is required"),
    ("/indicators/line.svg?name=人民调解受理&issuer=火星镇", "No report in the index is issued by '火星镇'"),
    ("/indicators/line.svg?name=没有的指标&issuer=坦洲镇", "no indicator named"),
    ("/indicators/profile.svg", "'issuer' is required"),
    ("/indicators/profile.svg?issuer=坦洲镇&year=20x4", "whole number"),
    ("/indicators/profile.svg?issuer=坦洲镇&name=人民调解受理", "Unknown parameter 'name'"),
])
def test_bad_parameters_are_400_json_sentences(client, path, words):
    response = client.get(path)
    assert response.status_code == 400 and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "bad_parameter" and words in error["message"] and error["message"].endswith(".")


def test_line_chart_of_a_place_with_one_year_draws_one_point_and_says_so(client):
    root = svg_root(client.get("/indicators/line.svg", query_string={"name": "人民调解受理", "issuer": PLACE}))
    points = root.findall(f".//{SVG}circle[@class='point']")
    assert len(points) == 1 and root.find(f".//{SVG}polyline") is None
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "570宗" in texts and "2023年" in texts
    assert any("一个年度" in t and "趋势" in t for t in texts)
    link = root.find(f".//{SVG}a")
    figure = client.get("/api/indicators", query_string={"name": "人民调解受理", "issuer": PLACE}).get_json()
    assert link.get("href") == figure["indicators"][0]["url"]


def test_line_chart_of_an_indicator_the_place_does_not_state_says_so(client):
    root = svg_root(client.get("/indicators/line.svg", query_string={"name": "行政诉讼败诉率", "issuer": PLACE}))
    assert root.findall(f".//{SVG}circle") == []
    assert any("没有写明行政诉讼败诉率" in "".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_line_chart_joins_several_years_oldest_first():
    points = [Point("2022年", 10, "10件", "/r#a"), Point("2023年", 30, "30件", "/r#b"), Point("2024年", 20, "20件", "/r#c")]
    root = ET.fromstring(line_chart("t", points))
    coords = [tuple(map(float, pair.split(","))) for pair in root.find(f"{SVG}polyline").get("points").split()]
    assert len(coords) == len(root.findall(f".//{SVG}circle")) == 3
    xs, ys = zip(*coords)
    assert xs == tuple(sorted(xs)) and ys[1] < ys[2] < ys[0]  # SVG y grows downwards: 30 highest
    assert not any("趋势" in "".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_profile_chart_has_one_labelled_bar_per_indicator_linking_to_its_quote(client):
    figures = client.get("/api/indicators", query_string={"issuer": PLACE}).get_json()["indicators"]
    names = {f["name"] for f in figures}
    assert len(names) == 9
    root = svg_root(client.get("/indicators/profile.svg", query_string={"issuer": PLACE}))
    links = root.findall(f"{SVG}a")
    assert len(root.findall(f".//{SVG}rect[@class='bar']")) == len(links) == len(names)
    labels = {link.find(f"{SVG}text").text for link in links}
    assert labels == names
    urls = {f["url"] for f in figures}
    assert all(link.get("href") in urls for link in links)
    widths = [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert all(0 < w <= 640 for w in widths)


def test_bar_chart_across_places_still_renders(client):
    root = svg_root(client.get("/indicators/chart.svg", query_string={"name": "人民调解受理"}))
    places = client.get("/api/indicators", query_string={"name": "人民调解受理"}).get_json()["indicators"]
    assert len(root.findall(f".//{SVG}rect[@class='bar']")) == len({f["doc_id"] for f in places}) >= 2


def test_pages_link_to_the_downloads_and_show_the_place_charts(client):
    page = client.get("/indicators", query_string={"place": PLACE, "chart": "人民调解受理"}).get_data(as_text=True)
    assert 'href="/api/indicators.xlsx"' in page and 'href="/api/indicators.csv"' in page
    assert f'<option value="{PLACE}" selected>' in page
    assert "/indicators/profile.svg?issuer=" + quote(PLACE) in page
    assert page.count('class="point"') == 1 and "各项指标" in page
    scorecard = client.get("/checkups?level=镇").get_data(as_text=True)
    assert 'href="/api/checkups.xlsx?level=%E9%95%87"' in scorecard


def test_formula_looking_text_is_escaped_in_csv_and_xlsx():
    table = exports.Table(("a", "b", "c"), [("=HYPERLINK(\"x\")", "-3件", 5), ("+1", "@me", None)])
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(table).decode("utf-8")[1:])))
    assert rows[1:] == [["'=HYPERLINK(\"x\")", "'-3件", "5"], ["'+1", "'@me", ""]]
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(table))).active
    assert sheet["A2"].value == "'=HYPERLINK(\"x\")" and sheet["A2"].data_type == "s"
    assert sheet["C2"].value == 5 and sheet["C3"].value is None


@pytest.mark.parametrize("section, expected", [
    ("一、2024年主要举措 › （六）加强法治实践", ("第一部分", "2024年主要举措")),
    ("十二、其他情况", ("第十二部分", "其他情况")),
    ("前言", ("", "前言")),
    ("", ("", "")),
])
def test_part_of_a_section_path(section, expected):
    assert exports.part_of(section) == expected


def test_citation_line_leaves_out_an_untitled_reports_id():
    citation = {"quote": "严格落实普法责任制。", "doc_id": "002_x", "title": "002_x", "issuer": "翠苑街道",
                "section": "一、主要举措 › 2、普法"}
    assert exports.citation_line(citation, {}) == "「严格落实普法责任制。」（翠苑街道，第一部分“主要举措”）"


def test_compare_exports_one_row_per_area_and_report(client):
    from service.areas import AREAS

    query = f"doc={DOC_YUEHAI}&doc={DOC_HAIZHU}"
    rows = list(csv.reader(io.StringIO(client.get("/api/compare.csv?" + query).get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["任务体系", "纲要部分", "doc_id"]
    assert len(rows) == 1 + 2 * len(AREAS)
    body = client.get("/api/compare?" + query).get_json()
    disputes = next(a for a in body["areas"] if a["id"] == "disputes")
    row = next(r for r in rows[1:] if r[0] == disputes["name"] and r[2] == DOC_HAIZHU)
    assert int(row[5]) == disputes["cells"][1]["count"]
    assert row[8].endswith(f"/reports/{DOC_HAIZHU}")
    book = load_workbook(io.BytesIO(client.get("/api/compare.xlsx?" + query).data))
    assert book.active.max_row == len(rows)
    assert client.get(f"/api/compare.csv?doc={DOC_YUEHAI}").status_code == 400
    page = client.get("/compare?" + query).get_data(as_text=True)
    assert f'href="/api/compare.csv?{query.replace("&", "&amp;")}"' in page


def test_peer_exports_list_the_peers_best_first(client, searcher):
    chunk_id = searcher.chunks_of(DOC_TIANSHUIJUN)[3].chunk_id
    body = client.get(f"/api/passages/{chunk_id}/peers").get_json()
    rows = list(csv.reader(io.StringIO(
        client.get(f"/api/passages/{chunk_id}/peers.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["名次", "doc_id", "发布机关"]
    assert [r[1] for r in rows[1:]] == [p["doc_id"] for p in body["peers"]]
    assert all(r[7] for r in rows[1:])  # every peer with its quotes
    book = load_workbook(io.BytesIO(client.get(f"/api/passages/{chunk_id}/peers.xlsx?level=区").data))
    assert [c.value for c in book.active[1]][:2] == ["名次", "doc_id"]
    assert client.get("/api/passages/nope:1/peers.csv").status_code == 404
