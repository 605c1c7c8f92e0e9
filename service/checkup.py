"""报告体检: does a report cover the five parts the 督察工作规定 asks for, on time, with figures, in its own words?

Pure functions over a Searcher. The whole corpus is checked at once (template repeats need every
report) and the result is cached per Searcher, i.e. once per index generation.
"""
from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from indexer.chunking import split_sentences
from indexer.sections import (
    LABEL_LEADERS,
    LABEL_MEASURES,
    LABEL_PLANS,
    LABEL_PREFACE,
    LABEL_PROBLEMS,
)

# The five parts of 《法治政府建设与责任落实督察工作规定》 第二十四条; part 5 is asked for only if there is any.
PART_NAMES = {
    1: "上一年度推进法治政府建设的主要举措和成效",
    2: "存在的不足和原因",
    3: "党政主要负责人履行推进法治建设第一责任人职责情况",
    4: "下一年度推进法治政府建设的主要安排",
    5: "其他需要报告的情况",
}
REQUIRED_PARTS = (1, 2, 3, 4)
_PART_OF_LABEL = {LABEL_MEASURES: 1, LABEL_PROBLEMS: 2, LABEL_LEADERS: 3, LABEL_PLANS: 4}

# Heading cues, tried on every heading (a heading may name two parts: 「存在问题及下一步工作打算」).
_HEADING_CUES = {
    2: re.compile(r"存在的?(主要)?(问题|不足)|不足(之处)?(和|及|与)原因|问题(和|与|及)不足|短板|薄弱环节"),
    3: re.compile(r"主要负责人.{0,20}(履行|履职)|第一责任人"),
    4: re.compile(r"下一步|下一年度|下阶段|工作(计划|打算|设想|思路|安排)|主要安排|\d{4}年.{0,12}(安排|计划|打算)"),
    # The rectification of last year's problems or of inspection findings, and 「其他…情况」,
    # are none of parts 1-4; the indexer labels 改进情况 as 主要举措, so this cue wins over the label.
    5: re.compile(r"其他(需要)?(报告|说明)?的?(情况|事项)|改进情况|整改情况|整改落实|督察.{0,6}(反馈|整改)"),
}
# Part 3 is often one sentence inside part 1 rather than a part of its own: found in the text then.
_LEADER_TEXT = re.compile(r"主要负责人.{0,16}(履行|履职|落实|扛起).{0,16}第一责任人|第一责任人职责")
# A part-5 section must say something beyond its heading.
MIN_SECTION_BODY = 20

# A quantified statement: an Arabic number with a unit, or a percentage. Dates (年/月/日) are not units.
_FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|‰|个百分点|"
    r"(?:万|亿|千|百)?(?:余|多)?(?:人次|个|件|宗|次|人|名|位|项|场|份|家|户|条|篇|期|小时|分钟|学时|课时|个月|天|所|平方米|"
    r"元|公里|支|批|起|类|套|台|本|册|部|座|处|间|张|倍|万元|亿元|万人|余人))"
)

# Template repeats: sentences compared by their 5-character shingles, after dropping punctuation.
SHINGLE = 5
MIN_REPEAT_CHARS = 20  # shorter sentences (「现将有关情况报告如下」) are boilerplate, never a repeat
REPEAT_SIMILARITY = 0.8  # shared shingles / shingles of the longer sentence
MAX_POSTING = 200  # a shingle in more sentences than this is boilerplate and proposes no candidates
_BOILERPLATE = re.compile(r"现将.{0,30}报告如下|特此报告|报告如下")
_KEEP = re.compile(r"[\w]")


@dataclass(frozen=True)
class SectionRef:
    """A section that covers a part; basis says how it was found: label, heading or text."""

    doc_id: str
    section_id: str
    heading: str
    label: str
    basis: str

    def to_dict(self) -> dict:
        return {"section_id": self.section_id, "heading": self.heading, "label": self.label, "basis": self.basis,
                "url": f"/reports/{self.doc_id}#sec-{self.section_id}"}


@dataclass(frozen=True)
class PartCheck:
    """One of the five parts: present or missing, and the sections that cover it."""

    part: int
    name: str
    present: bool
    sections: tuple[SectionRef, ...] = ()

    @property
    def basis(self) -> str:
        """'section' when a heading or label covers the part, 'text' when only a sentence does, '' when missing."""
        if not self.present:
            return ""
        return "text" if all(s.basis == "text" for s in self.sections) else "section"

    def to_dict(self) -> dict:
        return {"part": self.part, "name": self.name, "required": self.part in REQUIRED_PARTS,
                "present": self.present, "basis": self.basis, "sections": [s.to_dict() for s in self.sections]}


@dataclass(frozen=True)
class Repeat:
    """A passage of one report that stands nearly verbatim in another; offsets in each published text."""

    doc_id: str
    start: int
    end: int
    other_doc_id: str
    other_start: int
    other_end: int
    similarity: float
    sentences: int
    text: str = ""
    other_issuer: str = ""

    def to_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "text": self.text,
            "url": f"/reports/{self.doc_id}#q-{self.start}-{self.end}",
            "other_doc_id": self.other_doc_id, "other_issuer": self.other_issuer,
            "other_start": self.other_start, "other_end": self.other_end,
            "other_url": f"/reports/{self.other_doc_id}#q-{self.other_start}-{self.other_end}",
            "similarity": self.similarity, "sentences": self.sentences,
        }


@dataclass(frozen=True)
class Checkup:
    """A report's check-up: parts, timeliness, figures and template repeats."""

    doc_id: str
    meta: dict
    parts: tuple[PartCheck, ...]
    published: str
    deadline: str
    on_time: bool | None
    figures: int
    repeats: tuple[Repeat, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        """Whether parts 1-4 are all present (part 5 is reported only when there is something to report)."""
        return all(p.present for p in self.parts if p.part in REQUIRED_PARTS)

    def to_dict(self) -> dict:
        meta = self.meta
        return {
            "doc_id": self.doc_id, "title": meta.get("title", ""), "issuer": meta.get("issuer", ""),
            "level": meta.get("level", ""), "region": meta.get("region", ""), "year": meta.get("year"),
            "url": f"/reports/{self.doc_id}",
            "parts": [p.to_dict() for p in self.parts],
            "complete": self.complete,
            "missing": [p.part for p in self.parts if p.part in REQUIRED_PARTS and not p.present],
            "published": self.published or None, "deadline": self.deadline or None, "on_time": self.on_time,
            "figures": self.figures,
            "repeats": [r.to_dict() for r in self.repeats],
        }


# -- parts ------------------------------------------------------------------------------------


def _is_under(section_id: str, others: set[str]) -> bool:
    return any(section_id.startswith(other + ".") for other in others)


def check_parts(doc_id: str, sections: Sequence[Mapping], text: str) -> tuple[PartCheck, ...]:
    """The five parts of one report from its outline (dicts with section_id, heading, label, start, end
    in the normalised text) and its normalised text."""
    found: dict[int, list[SectionRef]] = defaultdict(list)
    for section in sections:
        heading, label = section["heading"], section["label"]
        if label == LABEL_PREFACE:
            continue
        cued = {part for part, cue in _HEADING_CUES.items() if cue.search(heading)}
        body = section["end"] - section["start"] - len(heading)
        if 5 in cued:
            if body >= MIN_SECTION_BODY:
                found[5].append(SectionRef(doc_id, section["section_id"], heading, label, "heading"))
            continue
        for part in sorted(cued):
            found[part].append(SectionRef(doc_id, section["section_id"], heading, label, "heading"))
        part = _PART_OF_LABEL.get(label)
        if part and part not in cued and not (part == 1 and 3 in cued):
            found[part].append(SectionRef(doc_id, section["section_id"], heading, label, "label"))
    if not found[3]:
        found[3] = _leader_sentences(doc_id, sections, text)
    parts = []
    for part, name in PART_NAMES.items():
        refs, seen = [], set()
        for ref in sorted(found[part], key=lambda r: _order(sections, r.section_id)):
            # List the outermost covering sections only; a section under one already listed adds nothing.
            if ref.section_id in seen or _is_under(ref.section_id, seen):
                continue
            seen.add(ref.section_id)
            refs.append(ref)
        parts.append(PartCheck(part, name, bool(refs), tuple(refs)))
    return tuple(parts)


def _order(sections: Sequence[Mapping], section_id: str) -> int:
    for index, section in enumerate(sections):
        if section["section_id"] == section_id:
            return index
    return len(sections)


def _leader_sentences(doc_id: str, sections: Sequence[Mapping], text: str) -> list[SectionRef]:
    """The innermost sections whose text states the leaders' first-responsibility duty."""
    refs: list[SectionRef] = []
    for match in _LEADER_TEXT.finditer(text):
        holders = [s for s in sections if s["start"] <= match.start() < s["end"] and s["label"] != LABEL_PREFACE]
        if holders:
            inner = max(holders, key=lambda s: (s["level"], s["section_id"].count(".")))
            refs.append(SectionRef(doc_id, inner["section_id"], inner["heading"], inner["label"], "text"))
    return refs


# -- timeliness and figures ------------------------------------------------------------------


def deadline_for(year: int | None) -> str:
    """The last day on which a report on `year` is on time is the day before this: 4月1日 of the next year."""
    return f"{year + 1}-04-01" if year else ""


def is_on_time(published: str, year: int | None) -> bool | None:
    """Published before 1 April of the year after the reported year; None when either is unknown."""
    if not published or not year:
        return None
    return published[:10] < deadline_for(year)


def count_figures(text: str) -> int:
    """How many sentences state a quantity: an Arabic number with a unit, or a percentage."""
    return sum(1 for a, b in split_sentences(text, 0, len(text)) if _FIGURE.search(text, a, b))


# -- template repeats ------------------------------------------------------------------------


@dataclass(frozen=True)
class SentenceSpan:
    """One sentence of a report: its text and where it stands (any consistent offsets)."""

    start: int
    end: int
    text: str


def _key(text: str) -> str:
    return "".join(_KEEP.findall(text))


def _shingles(key: str) -> frozenset[str]:
    return frozenset(key[i:i + SHINGLE] for i in range(max(1, len(key) - SHINGLE + 1)))


def _similar_keys(keys: Sequence[str], weights: Sequence[int], threshold: float) -> list[tuple[int, int, float]]:
    """(key, other key, similarity) for every pair of keys (a key with itself too) whose shared shingles are
    at least `threshold` of the longer one's. Shingles held by more than MAX_POSTING sentences (`weights`
    counts each key's sentences) propose nothing. One sparse product instead of a loop over postings."""
    if not keys:
        return []
    column: dict[str, int] = {}
    rows, cols = [], []
    for key_id, key in enumerate(keys):
        for gram in _shingles(key):
            rows.append(key_id)
            cols.append(column.setdefault(gram, len(column)))
    rows_, cols_ = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    lengths = np.bincount(rows_, minlength=len(keys))
    posting = np.bincount(cols_, weights=np.asarray(weights, dtype=np.float64)[rows_], minlength=len(column))
    keep = posting[cols_] <= MAX_POSTING
    grams = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int32), (rows_[keep], cols_[keep])),
                          shape=(len(keys), len(column)))
    shared = (grams @ grams.T).tocoo()
    similarity = shared.data / np.maximum(lengths[shared.row], lengths[shared.col])
    close = similarity >= threshold
    return list(zip(shared.row[close].tolist(), shared.col[close].tolist(), similarity[close].tolist()))


def find_repeats(docs: Mapping[str, Sequence[SentenceSpan]], threshold: float = REPEAT_SIMILARITY) -> dict[str, list[Repeat]]:
    """For each report, the runs of sentences that stand nearly verbatim in another report.

    Two sentences match when the 5-character shingles they share are at least `threshold` of
    the longer one's; consecutive matching sentences against the same report make one Repeat.
    Sentences under MIN_REPEAT_CHARS and 「现将…报告如下」 boilerplate never match.
    """
    # Sentences with the same key (verbatim copies, the usual template repeat) are compared once:
    # candidates are found per distinct key, then fanned out to the sentences that have it.
    occurrences: dict[str, list[tuple[str, int]]] = {}
    for doc_id, sentences in docs.items():
        for index, sentence in enumerate(sentences):
            key = _key(sentence.text)
            if len(key) < MIN_REPEAT_CHARS or _BOILERPLATE.search(key):
                continue
            occurrences.setdefault(key, []).append((doc_id, index))
    keys = list(occurrences)
    # best[doc][index] = {other_doc: (other_index, similarity)}
    best: dict[str, dict[int, dict[str, tuple[int, float]]]] = defaultdict(lambda: defaultdict(dict))
    for key_id, other_id, similarity in _similar_keys(keys, [len(occurrences[k]) for k in keys], threshold):
        theirs = occurrences[keys[other_id]]
        for doc_id, index in occurrences[keys[key_id]]:
            row = best[doc_id][index]
            for other_doc, other_index in theirs:
                if other_doc == doc_id:
                    continue
                previous = row.get(other_doc)
                if previous is None or similarity > previous[1] or (
                        similarity == previous[1] and other_index < previous[0]):
                    row[other_doc] = (other_index, similarity)
    out: dict[str, list[Repeat]] = {}
    for doc_id, sentences in docs.items():
        out[doc_id] = _runs(doc_id, sentences, docs, best.get(doc_id, {}))
    return out


def _runs(doc_id: str, sentences: Sequence[SentenceSpan], docs: Mapping[str, Sequence[SentenceSpan]],
          matches: Mapping[int, Mapping[str, tuple[int, float]]]) -> list[Repeat]:
    """Consecutive matched sentences (against the same report, in the same order there) merged into runs."""
    runs: list[Repeat] = []
    open_runs: dict[str, tuple[int, int, int, int, list[float]]] = {}  # other -> first, last, other first, other last, sims

    def close(other: str) -> None:
        first, last, o_first, o_last, sims = open_runs.pop(other)
        theirs = docs[other]
        runs.append(Repeat(doc_id, sentences[first].start, sentences[last].end, other,
                           theirs[o_first].start, theirs[o_last].end, round(sum(sims) / len(sims), 3), len(sims)))

    for index in range(len(sentences)):
        here = matches.get(index, {})
        for other in list(open_runs):
            first, last, o_first, o_last, sims = open_runs[other]
            if other in here and 0 < here[other][0] - o_last <= 2:
                open_runs[other] = (first, index, o_first, here[other][0], sims + [here[other][1]])
            elif other in here or index - last > 1:
                close(other)
        for other, (other_index, similarity) in here.items():
            if other not in open_runs:
                open_runs[other] = (index, index, other_index, other_index, [similarity])
    for other in list(open_runs):
        close(other)
    runs.sort(key=lambda r: (r.start, r.other_doc_id))
    return runs


# -- over a Searcher -------------------------------------------------------------------------


def _sentences(norm_text: str) -> list[SentenceSpan]:
    return [SentenceSpan(a, b, norm_text[a:b]) for a, b in split_sentences(norm_text, 0, len(norm_text))]


def _compute(searcher) -> dict[str, Checkup]:
    norms = {doc_id: searcher.normalized(doc_id) for doc_id in searcher.reports}
    repeats = find_repeats({doc_id: _sentences(norm.text) for doc_id, norm in norms.items()})
    metas = searcher.metas()
    out = {}
    for doc_id, norm in norms.items():
        record = searcher.reports[doc_id]
        meta = {**metas[doc_id]}
        meta.setdefault("region", " ".join(meta.get(p, "") for p in ("province", "city", "district") if meta.get(p)))
        original = record["original"]
        published = meta.get("published") or ""
        placed = []
        for r in repeats[doc_id]:
            start, end = norm.original_span(r.start, r.end)
            other_norm = norms[r.other_doc_id]
            o_start, o_end = other_norm.original_span(r.other_start, r.other_end)
            # Repeat(...) rather than dataclasses.replace: a corpus of shared templates has millions of repeats.
            placed.append(Repeat(doc_id, start, end, r.other_doc_id, o_start, o_end, r.similarity, r.sentences,
                                 text=original[start:end], other_issuer=metas[r.other_doc_id].get("issuer", "")))
        out[doc_id] = Checkup(
            doc_id=doc_id, meta=meta,
            parts=check_parts(doc_id, record.get("sections", []), norm.text),
            published=published[:10], deadline=deadline_for(meta.get("year")),
            on_time=is_on_time(published, meta.get("year")),
            figures=count_figures(norm.text), repeats=tuple(placed),
        )
    return out


_CACHE: weakref.WeakKeyDictionary[object, dict[str, Checkup]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def checkups(searcher) -> dict[str, Checkup]:
    """Every report's check-up, by doc_id in index order; computed once per Searcher (index generation)."""
    with _LOCK:
        cached = _CACHE.get(searcher)
        if cached is None:
            cached = _CACHE[searcher] = _compute(searcher)
        return cached


def checkup(searcher, doc_id: str) -> Checkup:
    """One report's check-up; KeyError for an unknown doc_id."""
    return checkups(searcher)[doc_id]
