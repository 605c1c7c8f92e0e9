"""Take-away files: a table as CSV or XLSX bytes, an answer with its citations as a .docx."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_FORMULA_STARTS = ("=", "+", "-", "@")
# Characters no file system or browser accepts in a download's name.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f？：“”]+')
_TOP_HEADING = re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、．.]\s*(.*)$")


@dataclass(frozen=True)
class Table:
    """A header and its rows of plain values (str, int, float or None), ready to export."""

    header: tuple[str, ...]
    rows: list[tuple]
    sheet: str = "Sheet1"


def cell(value):
    """A value as a spreadsheet cell: None -> "", text that looks like a formula gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def csv_bytes(table: Table) -> bytes:
    """UTF-8 CSV with a BOM, so spreadsheet programs read the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(table: Table) -> bytes:
    """One worksheet: a bold, frozen header row, then the rows (numbers stay numbers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = table.sheet[:31]
    sheet.append(list(table.header))
    for row in table.rows:
        # cell() puts ' before text starting with =, so openpyxl never stores it as a formula either.
        sheet.append([cell(value) for value in row])
    for header_cell in sheet[1]:
        header_cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=4)
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(8, longest * 1.6))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def content_disposition(name: str, fallback: str) -> str:
    """An attachment header with an ASCII fallback name and the UTF-8 name as RFC 5987 filename*."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_name(stem: str, extension: str, limit: int = 40) -> str:
    """A download name from free text (a question): unsafe characters out, shortened."""
    clean = _UNSAFE_NAME.sub("", stem).strip(" .") or "export"
    return f"{clean[:limit]}.{extension}"


def download(body: bytes, extension: str, name: str, fallback: str) -> Response:
    """The response for a take-away file of one of the three kinds."""
    mimetype = {"csv": "text/csv", "xlsx": XLSX_MIMETYPE, "docx": DOCX_MIMETYPE}[extension]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name, fallback)
    return response


def table_download(table: Table, extension: str, name: str, fallback: str) -> Response:
    """A table as a CSV or XLSX download."""
    body = csv_bytes(table) if extension == "csv" else xlsx_bytes(table)
    return download(body, extension, name, fallback)


def part_of(section: str) -> tuple[str, str]:
    """(「第一部分」, heading without its number) of a citation's section path; ("", heading) when unnumbered."""
    top = section.split(" › ")[0].strip() if section else ""
    match = _TOP_HEADING.match(top)
    if match:
        return f"第{match.group(1)}部分", match.group(2).strip()
    return "", top


def citation_line(citation: dict, group: dict) -> str:
    """「quote」（《title》，issuer，第N部分“heading”）: the quote as published, then where it stands."""
    title = citation.get("title") or group.get("title") or ""
    doc_id = citation.get("doc_id") or group.get("doc_id")
    where = []
    if title and title != doc_id:  # an untitled report's title falls back to its id: not a title to cite
        where.append(f"《{title}》")
    issuer = citation.get("issuer") or group.get("issuer")
    if issuer:
        where.append(issuer)
    part, heading = part_of(citation.get("section") or "")
    if heading:
        where.append(f"{part}“{heading}”")
    return f"「{citation['quote']}」（{'，'.join(where)}）"


def answer_table(result: dict, base_url: str = "") -> Table:
    """An answer's places and quotes, one row per citation (the columns of /api/ask.csv)."""
    header = ("issuer", "region", "year", "level", "quote", "section", "doc_id", "title", "url")
    rows = [(group["issuer"], group["region"], group["year"] or "", group["level"], citation["quote"],
             citation["section"], group["doc_id"], group["title"], base_url + citation["url"])
            for group in result["groups"] for citation in group["citations"]]
    return Table(header, rows, sheet="回答")


def answer_docx(result: dict, base_url: str = "") -> bytes:
    """A Word document: the question, the short answer, then each place with its quotes and citation lines."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    document = Document()
    document.add_heading(result.get("question") or "", level=1)
    resolved = result.get("resolved_question")
    if resolved and resolved != result.get("question"):
        document.add_paragraph(f"已理解为：{resolved}")
    document.add_paragraph(result.get("answer") or "")
    for note in result.get("notes") or ():
        document.add_paragraph(note)
    if not result["groups"]:
        document.add_paragraph("报告中没有找到能回答这个问题的原文。")
    for group in result["groups"]:
        meta = " · ".join(str(v) for v in (group.get("region"), f"{group['year']}年" if group.get("year") else "")
                          if v)
        document.add_heading(group["issuer"] or group["doc_id"], level=2)
        if meta:
            document.add_paragraph(meta)
        for citation in group["citations"]:
            document.add_paragraph(f"[{citation['n']}] {citation_line(citation, group)}")
            if base_url:
                link = document.add_paragraph()
                run = link.add_run(base_url + citation["url"])
                run.font.size = Pt(9)
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
