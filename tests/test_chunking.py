"""Chunks: within one section, under the budget, stable ids, exact offsets."""
import pytest

from indexer.chunking import DEFAULT_BUDGET, chunk_report, split_sentences
from indexer.normalize import normalize
from indexer.sections import parse_sections
from tests.conftest import CORPUS

DOC_IDS = sorted(p.stem for p in CORPUS.glob("*.txt"))


def _chunks(doc_id, budget=DEFAULT_BUDGET):
    norm = normalize((CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8"))
    sections = parse_sections(norm.text)
    return norm, sections, chunk_report(doc_id, norm, sections, budget)


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_chunks_are_verbatim_slices_within_one_section(doc_id):
    norm, sections, chunks = _chunks(doc_id)
    by_id = {s.section_id: s for s in sections}
    assert chunks
    for chunk in chunks:
        assert norm.original[chunk.start : chunk.end] == chunk.text
        section = by_id[chunk.section_id]
        a, b = norm.original_span(section.start, section.end)
        assert a <= chunk.start and chunk.end <= b
        assert len(chunk.search_text) <= DEFAULT_BUDGET
        assert chunk.chunk_id.startswith(doc_id + ":")
        for sentence in chunk.sentences:
            assert chunk.start <= sentence.start < sentence.end <= chunk.end


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_chunk_ids_are_stable_and_unique(doc_id):
    ids = [c.chunk_id for c in _chunks(doc_id)[2]]
    assert ids == [c.chunk_id for c in _chunks(doc_id)[2]]
    assert len(set(ids)) == len(ids)


def test_small_budget_splits_at_sentence_ends():
    _, _, chunks = _chunks(DOC_IDS[0], budget=120)
    for chunk in chunks:
        assert len(chunk.search_text) <= 120
    ends = [c.search_text[-1] for c in chunks]
    assert sum(e in "。；！？”" for e in ends) / len(ends) > 0.8


def test_split_sentences_cuts_long_sentences_at_clauses():
    text = "甲" * 50 + "，" + "乙" * 50 + "。短句。"
    spans = split_sentences(text, 0, len(text), limit=60)
    assert [text[a:b] for a, b in spans] == ["甲" * 50 + "，", "乙" * 50 + "。", "短句。"]


def test_headings_alone_do_not_become_chunks():
    _, _, chunks = _chunks("001_853fd82f221bc387")
    assert all(c.search_text.strip() != "一、所做工作" for c in chunks)
