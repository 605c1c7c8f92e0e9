"""One source text -> one processed report: normalised text, sections, chunks and metadata."""
from __future__ import annotations

from dataclasses import dataclass, replace

from indexer.chunking import chunk_report
from indexer.metadata import extract_metadata
from indexer.normalize import NormalizedText, normalize
from indexer.records import Chunk, ReportMeta, Section
from indexer.sections import parse_sections
from indexer.sources import SourceText


@dataclass(frozen=True)
class ProcessedReport:
    """Everything the index keeps about one report."""

    meta: ReportMeta
    norm: NormalizedText
    sections: tuple[Section, ...]
    chunks: tuple[Chunk, ...]

    def section_dicts(self) -> list[dict]:
        """Sections with their spans in both the normalised and the published text."""
        out = []
        for section in self.sections:
            data = section.to_dict()
            data["orig_start"], data["orig_end"] = self.norm.original_span(section.start, section.end)
            out.append(data)
        return out


def passage_text(chunk: Chunk) -> str:
    """What the embedder reads for a chunk: its two nearest headings, then its text."""
    return " › ".join(chunk.section_path[-2:]) + "\n" + chunk.search_text


def process_source(doc_id: str, source: SourceText) -> ProcessedReport:
    """Normalise, outline, chunk and describe one report."""
    norm = normalize(source.text)
    sections = parse_sections(norm.text)
    chunks = chunk_report(doc_id, norm, sections)
    meta = extract_metadata(doc_id, norm.text)
    meta = replace(
        meta,
        source_file=source.path.rsplit("/", 1)[-1],
        source_format=source.format,
        encoding=source.encoding,
        content_sha256=source.sha256,
    )
    return ProcessedReport(meta, norm, tuple(sections), tuple(chunks))
