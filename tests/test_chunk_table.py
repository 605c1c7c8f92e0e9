"""The chunk table read from disk: same chunks as written, lookups by column, substring scans."""
import json

import numpy as np
import pytest

import indexer.chunk_table as chunk_table
from indexer.chunk_table import COLUMNS_FILE, NAMES_FILE, SEARCH_FILE, ChunkTable
from indexer.errors import CorruptIndex
from indexer.store import current_generation, read_current
from tests.conftest import DOC_CUIYUAN, DOC_TANZHOU


@pytest.fixture()
def generation(fake_index):
    return current_generation(fake_index)


def test_rows_read_back_equal_the_chunks_written(generation):
    written = read_current(generation.parent.parent).chunks
    table = ChunkTable.open(generation)
    assert len(table) == len(written)
    for row in (0, 1, len(written) // 2, len(written) - 1):
        assert table[row] == written[row]
        assert table.row_of(written[row].chunk_id) == row
        assert table.doc_id(row) == written[row].doc_id and table.label(row) == written[row].label
    assert table[-1] == written[-1] and table[2:4] == written[2:4]
    assert list(table) == written
    with pytest.raises(IndexError, match="no chunk row"):
        table[len(written)]
    assert table.row_of("nope:s1:0") is None


def test_rows_of_a_report_and_label_masks(generation):
    written = read_current(generation.parent.parent).chunks
    table = ChunkTable.open(generation)
    rows = table.rows_of_doc(DOC_CUIYUAN)
    assert [table[int(r)].chunk_id for r in rows] == [c.chunk_id for c in written if c.doc_id == DOC_CUIYUAN]
    assert len(table.rows_of_doc("unknown")) == 0
    mask = table.label_mask("存在的问题")
    assert mask.sum() == sum(c.label == "存在的问题" for c in written) > 0
    assert not table.label_mask("no such label").any()


def test_rows_containing_ignores_case_and_crosses_block_boundaries(generation, monkeypatch):
    written = read_current(generation.parent.parent).chunks
    table = ChunkTable.open(generation)
    for needle in ("商圈微法庭", "坦洲", "12345"):
        expected = [i for i, c in enumerate(written) if needle.lower() in c.search_text.lower()]
        assert expected and table.rows_containing(needle).tolist() == expected
    monkeypatch.setattr(chunk_table, "SCAN_BLOCK", 97)  # matches straddle many block edges
    expected = [i for i, c in enumerate(written) if "法治政府" in c.search_text]
    assert table.rows_containing("法治政府").tolist() == expected
    assert len(table.rows_containing("")) == 0 and len(table.rows_containing("a\nb")) == 0


def test_generations_without_column_files_are_scanned(generation):
    columns = ChunkTable.open(generation)
    found = columns.rows_containing("商圈微法庭").tolist()
    for name in (COLUMNS_FILE, NAMES_FILE, SEARCH_FILE):
        (generation / name).unlink()
    assert columns.rows_containing("商圈微法庭").tolist() == found  # an open table keeps its files
    scanned = ChunkTable.open(generation)
    assert len(scanned) == len(columns) and scanned.labels == columns.labels
    assert scanned[5] == columns[5] and scanned.rows_of_doc(DOC_TANZHOU).tolist() == columns.rows_of_doc(DOC_TANZHOU).tolist()
    assert scanned.rows_containing("商圈微法庭").tolist() == found


def test_unsorted_reports_still_give_their_rows(generation):
    """After an add replaces a report its chunks move to the end; rows are found by column then."""
    table = ChunkTable.open(generation)
    order = np.argsort(-table.doc_rows, kind="stable")  # reports in reverse
    shuffled = ChunkTable(table.path, table._line_offsets, table.doc_rows[order], table.label_codes[order],
                          [table.chunk_id(int(i)) for i in order], table.doc_ids, table.labels, table._search)
    assert shuffled._doc_starts is None
    assert shuffled.rows_of_doc(DOC_CUIYUAN).tolist() == np.flatnonzero(table.doc_rows[order] == table.doc_ids.index(DOC_CUIYUAN)).tolist()


def test_damaged_tables_raise_corrupt_index(generation):
    names = json.loads((generation / NAMES_FILE).read_text(encoding="utf-8"))
    names["chunk_ids"].pop()
    (generation / NAMES_FILE).write_text(json.dumps(names), encoding="utf-8")
    with pytest.raises(CorruptIndex, match="different lengths"):
        ChunkTable.open(generation)
    (generation / SEARCH_FILE).write_bytes(b"short")
    with pytest.raises(CorruptIndex, match="cannot be read"):
        ChunkTable.open(generation)
