"""Tests for reading issuer, level, region, year, date and title out of a report's text."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.gazetteer import parse_gazetteer
from indexer.metadata import extract_metadata
from indexer.normalize import normalize
from indexer.records import ReportMeta
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
PROV31 = SHARED / "ext" / "prov31-gwr"


def _meta(doc_id: str) -> ReportMeta:
    text = (ROOT / "corpus" / f"{doc_id}.txt").read_text(encoding="utf-8")
    return extract_metadata(doc_id, normalize(text).text)


CORPUS = [
    # doc_id, title, issuer, level, province, city, district, year, published
    ("000_dc284aa856a2efc0", "粤海街道办事处2024年法治政府建设年度报告", "粤海街道", "街道",
     "广东省", "深圳市", "南山区", 2024, "2024-11-21"),
    ("001_853fd82f221bc387", "天水郡街道2023年法治政府建设工作情况报告", "天水郡街道", "街道",
     "甘肃省", "天水市", "秦州区", 2023, ""),
    ("002_95bdc2d1cb62a6be", "翠苑街道2024年法治政府建设工作情况报告", "翠苑街道", "街道",
     "浙江省", "杭州市", "西湖区", 2024, ""),
    ("003_b47a481025290089", "坦洲镇2023年法治政府建设工作情况报告", "坦洲镇", "镇",
     "广东省", "中山市", "", 2023, ""),
    ("004_1125619140e8c921", "广州市海珠区人民政府关于2023年度法治政府建设情况的报告", "海珠区", "区",
     "广东省", "广州市", "海珠区", 2023, ""),
]


@pytest.mark.parametrize("doc_id, title, issuer, level, province, city, district, year, published", CORPUS)
def test_corpus_reports(doc_id, title, issuer, level, province, city, district, year, published):
    meta = _meta(doc_id)
    assert meta == ReportMeta(
        doc_id=doc_id, title=title, issuer=issuer, level=level, province=province,
        city=city, district=district, year=year, published=published,
    )


def test_region_property_of_a_township_report():
    assert _meta("000_dc284aa856a2efc0").region == "广东省 深圳市 南山区"


def _docx_text(name: str) -> str:
    docx = pytest.importorskip("docx")
    path = PROV31 / f"2025年{name}政府工作报告.docx"
    if not path.exists():
        pytest.skip(f"../shared is not beside this checkout; {path} is not available.")
    return normalize("\n".join(p.text for p in docx.Document(str(path)).paragraphs)).text


@pytest.mark.parametrize(
    "name, issuer, level, province, city, published",
    [
        ("广东省", "广东省", "省", "广东省", "", "2025-01-15"),
        ("广西", "广西壮族自治区", "省", "广西壮族自治区", "", "2025-01-13"),  # short name in the title
        ("北京市", "北京市", "市", "北京市", "北京市", "2025-01-14"),  # a municipality is its own city
        ("海南省", "海南省", "省", "海南省", "", "2025-01-14"),  # ——date 省长 XX 在… under the title
    ],
)
def test_province_work_reports(name, issuer, level, province, city, published):
    meta = extract_metadata("gwr", _docx_text(name))
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.district) == (issuer, level, province, city, "")
    assert meta.year == 2025
    assert meta.published == published
    assert meta.title == f"2025年{name}政府工作报告"


def test_province_work_report_without_its_title_line():
    text = _docx_text("广东省").split("\n", 1)[1]
    meta = extract_metadata("gwr", text)
    assert (meta.issuer, meta.level, meta.province) == ("广东省", "省", "广东省")
    assert meta.year is None  # no title, and the opening paragraph names no year
    assert meta.title == "广东省法治政府建设工作情况报告"  # built from the issuer


AMBIGUOUS = "2023年，西湖区坚持以习近平法治思想为指导，全面推进依法行政。{context}现将有关情况报告如下：\n一、主要举措\n全区共办理行政复议案件12件。"


@pytest.mark.parametrize(
    "context, province, city",
    [
        ("在南昌市委、市政府的领导下，落实南昌“法治南昌”部署，", "江西省", "南昌市"),
        ("围绕杭州亚运会法治保障，落实杭州市部署，", "浙江省", "杭州市"),
        ("", "", ""),  # no context: the city is not guessed
    ],
)
def test_ambiguous_district_resolved_by_context(context, province, city):
    meta = extract_metadata("x", AMBIGUOUS.format(context=context))
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.district) == ("西湖区", "区", province, city, "西湖区")
    assert meta.year == 2023


def test_qualified_name_in_title_decides():
    text = "南昌市西湖区人民政府关于2023年度法治政府建设情况的报告\n2023年，西湖区坚持依法行政。"
    meta = extract_metadata("x", text)
    assert (meta.province, meta.city, meta.district) == ("江西省", "南昌市", "西湖区")
    assert meta.title == "南昌市西湖区人民政府关于2023年度法治政府建设情况的报告"


def test_ambiguous_township_resolved_by_district_mention():
    # 城关镇 exists in some 99 counties; the text names one of them by its short name.
    text = "2024年，城关镇坚持依法行政，落实舒城“八五”普法规划。全镇共调解纠纷30件。"
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.level) == ("城关镇", "镇")
    assert (meta.province, meta.city, meta.district) == ("安徽省", "六安市", "舒城县")


def test_ambiguous_township_without_context_keeps_only_what_is_sure():
    meta = extract_metadata("x", "2024年，城关镇坚持依法行政。全镇共调解纠纷30件。")
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.district) == ("城关镇", "镇", "", "", "")


def test_citations_do_not_make_an_issuer():
    text = (
        "2023年，天水郡街道坚持依法行政。我街道严格落实《天水市秦州区人民政府行政规范性文件制定程序规定》"
        "和《天水市秦州区赋予镇和街道部分经济社会管理权限指导目录》《秦州区执法办法》。"
    )
    assert extract_metadata("x", text).issuer == "天水郡街道"


def test_self_references_pick_the_level():
    text = "2023年，在秦州区委领导下，天水郡街道推进法治建设。秦州区司法局指导。秦州区。全街道、我街道、本街道持续推进。"
    assert extract_metadata("x", text).issuer == "天水郡街道"


@pytest.mark.parametrize(
    "opening, year",
    [
        ("2023来，天水郡街道推进法治建设，工作取得成效如下。", 2023),
        ("2023年，坦洲镇坚持依法行政。在2022年度考核中排名第三，2024年继续努力。", 2023),
        ("2024年，翠苑街道推进法治建设。自2022年11月起与律所签约，2024年成效明显。", 2024),
        ("翠苑街道推进法治建设，成效明显，没有写年份的开头段落。", None),
    ],
)
def test_year_from_opening(opening, year):
    assert extract_metadata("x", opening).year == year


def test_title_line_of_a_summary():
    text = "坦洲镇2023年法治政府建设工作总结\n2023年，坦洲镇坚持依法行政，全镇成效明显。"
    meta = extract_metadata("x", text)
    assert (meta.title, meta.issuer, meta.year) == ("坦洲镇2023年法治政府建设工作总结", "坦洲镇", 2023)


def test_year_from_the_whole_text_when_title_and_opening_have_none():
    body = "一、主要举措\n翠苑街道推进法治建设，成效明显，没有写年份的开头段落。\n2024年共办理案件10件，2024年调解30件，2025年继续推进。"
    assert extract_metadata("x", body).year == 2024
    tie = "翠苑街道推进法治建设，成效明显，没有写年份的开头段落。\n2024年办理10件，2025年继续推进。"
    assert extract_metadata("x", tie).year is None


def test_year_from_title_wins_over_opening():
    text = "海珠区人民政府关于2023年度法治政府建设情况的报告\n2024年1月，海珠区总结了一年的工作，2024年继续推进。"
    assert extract_metadata("x", text).year == 2023


@pytest.mark.parametrize(
    "ending, published",
    [
        ("粤海街道办事处\n2024年11月21日", "2024-11-21"),
        ("粤海街道办事处 2024年11月21日", "2024-11-21"),
        ("粤海街道办事处\n二〇二四年十一月二十日", "2024-11-20"),
        ("粤海街道办事处\n2024年13月40日", ""),
        ("将于2025年1月1日起施行新的制度，持续推进。", ""),
        ("（三）截至2024年11月21日", ""),  # a date in a heading is not a signature date
    ],
)
def test_published_date(ending, published):
    text = f"2024年，粤海街道推进法治建设，现将有关情况报告如下。\n{ending}"
    assert extract_metadata("x", text).published == published


def test_unknown_body_keeps_its_name_and_level():
    text = "甲乙丙街道办事处关于2023年度法治政府建设情况的报告\n2023年，本街道推进法治建设。"
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.district) == ("甲乙丙街道", "街道", "", "", "")
    assert meta.year == 2023


def test_injected_gazetteer_is_used():
    gaz = parse_gazetteer(["0\t甲省\t甲\t-1", "1\t乙市\t乙\t0", "3\t丙丁镇\t\t1"])
    meta = extract_metadata("x", "2022年，丙丁镇推进法治建设，全镇成效明显。", gazetteer=gaz)
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.year) == ("丙丁镇", "镇", "甲省", "乙市", 2022)
    assert meta.title == "丙丁镇2022年法治政府建设工作情况报告"


@pytest.mark.parametrize("text", ["", "\n\n  \n", "hello world", "|\n![]() |", "。。。，，，", "2024", None, 42])
def test_weird_input_gives_empty_metadata(text):
    meta = extract_metadata("weird", text)
    assert meta == ReportMeta(doc_id="weird", title="", issuer="", level="")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("2023年月日来，,。\n《》现将报告如下街道镇区市省西湖杭州南昌粤海翠苑〇一十 -—")), max_size=200))
def test_never_raises(text):
    meta = extract_metadata("h", text)
    assert meta.doc_id == "h"
    assert meta.year is None or 1949 <= meta.year <= 2100


def test_a_state_council_report_is_issued_by_the_state_council_not_a_place_it_names():
    text = ("2019年国务院政府工作报告\n各位代表：\n现在，我代表国务院，向大会报告政府工作。\n"
            "一、2018年工作回顾\n澳门、高城乡……各地区各部门做了大量工作。\n")
    meta = extract_metadata("national_x", text)
    assert (meta.issuer, meta.level, meta.province) == ("国务院", "国家", "")
