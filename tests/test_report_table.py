"""The report table: metadata in memory, each record read back whole from disk."""
import pytest

from indexer.errors import CorruptIndex
from indexer.report_table import REPORTS_FILE, ReportTable
from indexer.store import current_generation, read_current
from tests.conftest import DOC_HAIZHU, DOC_YUEHAI


def test_records_read_back_equal_the_reports_written(fake_index):
    written = read_current(fake_index).reports
    table = ReportTable.open(current_generation(fake_index))
    assert list(table) == list(written) and len(table) == 5
    for doc_id, record in written.items():
        assert table[doc_id] == record
        assert table.meta(doc_id) == record["meta"]
        entry = table.counts(doc_id)
        assert (entry.sections, entry.problems) == (len(record["sections"]), len(record["problems"]))
    assert table.metas()[DOC_YUEHAI]["issuer"] == written[DOC_YUEHAI]["meta"]["issuer"]
    assert DOC_HAIZHU in table and "nope" not in table
    with pytest.raises(KeyError):
        table["nope"]


def test_unreadable_report_lines_raise_corrupt_index(fake_index):
    folder = current_generation(fake_index)
    (folder / REPORTS_FILE).write_text('{"doc_id": "a", "meta": {}}\n{not json\n', encoding="utf-8")
    with pytest.raises(CorruptIndex, match="cannot be read"):
        ReportTable.open(folder)
