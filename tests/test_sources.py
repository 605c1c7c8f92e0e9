"""Tests for indexer.sources: every format, every encoding, every way a file can be unreadable."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from indexer import sources
from indexer.errors import UnreadableSource
from indexer.sources import SourceText, common_share, iter_corpus, read_bytes, read_source

DATA = Path(__file__).parent / "data" / "sources"
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
PROV31 = ROOT.parent / "shared" / "ext" / "prov31-gwr"

# Sentences of corpus/001 that the text fixtures carry.
FIRST_HEADING = "一、所做工作"
SUB_HEADING = "(一)强化组织领导,健全完善工作机制"
SENTENCE = "严格落实中央全面依法治国委员会《关于进一步加强市县法治建设的意见》精神"


def excerpt() -> str:
    return (DATA / "utf8.txt").read_text(encoding="utf-8")


def assert_reason_sentence(error: UnreadableSource, *words: str) -> None:
    assert error.reason[0].islower() or error.reason[0].isupper()
    assert error.reason.endswith("."), error.reason
    assert len(error.reason.split()) >= 3, error.reason
    for word in words:
        assert word in error.reason, error.reason


# ---------------------------------------------------------------- text encodings


@pytest.mark.parametrize(
    ("fixture", "encoding"),
    [
        ("utf8.txt", "utf-8"),
        ("utf8_bom_crlf.txt", "utf-8-sig"),
        ("gb18030.txt", "gb18030"),
        ("utf16.txt", "utf-16-le"),
    ],
)
def test_simplified_text_in_each_encoding_reads_the_same(fixture: str, encoding: str) -> None:
    source = read_source(DATA / fixture)
    assert source.format == "txt"
    assert source.encoding == encoding
    assert source.text == excerpt()
    assert FIRST_HEADING + "\n" + SUB_HEADING + "\n" in source.text
    assert "\r" not in source.text and "\ufeff" not in source.text


def test_utf8_cut_inside_its_last_character_loses_only_that_character() -> None:
    cut = (excerpt() + "法治").encode("utf-8")[:-1]  # the last character's third byte is gone
    source = read_bytes(cut, "cut.txt")
    assert source.encoding == "utf-8" and source.text.endswith("法") and SENTENCE in source.text


def test_utf8_with_a_few_damaged_bytes_is_read_with_them_marked() -> None:
    data = bytearray(excerpt().encode("utf-8"))
    middle = len(data) // 2
    data[middle : middle + 1] = b"\xff"  # one byte of a character overwritten
    source = read_bytes(bytes(data), "damaged.txt")
    assert source.encoding == "utf-8" and "\ufffd" in source.text
    assert FIRST_HEADING in source.text and SENTENCE in source.text


def test_big5_text_is_detected_and_kept_traditional() -> None:
    source = read_source(DATA / "big5.txt")
    assert source.encoding == "big5"
    assert "嚴格落實中央全面依法治國委員會《關於進一步加強市縣法治建設的意見》精神" in source.text
    assert "一、所做工作\n(一)強化組織領導,健全完善工作機制\n" in source.text


def test_big5_bytes_are_not_taken_for_gbk_even_though_they_decode_as_gbk() -> None:
    data = (DATA / "big5.txt").read_bytes()
    garbage = data.decode("gb18030")  # succeeds: this is why scoring is needed
    assert common_share(garbage) < 0.5
    assert common_share(data.decode("big5")) > 0.95
    assert read_bytes(data, "x.txt").encoding == "big5"


@pytest.mark.parametrize("doc", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_every_corpus_report_round_trips_through_gb18030_and_big5(doc: str) -> None:
    import opencc

    text = (CORPUS / doc).read_text(encoding="utf-8")
    gbk = read_bytes(text.encode("gb18030"), doc)
    assert (gbk.encoding, gbk.text) == ("gb18030", text)
    traditional = opencc.OpenCC("s2t").convert(text)
    encodable = "".join(ch for ch in traditional if ch.encode("big5", "ignore") or ch.isascii())
    big5 = read_bytes(encodable.encode("big5"), doc)
    assert (big5.encoding, big5.text) == ("big5", encodable)


def test_line_endings_become_newlines_and_nothing_else_changes() -> None:
    raw = "　　一、总体情况\r\n（一）依法行政\r正文 保留  两个空格\n\n末行"
    source = read_bytes(raw.encode("utf-8"), "a.txt")
    assert source.text == "　　一、总体情况\n（一）依法行政\n正文 保留  两个空格\n\n末行"


def test_sha256_is_of_the_raw_bytes() -> None:
    import hashlib

    data = (DATA / "utf8_bom_crlf.txt").read_bytes()
    assert read_bytes(data, "a.txt").sha256 == hashlib.sha256(data).hexdigest()


def test_markdown_is_read_as_is() -> None:
    source = read_source(DATA / "report.md")
    assert source.format == "md"
    assert source.text.startswith("# 粤海街道2024年法治政府建设年度报告\n\n2024年,粤海街道深入学习贯彻")
    assert "\n\n一、加强党的领导,强化法治引领\n\n" in source.text


def test_to_dict_has_every_field() -> None:
    data = read_source(DATA / "utf8.txt").to_dict()
    assert set(data) == {"path", "text", "format", "encoding", "sha256", "hints"}
    assert data["path"].endswith("utf8.txt")
    assert data["hints"]["file_name"] == "utf8.txt"  # the file name is a metadata hint


# ---------------------------------------------------------------- HTML


@pytest.mark.parametrize(("fixture", "encoding"), [("report.html", "utf-8"), ("report_gbk.html", "gb18030")])
def test_html_gives_visible_text_one_block_a_line(fixture: str, encoding: str) -> None:
    source = read_source(DATA / fixture)
    assert (source.format, source.encoding) == ("html", encoding)
    lines = source.text.split("\n")
    assert lines[0] == "坦洲镇2023年法治政府建设年度报告"
    assert "一、工作开展情况" in lines
    assert "(一)全面加强党的领导,确保法治政府建设正确方向" in lines
    assert any(line.startswith("2023年,坦洲镇坚持以习近平新时代") for line in lines)
    for hidden in ("统计代码", "脚本文字", "首页", "政务公开", "隐藏的文字", "注释", "text-indent"):
        assert hidden not in source.text


def test_html_ruby_keeps_base_text_and_drops_annotations() -> None:
    source = read_source(DATA / "report.html")
    assert "坦洲镇依法行政。" in source.text
    assert "tǎn" not in source.text and "zhōu" not in source.text and "(" not in source.text.split("\n")[-1]


def test_html_meta_charset_is_a_hint_not_an_order() -> None:
    page = '<html><head><meta charset="gb2312"></head><body><p>依法行政水平不断提高。</p></body></html>'
    assert read_bytes(page.encode("utf-8"), "a.html").text == "依法行政水平不断提高。"
    assert read_bytes(page.encode("gbk"), "a.html").encoding == "gb18030"


def test_html_tables_breaks_and_source_line_breaks() -> None:
    page = (
        "<html><body><table><tr><td>指标</td><td>数量</td></tr><tr><td>普法活动</td><td>12场</td></tr></table>"
        "<p>依法\n   行政 plain\n  words</p>第一行<br>第二行</body></html>"
    )
    text = read_bytes(page.encode("utf-8"), "a.html").text
    assert text == "指标\t数量\n普法活动\t12场\n依法行政 plain words\n第一行\n第二行"


def test_deeply_nested_html_is_refused_quickly_not_truncated() -> None:
    page = b"<html><body>" + b"<div>" * 50_000 + "深处".encode() + b"</div>" * 50_000 + b"</body></html>"
    with pytest.raises(UnreadableSource) as info:
        read_bytes(page, "deep.html")
    assert_reason_sentence(info.value, "nested too deeply")


def test_moderately_nested_html_is_read() -> None:
    page = b"<html><body>" + b"<div>" * 500 + "深处的文字".encode() + b"</div>" * 500 + b"</body></html>"
    assert read_bytes(page, "deep.html").text == "深处的文字"


# ---------------------------------------------------------------- DOCX and PDF


def test_docx_paragraphs_headings_and_table_rows_in_order() -> None:
    source = read_source(DATA / "report.docx")
    assert (source.format, source.encoding) == ("docx", "")
    lines = source.text.split("\n")
    assert lines[0] == "翠苑街道2024年法治政府建设年度报告"
    heading = lines.index("一、2024年推进法治政府建设的主要举措和突出成效")
    assert lines[heading + 1] == "(一)夯实主体责任,统筹推进法治政府建设"
    assert lines[heading + 2].startswith("1、扎实推进法治建设,提升依法行政水平。")
    assert lines[heading + 3 : heading + 6] == ["指标\t数量", "合法性审查\t36件", "普法活动\t12场"]
    assert lines[heading + 6] == "(二)优化街道法治化营商环境发展"


def test_real_province_docx() -> None:
    source = read_source(DATA / "prov31_jilin_2025.docx")
    assert source.text.startswith("2025年吉林省政府工作报告\n")
    assert "一、2024年工作回顾" in source.text.split("\n")
    assert len(source.text) > 10_000


def test_text_pdf_gives_chinese_back_page_by_page() -> None:
    source = read_source(DATA / "report.pdf")
    assert (source.format, source.encoding) == ("pdf", "")
    lines = source.text.split("\n")
    assert "一、工作开展情况" in lines
    assert "(一)全面加强党的领导,确保法治政府建设正确方向" in lines
    flat = source.text.replace("\n", "")
    assert "在2022年度法治中山建设评估考核中,坦洲镇排名全市镇街第三。" in flat
    assert "2. 立足基层实践,持续学习贯彻习近平法治思想。" in flat  # from the second page


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("empty.txt", ["empty"]),
        ("png_renamed.txt", ["PNG image"]),
        ("invalid_bytes.txt", ["could not be decoded"]),
        ("truncated.docx", ["corrupt", "Word"]),
        ("scanned.pdf", ["contains no extractable text", "scanned image", "run OCR first"]),
    ],
)
def test_bad_fixtures_are_refused_with_a_reason(fixture: str, words: list[str]) -> None:
    with pytest.raises(UnreadableSource) as info:
        read_source(DATA / fixture)
    assert info.value.path == str(DATA / fixture)
    assert_reason_sentence(info.value, *words)


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def simple_pdf(encrypt: str = "") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "report.pdf"))
    if encrypt:
        writer.encrypt(user_password=encrypt, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"   \n\r\n  ", "blank.txt", ["contains no text"]),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "setup.txt", ["executable"]),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 20, "report.txt", ["executable"]),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "scan.txt", ["JPEG image", "OCR"]),
        (b"abc\x00def", "x.txt", ["binary", "NUL"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.doc", [".doc", "docx"]),
        (bytes(range(0x81, 0xFE)) * 20, "gibberish.txt", ["too few readable characters"]),
        ("正文\x01\x02\x03\x04\x05\x06\x07".encode("utf-8"), "ctl.txt", ["too few readable characters"]),
        (make_zip({"notes.txt": b"hello"}), "archive.docx", ["zip archive", "not a Word document"]),
        (make_zip({"xl/workbook.xml": b"<x/>"}), "book.docx", ["Excel"]),
        (make_zip({"word/document.xml": b"<w:document"}), "broken.docx", ["corrupt", "Word"]),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF", "broken.pdf", ["PDF"]),
    ],
)
def test_bad_bytes_are_refused_with_a_reason(data: bytes, name: str, words: list[str]) -> None:
    with pytest.raises(UnreadableSource) as info:
        read_bytes(data, name)
    assert info.value.path == name
    assert_reason_sentence(info.value, *words)


def test_encrypted_pdf_needs_a_password() -> None:
    with pytest.raises(UnreadableSource) as info:
        read_bytes(simple_pdf(encrypt="secret"), "locked.pdf")
    assert_reason_sentence(info.value, "encrypted PDF", "password")


def test_pdf_saved_again_by_pypdf_still_reads() -> None:
    assert "一、工作开展情况" in read_bytes(simple_pdf(), "again.pdf").text


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes("依法行政。\n".encode() * 1000)
    with pytest.raises(UnreadableSource) as info:
        read_source(big, max_bytes=1000)
    assert_reason_sentence(info.value, "limit")
    assert read_source(big, max_bytes=100_000).text.startswith("依法行政。\n")


def test_zip_bomb_docx_is_refused_before_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real limit is 256 MB; a lower one keeps the test fast and exercises the same check.
    monkeypatch.setattr(sources, "MAX_UNZIPPED_BYTES", 4 * 1024 * 1024)
    bomb = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<" + b" " * 5_000_000})
    assert len(bomb) < 20_000
    with pytest.raises(UnreadableSource) as info:
        read_bytes(bomb, "bomb.docx")
    assert_reason_sentence(info.value, "zip bomb")


def test_missing_file_and_folder_are_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableSource) as info:
        read_source(tmp_path / "nope.txt")
    assert_reason_sentence(info.value, "could not be opened")
    with pytest.raises(UnreadableSource):
        read_source(tmp_path)


# ---------------------------------------------------------------- content beats extension


@pytest.mark.parametrize(
    ("fixture", "name", "fmt"),
    [
        ("report.pdf", "report.txt", "pdf"),
        ("report.docx", "report.txt", "docx"),
        ("report.docx", "report.pdf", "docx"),
        ("report.html", "report.txt", "html"),
        ("utf8.txt", "report.html", "txt"),
        ("utf8.txt", "report.docx", "txt"),
        ("utf8.txt", "report.pdf", "txt"),
        ("utf8.txt", "upload", "txt"),
        ("report.html", "upload", "html"),
    ],
)
def test_content_decides_the_format(fixture: str, name: str, fmt: str) -> None:
    source = read_bytes((DATA / fixture).read_bytes(), name)
    assert source.format == fmt
    assert source.path == name


def test_text_that_mentions_a_pdf_header_stays_text() -> None:
    data = "报告附件格式说明：文件头为 %PDF-1.7 的是PDF文件。\n".encode("utf-8")
    assert read_bytes(data, "a.txt").format == "txt"


def test_text_named_html_without_markup_is_read_as_text() -> None:
    source = read_bytes((DATA / "utf8.txt").read_bytes(), "report.html")
    assert source.text == excerpt()


# ---------------------------------------------------------------- folders


def test_iter_corpus_yields_texts_and_errors_sorted(tmp_path: Path) -> None:
    for name in ("b_gbk.txt", "a_utf8.txt", "c.html", "d.docx", "e.pdf", "f_empty.txt", "g_scan.pdf"):
        source = {
            "b_gbk.txt": "gb18030.txt",
            "a_utf8.txt": "utf8.txt",
            "c.html": "report.html",
            "d.docx": "report.docx",
            "e.pdf": "report.pdf",
            "f_empty.txt": "empty.txt",
            "g_scan.pdf": "scanned.pdf",
        }[name]
        (tmp_path / name).write_bytes((DATA / source).read_bytes())
    (tmp_path / "README.md").write_text("# 说明\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("隐藏", encoding="utf-8")
    (tmp_path / "picture.png").write_bytes((DATA / "png_renamed.txt").read_bytes())
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "h.md").write_bytes((DATA / "report.md").read_bytes())
    outside = tmp_path.parent / f"{tmp_path.name}_outside.txt"
    outside.write_text("外部文件", encoding="utf-8")
    os.symlink(outside, tmp_path / "link_out.txt")
    os.symlink(tmp_path / "a_utf8.txt", tmp_path / "link_in.txt")

    results = list(iter_corpus(tmp_path))
    names = [path.relative_to(tmp_path).as_posix() for path, _ in results]
    assert names == [
        "a_utf8.txt", "b_gbk.txt", "c.html", "d.docx", "e.pdf", "f_empty.txt", "g_scan.pdf", "link_in.txt",
        "old.doc", "sub/h.md",
    ]
    kinds = {name: result for name, (_, result) in zip(names, results)}
    assert isinstance(kinds["b_gbk.txt"], SourceText) and kinds["b_gbk.txt"].encoding == "gb18030"
    assert kinds["sub/h.md"].format == "md"
    assert isinstance(kinds["f_empty.txt"], UnreadableSource)
    assert isinstance(kinds["g_scan.pdf"], UnreadableSource)
    assert "OCR" in kinds["g_scan.pdf"].reason
    assert ".docx" in kinds["old.doc"].reason
    assert sum(isinstance(r, SourceText) for r in kinds.values()) == 7


# ---------------------------------------------------------------- the real material


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_real_corpus_reads_exactly_as_published(path: Path) -> None:
    source = read_source(path)
    raw = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    assert source.encoding == "utf-8"
    assert source.text == raw
    assert len(source.text) > 3000


@pytest.mark.skipif(not PROV31.is_dir(), reason="shared/ext/prov31-gwr is not on this machine")
def test_all_31_province_reports_read() -> None:
    files = sorted(PROV31.glob("*.docx"))
    assert len(files) == 31
    for path in files:
        source = read_source(path)
        assert source.format == "docx"
        assert len(source.text) > 8000, path.name
        assert source.text.split("\n")[0] == path.stem, path.name
        assert "政府工作报告" in source.text
