"""Sections -> citable chunks that never cross a section, split at sentence ends under a budget."""
from __future__ import annotations

import re

from indexer.normalize import NormalizedText
from indexer.records import Chunk, Section, Span
from indexer.sections import LABEL_PLANS, LABEL_PROBLEMS, own_segments

# e5-small reads at most 512 tokens; Chinese runs at about one token a character, and the
# section path and a neighbouring sentence on each side (at most 80 characters each, see
# indexer/pipeline.py) are added when embedding, so 360 characters leave room to spare
# (longest embedder input on the NCP corpus: 388 tokens).
DEFAULT_BUDGET = 360
_SENTENCE_END = re.compile(r"[。！？!?]+[”’」』）)]*|\n+")
_CLAUSE_END = re.compile(r"[；;，,、]")
_PLAN_WORDS = re.compile(r"将|计划|下一步|进一步|持续|继续|力争|着力")
_PROBLEM_WORDS = re.compile(r"问题|不足|短板|薄弱|不够|有待|滞后|欠缺")


def split_sentences(text: str, start: int, end: int, limit: int = DEFAULT_BUDGET) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end], trimmed of white space; over-long ones cut at clauses."""
    spans = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((cursor, match.end()))
        cursor = match.end()
    if cursor < end:
        spans.append((cursor, end))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.extend(_cut_long(text, a, b, limit))
    return trimmed


def _cut_long(text: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    if b - a <= limit:
        return [(a, b)]
    pieces = []
    while b - a > limit:
        cut = None
        for match in _CLAUSE_END.finditer(text, a, a + limit):
            cut = match.end()
        cut = cut if cut and cut > a else a + limit
        pieces.append((a, cut))
        a = cut
    pieces.append((a, b))
    return pieces


def _pack(sentences: list[tuple[int, int]], budget: int) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    for span in sentences:
        if groups and span[1] - groups[-1][0][0] <= budget:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def _is_bare_heading(sections: list[Section], section: Section, start: int, text: str) -> bool:
    """A heading line with no text of its own, whose content lives in its subsections."""
    if start != section.start or "\n" in text.strip() or len(text) > 80:
        return False
    prefix = section.section_id + "."
    return any(s.section_id.startswith(prefix) for s in sections)


def _chunk_label(section: Section, text: str) -> str:
    """A mixed 存在问题及下一步 section: each chunk is labelled by what it talks about."""
    if section.label != LABEL_PROBLEMS or not _PLAN_WORDS.search(section.heading):
        return section.label
    plans = len(_PLAN_WORDS.findall(text))
    problems = len(_PROBLEM_WORDS.findall(text))
    return LABEL_PLANS if plans > problems else LABEL_PROBLEMS


def chunk_report(
    doc_id: str, norm: NormalizedText, sections: list[Section], budget: int = DEFAULT_BUDGET
) -> list[Chunk]:
    """Chunks of a report in document order, with published offsets and sentence spans."""
    chunks = []
    for section in sections:
        piece = 0
        for seg_start, seg_end in own_segments(sections, section):
            sentences = split_sentences(norm.text, seg_start, seg_end, budget)
            for group in _pack(sentences, budget):
                a, b = group[0][0], group[-1][1]
                search_text = norm.text[a:b]
                if not search_text.strip() or _is_bare_heading(sections, section, a, search_text):
                    continue
                piece += 1
                start, end = norm.original_span(a, b)
                chunks.append(
                    Chunk(
                        chunk_id=f"{doc_id}:{section.section_id}:{piece}",
                        doc_id=doc_id,
                        section_id=section.section_id,
                        section_path=section.path,
                        label=_chunk_label(section, search_text),
                        start=start,
                        end=end,
                        text=norm.original[start:end],
                        search_text=search_text,
                        sentences=tuple(Span(*norm.original_span(x, y)) for x, y in group),
                    )
                )
    return chunks
