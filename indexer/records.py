"""Domain records shared by the indexer and the service."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SourceHints:
    """What is known about a report from outside its text: its file name, the page it was
    fetched from, that page's title and publication date. Metadata falls back on these only
    where the text is silent, and marks the fields so taken as derived."""

    file_name: str = ""
    source_url: str = ""
    page_title: str = ""
    published: str = ""  # YYYY-MM-DD from the source page

    def to_dict(self) -> dict:
        return asdict(self)


# In ReportMeta.derived beside "title": a report without a title, named only by an id, titled
# from the issuer and year its text states (「天水郡街道2023年法治政府建设年度报告」).
TITLE_NAMED = "title_named"


@dataclass(frozen=True)
class ReportMeta:
    """What a report says about itself: who issued it, where, for which year."""

    doc_id: str
    title: str
    issuer: str
    level: str  # 街道 / 镇 / 乡 / 区 / 县 / 市 / 省
    province: str = ""
    city: str = ""
    district: str = ""
    year: int | None = None  # the year reported on
    published: str = ""  # ISO date when the text or its source page gives one
    source_url: str = ""  # the page or link the report was fetched from
    derived: tuple[str, ...] = ()  # fields the text does not state, taken from hints (e.g. "title"; see TITLE_NAMED)
    source_file: str = ""
    source_format: str = ""
    encoding: str = ""
    content_sha256: str = ""

    @property
    def region(self) -> str:
        """Province, city and district joined, e.g. '广东省 深圳市 南山区'."""
        return " ".join(part for part in (self.province, self.city, self.district) if part)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["region"] = self.region
        return data


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) in a report's published text."""

    start: int
    end: int


@dataclass(frozen=True)
class Problem:
    """Something in a report's text that could not be taken as it is (e.g. mojibake)."""

    kind: str
    start: int  # offsets into the published text
    end: int
    text: str
    repaired: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Section:
    """One heading of a report's own outline, with the text it covers."""

    section_id: str  # e.g. "s8" or "s8.1.2"; stable for the same text
    heading: str  # the heading as normalised (Simplified) text
    level: int  # 1 = 一、  2 = （一）  3 = 1.  4 = 一是
    path: tuple[str, ...]  # headings from the top down to this one
    label: str  # 主要举措 / 存在的问题 / 下一步安排 / 主要负责人履职 / 前言
    start: int  # offsets into the normalised text
    end: int

    def to_dict(self) -> dict:
        data = asdict(self)
        data["path"] = list(self.path)
        return data


@dataclass(frozen=True)
class Chunk:
    """A citable passage: never crosses a section, knows its sentences."""

    chunk_id: str
    doc_id: str
    section_id: str
    section_path: tuple[str, ...]
    label: str
    start: int  # offsets into the published (original) text
    end: int
    text: str  # the passage as published
    search_text: str  # the normalised passage that is indexed
    sentences: tuple[Span, ...] = field(default_factory=tuple)  # offsets into the published text

    def to_dict(self) -> dict:
        data = asdict(self)
        data["section_path"] = list(self.section_path)
        data["sentences"] = [[s.start, s.end] for s in self.sentences]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Chunk":
        return cls(
            chunk_id=data["chunk_id"],
            doc_id=data["doc_id"],
            section_id=data["section_id"],
            section_path=tuple(data["section_path"]),
            label=data["label"],
            start=data["start"],
            end=data["end"],
            text=data["text"],
            search_text=data["search_text"],
            sentences=tuple(Span(a, b) for a, b in data["sentences"]),
        )
