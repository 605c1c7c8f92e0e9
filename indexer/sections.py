"""The report's own heading tree: 一、 （一） 1. 1、 1． and 一是… enumerations inside paragraphs."""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.records import Section

_NUMERAL = "一二三四五六七八九十百零〇两"
_LEVEL_PATTERNS = (
    (1, re.compile(rf"^\s*[{_NUMERAL}]{{1,4}}\s*[、，,．.]")),
    (2, re.compile(rf"^\s*[（(]\s*[{_NUMERAL}]{{1,4}}\s*[)）]")),
    (3, re.compile(r"^\s*\d{1,2}\s*(?:[、．]|\.(?!\d))")),
)
_ENUMERATION = re.compile(rf"(?:^|(?<=[。；;！!？?]))\s*([{_NUMERAL}]{{1,3}})是")
_HEADING_END = re.compile(r"[。；;！？!?]")
_ITEM_HEAD_END = re.compile(r"[，,。；;：:！？!?]")
MAX_HEADING = 60

LABEL_MEASURES = "主要举措"
LABEL_PROBLEMS = "存在的问题"
LABEL_PLANS = "下一步安排"
LABEL_LEADERS = "主要负责人履职"
LABEL_PREFACE = "前言"
LABELS = (LABEL_PREFACE, LABEL_MEASURES, LABEL_LEADERS, LABEL_PROBLEMS, LABEL_PLANS)

_LABEL_RULES = (
    (LABEL_MEASURES, re.compile(r"改进情况|整改情况|整改落实")),
    (LABEL_LEADERS, re.compile(r"主要负责人.{0,20}(履行|履职)|第一责任人职责")),
    (LABEL_PROBLEMS, re.compile(r"存在的?(主要)?(问题|不足)|不足(之处)?(和|及|与)原因|问题(和|与|及)不足|短板")),
    (LABEL_PLANS, re.compile(r"下一步|下一年度|下阶段|工作(计划|打算|设想|思路|安排)|主要安排|\d{4}年.{0,12}(安排|计划|打算)"
                             r"|^(?!.*(情况|成效|完成|进展|回顾)).*(主要任务|总体部署|重点工作|重点任务|工作任务|工作的建议)")),
)
_REVIEW = re.compile(r"工作回顾|回顾$|过去.{0,4}年|一年来")
_NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}


@dataclass(frozen=True)
class _Heading:
    level: int
    start: int  # offset of the heading line in the normalised text
    heading: str


def chinese_numeral_value(text: str) -> int:
    """Value of a small Chinese numeral: 一 -> 1, 十 -> 10, 十三 -> 13, 二十一 -> 21."""
    text = text.replace("〇", "零").replace("两", "二")
    if "百" in text:
        head, _, rest = text.partition("百")
        rest = rest.lstrip("零")
        return (_NUMERALS.get(head, 1) if head else 1) * 100 + (chinese_numeral_value(rest) if rest else 0)
    if "十" in text:
        head, _, rest = text.partition("十")
        return (_NUMERALS.get(head, 1) if head else 1) * 10 + (_NUMERALS.get(rest, 0) if rest else 0)
    return _NUMERALS.get(text, 0)


def heading_level(line: str) -> int:
    """1 for 一、, 2 for （一）, 3 for 1. / 1、 / 1．, 0 for a paragraph that is not a heading."""
    for level, pattern in _LEVEL_PATTERNS:
        if pattern.match(line):
            return level
    return 0


def heading_text(line: str, limit: int = MAX_HEADING) -> str:
    """The heading part of a line: up to its first full stop, at most `limit` characters."""
    line = line.strip()
    end = _HEADING_END.search(line)
    head = line[: end.start()] if end else line
    return head if len(head) <= limit else head[:limit] + "…"


def label_for(heading: str) -> str:
    """The standard part a heading names (主要举措, 存在的问题, 下一步安排, 主要负责人履职)."""
    found = [label for label, pattern in _LABEL_RULES if pattern.search(heading)]
    return found[0] if found else ""


def _enumeration_starts(paragraph: str) -> list[tuple[int, str]]:
    """Offsets of 一是 二是 三是… in a paragraph, kept only as a run counting up from 一是."""
    items = []
    expected = 1
    for match in _ENUMERATION.finditer(paragraph):
        if chinese_numeral_value(match.group(1)) == expected:
            items.append((match.start(1), match.group(1)))
            expected += 1
    return items


def _find_headings(text: str) -> list[_Heading]:
    headings = []
    position = 0
    for line in text.splitlines(keepends=True):
        level = heading_level(line)
        if level:
            headings.append(_Heading(level, position, heading_text(line)))
        body_offset = 0
        if level:
            # A heading line may run on into body text: enumerations count after its heading.
            end = _HEADING_END.search(line)
            body_offset = end.end() if end else len(line)
        for offset, _ in _enumeration_starts(line[body_offset:]):
            at = body_offset + offset
            rest = line[at:]
            cut = _ITEM_HEAD_END.search(rest)
            item = rest[: cut.start()] if cut else rest.rstrip("\n")
            headings.append(_Heading(4, position + at, item if len(item) <= 40 else item[:40] + "…"))
        position += len(line)
    return headings


def _paragraph_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end + 1


def parse_sections(text: str) -> list[Section]:
    """The heading tree of a normalised report, in document order.

    Text before the first heading is a section of its own labelled 前言.  An enumeration
    item (一是…) ends where the next item or its paragraph ends, so later paragraphs belong
    to the enclosing section again.
    """
    headings = _find_headings(text)
    sections: list[Section] = []
    first = headings[0].start if headings else len(text)
    if text[:first].strip():
        sections.append(Section("s0", LABEL_PREFACE, 1, (LABEL_PREFACE,), LABEL_PREFACE, 0, first))

    stack: list[tuple[_Heading, Section]] = []
    counters: dict[tuple[str, ...], int] = {}
    reviewed = False  # a top-level 「…工作回顾」 has been seen: what follows is the coming year's work
    for index, head in enumerate(headings):
        while stack and stack[-1][0].level >= head.level:
            stack.pop()
        parent_ids = tuple(s.section_id for _, s in stack)
        counters[parent_ids] = counters.get(parent_ids, 0) + 1
        section_id = (parent_ids[-1] + "." if parent_ids else "s") + str(counters[parent_ids])
        end = len(text)
        for later in headings[index + 1 :]:
            if later.level <= head.level:
                end = later.start
                break
        if head.level == 4:
            end = min(end, _paragraph_end(text, head.start))
        label = label_for(head.heading) if head.level <= 2 else ""
        if head.level == 1 and not stack:
            if _REVIEW.search(head.heading):
                reviewed = True
            elif reviewed and not label:
                # A government work report: 「一、2024年工作回顾」 then 「二、2025年重点工作」,
                # 「三、深化改革…」: everything after the review is what the year will do.
                label = LABEL_PLANS
        if not label:
            label = stack[-1][1].label if stack else LABEL_MEASURES
        path = tuple(s.heading for _, s in stack) + (head.heading,)
        section = Section(section_id, head.heading, head.level, path, label, head.start, end)
        sections.append(section)
        stack.append((head, section))
    return sections


def own_segments(sections: list[Section], section: Section) -> list[tuple[int, int]]:
    """The parts of a section's span not covered by its child sections."""
    children = sorted(
        (s for s in sections if s.section_id.startswith(section.section_id + ".")
         and s.section_id.count(".") == section.section_id.count(".") + 1),
        key=lambda s: s.start,
    )
    segments = []
    cursor = section.start
    for child in children:
        if child.start > cursor:
            segments.append((cursor, child.start))
        cursor = max(cursor, child.end)
    if cursor < section.end:
        segments.append((cursor, section.end))
    return segments
