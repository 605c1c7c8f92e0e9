"""What the embedder reads for a chunk: its headings, the chunk, and a sentence of each neighbour."""
from indexer.pipeline import NEIGHBOUR_CHARS, passage_texts
from indexer.records import Chunk


def chunk(doc: str, n: int, start: int, text: str) -> Chunk:
    return Chunk(f"{doc}:s1:{n}", doc, "s1", ("一、主要工作", "（一）依法行政"), "主要举措", start, start + len(text),
                 text, text)


def test_neighbours_come_from_the_same_report_in_document_order():
    a0 = chunk("a", 0, 0, "第一句。甲的结尾句。")
    a1 = chunk("a", 1, 20, "乙的开头句。乙的中间。")
    a2 = chunk("a", 2, 40, "丙的开头句。丙的结尾。")
    b0 = chunk("b", 0, 0, "别的报告。")
    texts = passage_texts([a2, b0, a0, a1])  # rows out of document order, reports interleaved
    assert texts[3] == "一、主要工作 › （一）依法行政\n甲的结尾句。\n乙的开头句。乙的中间。\n丙的开头句。"
    assert texts[2] == "一、主要工作 › （一）依法行政\n第一句。甲的结尾句。\n乙的开头句。"  # no chunk before
    assert texts[0].endswith("乙的中间。\n丙的开头句。丙的结尾。")  # no chunk after
    assert texts[1] == "一、主要工作 › （一）依法行政\n别的报告。"  # alone in its report: no context


def test_a_long_neighbouring_sentence_is_cut_to_its_near_end():
    long = "长" * (NEIGHBOUR_CHARS + 50) + "。"
    texts = passage_texts([chunk("a", 0, 0, long), chunk("a", 1, 200, "短句。")])
    before = texts[1].split("\n")[1]
    assert len(before) == NEIGHBOUR_CHARS and before.endswith("长。")
