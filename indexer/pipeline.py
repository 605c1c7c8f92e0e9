"""One source text -> one processed report: normalised text, sections, chunks and metadata."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from indexer.chunking import chunk_report, split_sentences
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


# Bump when what the embedder reads changes: every vector changes, and caches keyed on the
# embedder input (bench/ncp_benchmark.py) must be rebuilt. 2 = neighbouring sentences.
EMBED_INPUT_VERSION = 2
# At most this many characters of the neighbouring sentence on each side.
NEIGHBOUR_CHARS = 80


def passage_text(chunk: Chunk, before: str = "", after: str = "") -> str:
    """What the embedder reads for a chunk: its two nearest headings, then its text between
    the last sentence of the chunk before it and the first sentence of the chunk after it."""
    body = "\n".join(part for part in (before, chunk.search_text, after) if part)
    return " › ".join(chunk.section_path[-2:]) + "\n" + body


def _edge_sentence(text: str, last: bool) -> str:
    spans = split_sentences(text, 0, len(text))
    if not spans:
        return ""
    a, b = spans[-1] if last else spans[0]
    return text[a:b][-NEIGHBOUR_CHARS:] if last else text[a:b][:NEIGHBOUR_CHARS]


def passage_texts(chunks: Sequence[Chunk]) -> list[str]:
    """The embedder input of every chunk, each with a sentence of context from either side.

    The neighbours are the chunks just before and after it in the same report (in document
    order, across section boundaries). The passage that is shown, cited and searched by BM25
    stays the chunk alone; only its vector also sees what leads into it and what follows, so
    a question worded like the surrounding text still finds it.
    """
    rows_of: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows_of.setdefault(chunk.doc_id, []).append(row)
    texts = [""] * len(chunks)
    for rows in rows_of.values():
        rows.sort(key=lambda r: (chunks[r].start, chunks[r].end))
        for j, row in enumerate(rows):
            before = _edge_sentence(chunks[rows[j - 1]].search_text, last=True) if j > 0 else ""
            after = _edge_sentence(chunks[rows[j + 1]].search_text, last=False) if j + 1 < len(rows) else ""
            texts[row] = passage_text(chunks[row], before, after)
    return texts


def process_source(doc_id: str, source: SourceText) -> ProcessedReport:
    """Normalise, outline, chunk and describe one report."""
    norm = normalize(source.text)
    sections = parse_sections(norm.text)
    chunks = chunk_report(doc_id, norm, sections)
    meta = extract_metadata(doc_id, norm.text, hints=source.hints)
    meta = replace(
        meta,
        source_file=source.path.rsplit("/", 1)[-1],
        source_format=source.format,
        encoding=source.encoding,
        content_sha256=source.sha256,
    )
    return ProcessedReport(meta, norm, tuple(sections), tuple(chunks))
