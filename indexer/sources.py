"""Read a report file of any supported kind (txt, md, html, docx, pdf) into its published text."""
from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import struct
import zipfile
import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from indexer.errors import UnreadableSource
from indexer.records import SourceHints

MAX_BYTES = 50 * 1024 * 1024
# A .docx is a zip: refuse archives that would inflate past this before parsing any of it.
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_ZIP_ENTRIES = 5000
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
# Listed by iter_corpus so that the build can say why they were skipped.
REFUSED_SUFFIXES = (".doc",)

# A legacy-decoded text must have at least this share of common characters to count as text.
MIN_COMMON_SHARE = 0.6
# Any decoded text may have at most this share of control, private-use or replacement characters.
MAX_UNREADABLE_SHARE = 0.05
# Enough characters to tell GB18030 from Big5; scoring all of a 50 MB file would take seconds.
SCORE_SAMPLE_CHARS = 200_000


@dataclass(frozen=True)
class SourceText:
    """A report's text as published, with where it came from and how it was decoded."""

    path: str
    text: str
    format: str  # txt / md / html / docx / pdf
    encoding: str  # codec used for txt/md/html, "" for docx and pdf
    sha256: str  # of the raw bytes
    hints: SourceHints = SourceHints()  # file name, source page: metadata's fallbacks

    def to_dict(self) -> dict:
        return asdict(self)


def read_source(path: Path, max_bytes: int = MAX_BYTES) -> SourceText:
    """Read the file at `path` into a SourceText; raise UnreadableSource if it is not a readable report."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UnreadableSource(str(path), "is not a regular file.")
        _check_size(str(path), size, max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableSource(str(path), f"could not be opened ({exc.strerror or exc}).") from exc
    return read_bytes(data, str(path), max_bytes=max_bytes)


def read_bytes(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> SourceText:
    """Read the raw bytes of an upload called `name`; the content decides the format, the name is a hint."""
    _check_size(name, len(data), max_bytes)
    if not data:
        raise UnreadableSource(name, "is empty: the file has no content at all.")
    kind = _sniff(data, name)
    digest = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        text, encoding = _read_pdf(data, name), ""
    elif kind == "docx":
        text, encoding = _read_docx(data, name), ""
    elif kind == "html":
        text, encoding = _read_html(data, name)
    else:
        text, encoding = _decode_text(data, name)
    text = _normalise_newlines(text)
    if not text.strip():
        raise UnreadableSource(name, "contains no text, only white space.")
    _check_readable(name, text)
    hints = SourceHints(file_name=name.replace("\\", "/").rsplit("/", 1)[-1])
    return SourceText(path=name, text=text, format=kind, encoding=encoding, sha256=digest, hints=hints)


def iter_corpus(folder: Path, max_bytes: int = MAX_BYTES) -> Iterator[tuple[Path, SourceText | UnreadableSource]]:
    """Yield each supported file under `folder` in sorted order with its text, or the error that kept it out."""
    folder = Path(folder)
    root = folder.resolve()
    for path in corpus_files(folder, root):
        try:
            yield path, read_source(path, max_bytes=max_bytes)
        except UnreadableSource as exc:
            yield path, exc


def corpus_files(folder: Path, root: Path) -> list[Path]:
    """The files a corpus folder holds, in the order a build reads them (hidden folders left out); the
    streaming build lists them too, to tell whether a half-done build is of the same corpus."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in filenames:
            path = Path(dirpath) / filename
            suffix = path.suffix.lower()
            if filename.startswith(".") or path.stem.lower() == "readme":
                continue
            if suffix not in SUPPORTED_SUFFIXES + REFUSED_SUFFIXES:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                continue
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise UnreadableSource(
            name, f"is {size / 1048576:.1f} MB, larger than the {max_bytes / 1048576:g} MB limit for one report."
        )


# ---------------------------------------------------------------- format sniffing

# Signatures of files that are certainly not reports, with what to tell the user.
_REFUSED_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "is a PNG image, not a text document; run OCR first"),
    (b"\xff\xd8\xff", "is a JPEG image, not a text document; run OCR first"),
    (b"GIF87a", "is a GIF image, not a text document"),
    (b"GIF89a", "is a GIF image, not a text document"),
    (b"II*\x00", "is a TIFF image, not a text document; run OCR first"),
    (b"MM\x00*", "is a TIFF image, not a text document; run OCR first"),
    (b"\x7fELF", "is an executable program, not a report"),
    (b"\xcf\xfa\xed\xfe", "is an executable program, not a report"),
    (b"\xca\xfe\xba\xbe", "is an executable program, not a report"),
    (b"\x1f\x8b", "is a gzip archive, not a report; unpack it first"),
    (b"Rar!\x1a\x07", "is a RAR archive, not a report; unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "is a 7z archive, not a report; unpack it first"),
    (b"BZh", "is a bzip2 archive, not a report; unpack it first"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "is an old-style Word (.doc) file or a password-protected Office document; "
        "save it as an unprotected .docx first",
    ),
    (b"{\\rtf", "is an RTF document, which is not supported; save it as .docx or .txt first"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
# PDF readers accept the header anywhere in the first kilobyte, but at the start of a line.
_PDF_HEADER = re.compile(rb"(?:^|[\r\n])%PDF-\d")
_ANY_TAG = re.compile(rb"<[A-Za-z!/?]")
_HTML_TAG = re.compile(rb"<(p|div|br|span|table|td|h[1-6]|meta|title|a\s+href)\b[^>]*>", re.I)


def _sniff(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower()
    head = data[:1024]
    if _PDF_HEADER.search(head):
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data, name, suffix)
    for magic, reason in _REFUSED_MAGIC:
        if data.startswith(magic):
            raise UnreadableSource(name, reason + ".")
    bom = _bom(data)
    if bom is None and b"\x00" in data:
        if data.startswith(b"MZ"):
            raise UnreadableSource(name, "is a Windows executable program, not a report.")
        raise UnreadableSource(name, "is a binary file (it contains NUL bytes), not a text document.")
    sample = data[:4096]
    if bom is not None:
        sample = data[:8192].decode(bom, "ignore").lstrip("\ufeff").encode("utf-8")
    if _HTML_START.match(sample):
        return "html"
    if suffix in (".html", ".htm") and _ANY_TAG.search(sample):
        return "html"
    if suffix == ".md":
        return "md"
    if suffix != ".txt" and len(_HTML_TAG.findall(sample)) >= 3:
        return "html"
    return "txt"


def _sniff_zip(data: bytes, name: str, suffix: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        looks_like_word = suffix == ".docx" or b"word/" in data[:4096] or b"[Content_Types].xml" in data[:200]
        if looks_like_word:
            raise UnreadableSource(name, "is a corrupt or truncated Word (.docx) document.") from exc
        raise UnreadableSource(name, "is a damaged zip archive, not a report.") from exc
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        raise UnreadableSource(name, "is an Excel workbook, not a report; save the report as .docx or .pdf.")
    if "ppt/presentation.xml" in names:
        raise UnreadableSource(name, "is a PowerPoint presentation, not a report; save it as .pdf.")
    raise UnreadableSource(name, "is a zip archive, not a Word document; unpack it and add the reports inside.")


def _bom(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


# ---------------------------------------------------------------- plain text and encodings

_DECLARED_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5",
    "x-x-big5": "big5",
    "cp950": "cp950",
    "big5-hkscs": "big5hkscs",
    "big5hkscs": "big5hkscs",
}
# Order matters only for ties: Simplified reports far outnumber Traditional ones.
_LEGACY_CODECS = ("gb18030", "big5", "cp950", "big5hkscs")
# A UTF-8 file with at most this many damaged bytes (or one per thousand characters) is read
# as UTF-8 with those bytes replaced, unless a legacy codec reads it better.
MAX_DAMAGED_UTF8 = 16


def _decode_text(data: bytes, name: str, declared: str = "") -> tuple[str, str]:
    """Decode text bytes: BOM, then strict UTF-8, then the legacy CJK codec whose result reads best."""
    bom = _bom(data)
    if bom is not None:
        try:
            text = data.decode(bom)
        except UnicodeDecodeError as exc:
            raise UnreadableSource(name, f"starts with a {bom} byte-order mark but is not valid {bom} text.") from exc
        # Only utf-8-sig drops its BOM itself; the explicit-endian UTF-16/32 codecs keep it as U+FEFF.
        if bom != "utf-8-sig" and text.startswith("\ufeff"):
            text = text[1:]
        return text, bom
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8"), "utf-8"  # cut inside its last character
    damaged_utf8 = _mostly_utf8(data)
    codec_order = list(_LEGACY_CODECS)
    if declared in codec_order:
        codec_order.remove(declared)
        codec_order.insert(0, declared)
    best: tuple[float, str, str] | None = None
    for codec in codec_order:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        share = common_share(text)
        if best is None or share > best[0]:
            best = (share, codec, text)
    if damaged_utf8 is not None and (best is None or common_share(damaged_utf8) >= best[0]):
        return damaged_utf8, "utf-8"
    if best is None:
        if declared and declared not in _LEGACY_CODECS:
            try:
                return data.decode(declared), declared
            except (UnicodeDecodeError, LookupError):
                pass
        raise UnreadableSource(
            name, "could not be decoded as text: it is not valid UTF-8, GB18030 or Big5, so it may be binary or damaged."
        )
    share, codec, text = best
    if share < MIN_COMMON_SHARE:
        raise UnreadableSource(
            name,
            f"has too few readable characters: decoded as {codec} only {share:.0%} of its characters are common "
            "Chinese characters or punctuation, so it is probably binary or in an unsupported encoding.",
        )
    return text, codec


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few damaged bytes, each replaced by U+FFFD (marked later), or None."""
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    return text if 0 < damaged <= max(MAX_DAMAGED_UTF8, len(text) // 1000) else None


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """The 3,755 level-1 GB2312 characters (the most used hanzi) plus their Traditional forms."""
    level1 = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                level1.append(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    import opencc  # only needed when a file is not UTF-8

    simplified = "".join(level1)
    chars = set(simplified)
    for config in ("s2t", "s2tw", "s2hk"):
        chars.update(opencc.OpenCC(config).convert(simplified))
    return frozenset(chars)


def _is_cjk_punctuation(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F or char in "·×÷°"


def common_share(text: str) -> float:
    """Share of the non-ASCII, non-space characters at the start of `text` that are common hanzi or CJK punctuation."""
    common = _common_chars()
    total = hits = 0
    for char in text[:SCORE_SAMPLE_CHARS]:
        if char < "\x80" or char.isspace():
            continue
        total += 1
        if char in common or _is_cjk_punctuation(char):
            hits += 1
    return hits / total if total else 1.0


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Control, surrogate, private-use and non-characters, and the replacement character.
_UNREADABLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufffd\ufffe\uffff"
    "\U000f0000-\U0010ffff]"
)
_WHITESPACE = re.compile(r"\s+")


def _check_readable(name: str, text: str) -> None:
    total = len(_WHITESPACE.sub("", text))
    bad = _UNREADABLE.subn("", text)[1]
    if total and bad / total > MAX_UNREADABLE_SHARE:
        raise UnreadableSource(
            name,
            f"has too few readable characters: {bad / total:.0%} of them are control, private-use or "
            "replacement characters, so it is probably binary or damaged.",
        )


# ---------------------------------------------------------------- HTML

META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_SKIPPED_TAGS = frozenset(
    "script style nav noscript template head iframe object embed svg canvas form button select "
    "input textarea rt rp".split()
)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote caption center dd details dialog div dl dt fieldset figcaption "
    "figure footer h1 h2 h3 h4 h5 h6 header hr li main ol p pre section summary table tbody thead "
    "tfoot tr ul body html".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# A source line break between two CJK characters is not rendered as a space.
_CJK_BREAK = re.compile(r"(?<=[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f])[ \t\r\f]*\n[ \t\n\r\f]*(?=[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f])")


def meta_charset(data: bytes) -> str:
    """The charset label a page's <meta> declares in its first 4 KB ('' when none)."""
    match = META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "ignore") if match else ""


def charset_codec(label: str) -> str:
    """The Python codec a declared charset label means (gb2312 and gbk read as gb18030); '' if unknown."""
    label = label.strip().lower()
    if not label:
        return ""
    if label in _DECLARED_ALIASES:
        return _DECLARED_ALIASES[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return ""


def _html_charset(data: bytes) -> str:
    return charset_codec(meta_charset(data))


def _read_html(data: bytes, name: str) -> tuple[str, str]:
    markup, encoding = _decode_text(data, name, declared=_html_charset(data))
    markup = _XML_DECLARATION.sub("", markup, count=1)
    if not markup.strip():
        raise UnreadableSource(name, "contains no text, only white space.")
    import lxml.html
    from lxml.etree import ParserError

    # lxml directly rather than BeautifulSoup: it parses a large page about ten times faster.
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        root = lxml.html.document_fromstring(markup, parser=parser)
    except ParserError as exc:
        raise UnreadableSource(name, "is a web page with no content.") from exc
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        raise UnreadableSource(
            name, "is a web page nested too deeply to be read in full (over 2,048 levels), so it is not a normal page."
        )
    return _html_text(root), encoding


def _html_text(root) -> str:
    """The visible text of a parsed lxml page: one line per block element, ruby annotations dropped."""
    parts: list[str] = []
    # An explicit stack instead of recursion: hostile pages nest thousands of levels deep.
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        item, in_pre = stack.pop()
        if isinstance(item, str):
            parts.append(item if in_pre else _collapse(item))
            continue
        if item.tail:
            stack.append((item.tail, in_pre))
        if not isinstance(item.tag, str):
            continue  # comments and processing instructions: only their tail is text
        tag = item.tag.lower()
        if tag in _SKIPPED_TAGS or _hidden(item):
            continue
        if tag == "br":
            parts.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            parts.append("\n")
            stack.append(("\n", True))
        elif tag in _CELL_TAGS:
            stack.append(("\t", True))
        child_pre = in_pre or tag == "pre"
        for child in reversed(item):
            stack.append((child, child_pre))
        if item.text:
            stack.append((item.text, child_pre))
    lines = (line.strip(" \t\u3000\xa0") for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _collapse(text: str) -> str:
    return _HTML_SPACE.sub(" ", _CJK_BREAK.sub("", text))


def _hidden(element) -> bool:
    attrs = element.attrib
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))


# ---------------------------------------------------------------- DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _read_docx(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise UnreadableSource(name, f"is a Word document with {len(infos)} parts, too many to be a report.")
        unzipped = sum(info.file_size for info in infos)
        if unzipped > MAX_UNZIPPED_BYTES:
            raise UnreadableSource(
                name,
                f"would unpack to {unzipped / 1048576:.0f} MB, more than the "
                f"{MAX_UNZIPPED_BYTES / 1048576:.0f} MB allowed for a Word document (it may be a zip bomb).",
            )
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_docx_blocks(document.element.body))
    except (PackageNotFoundError, XMLSyntaxError, zipfile.BadZipFile, KeyError, ValueError, zlib.error, EOFError) as exc:
        raise UnreadableSource(name, f"is a corrupt Word (.docx) document ({type(exc).__name__}).") from exc
    return "\n".join(line for line in lines if line)


def _docx_blocks(container) -> Iterator[str]:
    """Lines of a body or table cell in document order: one per paragraph, one per table row."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            yield _docx_paragraph(child).strip()
        elif tag == f"{_W}tbl":
            for row in child.iterchildren(f"{_W}tr"):
                cells = []
                for cell in row.iterchildren(f"{_W}tc"):
                    cells.append(" ".join(line for line in _docx_blocks(cell) if line))
                line = "\t".join(cells).strip()
                if line:
                    yield line
        elif tag == f"{_W}sdt":
            for content in child.iterchildren(f"{_W}sdtContent"):
                yield from _docx_blocks(content)
        elif tag == f"{_W}customXml":
            yield from _docx_blocks(child)


def _docx_paragraph(paragraph) -> str:
    parts: list[str] = []
    stack = [paragraph]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == f"{_W}t":
            parts.append(node.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        elif tag in (f"{_W}txbxContent", f"{_W}del", f"{_W}pPr", f"{_W}rPr", _MC_FALLBACK):
            continue
        else:
            stack.extend(reversed(list(node)))
    return "".join(parts)


# ---------------------------------------------------------------- PDF


def _read_pdf(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise UnreadableSource(name, "is an encrypted PDF that cannot be opened here; remove the protection first.") from exc
            if not opened:
                raise UnreadableSource(name, "is an encrypted PDF that needs a password; remove the protection first.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileNotDecryptedError as exc:
        raise UnreadableSource(name, "is an encrypted PDF that needs a password; remove the protection first.") from exc
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, zlib.error, struct.error, RecursionError) as exc:
        raise UnreadableSource(name, f"is a corrupt PDF that could not be parsed ({type(exc).__name__}).") from exc
    if not any(page.strip() for page in pages):
        raise UnreadableSource(name, "contains no extractable text (it may be a scanned image); run OCR first.")
    return "\n".join(pages)
