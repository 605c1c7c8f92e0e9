"""Published text -> normalised text for indexing, with a map back to the published offsets.

Rules, applied in this order, each keeping a per-character map to the original:
  1. web debris lines (``![]() |``, lone ``|``) are dropped;
  2. mojibake spans are detected and replaced by one marker character (repaired when the
     bytes allow it), and reported as problems;
  3. pinyin annotations glued to characters are removed: ``區(qū)`` -> ``區``;
  4. Traditional -> Simplified (OpenCC ``t2s``);
  5. full-width letters and digits become ASCII, half-width punctuation next to Chinese
     becomes the full-width form, so both spellings match alike.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

from indexer.records import Problem

NORMALIZER_VERSION = "1"
MOJIBAKE_MARK = "\u3013"  # 〓, the conventional mark for a character that cannot be shown

_DEBRIS_LINE = re.compile(r"^\s*(?:!\[[^\]]*\]\([^)]*\)\s*)*\|?\s*$|^\s*!\[[^\]]*\]\([^)]*\)[\s|]*$")
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PINYIN_ANNOTATION = re.compile(
    r"(?<=[\u3400-\u9fff\u3013])\((?=[a-z" + _TONE_VOWELS + r"]*[" + _TONE_VOWELS + r"])[a-z"
    + _TONE_VOWELS + r"]{1,8}\)"
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HALF_TO_FULL_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}


@dataclass(frozen=True)
class NormalizedText:
    """Normalised text plus, for each of its characters, the offset of its source character."""

    original: str
    text: str
    offsets: tuple[int, ...]  # len(text) + 1 entries; the last is len(original)
    problems: tuple[Problem, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The published-text range that the normalised range [start, end) came from."""
        if end <= start:
            at = self.offsets[start]
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1

    def original_slice(self, start: int, end: int) -> str:
        """The published text behind the normalised range [start, end)."""
        a, b = self.original_span(start, end)
        return self.original[a:b]


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """About 3,000 most frequent Chinese characters, from jieba's word frequencies."""
    import importlib.resources

    counts: dict[str, int] = {}
    dictionary = importlib.resources.files("jieba").joinpath("dict.txt")
    with dictionary.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split(" ")
            if len(parts) < 2:
                continue
            freq = int(parts[1])
            for char in parts[0]:
                counts[char] = counts.get(char, 0) + freq
    ranked = sorted(counts, key=counts.__getitem__, reverse=True)
    return frozenset(c for c in ranked[:3000] if _CJK.match(c))


def _is_garbage(char: str) -> bool:
    if char in "!^_)~`|\\":
        return True
    if char.isascii():
        return char.isalpha()
    if unicodedata.category(char).startswith("L") and not _CJK.match(char):
        return True  # stray Latin-with-diacritics, Greek... inside Chinese text
    return bool(_CJK.match(char)) and _t2s().convert(char) not in _common_chars()


def find_mojibake(line: str) -> list[tuple[int, int]]:
    """Spans of a line that look like text decoded with the wrong charset.

    A span starts at a lost character ('?' or U+FFFD) inside Chinese text and runs on over
    rare characters, stray Latin letters and symbols; a common character is taken in only
    when garbage follows within two characters.  Shorter than three characters: not a span.
    """
    spans = []
    i = 0
    while i < len(line):
        if line[i] not in "?\ufffd" or not (
            (i > 0 and _CJK.match(line[i - 1])) or (i + 1 < len(line) and _CJK.match(line[i + 1]))
        ):
            i += 1
            continue
        j = i + 1
        while j < len(line):
            char = line[j]
            if char in "(（，。、；：“”‘’《》\n" or char.isspace():
                break
            if _is_garbage(char) or any(_is_garbage(c) for c in line[j + 1 : j + 3] if c != "("):
                j += 1
                continue
            break
        if j - i >= 3 or (line[i] == "\ufffd"):
            spans.append((i, j))
        i = j
    return spans


def _repair(span: str) -> str:
    """Undo UTF-8-read-as-GBK mojibake when the bytes allow it exactly; '' otherwise."""
    try:
        repaired = span.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return ""
    return repaired if repaired and all(_CJK.match(c) or not c.isalnum() for c in repaired) else ""


def _fold(char: str, before: str, after: str) -> str:
    code = ord(char)
    if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A or char == "\uff05":
        return chr(code - 0xFEE0)
    if char == "\u3000":
        return " "
    if char in _HALF_TO_FULL_PUNCT and (_CJK.match(before or " ") or _CJK.match(after or " ")):
        return _HALF_TO_FULL_PUNCT[char]
    return char


def _simplify_line(chars: list[str]) -> list[str]:
    line = "".join(chars)
    converted = _t2s().convert(line)
    if len(converted) == len(line):
        return list(converted)
    # A phrase conversion changed the length: fall back to character by character.
    return [(_t2s().convert(c) or c)[0] for c in chars]


def normalize(original: str) -> NormalizedText:
    """Normalise a published report for indexing, keeping the way back to the original."""
    out_chars: list[str] = []
    out_offsets: list[int] = []
    problems: list[Problem] = []
    position = 0
    for raw_line in original.splitlines(keepends=True):
        line_start = position
        position += len(raw_line)
        body = raw_line.rstrip("\r\n")
        if _DEBRIS_LINE.match(body) and body.strip():
            continue
        chars: list[str] = []
        offsets: list[int] = []
        cursor = 0
        for a, b in find_mojibake(body):
            chars.extend(body[cursor:a])
            offsets.extend(range(line_start + cursor, line_start + a))
            repaired = _repair(body[a:b])
            problems.append(Problem("mojibake", line_start + a, line_start + b, body[a:b], repaired))
            chars.append(MOJIBAKE_MARK)
            offsets.append(line_start + a)
            cursor = b
        chars.extend(body[cursor:])
        offsets.extend(range(line_start + cursor, line_start + len(body)))

        kept = "".join(chars)
        drop = set()
        for match in _PINYIN_ANNOTATION.finditer(kept):
            drop.update(range(match.start(), match.end()))
        if drop:
            chars = [c for k, c in enumerate(chars) if k not in drop]
            offsets = [o for k, o in enumerate(offsets) if k not in drop]

        chars = _simplify_line(chars)
        chars = [
            _fold(c, chars[k - 1] if k else "", chars[k + 1] if k + 1 < len(chars) else "")
            for k, c in enumerate(chars)
        ]
        out_chars.extend(chars)
        out_offsets.extend(offsets)
        if len(raw_line) > len(body):
            out_chars.append("\n")
            out_offsets.append(line_start + len(body))
    out_offsets.append(len(original))
    return NormalizedText(original, "".join(out_chars), tuple(out_offsets), tuple(problems))
