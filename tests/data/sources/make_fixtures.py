"""Regenerate the fixtures of tests/test_sources.py from excerpts of the real corpus reports.

Run from the repository root: `.venv/bin/python tests/data/sources/make_fixtures.py`.
Needs reportlab (5.1.0, with Pillow) for the PDFs; the tests themselves do not.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import docx
import opencc
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CORPUS = ROOT / "corpus"
PROV31 = ROOT.parent / "shared" / "ext" / "prov31-gwr" / "2025年吉林省政府工作报告.docx"


def lines_of(doc: str, first: int, last: int) -> list[str]:
    """Lines first..last (1-based, inclusive) of a corpus report."""
    path = next(CORPUS.glob(f"{doc}_*.txt"))
    return path.read_text(encoding="utf-8").split("\n")[first - 1 : last]


def write_texts() -> None:
    excerpt = "\n".join(lines_of("001", 1, 5)) + "\n"
    (HERE / "utf8.txt").write_bytes(excerpt.encode("utf-8"))
    (HERE / "utf8_bom_crlf.txt").write_bytes(excerpt.replace("\n", "\r\n").encode("utf-8-sig"))
    (HERE / "gb18030.txt").write_bytes(excerpt.encode("gb18030"))
    (HERE / "big5.txt").write_bytes(opencc.OpenCC("s2t").convert(excerpt).encode("big5"))
    (HERE / "utf16.txt").write_bytes(excerpt.encode("utf-16"))  # with a BOM
    markdown = "# 粤海街道2024年法治政府建设年度报告\n\n" + "\n\n".join(lines_of("000", 1, 4)) + "\n"
    (HERE / "report.md").write_bytes(markdown.encode("utf-8"))


def write_html() -> None:
    intro, heading, subheading, body = lines_of("003", 1, 4)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="{{charset}}"><title>坦洲镇2023年法治政府建设年度报告</title>
<style>p {{{{ text-indent: 2em; }}}}</style>
<script>var tracker = "统计代码不应出现";</script></head>
<body>
<nav><a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a></nav>
<div class="article">
<h1>坦洲镇2023年法治政府建设年度报告</h1>
<p>{intro}</p>
<h2>{heading}</h2>
<h3>{subheading}</h3>
<p>{body}</p>
<p><ruby>坦<rt>tǎn</rt></ruby><ruby>洲<rp>(</rp><rt>zhōu</rt><rp>)</rp></ruby>镇依法行政。</p>
<div style="display:none">隐藏的文字不应出现</div>
<!-- 注释不应出现 -->
</div>
<script>document.write("脚本文字不应出现");</script>
</body></html>
"""
    (HERE / "report.html").write_bytes(page.format(charset="utf-8").encode("utf-8"))
    gbk_page = page.format(charset="gbk").replace("tǎn", "tan").replace("zhōu", "zhou")
    (HERE / "report_gbk.html").write_bytes(gbk_page.encode("gbk"))


def write_docx() -> bytes:
    lines = lines_of("002", 3, 8)
    document = docx.Document()
    document.add_heading("翠苑街道2024年法治政府建设年度报告", level=0)
    document.add_paragraph(lines[0])
    document.add_heading(lines[1], level=1)
    document.add_heading(lines[2], level=2)
    document.add_paragraph(lines[3])
    table = document.add_table(rows=3, cols=2)
    for row, (key, value) in zip(table.rows, (("指标", "数量"), ("合法性审查", "36件"), ("普法活动", "12场"))):
        row.cells[0].text, row.cells[1].text = key, value
    document.add_heading(lines[4], level=2)
    document.add_paragraph(lines[5])
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()
    (HERE / "report.docx").write_bytes(data)
    (HERE / "truncated.docx").write_bytes(data[: len(data) // 2])
    shutil.copyfile(PROV31, HERE / "prov31_jilin_2025.docx")
    return data


def write_pdfs() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    lines = lines_of("003", 1, 8)
    pdf = canvas.Canvas(str(HERE / "report.pdf"), pagesize=A4, invariant=1)
    for page_lines in (lines[:4], lines[4:]):
        text = pdf.beginText(50, 800)
        text.setFont("STSong-Light", 11)
        for line in page_lines:
            # 40 characters a line keeps every line on the page.
            for start in range(0, len(line), 40):
                text.textLine(line[start : start + 40])
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()

    image = Image.new("L", (200, 100), color=255)
    for x in range(20, 180):
        for y in (30, 50, 70):
            image.putpixel((x, y), 0)
    scanned = canvas.Canvas(str(HERE / "scanned.pdf"), pagesize=A4, invariant=1)
    from reportlab.lib.utils import ImageReader

    scanned.drawImage(ImageReader(image), 50, 600, width=400, height=200)
    scanned.showPage()
    scanned.save()


def write_bad_files() -> None:
    (HERE / "empty.txt").write_bytes(b"")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), color=(200, 30, 30)).save(png, format="PNG")
    (HERE / "png_renamed.txt").write_bytes(png.getvalue())
    # 0x80 and 0xFF can start a character in none of UTF-8, GB18030 and Big5.
    (HERE / "invalid_bytes.txt").write_bytes(b"\x80\xff\x80\xff abc \xff\xff\x80\x80\n" * 8)


if __name__ == "__main__":
    write_texts()
    write_html()
    write_docx()
    write_pdfs()
    write_bad_files()
    for path in sorted(HERE.iterdir()):
        print(f"{path.stat().st_size:>8}  {path.name}")
