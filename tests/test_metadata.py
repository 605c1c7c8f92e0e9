"""Tests for reading issuer, level, region, year, date and title out of a report's text."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.gazetteer import parse_gazetteer
from indexer.metadata import extract_metadata
from indexer.normalize import normalize
from indexer.records import TITLE_NAMED, ReportMeta, SourceHints
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
PROV31 = SHARED / "ext" / "prov31-gwr"


def _meta(doc_id: str) -> ReportMeta:
    text = (ROOT / "corpus" / f"{doc_id}.txt").read_text(encoding="utf-8")
    return extract_metadata(doc_id, normalize(text).text, hints=SourceHints(file_name=f"{doc_id}.txt"))


CORPUS = [
    # doc_id, title, issuer, level, province, city, district, year, published, derived
    ("000_dc284aa856a2efc0", "粤海街道办事处2024年法治政府建设年度报告", "粤海街道", "街道",
     "广东省", "深圳市", "南山区", 2024, "2024-11-21", ()),
    # No title line and no 「现将…报告如下」 with a year, and a file name that is only an id: a title
    # named from the issuer and year the text states, marked so (never passed off as the report's own).
    ("001_853fd82f221bc387", "天水郡街道2023年法治政府建设年度报告", "天水郡街道", "街道",
     "甘肃省", "天水市", "秦州区", 2023, "", ("title", TITLE_NAMED)),
    ("002_95bdc2d1cb62a6be", "翠苑街道2024年法治政府建设年度报告", "翠苑街道", "街道",
     "浙江省", "杭州市", "西湖区", 2024, "", ("title", TITLE_NAMED)),
    ("003_b47a481025290089", "坦洲镇2023年法治政府建设年度报告", "坦洲镇", "镇",
     "广东省", "中山市", "", 2023, "", ("title", TITLE_NAMED)),
    ("004_1125619140e8c921", "广州市海珠区人民政府关于2023年度法治政府建设情况的报告", "海珠区", "区",
     "广东省", "广州市", "海珠区", 2023, "", ()),
]


@pytest.mark.parametrize("doc_id, title, issuer, level, province, city, district, year, published, derived",
                         CORPUS)
def test_corpus_reports(doc_id, title, issuer, level, province, city, district, year, published, derived):
    meta = _meta(doc_id)
    assert meta == ReportMeta(
        doc_id=doc_id, title=title, issuer=issuer, level=level, province=province,
        city=city, district=district, year=year, published=published, derived=derived,
    )


def test_an_untitled_report_is_named_from_its_text_only_when_its_file_name_is_an_id():
    text = "2023年，坦洲镇坚持依法行政，推进法治政府建设。\n一、工作开展情况\n法治政府建设扎实推进。\n"
    named = extract_metadata("x", text, hints=SourceHints(file_name="003_b47a481025290089.txt"))
    assert (named.title, named.derived) == ("坦洲镇2023年法治政府建设年度报告", ("title", TITLE_NAMED))
    # A file name or a page that says something is what the report is called.
    by_name = extract_metadata("x", text, hints=SourceHints(file_name="坦洲镇2023年工作总结.txt"))
    assert (by_name.title, by_name.derived) == ("坦洲镇2023年工作总结", ("title",))
    by_page = extract_metadata("x", text, hints=SourceHints(file_name="a1.txt", page_title="坦洲镇法治政府建设情况"))
    assert by_page.title == "坦洲镇法治政府建设情况" and TITLE_NAMED not in by_page.derived
    # Without a year in the text there is nothing to name it by: the id stays, marked.
    undated = extract_metadata("x", "坦洲镇坚持依法行政。\n", hints=SourceHints(file_name="a1.txt"))
    assert (undated.title, undated.derived) == ("a1", ("title",))


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
    assert meta.year == 2024  # a work report reports on the year it reviews: 「一、2024年工作回顾」
    assert meta.published == published
    assert meta.title == f"2025年{name}政府工作报告"
    assert meta.derived == ()


def test_province_work_report_without_its_title_line():
    text = _docx_text("广东省").split("\n", 1)[1]
    meta = extract_metadata("gwr", text)
    assert (meta.issuer, meta.level, meta.province) == ("广东省", "省", "广东省")
    assert meta.year == 2024  # the delivery line and 「一、2024年工作回顾」 still say it
    assert meta.title == ""  # no title line, no hints: no title is made up
    named = extract_metadata("gwr", text, hints=SourceHints(file_name="2025年广东省政府工作报告.docx"))
    assert (named.title, named.derived) == ("2025年广东省政府工作报告", ("title",))


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
    assert meta.title == ""  # no title line and no hints


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


# --- reports without a title line, hints, departments, work reports (issue 11) ----------------

SPEECH = ("各位代表：\n现在，我代表市人民政府向大会报告工作，请予审议，并请市政协委员提出意见。\n"
          "一、2023年工作回顾\n{body}\n二、2024年工作安排\n2024年是关键之年，2024年全市经济增长5%左右。\n")


def test_no_title_line_the_file_name_names_the_city_and_is_marked_derived():
    body = "过去一年，我市经济稳中向好，全市完成目标任务。与深圳市签订合作协议，平顺县来我市考察。本市推进依法行政。"
    meta = extract_metadata("x", SPEECH.format(body=body), hints=SourceHints(file_name="广州.txt"))
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.district) == ("广州市", "市", "广东省", "广州市", "")
    assert meta.year == 2023
    assert meta.title == "广州" and meta.derived == ("title", "issuer", "region")


def test_a_bare_name_in_the_file_name_takes_the_level_the_speech_declares():
    body = "过去一年，全市经济稳中向好，我市推进依法行政。"
    jilin = extract_metadata("x", SPEECH.format(body=body), hints=SourceHints(file_name="吉林.txt"))
    assert (jilin.issuer, jilin.level, jilin.province, jilin.city) == ("吉林市", "市", "吉林省", "吉林市")
    district = SPEECH.replace("市人民政府", "区人民政府").format(body="过去一年，全区推进依法行政。")
    huangshan = extract_metadata("x", district, hints=SourceHints(file_name="黄山.txt"))
    assert (huangshan.issuer, huangshan.level, huangshan.city, huangshan.district) == ("黄山区", "区", "黄山市", "黄山区")


def test_the_text_wins_over_a_file_name_that_disagrees():
    text = "广州市海珠区人民政府关于2023年度法治政府建设情况的报告\n2023年，海珠区坚持依法行政，全区成效明显。"
    meta = extract_metadata("x", text, hints=SourceHints(file_name="合肥.txt", page_title="合肥市政府网"))
    assert (meta.issuer, meta.city, meta.district, meta.derived) == ("海珠区", "广州市", "海珠区", ())


def test_the_speaker_names_the_city_in_the_session_line():
    text = ("政府工作报告\n——2024年1月16日在亳州市第五届人民代表大会第三次会议上\n市人民政府市长 某某\n"
            "各位代表：\n现在，我代表市人民政府向大会报告工作，请予审议。\n过去一年，我们推进依法行政，全市经济稳中向好。")
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.province, meta.city) == ("亳州市", "安徽省", "亳州市")
    assert meta.year == 2023  # 「过去一年」 in a report delivered in 2024
    assert meta.title == "政府工作报告" and meta.derived == ()


@pytest.mark.parametrize(
    "text, issuer, level, region",
    [
        ("广州市海珠区司法局2023年法治政府建设年度报告\n2023年，海珠区司法局坚持依法行政，我局全年办理复议案件30件。",
         "海珠区司法局", "区", "广东省 广州市 海珠区"),
        (("市生态环境局关于2023年法治政府建设情况的报告\n2023年，市生态环境局坚持依法行政，围绕杭州亚运会法治保障，"
          "落实杭州市部署，我局全市执法检查300次。"), "杭州市生态环境局", "市", "浙江省 杭州市"),
    ],
)
def test_a_department_report_is_issued_by_the_department_in_its_government_region(text, issuer, level, region):
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.level, meta.region) == (issuer, level, region)
    assert meta.year == 2023


def test_an_issuer_named_only_in_the_body_and_signature():
    text = ("2023年，我局坚持以习近平法治思想为指导，全面推进依法行政。\n一、主要举措\n"
            "南山区司法局牵头开展执法监督，我局办理行政复议案件40件，本局培训执法人员。\n"
            "深圳市南山区司法局\n2024年1月10日")
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.level, meta.region) == ("南山区司法局", "区", "广东省 深圳市 南山区")
    assert meta.published == "2024-01-10" and meta.title == ""


def test_places_named_as_partners_or_examples_are_not_the_issuer():
    partners = "我市与深圳市签订协议，与深圳市共建园区，与深圳市合作办学，赴深圳市学习，同深圳市对接，" * 2
    text = f"2023年，柳州市坚持依法行政，全市推进法治建设。{partners}南宁市、桂林市、梧州市等地来我市交流。"
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.province, meta.city) == ("柳州市", "广西壮族自治区", "柳州市")


@pytest.mark.parametrize(
    "head, year",
    [
        ("一、2023年工作回顾\n", 2023),
        ("2023年工作回顾\n", 2023),
        ("刚刚过去的2023年，极不平凡。\n", 2023),
        ("一、2022年工作回顾\n", 2022),  # a report delivered in 2023 reviews 2022
    ],
)
def test_the_year_a_work_report_reviews(head, year):
    text = (f"各位代表：\n现在，我代表市人民政府向大会报告工作，请予审议。\n{head}"
            "一年来，我市推进依法行政。2024年全市经济增长5%，2024年目标任务，2024年重点工作。")
    assert extract_metadata("x", text).year == year


def test_a_work_reports_title_year_is_its_delivery_year():
    text = "2025年广东省政府工作报告\n各位代表：\n现在，我代表省人民政府向大会报告工作。\n过去一年，全省经济回升向好。"
    assert extract_metadata("x", text).year == 2024


def test_the_year_from_the_file_name_when_the_text_names_none_is_derived():
    text = "坦洲镇坚持依法行政，全镇成效明显，没有写年份的开头段落。"
    meta = extract_metadata("x", text, hints=SourceHints(file_name="坦洲镇2023年法治政府建设年度报告.txt"))
    assert (meta.year, meta.title) == (2023, "坦洲镇2023年法治政府建设年度报告")
    assert meta.derived == ("title", "year")


def test_a_national_report_is_not_a_city_whatever_its_file_name():
    text = ("各位代表：\n现在，我代表国务院，向大会报告政府工作，请予审议，并请全国政协委员提出意见。\n"
            "一、2023年工作回顾\n杭州市、深圳市、广州市等地创新实践。我们推进依法行政。")
    meta = extract_metadata("x", text, hints=SourceHints(file_name="台州.txt"))
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.year) == ("国务院", "国家", "", "", 2023)
    assert meta.derived == ("title",)


@pytest.mark.parametrize(
    "text, hints",
    [
        # the delivery line: a speech to the 全国人民代表大会
        ("政府工作报告\n1957年6月26日在第一届全国人民代表大会第四次会议上\n各位代表：\n解放区的经验，河南省的工作。",
         SourceHints()),
        # a title that names nobody, and the source page's title that does
        ("政府工作报告\n各位代表：\n解放区的经验，河南省的工作，全国人民的胜利。",
         SourceHints(page_title="1957年中华人民共和国国务院政府工作报告")),
    ],
)
def test_a_speech_to_the_national_congress_is_the_state_councils(text, hints):
    meta = extract_metadata("x", text, hints=hints)
    assert (meta.issuer, meta.level, meta.province) == ("国务院", "国家", "")


@pytest.mark.parametrize(
    "hints, title, derived",
    [
        (SourceHints(), "", ()),
        (SourceHints(file_name="docs/翠苑街道年度报告.docx"), "翠苑街道年度报告", ("title",)),
        (SourceHints(file_name="a.html", page_title="翠苑街道2024年法治政府建设年度报告_西湖区政府网"),
         "翠苑街道2024年法治政府建设年度报告_西湖区政府网", ("title",)),
    ],
)
def test_a_title_is_never_invented(hints, title, derived):
    text = "2024年，翠苑街道推进法治建设，全街道成效明显。现将有关情况报告如下：\n一、主要举措\n我街道办理案件10件。"
    meta = extract_metadata("x", text, hints=hints)
    assert (meta.title, meta.derived) == (title, derived)
    assert (meta.issuer, meta.year) == ("翠苑街道", 2024)


@pytest.mark.parametrize(
    "text, hints, title",
    [
        # A notice named by an id (the NCP documents) opens with its own title.
        ("工业和信息化部组织开展负压救护车重点生产企业督导检查\n2020年2月4日，为做好疫情防控物资保障工作，工信部赴企业督导检查。",
         SourceHints(file_name="015758c216923f89991ca61c67b29f70.txt"), "工业和信息化部组织开展负压救护车重点生产企业督导检查"),
        # A file name that says something wins over the first line.
        ("工业和信息化部组织开展督导检查\n2020年2月4日，工信部赴企业督导检查。", SourceHints(file_name="督导通知.txt"), "督导通知"),
        # Running text, a heading or a salutation first: no title read from it.
        ("2020年2月4日，工信部赴企业督导检查。\n", SourceHints(file_name="a1.txt"), "a1"),
        ("一、总体情况\n工信部赴企业督导检查。\n", SourceHints(file_name="a1.txt"), "a1"),
        ("各位领导：\n工信部赴企业督导检查。\n", SourceHints(file_name="a1.txt"), "a1"),
    ],
)
def test_a_document_named_by_an_id_takes_its_first_line_as_title(text, hints, title):
    meta = extract_metadata("x", text, hints=hints)
    assert meta.title == title
    assert ("title" in meta.derived) == (title != text.splitlines()[0])


def _bench():
    """bench/metadata_check.py as a module (bench/ is a folder of scripts, not a package)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("metadata_check", ROOT / "bench" / "metadata_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return sys.modules[spec.name]


@pytest.mark.parametrize("name", ["prov31", "cities143"])
def test_province_city_and_year_right_on_real_work_reports(name):
    folder = SHARED / "ext" / ("prov31-gwr" if name == "prov31" else "cities143-gwr")
    if not folder.is_dir():
        pytest.skip(f"../shared is not beside this checkout; {folder} is not available.")
    pytest.importorskip("docx")
    bench = _bench()
    gaz = bench.load_gazetteer()
    score = bench.check_prov31(gaz, folder) if name == "prov31" else bench.check_cities143(gaz, folder)
    assert score.n == (31 if name == "prov31" else 143)
    assert score.share(score.all3) >= 0.95, score.misses


def test_a_speech_for_its_province_names_it_by_short_name():
    text = ("各位代表：\n现在，我代表省人民政府向大会报告工作，请予审议。\n一、2024年工作回顾\n"
            "过去一年，贵州经济回升向好，贵州大数据产业发展，贵州旅游升温，贵州品牌走红，全省推进依法行政。浙江省企业来黔投资，"
            "浙江省帮扶项目落地，浙江省客商增多，提高城乡居民收入，建设中心镇。\n")
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.level, meta.province, meta.city, meta.year) == ("贵州省", "省", "贵州省", "", 2024)


def test_a_level_word_alone_is_not_an_issuer():
    meta = extract_metadata("x", "各位代表：\n现在，我代表省人民政府向大会报告工作，请予审议，全省推进依法行政。")
    assert (meta.issuer, meta.province) == ("", "")


@pytest.mark.parametrize(
    "signature, issuer",
    [
        ("中共翠苑街道工作委员会\n翠苑街道办事处", "翠苑街道"),  # the party committee signs beside it
        ("西湖区人民政府办公室", "西湖区人民政府办公室"),  # 政府办 is a department
    ],
)
def test_signatures_of_governments_and_departments(signature, issuer):
    text = (f"2024年，推进法治建设，全面依法行政，统筹全局工作，服务全局发展。\n一、主要举措\n"
            f"杭州市西湖区推进法治建设，我单位办理案件10件。\n{signature}\n2024年1月5日")
    meta = extract_metadata("x", text)
    assert (meta.issuer, meta.province, meta.city, meta.district) == (issuer, "浙江省", "杭州市", "西湖区")


def test_fields_taken_from_hints_are_marked_derived():
    text = "坦洲镇坚持依法行政，全镇成效明显，没有写年份也没有落款日期的报告正文。"
    meta = extract_metadata("x", text, hints=SourceHints(file_name="a.html", page_title="法治建设情况",
                                                        published="2024-03-01", source_url="https://example.org/a"))
    assert (meta.title, meta.published, meta.source_url) == ("法治建设情况", "2024-03-01", "https://example.org/a")
    assert meta.derived == ("title", "published")
    unnamed = "各位代表：\n现在，我代表人民政府向大会报告工作。\n过去一年，全面推进依法行政，成效明显。"
    meta = extract_metadata("x", unnamed, hints=SourceHints(file_name="海珠区.txt"))
    assert (meta.issuer, meta.level, meta.city) == ("海珠区", "区", "广州市")
    assert meta.derived == ("title", "issuer", "level", "region")
