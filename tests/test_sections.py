"""The report's own heading tree."""
import pytest

from indexer.normalize import normalize
from indexer.sections import chinese_numeral_value, heading_level, label_for, parse_sections
from tests.conftest import CORPUS, DOC_YUEHAI, DOC_TIANSHUIJUN, DOC_HAIZHU


@pytest.mark.parametrize(
    "line, level",
    [
        ("一、加强党的领导", 1), ("十一、2023年度存在问题的改进情况", 1), ("十三、下一年度安排", 1),
        ("（一）强化组织领导", 2), ("(十二)健全机制", 2), ("1. 深学细悟笃行", 3), ("1、扎实推进", 3),
        ("2．依法规范", 3), ("2024年,粤海街道", 0), ("1.5万人参加", 0), ("一是坚持党的领导", 0),
    ],
)
def test_heading_levels(line, level):
    assert heading_level(line) == level


@pytest.mark.parametrize("text, value", [("一", 1), ("十", 10), ("十三", 13), ("二十一", 21), ("一百零二", 102)])
def test_chinese_numerals(text, value):
    assert chinese_numeral_value(text) == value


@pytest.mark.parametrize(
    "heading, label",
    [
        ("十二、2024年度推进法治政府建设存在的不足和原因", "存在的问题"),
        ("十三、下一年度推进法治政府建设主要安排", "下一步安排"),
        ("三、党政主要负责人履行推进法治建设第一责任人职责情况", "主要负责人履职"),
        ("十一、2023年度法治政府建设中存在问题的改进情况", "主要举措"),
        ("四、2025年推进法治政府建设的主要安排", "下一步安排"),
        ("（一）强化组织领导，健全完善工作机制", ""),
    ],
)
def test_labels(heading, label):
    assert label_for(heading) == label


def _sections(doc_id):
    return parse_sections(normalize((CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")).text)


def test_yuehai_has_thirteen_top_level_parts():
    tops = [s for s in _sections(DOC_YUEHAI) if s.level == 1 and s.label != "前言"]
    assert len(tops) == 13
    assert tops[10].heading.startswith("十一、") and tops[12].heading.startswith("十三、")
    assert tops[12].label == "下一步安排" and tops[11].label == "存在的问题"


def test_enumerations_become_subsections_with_a_path():
    sections = _sections(DOC_YUEHAI)
    items = [s for s in sections if s.level == 4 and s.path[0].startswith("八、")]
    assert [s.heading[:2] for s in items] == ["一是", "二是"]
    assert items[0].path == (items[0].path[0], "一是依法加强各类纠纷矛盾化解")


def test_children_inherit_or_set_their_label():
    by_heading = {s.heading: s for s in _sections(DOC_TIANSHUIJUN)}
    assert by_heading["（一）存在问题"].label == "存在的问题"
    assert by_heading["（二）下一步工作计划"].label == "下一步安排"


def test_sections_nest_and_stay_in_order():
    sections = _sections(DOC_HAIZHU)
    assert sections[0].label == "前言"
    for a, b in zip(sections, sections[1:]):
        assert a.start <= b.start
    for s in sections:
        assert s.start < s.end


def test_text_without_headings_is_one_preface():
    sections = parse_sections("这是一段没有标题的文字。\n第二段。\n")
    assert len(sections) == 1 and sections[0].label == "前言"
